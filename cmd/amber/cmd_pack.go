package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/verify"
	"github.com/amber-archiver/amber/warc"
)

// packOptions are the flags of amber pack.
type packOptions struct {
	output  string // the .wacz to write; default: DIR.wacz next to DIR
	title   string // datapackage title; default: the directory's name
	quiet   bool   // print nothing but errors
	json    bool   // end with one JSON summary object on stdout
	printer printer
}

func newPackCommand(g *globalOptions) *cobra.Command {
	var opts packOptions
	cmd := &cobra.Command{
		Use:   "pack DIR... [-o FILE.wacz]",
		Short: "Package a collection as a WACZ file for ReplayWeb.page",
		Long: `Pack verifies the collection in DIR (as amber verify does) and zips it into a
WACZ 1.1.1 file that ReplayWeb.page opens as it is:

  archive/*.warc.gz          stored, not compressed again, so viewers read
                             records at their offsets with range requests
  indexes/index.cdxj         the CDXJ index
  pages/pages.jsonl          the archived pages
  logs/*.jsonl               the crawl logs
  datapackage.json           every file above with its sha256 and size, the
                             title, and the main page of a one-seed crawl
  datapackage-digest.json    the sha256 of datapackage.json

DIR/state/ (the crawl database and lock) is never packed. A damaged
collection is refused: the findings are printed as amber verify prints
them. Packing is deterministic: the same collection gives the same bytes.
The file is written atomically (FILE.wacz appears complete or not at all).

The default output is DIR.wacz, next to DIR.

Several collections (the workers of one crawl, each with its own
collection) pack into one WACZ, named with -o: every WARC file of each in
archive/, one byte-sorted indexes/index.cdxj merged from theirs, one
pages/pages.jsonl with the pages of all sorted by time, and their logs (a
log whose name is taken gets -2, -3 before .jsonl). They are verified
together, so a revisit in one collection may refer to a record in another.
Two WARC files of one name are refused, since viewers find WARC files by
name alone.

With --json, stdout holds one JSON object once the collection has been
checked (the package written, its size and sha256, what it holds, the exit
status); stderr is as without --json. A usage error prints no object.

EXIT STATUS
  0  the WACZ was written
  1  the collection is damaged, a crawl is still writing it, or a file
     changed while it was packed; nothing was written
  2  usage error: bad flag, missing DIR, DIR not a collection, several
     DIRs without -o, two WARC files of one name in the DIRs`,
		Args: argsAtLeast(1, "DIR (the collection to pack)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.printer = newPrinter(g, opts.json, levelOf(opts.quiet, false))
			_, err := runPack(cmd.Context(), opts, args)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.output, "output", "o", "", "write the WACZ to `FILE` (default: DIR.wacz next to DIR)")
	f.StringVar(&opts.title, "title", "", "title of the collection in datapackage.json (default: the name of DIR)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&opts.json, "json", false, "end with one JSON summary object on stdout")
	return cmd
}

// packSummary is what amber pack did: the object of pack --json, and of
// archive --json --wacz under "wacz".
type packSummary struct {
	Dir          string   `json:"dir"`              // the collection (the first, with several)
	Dirs         []string `json:"dirs,omitempty"`   // the collections packed together, when several
	Output       string   `json:"output,omitempty"` // the WACZ written; absent when none was
	Bytes        int64    `json:"bytes"`            // its size
	SHA256       string   `json:"sha256,omitempty"` // "sha256:<hex>" of the WACZ file
	Files        int      `json:"files"`            // files packed (datapackage.json resources)
	FileBytes    int64    `json:"fileBytes"`        // their size in all
	WARCFiles    int      `json:"warcFiles"`
	Records      int      `json:"records"`    // WARC records verified
	IndexLines   int      `json:"indexLines"` // lines of indexes/index.cdxj
	Pages        int      `json:"pages"`      // pages listed in pages/pages.jsonl
	MainPageURL  string   `json:"mainPageUrl,omitempty"`
	MainPageDate string   `json:"mainPageDate,omitempty"`
	Errors       int      `json:"errors"`   // verify's error findings (a damaged collection is not packed)
	Warnings     int      `json:"warnings"` // verify's warnings
	Exit         int      `json:"exit"`
	ExitName     string   `json:"exitName"`
	Error        string   `json:"error,omitempty"` // the message amber prints on stderr, if any
}

func (s *packSummary) printText(w io.Writer) {
	if s.Output == "" {
		return // nothing was written; the error says why
	}
	dirs := s.Dir
	if len(s.Dirs) > 1 {
		dirs = strings.Join(s.Dirs, ", ")
	}
	fmt.Fprintf(w, "packed %s (%d files, %s) into %s (%s)", dirs, s.Files, formatBytes(s.FileBytes), s.Output, formatBytes(s.Bytes))
	if s.MainPageURL != "" {
		fmt.Fprintf(w, "; main page %s", s.MainPageURL)
	}
	fmt.Fprintln(w)
}

// runPack packs the collections in args and prints the summary.
func runPack(ctx context.Context, opts packOptions, args []string) (*packSummary, error) {
	sum, err := packCollections(ctx, opts.printer, args, opts)
	if sum == nil {
		return nil, err
	}
	sum.setExit(err)
	if perr := opts.printer.S(sum); perr != nil && err == nil {
		err = perr
	}
	return sum, err
}

func (s *packSummary) setExit(err error) {
	s.Exit, s.ExitName, s.Error = exitCode(err), exitName(exitCode(err)), errorText(err)
}

// errorText is the message main prints for err (without "amber: "), or ""
// when it prints none.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return safeLine(err.Error())
}

// packCollection verifies the collection in dir and writes it as a WACZ
// file, printing the findings of a damaged one through p. amber archive
// --wacz calls it once the run has closed and indexed its files (while it
// still holds the collection lock):
//
//	packCollection(ctx, p, opts.output, packOptions{})
//
// An empty opts.output means dir.wacz next to dir. The summary is nil for a
// usage error, and says what was checked otherwise; a damaged collection
// returns an error with exit status 1.
func packCollection(ctx context.Context, p printer, dir string, opts packOptions) (*packSummary, error) {
	return packCollections(ctx, p, []string{dir}, opts)
}

// packCollections is packCollection of several collections as one WACZ:
// they are verified together (a revisit in one may refer to a record in
// another), and opts.output is required.
func packCollections(ctx context.Context, p printer, dirs []string, opts packOptions) (*packSummary, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(filepath.Join(dir, warc.ArchiveDir)); err != nil || !fi.IsDir() {
			if _, err := os.Stat(dir); err != nil {
				return nil, usageError("%s: no such directory", dir)
			}
			return nil, usageError("%s is not a collection: it has no %s/ directory", dir, warc.ArchiveDir)
		}
	}
	out := opts.output
	if out == "" {
		if len(dirs) > 1 {
			return nil, usageError("packing %d collections into one WACZ needs -o FILE.wacz", len(dirs))
		}
		out = defaultWACZPath(dirs[0])
	}
	if !strings.HasSuffix(out, ".wacz") {
		return nil, usageError("--output %s: a WACZ file name must end in .wacz", out)
	}
	if abs, err := filepath.Abs(out); err == nil {
		for _, dir := range dirs {
			if rel, err := filepath.Rel(absPath(dir), abs); err == nil && !strings.HasPrefix(rel, "..") && strings.Contains(rel, string(filepath.Separator)) {
				return nil, usageError("--output %s: the WACZ cannot go inside the collection's folders", out)
			}
		}
	}
	names := strings.Join(dirs, " ")
	if len(dirs) > 1 {
		if err := collectionNameClash(dirs); err != nil {
			return nil, err
		}
	}

	rep, err := verify.Paths(ctx, dirs, verify.Options{})
	var pe *verify.PathError
	if errors.As(err, &pe) {
		return nil, usageError("%s: %v", pe.Path, pe.Err)
	}
	if err != nil {
		return nil, err
	}
	sum := &packSummary{Dir: dirs[0], Records: rep.Records, Errors: rep.Errors, Warnings: rep.Warnings}
	if len(dirs) > 1 {
		sum.Dirs = dirs
	}
	for _, f := range rep.Files {
		if f.Kind == "index" && filepath.Clean(f.File) == filepath.Join(dirs[0], warc.IndexPath) {
			sum.IndexLines = f.Lines
		}
	}
	if rep.Damaged(false) {
		printVerifyFindings(p, rep, false)
		what := "the collection is damaged"
		if len(dirs) > 1 {
			what = "the collections are damaged"
		}
		return sum, &exitError{code: exitDamage, err: fmt.Errorf("not packing %s: %s (%s); run `amber verify %s` for the full report",
			names, what, verifyPlural(rep.Errors, "error"), names)}
	}

	h := sha256.New()
	dp, err := warc.PackCollections(dirs, out, warc.WACZOptions{Title: opts.title, Software: "amber/" + version, Hash: h})
	var clash *warc.NameClashError
	switch {
	case errors.Is(err, warc.ErrOpenWARC):
		return sum, &exitError{code: exitDamage, err: fmt.Errorf("not packing %s: %v", names, err)}
	case errors.As(err, &clash): // a file added since the check above
		return sum, &exitError{code: exitUsage, err: nameClashMessage(clash)}
	case err != nil:
		return sum, &exitError{code: exitDamage, err: fmt.Errorf("packing %s: %w", names, err)}
	}
	sum.Output, sum.SHA256 = out, "sha256:"+hex.EncodeToString(h.Sum(nil))
	sum.Files, sum.MainPageURL, sum.MainPageDate = len(dp.Resources), dp.MainPageURL, dp.MainPageDate
	for _, r := range dp.Resources {
		sum.FileBytes += r.Bytes
		if strings.HasPrefix(r.Path, warc.ArchiveDir+"/") {
			sum.WARCFiles++
		}
	}
	if fi, err := os.Stat(out); err == nil {
		sum.Bytes = fi.Size()
	}
	if len(dirs) > 1 {
		// The merged index and pages exist only in the package.
		sum.IndexLines, sum.Pages, err = countInWACZ(out)
		return sum, err
	}
	sum.Pages, err = countPages(filepath.Join(dirs[0], warc.PagesPath))
	return sum, err
}

