package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/verify"
	"github.com/amber-archiver/amber/warc"
)

// packOptions are the flags of amber pack.
type packOptions struct {
	output string // the .wacz to write; default: DIR.wacz next to DIR
	title  string // datapackage title; default: the directory's name
	quiet  bool   // print nothing but errors
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

EXIT STATUS
  0  the WACZ was written
  1  the collection is damaged, a crawl is still writing it, or a file
     changed while it was packed; nothing was written
  2  usage error: bad flag, missing DIR, DIR not a collection`,
		Args: argsAtLeast(1, "DIR (the collection to pack)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError("pack takes one collection, got %d arguments", len(args))
			}
			return packCollection(cmd.Context(), g, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.output, "output", "o", "", "write the WACZ to `FILE` (default: DIR.wacz next to DIR)")
	f.StringVar(&opts.title, "title", "", "title of the collection in datapackage.json (default: the name of DIR)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// packCollection verifies the collection in dir and writes it as a WACZ
// file. amber archive --wacz calls it once the run has closed and indexed
// its files (while it still holds the collection lock):
//
//	packCollection(ctx, g, opts.output, packOptions{quiet: opts.quiet})
//
// An empty opts.output means dir.wacz next to dir. A damaged collection
// returns an error with exit status 1 after printing the findings.
func packCollection(ctx context.Context, g *globalOptions, dir string, opts packOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if fi, err := os.Stat(filepath.Join(dir, warc.ArchiveDir)); err != nil || !fi.IsDir() {
		if _, err := os.Stat(dir); err != nil {
			return usageError("%s: no such directory", dir)
		}
		return usageError("%s is not a collection: it has no %s/ directory", dir, warc.ArchiveDir)
	}
	out := opts.output
	if out == "" {
		out = defaultWACZPath(dir)
	}
	if !strings.HasSuffix(out, ".wacz") {
		return usageError("--output %s: a WACZ file name must end in .wacz", out)
	}
	if abs, err := filepath.Abs(out); err == nil {
		if rel, err := filepath.Rel(absPath(dir), abs); err == nil && !strings.HasPrefix(rel, "..") && strings.Contains(rel, string(filepath.Separator)) {
			return usageError("--output %s: the WACZ cannot go inside the collection's folders", out)
		}
	}

	rep, err := verify.Paths(ctx, []string{dir}, verify.Options{})
	var pe *verify.PathError
	if errors.As(err, &pe) {
		return usageError("%s: %v", pe.Path, pe.Err)
	}
	if err != nil {
		return err
	}
	if rep.Damaged(false) {
		printVerifyReport(g.stdout, g.stderr, rep, verifyOptions{quiet: true})
		return &exitError{code: exitDamage, err: fmt.Errorf("not packing %s: the collection is damaged (%s); run `amber verify %s` for the full report",
			dir, verifyPlural(rep.Errors, "error"), dir)}
	}

	dp, err := warc.PackWACZ(dir, out, warc.WACZOptions{Title: opts.title, Software: "amber/" + version})
	if errors.Is(err, warc.ErrOpenWARC) {
		return &exitError{code: exitDamage, err: fmt.Errorf("not packing %s: %v", dir, err)}
	}
	if err != nil {
		return &exitError{code: exitDamage, err: fmt.Errorf("packing %s: %w", dir, err)}
	}
	if !opts.quiet {
		var n int64
		for _, r := range dp.Resources {
			n += r.Bytes
		}
		fi, _ := os.Stat(out)
		var size int64
		if fi != nil {
			size = fi.Size()
		}
		fmt.Fprintf(g.stdout, "packed %s (%d files, %s) into %s (%s)", dir, len(dp.Resources), formatBytes(n), out, formatBytes(size))
		if dp.MainPageURL != "" {
			fmt.Fprintf(g.stdout, "; main page %s", dp.MainPageURL)
		}
		fmt.Fprintln(g.stdout)
	}
	return nil
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
