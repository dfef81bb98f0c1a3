package crawl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"golang.org/x/sync/errgroup"

	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/extract"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc"
	"github.com/amber-archiver/amber/warc/collection"
)

// Options configure a crawl. Zero values mean the documented default.
type Options struct {
	Seeds []string
	// Scope decides which linked pages are followed; default ScopePage.
	Scope Scope
	// Outlinks also archives every page an in-scope page links to that is
	// outside the scope, one hop, with its requisites.
	Outlinks bool
	// Depth bounds the hops from a seed for prefix/host/domain scopes;
	// 0 means unlimited.
	Depth            int
	Include, Exclude []*regexp.Regexp // applied to pages, not requisites
	Concurrency      int              // requests in flight in all; default 8 (the crawl runs 4 workers per request)
	PerHost          int              // requests in flight per host; default 2
	Delay            time.Duration    // pause between requests to one host
	IgnoreRobots     bool             // robots.txt is obeyed for pages unless set
	UserAgent        string           // default DefaultUserAgent
	Transport        capture.Options
	MaxRedirects     int  // longest redirect chain; default 20
	MaxURLsPerHost   int  // default 100000
	MaxURLLength     int  // default 2048
	KeepTracking     bool // keep utm_*, fbclid, gclid in seen-set keys
	Retries          int  // retries after a network error, 429 or 5xx; default 3
	// RetryBase is the first backoff after a failure, doubled each retry
	// with jitter; default 1 s. RetryMaxWait caps a Retry-After wait;
	// default 2 min (a longer one is not waited for).
	RetryBase, RetryMaxWait time.Duration
	// Frontier holds the queue, the seen set, the digest index, robots.txt
	// and the pages outbox. The caller begins it (Frontier.Begin) and
	// passes the crawl number Begin returned in Crawl; default: in memory,
	// for this run only. Its transient errors are retried by StateRetry.
	Frontier frontier.Frontier
	// Crawl is the number of the crawl this run belongs to: a robots.txt
	// stored by an earlier crawl is fetched again.
	Crawl uint64
	// Recrawl is passed to Begin for the default frontier.
	Recrawl bool
	// Worker names this run in the frontier: its leases and its pages
	// outbox; default "local".
	Worker string
	// LeaseTTL is how long a claimed URL stays this run's without word
	// from it; default 2 min. Leases are extended every third of it while
	// the URL is buffered, fetched or waiting for its checkpoint.
	LeaseTTL time.Duration
	// StateRetry says how transient errors of the frontier (a dropped
	// connection) are retried before the crawl stops; see
	// frontier.RetryPolicy for the defaults.
	StateRetry frontier.RetryPolicy
	// PollOthers, when set, says the frontier is shared with other
	// workers: when it is empty and this run has nothing in flight, the
	// run ends only once no live lease remains (Counts.Leased); until then
	// it claims again every PollOthers, as those workers may add URLs.
	PollOthers time.Duration
	// ClaimBatch is how many entries one claim takes at most; default
	// max(512, 16*Concurrency). Workers sharing a frontier take fewer, so
	// that the URLs go round.
	ClaimBatch int
	// HostSlots, if set, bounds the requests in flight per host across
	// every worker sharing the frontier, and spaces them by its delay
	// (PerHost and Delay still hold for this run's).
	HostSlots HostSlots
	// HostCap, if set, holds MaxURLsPerHost across every worker sharing
	// the frontier: it counts the URLs queued in the crawl, in place of
	// this run's own count.
	HostCap HostCap
	// RobotsLock, if set, makes the workers sharing the frontier fetch
	// each robots.txt once: the others wait for the one it stores.
	RobotsLock RobotsLock
	// NoDedup stores every response in full; by default a response whose
	// payload was archived before (same payload digest, payload of at least
	// MinRevisitSize bytes) is written as a revisit record.
	NoDedup bool
	// Drain, when closed, stops the crawl from taking new URLs; the ones
	// in flight have DrainGrace to finish and be archived, then are cut:
	// nothing of a cut fetch is written and its URL is fetched again when
	// the crawl resumes. Retries are not waited for once draining.
	// Cancelling ctx stops at once.
	Drain <-chan struct{}
	// DrainGrace is how long fetches in flight may go on after Drain;
	// default 10 s.
	DrainGrace time.Duration
	// CheckpointInterval is how often written records are synced and
	// their URLs marked DONE; default 500 ms.
	CheckpointInterval time.Duration
	// Progress, if set, is called after every fetch. It must be quick.
	Progress func(Fetch)
	// Log, if set, receives one JSON line per fetch.
	Log io.Writer
	// Cookies are in the crawl's cookie jar from the start (a login or
	// consent wall passed in a browser: ReadCookiesFile). The jar keeps
	// what sites set, within a browser's bounds, in the frontier
	// (Frontier.PutCookies), so a resumed crawl sends them again; these
	// are not stored. Cookie values appear in the request records, as
	// sent, never in logs.
	Cookies []Cookie
	// NoCookies sends no cookies and keeps none.
	NoCookies bool
	// Browser, if set, loads every page in a browser too (browsermode.go).
	Browser *BrowserOptions
}

