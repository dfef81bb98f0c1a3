package collection

import (
	"context"
	"path/filepath"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// StateDir is the directory of a collection that holds what its runs keep
// between them and is not part of the archive (never in datapackage.json or
// a WACZ): the embedded crawl state, the spool, the page texts waiting for
// pages.jsonl.
const StateDir = "state"

// PageTextFile, in StateDir, holds the rendered texts of a run's pages
// (amber archive --browser --page-text), one JSON object {"url", "text"} a
// line, until Finish puts them in pages.jsonl.
const PageTextFile = "pagetext.jsonl"

// Dir is an open collection directory.
type Dir struct {
	*warc.Collection
}

// Open opens the collection directory dir, creating its layout if needed.
func Open(dir string) (*Dir, error) {
	c, err := warc.OpenCollection(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{c}, nil
}

// StatePath is the directory of the collection's state (StateDir).
func (d *Dir) StatePath() string { return filepath.Join(d.Dir, StateDir) }

// State is what recovery and finishing need of the crawl state of the
// worker that writes the collection.
type State interface {
	// Fresh reports whether the state was made afresh and holds nothing of
	// the collection's earlier runs (its file was damaged and moved aside,
	// or deleted): Recover then hands it the digests of every WARC file.
	Fresh() bool
	// Archived records what Recover found in WARC files that a run which
	// died had written: urls (of responses and revisits) are finished, not
	// to be fetched again, and digests are known, so that an unchanged
	// payload is stored as a revisit of them. Durable when it returns.
	Archived(ctx context.Context, urls []string, digests []Digest) error
	// Pages returns the pages the worker finished that ClearPages has not
	// cleared, oldest first, each with its Seq.
	Pages(ctx context.Context) ([]Page, error)
	// ClearPages forgets the worker's pages up to and including Seq
	// through. Finish calls it once they are durably in pages.jsonl and
	// datapackage.json.
	ClearPages(ctx context.Context, through uint64) error
}

// Page is a page of the crawl state's pages outbox: a capture the crawl
// found to be a page (IsPage), waiting to be listed in pages.jsonl.
type Page struct {
	Seq   uint64 // the outbox's, for ClearPages
	URL   string
	Title string
	Date  time.Time // of the capture, second precision
	Seed  bool
	Size  int64 // bytes of the response as archived
}

// Digest is an archived response a revisit can refer to.
type Digest struct {
	Digest   string // WARC-Payload-Digest as recorded
	RecordID string // WARC-Record-ID
	URI      string // WARC-Target-URI
	Date     string // WARC-Date as recorded
}
