package crawl

import (
	"sync"
	"sync/atomic"
)

// tally counts what a run did, for its Result and its progress: what was
// archived, skipped and failed. Its methods are safe for concurrent use.
type tally struct {
	requests atomic.Int64 // requests sent
	queued   atomic.Int64 // FRESH URLs, for progress

	mu        sync.Mutex
	pages     int
	failures  []Failure
	skipped   int
	truncated int
	captures  int
	revisits  int
	bytes     int64
	optional  map[string]struct{} // URLs whose failure is no failure (target.optional)
}

// maxOptional bounds the optional URLs a run remembers; past it, they
// fail like the others.
const maxOptional = 100000

// markOptional notes that u was queued as optional: its failure, unless
// it is a seed's, is not counted.
func (t *tally) markOptional(u string) {
	t.mu.Lock()
	if t.optional == nil {
		t.optional = map[string]struct{}{}
	}
	if len(t.optional) < maxOptional {
		t.optional[u] = struct{}{}
	}
	t.mu.Unlock()
}

// fail counts u as a URL that could not be captured.
func (t *tally) fail(u string, seed bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.optional[u]; ok && !seed {
		return // tried as a browser tries it; the crawl log has the error
	}
	t.failures = append(t.failures, Failure{URL: u, Seed: seed, Err: err})
}

// skip counts n URLs not fetched.
func (t *tally) skip(n int) {
	t.mu.Lock()
	t.skipped += n
	t.mu.Unlock()
}

// captured counts a response (or revisit) record of size bytes written.
func (t *tally) captured(bytes int64, revisit, truncated bool) {
	t.mu.Lock()
	t.captures++
	t.bytes += bytes
	if revisit {
		t.revisits++
	}
	if truncated {
		t.truncated++
	}
	t.mu.Unlock()
}

// addPages counts n HTML pages whose outcome the frontier recorded.
func (t *tally) addPages(n int) {
	t.mu.Lock()
	t.pages += n
	t.mu.Unlock()
}

// result returns the counts as a Result, with lostLeases.
func (t *tally) result(lostLeases int) *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &Result{
		Pages: t.pages, Failures: t.failures, Captures: t.captures, Revisits: t.revisits,
		Bytes: t.bytes, Requests: int(t.requests.Load()), Skipped: t.skipped, Truncated: t.truncated,
		LostLeases: lostLeases,
	}
}