// workersPerRequest is how many workers the crawl runs per request it may
// have in flight (Options.Concurrency).
const workersPerRequest = 4

// MinRevisitSize is the smallest payload written as a revisit: below it,
// a revisit record would save nothing.
const MinRevisitSize = 1024

// DefaultUserAgent names amber; users can and should set their own contact.
const DefaultUserAgent = "amber/0.1 (web archiver; +https://github.com/amber-archiver/amber)"

// Fetch describes the outcome of one request, for progress and logs.
type Fetch struct {
	Time     time.Time     `json:"time"`
	URL      string        `json:"url"`
	Status   int           `json:"status"` // 0 when no response was recorded
	Bytes    int64         `json:"bytes"`  // size of the archived response
	Duration time.Duration `json:"-"`
	Millis   int64         `json:"ms"`
	Error    string        `json:"error,omitempty"`
	Via      string        `json:"via,omitempty"`     // the page or redirect that led here
	Hops     int           `json:"hops"`              // page hops from the seed
	Kind     string        `json:"kind"`              // page, requisite, robots, sitemap
	Attempt  int           `json:"attempt,omitempty"` // retries before this fetch
	Revisit  bool          `json:"revisit,omitempty"` // written as a revisit record
	Queued   int           `json:"-"`                 // URLs waiting, for progress
	Err      error         `json:"-"`

	ex *capture.Exchange // recorded, not yet written
}

// Failure is a URL for which no response could be recorded, or a seed that
// could not be crawled.
type Failure struct {
	URL  string
	Seed bool
	Err  error
}

// Result summarises a crawl.
type Result struct {
	Pages     int // HTML pages archived by this run (Frontier.Pages lists them)
	Captures  int // responses and revisits written
	Revisits  int // of which revisits
	Failures  []Failure
	Bytes     int64 // response bytes archived
	Requests  int   // requests sent
	Skipped   int   // URLs not fetched: robots.txt, traps, caps
	Truncated int   // responses archived incomplete
	// LostLeases counts URLs whose lease this run lost (it was not heard
	// from for LeaseTTL): another worker may fetch them, and what this run
	// fetched of them is in its WARC files but not recorded as its own.
	LostLeases int
}

// SeedFailed reports whether any seed could not be captured.
func (r *Result) SeedFailed() bool {
	for _, f := range r.Failures {
		if f.Seed {
			return true
		}
	}
	return false
}

// Kinds of request.
const (
	kindPage      = "page"
	kindRequisite = "requisite"
	kindSitemap   = "sitemap"
)

// target is a URL to fetch and what it is; it is what the frontier stores.
type target struct {
	URL     string `json:"u"`
	Kind    string `json:"k"`
	Seed    string `json:"s,omitempty"` // the seed this URL descends from
	IsSeed  bool   `json:"is,omitempty"`
	Leaf    bool   `json:"l,omitempty"` // an outlink: its links are not followed
	Hops    int    `json:"h,omitempty"` // page hops from the seed
	Chain   string `json:"c,omitempty"` // canonical keys of the redirect chain so far
	Via     string `json:"v,omitempty"` // referring page or redirect
	attempt int
	// optional: a URL the page does not name but a browser tries (an
	// upgraded mixed-content URL, /favicon.ico); no response is not a
	// failure. Known to the run that found it (tally.markOptional).
	optional bool
}

// job is the fetch of one claimed entry, from claim to outcome.
type job struct {
	// ctx is the context of the run the job belongs to, for the colly
	// callbacks (colly hands them the request, not a context of ours).
	ctx     context.Context
	key     string
	t       target
	fetch   Fetch // what the transport observed, with the exchange to write
	links   []target
	page    *frontier.Page
	err     error         // the last error, if no response was recorded
	retryIn time.Duration // >0: the response asks to be fetched again
	skipped string        // why the URL was not fetched
	// robotsWait says why the host's robots.txt is unavailable: the page
	// waits (retryIn at least) for robots.txt to be asked again.
	robotsWait string
}

const ctxJob = "amber.job"

// entryQueue is what the worker loop needs of the frontier itself: a
// queue for the URLs fetches lead to. Claims and outcomes go through the
// scheduler (leaseStore), digests through the sink (digestIndex).
type entryQueue interface {
	Add(ctx context.Context, entries []frontier.Entry) (int, error)
}

// crawler is one Run: it composes the parts below and the worker loop
// (worker, process) and colly's callbacks use them.
type crawler struct {
	opts   Options
	c      *colly.Collector
	queue  entryQueue
	sink   *warcSink
	robots *robotsCache
	limit  *hostLimiter

	sched     *scheduler // claims, leases, in flight, checkpoints
	tally     *tally     // the counts of the Result
	admission *admission // filters, per-host caps, recent URLs
	flog      *fetchLog  // Options.Log, or nil

	fetches sync.Map // URL → Fetch, from the transport to the colly callbacks

	jar     http.CookieJar // the crawl's cookies (colly's jar too); nil with NoCookies
	browser *browserMode   // Options.Browser
}

