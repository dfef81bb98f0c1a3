package collection

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/amber-archiver/amber/warc"
)

// Run is what a run wrote, for Finish.
type Run struct {
	// Index holds the CDXJ lines of the run's WARC files (warc.Writer.Index).
	Index []string
	// Hashes maps the base names of the run's WARC files to the sha256
	// taken while they were written (warc.Writer.FileHashes), so that
	// datapackage.json need not read them again.
	Hashes map[string]string
	// Software names the writer in datapackage.json ("amber/VERSION").
	Software string
}

// Finish ends a run: it adds the run's index lines to indexes/index.cdxj,
// lists the pages of st's outbox in pages/pages.jsonl (with the rendered
// texts waiting in StateDir/PageTextFile, if any), rewrites
// datapackage.json, and only then clears the outbox and the texts. A
// crash anywhere in between loses nothing: the index and the page list
// take the same lines twice without change (warc.Collection.AddIndex,
// AddNewPages), and the next run's Recover and Finish list what was not.
//
// It runs after Recover too, so that what a dead run wrote is listed.
// With st nil (the crawl state cannot be reached) the outbox is left for
// the worker's next run. A WARC file still open is an error: its run has
// not ended.
func (d *Dir) Finish(ctx context.Context, st State, run Run) error {
	if left, _ := filepath.Glob(filepath.Join(d.ArchivePath(), "*.open")); len(left) > 0 {
		return fmt.Errorf("WARC file not closed: %s", left[0])
	}
	if len(run.Index) > 0 {
		if err := d.AddIndex(run.Index); err != nil {
			return err
		}
	}
	var pages []Page
	if st != nil {
		var err error
		if pages, err = st.Pages(ctx); err != nil {
			return err
		}
	}
	entries := make([]warc.PageEntry, 0, len(pages))
	for _, p := range pages {
		entries = append(entries, warc.PageEntry{ID: uuid.NewString(), URL: p.URL, TS: p.Date.UTC().Format(time.RFC3339), Title: p.Title, Size: p.Size})
	}
	textsDone := func() {}
	if st != nil {
		// Without the outbox the texts wait with it for the next run.
		var err error
		if textsDone, err = d.addPageTexts(entries); err != nil {
			return err
		}
	}
	if len(entries) > 0 || !d.HasPages() {
		if _, err := d.AddNewPages(entries); err != nil {
			return err
		}
	}
	if err := d.WriteDatapackage(run.Software, time.Now(), run.Hashes); err != nil {
		return err
	}
	if len(pages) > 0 {
		if err := st.ClearPages(ctx, pages[len(pages)-1].Seq); err != nil {
			return err
		}
	}
	textsDone()
	return nil
}

// addPageTexts sets the text of the entries whose page has one in the
// page-text file (the last line for a URL wins); done removes the file
// once the entries are listed.
func (d *Dir) addPageTexts(entries []warc.PageEntry) (done func(), err error) {
	p := filepath.Join(d.StatePath(), PageTextFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := make(map[string]int, len(entries))
	for i, e := range entries {
		want[e.URL] = i
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var pt struct {
			URL  string `json:"url"`
			Text string `json:"text"`
		}
		if json.Unmarshal(sc.Bytes(), &pt) != nil {
			continue // a line a crash cut short
		}
		if i, ok := want[pt.URL]; ok {
			entries[i].Text = pt.Text
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("page texts: %w", err)
	}
	return func() { os.Remove(p) }, nil
}
