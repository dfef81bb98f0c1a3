package main

import (
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
		Use:   "pack DIR [-o FILE.wacz]",
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

With --json, stdout holds one JSON object once the collection has been
checked (the package written, its size and sha256, what it holds, the exit
status); stderr is as without --json. A usage error prints no object.

EXIT STATUS
  0  the WACZ was written
  1  the collection is damaged, a crawl is still writing it, or a file
     changed while it was packed; nothing was written
  2  usage error: bad flag, missing DIR, DIR not a collection`,
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
	Dir          string `json:"dir"`              // the collection
	Output       string `json:"output,omitempty"` // the WACZ written; absent when none was
	Bytes        int64  `json:"bytes"`            // its size
	SHA256       string `json:"sha256,omitempty"` // "sha256:<hex>" of the WACZ file
	Files        int    `json:"files"`            // files packed (datapackage.json resources)
	FileBytes    int64  `json:"fileBytes"`        // their size in all
	WARCFiles    int    `json:"warcFiles"`
	Records      int    `json:"records"`    // WARC records verified
	IndexLines   int    `json:"indexLines"` // lines of indexes/index.cdxj
	Pages        int    `json:"pages"`      // pages listed in pages/pages.jsonl
	MainPageURL  string `json:"mainPageUrl,omitempty"`
	MainPageDate string `json:"mainPageDate,omitempty"`
	Errors       int    `json:"errors"`   // verify's error findings (a damaged collection is not packed)
	Warnings     int    `json:"warnings"` // verify's warnings
	Exit         int    `json:"exit"`
	ExitName     string `json:"exitName"`
	Error        string `json:"error,omitempty"` // the message amber prints on stderr, if any
}

func (s *packSummary) printText(w io.Writer) {
	if s.Output == "" {
		return // nothing was written; the error says why
	}
	fmt.Fprintf(w, "packed %s (%d files, %s) into %s (%s)", s.Dir, s.Files, formatBytes(s.FileBytes), s.Output, formatBytes(s.Bytes))
	if s.MainPageURL != "" {
		fmt.Fprintf(w, "; main page %s", s.MainPageURL)
	}
	fmt.Fprintln(w)
}

// runPack packs the collection args[0] and prints the summary.
func runPack(ctx context.Context, opts packOptions, args []string) (*packSummary, error) {
	if len(args) > 1 {
		return nil, usageError("pack takes one collection, got %d arguments", len(args))
	}
	sum, err := packCollection(ctx, opts.printer, args[0], opts)
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
	if ctx == nil {
		ctx = context.Background()
	}
	if fi, err := os.Stat(filepath.Join(dir, warc.ArchiveDir)); err != nil || !fi.IsDir() {
		if _, err := os.Stat(dir); err != nil {
			return nil, usageError("%s: no such directory", dir)
		}
		return nil, usageError("%s is not a collection: it has no %s/ directory", dir, warc.ArchiveDir)
	}
	out := opts.output
	if out == "" {
		out = defaultWACZPath(dir)
	}
	if !strings.HasSuffix(out, ".wacz") {
		return nil, usageError("--output %s: a WACZ file name must end in .wacz", out)
	}
	if abs, err := filepath.Abs(out); err == nil {
		if rel, err := filepath.Rel(absPath(dir), abs); err == nil && !strings.HasPrefix(rel, "..") && strings.Contains(rel, string(filepath.Separator)) {
			return nil, usageError("--output %s: the WACZ cannot go inside the collection's folders", out)
		}
	}

	rep, err := verify.Paths(ctx, []string{dir}, verify.Options{})
	var pe *verify.PathError
	if errors.As(err, &pe) {
		return nil, usageError("%s: %v", pe.Path, pe.Err)
	}
	if err != nil {
		return nil, err
	}
	sum := &packSummary{Dir: dir, Records: rep.Records, Errors: rep.Errors, Warnings: rep.Warnings}
	for _, f := range rep.Files {
		if f.Kind == "index" && filepath.Clean(f.File) == filepath.Join(dir, warc.IndexPath) {
			sum.IndexLines = f.Lines
		}
	}
	if rep.Damaged(false) {
		printVerifyFindings(p, rep, false)
		return sum, &exitError{code: exitDamage, err: fmt.Errorf("not packing %s: the collection is damaged (%s); run `amber verify %s` for the full report",
			dir, verifyPlural(rep.Errors, "error"), dir)}
	}

	h := sha256.New()
	dp, err := warc.PackWACZ(dir, out, warc.WACZOptions{Title: opts.title, Software: "amber/" + version, Hash: h})
	if errors.Is(err, warc.ErrOpenWARC) {
		return sum, &exitError{code: exitDamage, err: fmt.Errorf("not packing %s: %v", dir, err)}
	}
	if err != nil {
		return sum, &exitError{code: exitDamage, err: fmt.Errorf("packing %s: %w", dir, err)}
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
	sum.Pages, err = countPages(filepath.Join(dir, warc.PagesPath))
	return sum, err
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
	lines, last := 0, byte('\n')
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
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
	return max(lines-1, 0), nil
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