// Run archives the seeds, their requisites and the pages in scope into w.
// It returns an error only when the crawl could not run at all; URLs that
// failed are in Result.Failures.
func Run(ctx context.Context, opts Options, w *warc.Writer) (*Result, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.PerHost <= 0 {
		opts.PerHost = 2
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = 20
	}
	if opts.MaxURLsPerHost <= 0 {
		opts.MaxURLsPerHost = 100000
	}
	if opts.MaxURLLength <= 0 {
		opts.MaxURLLength = 2048
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	} else if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMaxWait <= 0 {
		opts.RetryMaxWait = 2 * time.Minute
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = 500 * time.Millisecond
	}
	if opts.DrainGrace <= 0 {
		opts.DrainGrace = 10 * time.Second
	}
	if opts.Worker == "" {
		opts.Worker = "local"
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 2 * time.Minute
	}
	if opts.Frontier == nil {
		opts.Frontier = frontier.NewMemory(nil)
		info, err := opts.Frontier.Begin(ctx, opts.Recrawl)
		if err != nil {
			return nil, err
		}
		opts.Crawl = info.Crawl
	}
	front := frontier.WithRetry(opts.Frontier, opts.StateRetry)
	cr := &crawler{
		opts:      opts,
		queue:     front,
		sched:     newScheduler(front, opts),
		tally:     &tally{},
		admission: newAdmission(opts),
		flog:      newFetchLog(opts.Log),
		limit:     newHostLimiter(opts.Concurrency, opts.PerHost, opts.Delay),
	}
	cr.sched.onClaim = func(n int) { cr.tally.queued.Add(-int64(n)) }
	cr.sched.onLost = func(key, why string) { cr.log(Fetch{Time: time.Now().UTC(), URL: key, Error: why}) }
	cr.limit.slots = opts.HostSlots
	cr.limit.lost = func(err error) { cr.setFatal(fmt.Errorf("crawl state: %w", err)) }
	defer cr.flog.flush()
	cr.sink = &warcSink{w: w, index: front, dedup: !opts.NoDedup}
	if counts, err := front.Counts(ctx); err == nil {
		cr.tally.queued.Store(int64(counts.Queued + counts.Leased))
	}

	rec := capture.NewTransport(cr.sink, opts.Transport)
	defer rec.CloseIdleConnections()
	if opts.Browser != nil {
		bm, err := startBrowser(ctx, cr, rec, *opts.Browser)
		if err != nil {
			return nil, err
		}
		cr.browser = bm
		defer bm.stop()
	}
	tr := &crawlTransport{rt: rec, c: cr}
	cr.robots = newRobotsCache(tr, opts.UserAgent, front, opts.Crawl)
	cr.robots.sync = func() error { _, err := w.Sync(); return err }
	cr.robots.base, cr.robots.max = opts.RetryBase, opts.RetryMaxWait
	cr.robots.lock = opts.RobotsLock
	cr.robots.note = func(u, msg string) {
		cr.log(Fetch{Time: time.Now().UTC(), URL: u, Kind: "robots", Error: msg})
	}

	c := colly.NewCollector(
		colly.UserAgent(opts.UserAgent),
		colly.MaxBodySize(0), // the transport already bounds what is parsed
		colly.StdlibContext(ctx),
		colly.IgnoreRobotsTxt(), // robots.txt is handled (and archived) by amber
		colly.AllowURLRevisit(), // the state's seen set decides
	)
	// colly's jar would send back whatever a site sets; this one keeps
	// to a browser's bounds, and starts with the cookies the user gave.
	if opts.NoCookies {
		c.DisableCookies()
	} else {
		jar := newBoundedJar()
		for _, ck := range opts.Cookies {
			jar.SetCookies(ck.URL, []*http.Cookie{ck.Cookie})
		}
		kept, err := loadJar(ctx, front, jar, func(cs []frontier.Cookie) {
			if err := front.PutCookies(ctx, cs); err != nil && ctx.Err() == nil {
				// Never the values: only how many.
				cr.setFatal(fmt.Errorf("crawl state: storing %d cookies: %w", len(cs), err))
			}
		})
		if err != nil {
			return nil, err
		}
		c.SetCookieJar(kept)
		cr.jar = kept
	}
	// Every redirect hop is crawled as its own request, with its own
	// politeness, robots.txt and seen-set check: colly hands the redirect
	// to the callbacks instead of following it.
	c.SetRedirectHandler(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })
	c.ParseHTTPErrorResponse = true // a 404 is a capture, not an error
	c.SetRequestTimeout(0)          // the transport's timeouts apply instead
	c.WithTransport(tr)
	c.OnRequest(cr.onRequest)
	c.OnResponse(cr.onResponse)
	c.OnError(cr.onError)
	cr.c = c

	var seeds []target
	for _, s := range opts.Seeds {
		s = strings.TrimSpace(s)
		seeds = append(seeds, target{URL: s, Kind: kindPage, Seed: s, IsSeed: true})
	}
	// The seed hosts' sitemaps are queued in the same durable write as the
	// seeds: a run killed between two writes would leave seeds whose
	// sitemaps the resumed run never queues. They are new only when the
	// seeds are (a crawl resumed, or of seeds all archived before, has
	// them in its seen set already).
	if opts.Scope == ScopeHost || opts.Scope == ScopeDomain {
		seeds = append(seeds, cr.sitemapTargets(ctx)...)
	}
	cr.add(ctx, seeds)

	// The checkpointer makes written records durable and then marks their
	// URLs DONE, every CheckpointInterval and once at the end.
	stopCheckpoints := make(chan struct{})
	checkpointsDone := make(chan error, 1)
	go func() {
		t := time.NewTicker(opts.CheckpointInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if err := cr.checkpoint(ctx); err != nil {
					cr.setFatal(err)
				}
			case <-stopCheckpoints:
				checkpointsDone <- cr.checkpoint(ctx)
				return
			}
		}
	}()
	go cr.sched.extendLeases(ctx, stopCheckpoints)
	stopWake := context.AfterFunc(ctx, cr.sched.wakeAll)
	defer stopWake()
	if opts.Drain != nil {
		go func() {
			select {
			case <-opts.Drain:
				cr.sched.wakeAll()
				grace := time.NewTimer(opts.DrainGrace)
				defer grace.Stop()
				select {
				case <-grace.C:
					rec.Cut()
				case <-stopCheckpoints:
				}
			case <-stopCheckpoints:
			}
		}()
	}

	var wg sync.WaitGroup
	// More workers than requests in flight: while some wait for a
	// response or for the state to commit a page's links, others parse
	// and write. Requests in flight stay bounded by Concurrency and
	// PerHost (hostLimiter).
	for i := 0; i < workersPerRequest*opts.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr.worker(ctx)
		}()
	}
	wg.Wait()
	cr.browser.stop()
	// Anything recorded that no callback collected is still written.
	cr.fetches.Range(func(k, v any) bool {
		f := v.(Fetch)
		cr.record(ctx, &f) // an error is fatal, and set as such
		cr.fetches.Delete(k)
		return true
	})
	close(stopCheckpoints)
	if err := <-checkpointsDone; err != nil {
		cr.setFatal(err)
	}
	if err := cr.sched.releaseHeld(ctx); err != nil {
		cr.setFatal(err)
	}

	res := cr.tally.result(cr.sched.lostLeases())
	if err := cr.sched.err(); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// setFatal stops the crawl with err (the first one is kept).
