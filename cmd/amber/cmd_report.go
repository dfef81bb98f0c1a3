package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/crawl/extract"
	"github.com/amber-archiver/amber/crawl/report"
)

type reportOptions struct {
	run         int
	csv         bool
	json        bool
	robustLinks string // a document to annotate
	replayBase  string // prefix of the version URLs
	output      string // where the annotated document goes; default stdout
}

func newReportCommand(g *globalOptions) *cobra.Command {
	var opts reportOptions
	cmd := &cobra.Command{
		Use:   "report DIR [--run N] [--csv|--json] [--robust-links FILE]",
		Short: "Show where each seed of a collection was archived",
		Long: `Report prints one row per seed of the collection (of every run, each seed
once, or of run N with --run N, numbered as amber status numbers them): the
URL as cited, the final URL after the redirects archived for it, the HTTP
status, the capture time, the archival path /TIMESTAMP/URL that amber replay
and pywb-style viewers answer, the WARC file and record id of the capture,
and for a URL not captured, why. The seeds of a run include the documents
given to --links-from and --feed and the links read from them; links not
fetched (another scheme than http and https) are rows with the reason.
With --run N, a seed that run did not fetch again points to the capture
an earlier run made.

A table by default, --csv (a header line, then one row a line) or --json
(an array of objects with the fields run, url, finalUrl, status,
captured, archivalPath, warcFile, recordId, redirects, revisit,
failure: camelCase, as the other --json outputs; the CSV header
names the columns in snake_case).

--robust-links FILE writes FILE (HTML, a bookmarks export, Markdown or
plain text) back, to stdout or -o PATH, with every link the collection
archived annotated, the Robust Links way: data-originalurl,
data-versionurl and data-versiondate attributes on its <a>; in Markdown,
an "(archived)" link after it. The version URL is --replay-base followed
by the archival path (default: the archival path alone, as amber replay
serves it). Links not archived are left as they are, and nothing else in
the document changes.

It reads the collection and changes nothing; it can run while amber
archive writes into it (what that run has not finished is not shown).

EXIT STATUS
  0  the report was written; every seed (every link, with --robust-links) is archived
  1  the collection could not be read
  2  usage error: not a collection, no such run, a document without links
  3  the report was written, but some seeds (links) are not archived`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("report takes one collection directory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), g, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.run, "run", 0, "only the seeds of run `N` (0: every run)")
	f.BoolVar(&opts.csv, "csv", false, "print CSV")
	f.BoolVar(&opts.json, "json", false, "print a JSON array")
	f.StringVar(&opts.robustLinks, "robust-links", "", "write `FILE` back with its archived links annotated (Robust Links)")
	f.StringVar(&opts.replayBase, "replay-base", "", "version URLs start with `URL` (default: the archival path alone)")
	f.StringVarP(&opts.output, "output", "o", "", "write the annotated document to `PATH` (default: stdout)")
	return cmd
}

func runReport(_ context.Context, g *globalOptions, opts reportOptions, dir string) error {
	switch {
	case opts.csv && opts.json:
		return usageError("--csv and --json cannot be used together")
	case opts.run < 0:
		return usageError("--run must not be negative")
	case opts.output != "" && opts.robustLinks == "":
		return usageError("-o is for --robust-links")
	}
	coll, err := report.Open(dir, report.Options{Run: opts.run})
	if errors.Is(err, report.ErrNotCollection) || errors.Is(err, report.ErrNoSuchRun) {
		return usageError("%s", strings.TrimPrefix(err.Error(), "report: "))
	} else if err != nil {
		return err
	}
	if opts.robustLinks != "" {
		return writeRobustLinks(g, coll, opts)
	}
	rows, err := coll.Rows()
	if err != nil {
		return err
	}
	if err := printRows(g.stdout, rows, opts); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Failure != "" {
			return &exitError{code: exitPartial}
		}
	}
	return nil
}

// reportColumns are the CSV header (and the table's, upper-cased).
var reportColumns = []string{"run", "url", "final_url", "status", "captured", "archival_path", "warc_file", "record_id", "failure"}

func rowFields(r report.Row) []string {
	status, captured := "", ""
	if r.Status != 0 {
		status = strconv.Itoa(r.Status)
	}
	if !r.Captured.IsZero() {
		captured = r.Captured.UTC().Format(time.RFC3339)
	}
	return []string{strconv.Itoa(r.Run), r.URL, r.FinalURL, status, captured, r.ArchivalPath, r.WARCFile, r.RecordID, r.Failure}
}

func printRows(w io.Writer, rows []report.Row, opts reportOptions) error {
	switch {
	case opts.json:
		if rows == nil {
			rows = []report.Row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rows)
	case opts.csv:
		cw := csv.NewWriter(w)
		cw.Write(reportColumns)
		for _, r := range rows {
			cw.Write(rowFields(r))
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tURL\tSTATUS\tFINAL URL\tCAPTURED\tARCHIVAL PATH\tWARC FILE\tRECORD ID\tFAILURE")
	for _, r := range rows {
		f := rowFields(r)
		final := f[2]
		if final == r.URL {
			final = "="
		}
		for i := range f {
			f[i] = safeLine(f[i])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[0], f[1], f[3], safeLine(final), f[4], f[5], f[6], f[7], f[8])
	}
	return tw.Flush()
}

// writeRobustLinks annotates the --robust-links document.
func writeRobustLinks(g *globalOptions, coll *report.Collection, opts reportOptions) error {
	f, err := os.Open(opts.robustLinks)
	if err != nil {
		return usageError("--robust-links: %v", err)
	}
	body, err := extract.ReadDocument(f)
	f.Close()
	if err != nil {
		return usageError("--robust-links %s: %v", opts.robustLinks, strings.TrimPrefix(err.Error(), "extract: "))
	}
	doc, err := extract.DocumentLinks(body, "", opts.robustLinks, extract.DocumentOptions{Key: seenKey(false)})
	if errors.Is(err, extract.ErrNoLinks) {
		return usageError("--robust-links %s: no http or https links in this %s document", opts.robustLinks, doc.Kind)
	} else if err != nil {
		return usageError("--robust-links %s: %v", opts.robustLinks, strings.TrimPrefix(err.Error(), "extract: "))
	}
	urls := make([]string, len(doc.Links))
	for i, l := range doc.Links {
		urls[i] = l.URL
	}
	rows, err := coll.Resolve(urls)
	if err != nil {
		return err
	}
	versions := map[string]report.Version{}
	missing := 0
	for i, r := range rows {
		if r.Failure != "" {
			missing++
			continue
		}
		versions[doc.Links[i].Key] = report.Version{URL: strings.TrimSuffix(opts.replayBase, "/") + r.ArchivalPath, Date: r.Captured}
	}
	out, n := report.RobustLinks(body, doc, func(l extract.Link) (report.Version, bool) {
		v, ok := versions[l.Key]
		return v, ok
	})
	var w io.Writer = g.stdout
	if opts.output != "" {
		of, err := os.Create(opts.output)
		if err != nil {
			return usageError("-o: %v", err)
		}
		defer of.Close()
		w = of
	}
	if _, err := w.Write(out); err != nil {
		return err
	}
	if opts.output != "" {
		if err := w.(*os.File).Close(); err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "amber: %s: annotated %d citations of %d archived links; %d links not archived\n", opts.output, n, len(versions), missing)
	}
	if missing > 0 {
		return &exitError{code: exitPartial}
	}
	return nil
}
