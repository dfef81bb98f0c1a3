// Package frontier is the crawl state that several workers can share: the
// queue of URLs to fetch, handed out as leases; the seen set; the index of
// payload digests that revisit records refer to; robots.txt; the pages
// outbox; and the run log.
//
// A worker claims entries for a time to live, extends its leases while it
// fetches and writes them, and finishes them when their records are
// durable. A lease that expired is lost: the entry goes back to the queue
// by itself, another worker may take it, and finishing it is refused with
// ErrLeaseLost, so no two workers both record a URL as theirs. Nothing in
// the interface assumes one process: a backend that talks to a server
// (Redis) implements it as well as one in memory or in a bbolt file.
//
// Every backend passes one conformance suite, frontiertest.Run; the
// contracts it checks are written on each method below.
package frontier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Frontier is the shared state of one crawl. Every method is safe for
// concurrent use, by goroutines and by processes sharing the backend.
// "Durable" below means: once the method returns nil, the change survives
// a crash of the process (for backends that persist at all).
type Frontier interface {
	// Begin starts a run of a worker. It resumes the unfinished crawl if
	// there is one (entries queued or leased), else starts a new crawl
	// numbered one more than the last. With recrawl, a new crawl queues
	// again URLs finished in earlier crawls; a resumed crawl keeps the
	// mode it began with. Begin never touches leases: those of a worker
	// still running stay its own, those of a dead one expire.
	Begin(ctx context.Context, recrawl bool) (CrawlInfo, error)

	// Add queues the entries whose keys are new to the crawl, durably, and
	// returns how many it queued. A key is new if it was never added, or
	// was finished in an earlier crawl and this one recrawls, or failed
	// in an earlier crawl. A requisite is also queued when its key is only
	// queued as a page (not leased yet) or was finished as a page with a
	// reason starting "skipped: ": pages and requisites do not block each
	// other, and Claim hands the key out once, as the requisite.
	Add(ctx context.Context, entries []Entry) (int, error)

	// Claim leases up to max queued entries to worker until now+ttl:
	// requisites first, then pages, each in the order queued (an entry
	// whose lease expired or was released comes back ahead of the rest).
	// It returns none, and no error, when nothing is queued.
	Claim(ctx context.Context, worker string, max int, ttl time.Duration) ([]Lease, error)

	// Extend renews leases until now+ttl and returns them renewed. A
	// lease that has expired, or was released or finished, is lost: it is
	// not renewed, and the error is a *LeaseError naming it (errors.Is
	// ErrLeaseLost); the others are renewed all the same.
	Extend(ctx context.Context, leases []Lease, ttl time.Duration) ([]Lease, error)

	// Release puts leased entries back in the queue, unfetched, ahead of
	// the rest (a worker draining). Lost leases are ignored.
	Release(ctx context.Context, leases []Lease) error

	// Finish records, durably and at once, the outcome of leased entries
	// and the payload digests of the records written for them. An outcome
	// whose lease is lost is not recorded and the error is a *LeaseError
	// naming it; the others are recorded. Digests are indexed either way
	// (their records exist), the first record of a payload kept.
	Finish(ctx context.Context, outcomes []Outcome, digests []DigestRef) error

	// Recover marks finished in the current crawl keys whose records are
	// archived and durable — those found in WARC files that a crashed run
	// of this worker left behind, and those a browser fetched outside the
	// queue — if they are new to the crawl, queued, finished in an
	// earlier crawl, or their lease has expired, and indexes their
	// digests. A live lease is left alone, whoever holds it: the crashed
	// run's own leases are recovered once they expire (a restart within
	// the lease time to live may fetch such a URL again).
	Recover(ctx context.Context, keys []string, digests []DigestRef) error

	// LookupDigest finds the record a revisit of this payload refers to.
	LookupDigest(ctx context.Context, digest string) (DigestRef, bool, error)

	// Robots returns the robots.txt stored for an origin. PutRobots
	// stores r unless one of the same crawl is stored already (put if
	// absent: the first worker to fetch it wins), and returns what is
	// stored.
	Robots(ctx context.Context, origin string) (RobotsTxt, bool, error)
	PutRobots(ctx context.Context, origin string, r RobotsTxt) (RobotsTxt, error)

	// Cookies returns the cookie jar of the current crawl, sorted by key:
	// what sites set, so that a resumed crawl, or another worker, sends
	// what this one would. PutCookies stores cookies in it, durably,
	// replacing those with the same key; a cookie without Data is
	// removed. A new crawl starts with an empty jar.
	Cookies(ctx context.Context) ([]Cookie, error)
	PutCookies(ctx context.Context, cookies []Cookie) error

	// Counts returns how many URLs of the current crawl are in each state
	// (expired leases count as queued).
	Counts(ctx context.Context) (Counts, error)

	// Failures lists up to max URLs of the current crawl that failed.
	Failures(ctx context.Context, max int) ([]Failure, error)

	// Pages returns the pages worker finished that ClearPages has not yet
	// cleared, in the order finished, each with its Seq. ClearPages
	// forgets worker's pages up to and including seq through, once they
	// are listed in the worker's pages.jsonl.
	Pages(ctx context.Context, worker string) ([]Page, error)
	ClearPages(ctx context.Context, worker string, through uint64) error

	// StartRun records a run as started and returns its number; EndRun
	// records how it ended; Runs lists the runs, oldest first.
	StartRun(ctx context.Context, r RunInfo) (uint64, error)
	EndRun(ctx context.Context, seq uint64, r RunInfo) error
	Runs(ctx context.Context) ([]RunInfo, error)

	// Close releases the backend. Later calls return ErrClosed.
	Close() error
}

