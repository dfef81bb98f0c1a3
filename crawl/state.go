package crawl

import (
	"errors"
	"strings"
)

// State is the crawl's memory: the frontier of URLs still to fetch, with
// each URL's state (FRESH → CLAIMED → DONE, or FAILED with a reason), the
// seen set, and the payload-digest index that revisit records refer to.
// The embedded default is a bbolt file in the collection (OpenBoltState);
// MemoryState keeps one run's state in memory; a shared backend lets
// several workers crawl together. Every method is safe for concurrent use.
//
// A crawl spans one or more runs: when a run stops before its frontier is
// empty (killed, interrupted), the next Begin resumes the same crawl: URLs
// left CLAIMED are FRESH again, DONE ones are not fetched again.
type State interface {
	// Begin starts a run. It resumes the unfinished crawl if there is one,
	// else starts a new crawl. With recrawl, URLs DONE in earlier crawls
	// may be queued again; the seen set still holds within the crawl.
	Begin(recrawl bool) (CrawlInfo, error)
	// Add queues the entries whose keys are new to the crawl, durably
	// before it returns, and reports how many were queued. A requisite
	// entry is also queued when its key is only queued as a page, not yet
	// claimed, or was skipped as one (requeuedAsRequisite); Claim then
	// hands the key out once.
	Add(entries []Entry) (int, error)
	// Claim takes up to max FRESH entries, oldest first, marking them
	// CLAIMED. It returns none when the frontier is empty.
	Claim(max int) ([]Entry, error)
	// Finish records the outcome of claimed entries and the payload
	// digests of the records written for them. It is called only once the
	// records are durable in the WARC files.
	Finish(outcomes []Outcome, digests []DigestRef) error
	// Recover marks DONE the URLs found archived in WARC files a crashed
	// run left behind (if they are FRESH or CLAIMED) and indexes their
	// digests. It is called before Begin.
	Recover(outcomes []Outcome, digests []DigestRef) error
	// Robots returns the robots.txt fetched for an origin in this crawl;
	// PutRobots stores it, so a resumed crawl neither fetches nor archives
	// it again.
	Robots(origin string) (RobotsTxt, bool, error)
	PutRobots(origin string, r RobotsTxt) error
	// LookupDigest finds an earlier record with this payload digest.
	LookupDigest(digest string) (DigestRef, bool, error)
	// Counts returns the number of URLs in each state, in this crawl.
	Counts() (Counts, error)
	// Pages returns the pages finished but not yet listed in pages.jsonl;
	// ClearPages forgets them once they are.
	Pages() ([]Page, error)
	ClearPages() error
	Close() error
}

// CrawlInfo describes the crawl a run belongs to.
type CrawlInfo struct {
	Crawl    uint64 // crawl number, from 1
	Resumed  bool   // the run continues an unfinished crawl
	Requeued int    // URLs that were CLAIMED and are FRESH again
}

// Entry is a queued URL: its canonical key and what the crawler needs to
// fetch it (an encoded target).
type Entry struct {
	Key  string
	Data []byte
	// Requisite entries are claimed before the others, so that what a page
	// needs to render is fetched soon after the page itself (temporal
	// coherence), not after every page queued before it.
	Requisite bool
}

// Outcome is the end of a claimed entry: done, or failed with a reason.
type Outcome struct {
	Key    string
	Failed string // "" when DONE
	Page   *Page  // an archived HTML page, for pages.jsonl
}

// DigestRef is an archived record a revisit can refer to.
type DigestRef struct {
	Digest   string `json:"-"`
	RecordID string `json:"id"`
	URI      string `json:"uri"`
	Date     string `json:"date"`
}

// RobotsTxt is a fetched robots.txt: its status (0 when it could not be
// fetched) and body.
type RobotsTxt struct {
	Status int    `json:"s"`
	Body   []byte `json:"b,omitempty"`
	Crawl  uint64 `json:"c"`
}

// Counts is the number of URLs in each state.
type Counts struct {
	Fresh, Claimed, Done, Failed int
}

// URL states.
const (
	stateFresh   byte = 'F'
	stateClaimed byte = 'C'
	stateDone    byte = 'D'
	stateFailed  byte = 'X'
)

// queuedAsPage is the reason kept with a FRESH URL queued as a page (not
// as a requisite): a requisite with the same key may still take its place.
const queuedAsPage = "page"

// requeuedAsRequisite reports whether a URL in state st, with reason, is
// queued again when found as a requisite: pages and requisites do not
// block each other in the seen set. A URL queued as a page but not yet
// claimed, or skipped as a page ("skipped: disallowed by robots.txt"),
// is fetched as the requisite; one claimed, fetched or failed is not
// fetched again.
func requeuedAsRequisite(st byte, reason string) bool {
	return st == stateFresh && reason == queuedAsPage || st == stateFailed && strings.HasPrefix(reason, "skipped: ")
}

// ErrStateClosed is returned after Close.
var ErrStateClosed = errors.New("crawl: state is closed")