func (cr *crawler) setFatal(err error) { cr.sched.setFatal(err) }

// draining reports whether the crawl takes no new URLs.
func (cr *crawler) draining(ctx context.Context) bool { return cr.sched.draining(ctx) }

func (cr *crawler) worker(ctx context.Context) {
	for {
		e, ok := cr.sched.next(ctx)
		if !ok {
			return
		}
		cr.process(ctx, e)
		cr.sched.finished()
	}
}

// process fetches one leased entry, with its retries, and queues its
// outcome. The order matters for resuming after a crash: the links a
// response leads to are durable in the frontier before its records are
// written, and the URL is finished only after the records are synced
// (checkpoint). An entry neither finished nor failed (interrupted, cut)
// keeps its lease, which Run releases at the end.
func (cr *crawler) process(ctx context.Context, e frontier.Lease) {
	var t target
	if err := decodeTarget(e.Data, &t); err != nil {
		cr.sched.pend(&frontier.Outcome{Lease: e, Failed: "unreadable frontier entry: " + err.Error()}, nil)
		return
	}
	for attempt := 0; ; attempt++ {
		t.attempt = attempt
		j := &job{ctx: ctx, key: e.Key, t: t}
		cctx := colly.NewContext()
		cctx.Put(ctxJob, j)
		// Accept-Encoding is set here, in the request's own header, so
		// the transport need not copy the header to add it.
		hdr := http.Header{"Accept-Encoding": {"gzip"}}
		if t.Via != "" && t.Kind == kindRequisite {
			hdr.Set("Referer", t.Via)
		}
		err := cr.c.Request(http.MethodGet, t.URL, nil, cctx, hdr)
		if ex := j.fetch.ex; ex != nil {
			ex.ReleaseContent() // parsed by now
		}
		if j.err == nil && err != nil && j.fetch.Status == 0 && j.skipped == "" {
			j.err = err
		}
		// Frontier first, then the records; a page the browser loads
		// queues its links after (browse).
		if !cr.browsing(j) {
			cr.add(ctx, j.links)
		}
		captured := j.fetch.ex != nil || j.fetch.Status != 0
		cr.keepPage(j) // for the browser's navigation (browsermode.go)
		digest, err := cr.record(ctx, &j.fetch)
		cr.log(j.fetch)
		if err != nil {
			return // not written: the lease is released at the end, the URL fetched on resume
		}
		if cr.browsing(j) && !cr.browse(ctx, j) {
			return // stopped short: released at the end, loaded again on resume
		}

		if j.skipped != "" {
			cr.sched.pend(&frontier.Outcome{Lease: e, Failed: frontier.SkippedPrefix + j.skipped}, nil)
			return
		}
		if j.robotsWait != "" {
			if attempt < cr.opts.Retries && ctx.Err() == nil {
				if !cr.sched.wait(ctx, max(j.retryIn, cr.backoff(attempt))) {
					return // draining: released, and tried again on resume
				}
				continue
			}
			if ctx.Err() != nil {
				return
			}
			why := "robots.txt " + j.robotsWait + ", so it disallows every page of the host (RFC 9309)"
			cr.skip(t, why)
			cr.sched.pend(&frontier.Outcome{Lease: e, Failed: frontier.SkippedPrefix + why}, nil)
			return
		}
		retry := j.retryIn > 0 || (!captured && j.err != nil && retryable(j.err) && !errors.Is(j.err, errNoSlot))
		if retry && attempt < cr.opts.Retries && ctx.Err() == nil {
			d := j.retryIn
			if d == 0 {
				d = cr.backoff(attempt)
			}
			if d <= cr.opts.RetryMaxWait && cr.sched.wait(ctx, d) {
				if captured {
					cr.sched.pend(nil, digest) // the earlier attempt's digest
				}
				continue
			}
		}
		switch {
		case captured:
			cr.sched.pend(&frontier.Outcome{Lease: e, Page: j.page}, digest)
		case ctx.Err() != nil, errors.Is(j.err, capture.ErrCut), errors.Is(j.err, errNoSlot), retry && attempt < cr.opts.Retries && cr.draining(ctx):
			// Interrupted, or cut or not retried because the crawl is
			// draining: the lease is released at the end and the URL is
			// fetched on resume.
		default:
			if j.err == nil {
				j.err = errors.New("no response")
			}
			cr.tally.fail(t.URL, t.IsSeed, j.err)
			cr.sched.pend(&frontier.Outcome{Lease: e, Failed: j.err.Error()}, nil)
		}
		return
	}
}

