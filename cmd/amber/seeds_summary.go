package main

import (
	"fmt"
	"io"

	"github.com/amber-archiver/amber/crawl/report"
)

// maxSeedLines is how many seeds the text summary lists on a terminal;
// `amber report` lists them all.
const maxSeedLines = 10

// seedOutcomes finds where each seed of a run went, from the collection
// as the run left it: the capture (after redirects) a replay shows, or why
// there is none. An error is a note, not a failure of the run: everything
// is archived already.
func seedOutcomes(dir string, seeds []string) ([]report.Row, error) {
	c, err := report.Open(dir, report.Options{})
	if err != nil {
		return nil, err
	}
	return c.Resolve(seeds)
}

// printSeeds prints where each seed went, the first maxSeedLines of them:
// the archival path that `amber replay DIR` answers, or the failure.
func printSeeds(w io.Writer, dir string, rows []report.Row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "where each seed went (amber replay %s serves these paths):\n", dir)
	for i, r := range rows {
		if i == maxSeedLines {
			fmt.Fprintf(w, "  … and %d more: amber report %s lists them all\n", len(rows)-i, dir)
			break
		}
		switch {
		case r.Failure != "":
			fmt.Fprintf(w, "  %s → not archived: %s\n", safeLine(r.URL), safeLine(r.Failure))
		case r.ArchivalPath == "":
			fmt.Fprintf(w, "  %s → not archived\n", safeLine(r.URL))
		default:
			fmt.Fprintf(w, "  %s → %s (%d)\n", safeLine(r.URL), safeLine(r.ArchivalPath), r.Status)
		}
	}
}