// Clock tells a backend the time; leases expire by it. Tests pass one
// they move by hand. Workers sharing a backend on several machines need
// clocks that agree to well within a lease's time to live (NTP does).
type Clock func() time.Time

// Entry is a URL to fetch: its canonical key (the seen-set identity) and
// what the crawler needs to fetch it, opaque to the frontier.
type Entry struct {
	Key  string
	Data []byte
	// Requisite entries are claimed before pages, so that what a page
	// needs to render is fetched soon after the page (temporal coherence).
	Requisite bool
}

// Lease is an entry claimed by a worker until Expires. Token tells one
// claim of a key from a later one.
type Lease struct {
	Entry
	Worker  string
	Token   uint64
	Expires time.Time
}

// Outcome is the end of a leased entry: done, or failed with a reason.
type Outcome struct {
	Lease  Lease
	Failed string // "" when done
	Page   *Page  // an archived HTML page, for the worker's pages.jsonl
}

// DigestRef is an archived record a revisit can refer to.
type DigestRef struct {
	Digest   string
	RecordID string
	URI      string
	Date     string
}

// RobotsTxt is a fetched robots.txt: its status (0 when it could not be
// fetched) and body, and the crawl it was fetched in.
type RobotsTxt struct {
	Status int
	Body   []byte
	Crawl  uint64
}

// Cookie is one cookie of a crawl's jar: its identity (Key, the jar's:
// host, name, domain, path) and what the crawler needs to set it again,
// both opaque to the frontier. Data holds the cookie's value: a backend
// never puts it in an error or a log.
type Cookie struct {
	Key  string
	Data []byte
}

// Page is an archived HTML page, as listed in pages.jsonl.
type Page struct {
	Seq   uint64 // set by the frontier, per worker
	URL   string
	Title string
	Date  time.Time
	Seed  bool
	Size  int64
}

// Counts is the number of URLs of the current crawl in each state.
type Counts struct {
	Queued, Leased, Done, Failed int
}

// CrawlInfo describes the crawl a run belongs to.
type CrawlInfo struct {
	Crawl   uint64 // crawl number, from 1
	Resumed bool   // the run continues an unfinished crawl
}

// Failure is a URL that failed, with the reason.
type Failure struct {
	URL    string
	Reason string
}

// RunInfo is one run of a worker, for amber status.
type RunInfo struct {
	Worker   string
	Crawl    uint64
	Resumed  bool
	PID      int
	Started  time.Time
	Ended    time.Time
	Exit     int
	Files    []string
	Captures int
	Bytes    int64
	Failures int
}

// SkippedPrefix starts the reason of a page that was not fetched (robots.txt,
// a trap): a requisite with the same key is still fetched.
const SkippedPrefix = "skipped: "

// Errors.
var (
	// ErrLeaseLost is what every *LeaseError is.
	ErrLeaseLost = errors.New("frontier: lease lost")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("frontier: closed")
)

// LeaseError names the keys whose leases were lost.
type LeaseError struct {
	Keys []string
}

func (e *LeaseError) Error() string {
	const show = 3
	keys := e.Keys
	more := ""
	if len(keys) > show {
		keys, more = keys[:show], fmt.Sprintf(" and %d more", len(e.Keys)-show)
	}
	return fmt.Sprintf("frontier: lease lost for %s%s (expired, and the URL went back to the queue)", strings.Join(keys, ", "), more)
}

func (e *LeaseError) Is(target error) bool { return target == ErrLeaseLost }

// TransientError marks a failure of the backend that may go away by itself
// (a dropped connection, a server restarting): the caller retries with
// backoff. Any other error of a backend is fatal to the crawl.
type TransientError struct {
	Err error
}

func (e *TransientError) Error() string { return "frontier: transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err, or an error it wraps, is a
// *TransientError.
func IsTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}