// checkpoint syncs the WARC files, then finishes the URLs whose records
// were written before the sync (scheduler.checkpoint).
func (cr *crawler) checkpoint(ctx context.Context) error {
	cr.flog.flush()
	sync := func() error { _, err := cr.sink.w.Sync(); return err }
	browsed := cr.browser.takeDone() // written before the sync below
	outcomes, digests, err := cr.sched.checkpoint(ctx, sync)
	if err != nil {
		return err
	}
	if err := cr.browser.finishDone(ctx, browsed, len(outcomes)+len(digests) > 0, sync); err != nil {
		return err
	}
	cr.sink.committed(digests)
	n := 0
	for _, o := range outcomes {
		if o.Page != nil {
			n++
		}
	}
	cr.tally.addPages(n)
	return nil
}

// CheckURL validates a seed: absolute, http or https, with a host.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("malformed URL %q", raw)
	}
	if u.Scheme == "" || u.Host == "" && u.Opaque == "" {
		return nil, fmt.Errorf("not an absolute URL: %q", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q in %q (only http and https)", u.Scheme, raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("no host in %q", raw)
	}
	return u, nil
}

// add queues targets in the frontier (one durable write for all of them)
// unless they were seen or are traps.
func (cr *crawler) add(ctx context.Context, ts []target) int {
	var entries []frontier.Entry
	var admitted []target
	for _, t := range ts {
		if e, ok := cr.admit(t); ok {
			entries = append(entries, e)
			admitted = append(admitted, t)
		}
	}
	if len(entries) == 0 {
		return 0
	}
	n, err := cr.enqueue(ctx, entries, admitted)
	if err != nil {
		if ctx.Err() == nil {
			cr.setFatal(fmt.Errorf("crawl state: %w", err))
		}
		return 0
	}
	cr.tally.queued.Add(int64(n))
	cr.sched.noteAdded()
	return n
}

// admit checks a target against the traps and the per-host cap and
// returns its frontier entry.
func (cr *crawler) admit(t target) (frontier.Entry, bool) {
	u, err := CheckURL(t.URL)
	if err != nil {
		if t.IsSeed {
			cr.tally.fail(t.URL, true, err)
		}
		return frontier.Entry{}, false
	}
	t.URL = u.String()
	if len(t.URL) > cr.opts.MaxURLLength {
		cr.skip(t, "URL longer than the maximum length")
		return frontier.Entry{}, false
	}
	if t.Chain == "" && cr.admission.recentlySeen(t.Kind, t.URL) {
		return frontier.Entry{}, false // the exact URL was queued (or skipped) before: no need to look at it again
	}
	// The trap guard is for crawling pages: the requisites of a page are
	// what a browser loads, and CDN paths repeat segments
	// (/2019/05/07/0/0/3824/2545/664/0/75/0/name.jpg). They stay bounded
	// by the URL length, the per-host cap and the per-page cap.
	if t.Kind != kindRequisite && repeatsPath(u.EscapedPath(), 3) {
		cr.skip(t, "path repeats a segment (crawler trap)")
		return frontier.Entry{}, false
	}
	if t.Kind == kindPage && !cr.opts.IgnoreRobots && cr.robots.disallowedNow(u) {
		// Known before the page is queued, so that the seen set does not
		// hold a page that will not be fetched against a requisite with
		// its URL (a browser loads requisites whatever robots.txt says).
		cr.skipErr(t, 1, ErrRobotsDisallowed)
		return frontier.Entry{}, false
	}
	key, err := Canonicalize(t.URL, !cr.opts.KeepTracking)
	if err != nil {
		if t.IsSeed {
			cr.tally.fail(t.URL, true, fmt.Errorf("malformed URL: %v", err))
		}
		return frontier.Entry{}, false
	}
	if t.Chain != "" && containsField(t.Chain, key) {
		cr.tally.fail(t.URL, t.IsSeed, fmt.Errorf("redirect loop: %s", strings.ReplaceAll(t.Chain, " ", " → ")))
		return frontier.Entry{}, false
	}
	if cr.overHostCap(strings.ToLower(u.Host)) {
		cr.skip(t, hostCapSkip)
		return frontier.Entry{}, false
	}
	if t.optional {
		cr.tally.markOptional(t.URL)
	}
	return frontier.Entry{Key: key, Data: t.encode(), Requisite: t.Kind == kindRequisite}, true
}