// collectionNameClash is a usage error when two of the collections hold
// WARC files of one name.
func collectionNameClash(dirs []string) error {
	_, err := warc.CollectionWARCs(dirs)
	var clash *warc.NameClashError
	if errors.As(err, &clash) {
		return &exitError{code: exitUsage, err: nameClashMessage(clash)}
	}
	if err != nil {
		return usageError("%v", err)
	}
	return nil
}

// nameClashMessage says which two files clash, and what to do.
func nameClashMessage(e *warc.NameClashError) error {
	return fmt.Errorf("two WARC files called %s: %s and %s; collections can be used together only when their WARC file names differ (give each worker its own --worker-id)",
		e.Name, e.First, e.Second)
}

// countInWACZ counts the lines of the index and the pages of the WACZ
// file at p.
func countInWACZ(p string) (lines, pages int, err error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return 0, 0, err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != warc.IndexPath && zf.Name != warc.PagesPath {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return 0, 0, err
		}
		n, err := countLines(rc)
		rc.Close()
		if err != nil {
			return 0, 0, err
		}
		if zf.Name == warc.IndexPath {
			lines = n
		} else {
			pages = max(n-1, 0)
		}
	}
	return lines, pages, nil
}

// countPages is the number of pages a pages.jsonl lists: its lines but
// the header. A collection without one lists none.
func countPages(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines, err := countLines(f)
	return max(lines-1, 0), err
}

// countLines counts the lines of r, a last one without its newline too.
func countLines(r io.Reader) (int, error) {
	lines, last := 0, byte('\n')
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if n > 0 {
			last = buf[n-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		lines++ // a last line without its newline
	}
	return lines, nil
}

// defaultWACZPath is DIR.wacz next to DIR.
func defaultWACZPath(dir string) string {
	clean := filepath.Clean(dir)
	if base := filepath.Base(clean); base == "." || base == ".." || base == string(filepath.Separator) {
		clean = absPath(clean)
	}
	return clean + ".wacz"
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
