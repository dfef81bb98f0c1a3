// Package testworkers builds, for tests, the collections several workers
// of one crawl write when they share a payload-digest index: a payload
// one worker archived first is a revisit in another's WARC file, referring
// to the first record.
package testworkers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// RevisitProfile is the WARC-Profile of the revisits AddRevisits writes.
const RevisitProfile = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

// Capture is a URL for AddRevisits to capture again; Title, if set, makes
// it a page of the collection.
type Capture struct {
	URL   string
	Title string
}

// AddRevisits adds to the collection in dir a WARC file of worker (the
// worker id in its name) holding a revisit of the response record of each
// capture's URL in the collection in from, dated after the original. It
// is what a worker writes that captured those URLs again and found their
// payload digests in the digest index the workers share: the HTTP head of
// its own response, and WARC-Refers-To, -Target-URI and -Date naming the
// record of the other collection. It updates dir's index, pages and
// datapackage.json, and returns the revisits' dates by URL.
//
// amber archive cannot write such a file by itself yet: a run into one
// collection knows only its own digests until the crawl state is shared
// (--state redis://, issue 13).
func AddRevisits(from, dir, worker string, after time.Duration, captures ...Capture) (map[string]time.Time, error) {
	type original struct {
		h    warc.Header
		head []byte
	}
	originals := map[string]original{}
	want := map[string]bool{}
	for _, c := range captures {
		want[c.URL] = true
	}
	files, err := filepath.Glob(filepath.Join(from, warc.ArchiveDir, "*.warc.gz"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := eachResponse(f, func(h warc.Header, block []byte) {
			if u := h.Get("WARC-Target-URI"); want[u] {
				if _, n := warc.HTTPHeadEnd(block); n > 0 {
					originals[u] = original{h, block[:n]}
				}
			}
		}); err != nil {
			return nil, err
		}
	}

	coll, err := warc.OpenCollection(dir)
	if err != nil {
		return nil, err
	}
	var now time.Time
	w, err := warc.NewWriter(warc.WriterOptions{Dir: coll.ArchivePath(), Worker: worker, Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	dates := map[string]time.Time{}
	var pages []warc.PageEntry
	for i, c := range captures {
		o, ok := originals[c.URL]
		if !ok {
			w.Close()
			return nil, fmt.Errorf("testworkers: no response record of %s in %s", c.URL, from)
		}
		date, err := time.Parse(warc.DateFormat, o.h.Get("WARC-Date"))
		if err != nil {
			w.Close()
			return nil, err
		}
		date = date.Add(after)
		if i == 0 {
			now = date // the file is named after its first record
		}
		rv := w.NewRecord(warc.TypeRevisit, date)
		rv.AddField("WARC-Target-URI", c.URL)
		rv.AddField("Content-Type", "application/http;msgtype=response")
		rv.AddField("WARC-Payload-Digest", o.h.Get("WARC-Payload-Digest"))
		rv.AddField("WARC-Profile", RevisitProfile)
		rv.AddField("WARC-Refers-To", o.h.Get("WARC-Record-ID"))
		rv.AddField("WARC-Refers-To-Target-URI", o.h.Get("WARC-Target-URI"))
		rv.AddField("WARC-Refers-To-Date", o.h.Get("WARC-Date"))
		rv.Write(o.head)
		if _, err := w.Write(rv); err != nil {
			w.Close()
			return nil, err
		}
		dates[c.URL] = date
		if c.Title != "" {
			pages = append(pages, warc.PageEntry{ID: fmt.Sprintf("%s-%d", worker, i), URL: c.URL, TS: date.UTC().Format(time.RFC3339), Title: c.Title})
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := coll.AddIndex(w.Index()); err != nil {
		return nil, err
	}
	if err := coll.AddPages(pages); err != nil {
		return nil, err
	}
	return dates, coll.WriteDatapackage("amber/testworkers", time.Now(), w.FileHashes())
}

// eachResponse calls fn with the header and block of every response
// record of the WARC file f.
func eachResponse(f string, fn func(warc.Header, []byte)) error {
	fh, err := os.Open(f)
	if err != nil {
		return err
	}
	defer fh.Close()
	r, err := warc.NewReader(fh)
	if err != nil {
		return err
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if rec.Header.Get("WARC-Type") != warc.TypeResponse {
			continue
		}
		block, err := io.ReadAll(rec.Body)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fn(rec.Header, block)
	}
}