func containsField(list, s string) bool {
	for _, f := range strings.Fields(list) {
		if f == s {
			return true
		}
	}
	return false
}

func jobOf(ctx *colly.Context) *job {
	j, _ := ctx.GetAny(ctxJob).(*job)
	return j
}

func (cr *crawler) skip(t target, why string) { cr.skipN(t, 1, why) }

// skipN counts n URLs not fetched, logged as one line about t.
func (cr *crawler) skipN(t target, n int, why string) { cr.skipErr(t, n, errors.New(why)) }

// skipErr counts n URLs not fetched because of err, logged as one line
// about t; a seed fails with err.
func (cr *crawler) skipErr(t target, n int, err error) {
	cr.tally.skip(n)
	if t.IsSeed {
		cr.tally.fail(t.URL, true, err)
	}
	cr.log(Fetch{Time: time.Now().UTC(), URL: t.URL, Error: "skipped: " + err.Error(), Via: t.Via, Hops: t.Hops, Kind: t.Kind})
}

// ErrRobotsDisallowed is the failure of a seed that robots.txt
// disallows (Options.IgnoreRobots archives it anyway).
var ErrRobotsDisallowed = errors.New("disallowed by robots.txt")

var robotsSkip = ErrRobotsDisallowed.Error()

// onRequest applies robots.txt to pages before they are fetched.
func (cr *crawler) onRequest(r *colly.Request) {
	j := jobOf(r.Ctx)
	if j == nil || cr.opts.IgnoreRobots || j.t.Kind != kindPage {
		return
	}
	ok, unavailable, retryIn := cr.robots.check(j.ctx, r.URL)
	switch {
	case unavailable != "":
		r.Abort()
		j.robotsWait, j.retryIn = unavailable, max(retryIn, time.Millisecond)
	case !ok:
		r.Abort()
		j.skipped = robotsSkip
		cr.skipErr(j.t, 1, ErrRobotsDisallowed)
	}
}

// collect moves what the transport observed for the job's URL into it.
func (cr *crawler) collect(j *job, u string) {
	if v, ok := cr.fetches.LoadAndDelete(u); ok {
		j.fetch = v.(Fetch)
	} else if j.fetch.URL == "" {
		j.fetch = Fetch{Time: time.Now().UTC(), URL: u}
	}
	j.fetch.Via, j.fetch.Hops, j.fetch.Kind, j.fetch.Attempt = j.t.Via, j.t.Hops, j.t.Kind, j.t.attempt
}

func (cr *crawler) onError(r *colly.Response, err error) {
	if r == nil || r.Request == nil {
		return
	}
	j := jobOf(r.Ctx)
	if j == nil {
		return
	}
	cr.collect(j, r.Request.URL.String())
	if r.StatusCode == 0 && j.fetch.Status == 0 {
		// http.Client wraps the transport's error in a *url.Error that
		// repeats the method and URL; the failure names the URL already.
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			err = ue.Err
		}
		j.err = err
	}
}

// retryable reports whether a network error may go away on its own.
func retryable(err error) bool {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, capture.ErrHeadTooLarge), errors.Is(err, capture.ErrCut), errors.Is(err, capture.ErrUnsupportedScheme):
		return false
	case errors.As(err, &dns) && dns.IsNotFound:
		return false
	case errors.As(err, &cert), errors.As(err, &unknownCA), errors.As(err, &badHost), errors.As(err, &invalid):
		return false
	}
	return true
}

// backoff is RetryBase·2^attempt with ±25% jitter.
func (cr *crawler) backoff(attempt int) time.Duration {
	d := cr.opts.RetryBase << attempt
	return d - d/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func (cr *crawler) onResponse(r *colly.Response) {
	j := jobOf(r.Ctx)
	if j == nil {
		return
	}
	cr.collect(j, r.Request.URL.String())
	t, base := j.t, r.Request.URL

	// 429 and 5xx are archived as they are; the URL is fetched again later.
	if r.StatusCode == http.StatusTooManyRequests || r.StatusCode >= 500 {
		j.retryIn = statusRetryIn(cr, r.StatusCode, r.Headers.Get("Retry-After"), t.attempt)
		return
	}
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		if loc := r.Headers.Get("Location"); loc != "" {
			if err := redirectError(base, loc); err != nil {
				// Archived as it came, but it leads nowhere a crawler (or
				// a browser) can follow: the URL is not captured.
				cr.tally.fail(base.String(), t.IsSeed, err)
				return
			}
			cr.redirect(j, base, loc)
		}
		return
	}
	ct := strings.ToLower(r.Headers.Get("Content-Type"))
	var body []byte
	if j.fetch.ex != nil {
		body = j.fetch.ex.Content()
	}
	switch {
	case t.Kind == kindSitemap:
		cr.onSitemap(j, body)
	case strings.Contains(ct, "html") || ct == "" && extract.LooksLikeHTML(body):
		cr.onHTML(j, r, extract.ToUTF8(body, ct))
	case strings.Contains(ct, "css"):
		cr.onCSS(j, base, extract.ToUTF8(body, ct))
	}
}

// redirectError says why a redirect's Location cannot be followed: a
// malformed URL or another scheme than http and https (file:, ftp:,
// javascript:, data:).
func redirectError(base *url.URL, loc string) error {
	u, err := base.Parse(strings.TrimSpace(loc))
	switch {
	case err != nil:
		return fmt.Errorf("redirect to a malformed URL: %q", loc)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("redirect to an unsupported scheme %q: %s", u.Scheme, loc)
	}
	return nil
}

// redirect follows one hop as a request of the same kind.
func (cr *crawler) redirect(j *job, base *url.URL, loc string) {
	t := j.t
	hop := extract.Resolve(base, loc)
	if hop == "" {
		return
	}
	key, _ := Canonicalize(base.String(), !cr.opts.KeepTracking)
	chain := strings.TrimSpace(t.Chain + " " + key)
	if n := len(strings.Fields(chain)); n > cr.opts.MaxRedirects {
		cr.tally.fail(base.String(), t.IsSeed, fmt.Errorf("more than %d redirects", cr.opts.MaxRedirects))
		return
	}
	j.links = append(j.links, target{URL: hop, Kind: t.Kind, Seed: t.Seed, IsSeed: t.IsSeed, Leaf: t.Leaf, Hops: t.Hops, Chain: chain, Via: base.String()})
}

// onCSS queues what a style sheet loads.
func (cr *crawler) onCSS(j *job, base *url.URL, body []byte) {
	urls, upgraded := extract.CSS(base, body)
	j.addRequisites(urls, upgraded, base.String())
}

// addRequisites queues urls as requisites of the job's URL; those in
// upgraded (mixed content upgraded to https) are optional.
func (j *job) addRequisites(urls, upgraded []string, via string) {
	var up map[string]bool
	if len(upgraded) > 0 {
		up = make(map[string]bool, len(upgraded))
		for _, u := range upgraded {
			up[u] = true
		}
	}
	t := j.t
	for _, u := range urls {
		j.links = append(j.links, target{URL: u, Kind: kindRequisite, Seed: t.Seed, Hops: t.Hops, Via: via, optional: up[u]})
	}
}

func (cr *crawler) onHTML(j *job, r *colly.Response, body []byte) {
	t, base := j.t, r.Request.URL
	links := extract.HTML(base, body, extract.DefaultMaxLinksPerPage)
	via := base.String()
	// Here without a Content-Type only when the body was sniffed as HTML.
	if collection.IsPage(collection.Capture{Status: r.StatusCode, ContentType: r.Headers.Get("Content-Type"), SniffedHTML: true, Requisite: t.Kind != kindPage}) {
		j.page = &frontier.Page{URL: via, Title: links.Title, Date: j.fetch.Time.Truncate(time.Second), Seed: t.IsSeed, Size: j.fetch.Bytes}
	}
	if links.Dropped > 0 {
		cr.skipN(target{URL: via, Kind: t.Kind, Seed: t.Seed, Hops: t.Hops, Via: t.Via}, links.Dropped,
			fmt.Sprintf("%d links of this page past the cap of %d requisites and %d links per page", links.Dropped, extract.DefaultMaxLinksPerPage, extract.DefaultMaxLinksPerPage))
	}
	j.links = slices.Grow(j.links, len(links.Requisites)+len(links.Pages)+1)
	j.addRequisites(links.Requisites, links.Upgraded, via)
	if t.Kind == kindPage && !links.Icon {
		// What a browser asks for when the page names no icon (Chromium:
		// only rel=icon counts, apple-touch-icon does not). A 404 is
		// archived like any response.
		icon := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/favicon.ico"}
		j.links = append(j.links, target{URL: icon.String(), Kind: kindRequisite, Seed: t.Seed, Hops: t.Hops, Via: via, optional: true})
	}
	if links.Refresh != "" {
		// A meta refresh is a redirect a browser follows.
		cr.redirect(j, base, links.Refresh)
	}
	cr.followPages(j, via, links.Pages)
}

// followPages queues the pages a page links to that the scope admits.
func (cr *crawler) followPages(j *job, via string, pages []string) {
	t := j.t
	if t.Kind != kindPage || t.Leaf {
		return
	}
	seed, err := url.Parse(t.Seed)
	if err != nil {
		return
	}
	for _, l := range pages {
		lu, err := url.Parse(l)
		if err != nil {
			continue
		}
		next := target{URL: l, Kind: kindPage, Seed: t.Seed, Hops: t.Hops + 1, Via: via}
		inScope := cr.opts.Scope != ScopePage && cr.opts.Scope.inScope(seed, lu) &&
			(cr.opts.Depth == 0 || t.Hops+1 <= cr.opts.Depth)
		switch {
		case inScope && cr.admission.filters.allow(l):
			j.links = append(j.links, next)
		case cr.opts.Outlinks && !cr.opts.Scope.inScope(seed, lu) && cr.admission.filters.allow(l):
			next.Leaf = true
			j.links = append(j.links, next)
		}
	}
}

// sitemapTargets returns each seed host's sitemaps: those robots.txt
// names and /sitemap.xml.
func (cr *crawler) sitemapTargets(ctx context.Context) []target {
	// Each seed host's robots.txt is read once, the hosts at the same
	// time (as many as requests may be in flight): one after another, a
	// crawl of many seed hosts would wait their latencies end to end
	// before it queued a seed.
	type seedHost struct {
		u     *url.URL
		entry *robotsEntry
	}
	var seeds []seedHost
	first := map[string]int{} // scheme://host → index in seeds of its first seed
	for _, s := range cr.opts.Seeds {
		u, err := CheckURL(s)
		if err != nil {
			continue
		}
		if _, ok := first[u.Scheme+"://"+u.Host]; !ok {
			first[u.Scheme+"://"+u.Host] = len(seeds)
		}
		seeds = append(seeds, seedHost{u: u})
	}
	var g errgroup.Group
	g.SetLimit(cr.opts.Concurrency)
	for _, i := range first {
		g.Go(func() error {
			seeds[i].entry = cr.robots.entry(ctx, seeds[i].u)
			return nil
		})
	}
	g.Wait()
	var out []target
	for _, s := range seeds {
		u := s.u
		maps := []string{u.Scheme + "://" + u.Host + "/sitemap.xml"}
		maps = append(maps, seeds[first[u.Scheme+"://"+u.Host]].entry.sitemaps...)
		for _, m := range maps {
			out = append(out, target{URL: m, Kind: kindSitemap, Seed: u.String(), Via: robotsURL(u)})
		}
	}
	return out
}

// onSitemap queues the pages (or further sitemaps) a sitemap lists, as
// pages one hop from the seed, subject to the scope.
func (cr *crawler) onSitemap(j *job, body []byte) {
	t := j.t
	pages, sitemaps, ok := extract.Sitemap(body)
	if !ok {
		return
	}
	seed, err := url.Parse(t.Seed)
	if err != nil {
		return
	}
	for _, s := range sitemaps {
		j.links = append(j.links, target{URL: s, Kind: kindSitemap, Seed: t.Seed, Via: t.URL})
	}
	if cr.opts.Depth != 0 && cr.opts.Depth < 1 {
		return
	}
	for _, loc := range pages {
		lu, err := url.Parse(loc)
		if err != nil || !cr.opts.Scope.inScope(seed, lu) || !cr.admission.filters.allow(loc) {
			continue
		}
		j.links = append(j.links, target{URL: loc, Kind: kindPage, Seed: t.Seed, Hops: 1, Via: t.URL})
	}
}

// record writes the exchange of f, once, and notes what was archived. It
// returns the digest reference of a full response, for the index revisits
// use. An error is fatal to the crawl (and set as such).
func (cr *crawler) record(ctx context.Context, f *Fetch) (*frontier.DigestRef, error) {
	ex := f.ex
	if ex == nil {
		return nil, nil
	}
	f.ex = nil
	out, err := cr.sink.Record(ctx, ex)
	var le *DigestLookupError
	switch {
	case errors.As(err, &le):
		// The state is down past its retries: nothing of this exchange
		// is written, and its URL is fetched again when the crawl resumes.
		f.Err, f.Error = err, err.Error()
		if ctx.Err() == nil {
			cr.setFatal(err)
		}
		return nil, err
	case err != nil:
		f.Err, f.Error = err, err.Error()
		cr.setFatal(fmt.Errorf("writing the WARC: %w", err))
		return nil, err
	}
	f.Bytes = ex.Response.Size()
	f.Revisit = out.revisit
	cr.tally.captured(f.Bytes, out.revisit, ex.Truncated != "")
	return out.ref, nil
}

// log writes one crawl-log line and reports progress.
func (cr *crawler) log(f Fetch) {
	if f.URL == "" {
		return
	}
	if p := cr.opts.Progress; p != nil {
		f.Queued = int(cr.tally.queued.Load())
		p(f)
	}
	cr.flog.write(f)
}
