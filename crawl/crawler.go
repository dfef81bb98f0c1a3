package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/gocolly/colly/v2/queue"

	"github.com/amber-archiver/amber/warc"
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
	Concurrency      int              // requests in flight in all; default 8
	PerHost          int              // requests in flight per host; default 2
	Delay            time.Duration    // pause between requests to one host
	IgnoreRobots     bool             // robots.txt is obeyed for pages unless set
	UserAgent        string           // default DefaultUserAgent
	Transport        TransportOptions
	MaxRedirects     int  // longest redirect chain; default 20
	MaxURLsPerHost   int  // default 100000
	MaxURLLength     int  // default 2048
	KeepTracking     bool // keep utm_*, fbclid, gclid in seen-set keys
	Retries          int  // retries after a network error, 429 or 5xx; default 3
	// RetryBase is the first backoff after a failure, doubled each retry
	// with jitter; default 1 s. RetryMaxWait caps a Retry-After wait;
	// default 2 min (a longer one is not waited for).
	RetryBase, RetryMaxWait time.Duration
	// Frontier holds the queue and the seen set; default in memory.
	Frontier Frontier
	// Progress, if set, is called after every fetch. It must be quick.
	Progress func(Fetch)
	// Log, if set, receives one JSON line per fetch.
	Log io.Writer
}

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
	Queued   int           `json:"-"`                 // URLs waiting, for progress
	Err      error         `json:"-"`

	ex *Exchange // recorded, not yet written
}

// Page is an archived HTML page, as listed in pages.jsonl.
type Page struct {
	URL   string
	Title string
	Date  time.Time
	Seed  bool
	Size  int64
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
	Pages     []Page
	Captures  []Capture
	Failures  []Failure
	Bytes     int64 // response bytes archived
	Requests  int   // requests sent
	Skipped   int   // URLs not fetched: robots.txt, traps, caps
	Truncated int   // responses archived incomplete
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

// Kinds of request, carried in the colly context.
const (
	kindPage      = "page"
	kindRequisite = "requisite"
	kindSitemap   = "sitemap"
)

// Context keys carried by each queued request.
const (
	ctxKind    = "amber.kind"
	ctxSeed    = "amber.seed"    // the seed URL this request descends from
	ctxIsSeed  = "amber.isseed"  // "1" for a seed and the hops of its redirects
	ctxLeaf    = "amber.leaf"    // "1": an outlink; its links are not followed
	ctxHops    = "amber.hops"    // page hops from the seed
	ctxChain   = "amber.chain"   // canonical keys of the redirect chain so far, space separated
	ctxVia     = "amber.via"     // referring page or redirect
	ctxAttempt = "amber.attempt" // retries so far
)

// target is a URL to enqueue and what it is.
type target struct {
	url     string
	kind    string
	seed    string
	isSeed  bool
	leaf    bool
	hops    int
	chain   string
	via     string
	attempt int
}

// crawler holds the state of one Run.
type crawler struct {
	ctx     context.Context
	opts    Options
	c       *colly.Collector
	q       *queue.Queue
	front   Frontier
	sink    *warcSink
	robots  *robotsCache
	filters filters
	limit   *hostLimiter

	fetches sync.Map // URL → Fetch, from the transport to the colly callbacks

	mu        sync.Mutex
	pages     []Page
	failures  []Failure
	perHost   map[string]int
	recent    map[string]struct{} // exact URLs queued lately, a bounded cache in front of the seen set
	skipped   int
	truncated int
	requests  atomic.Int64
	logMu     sync.Mutex
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
	if opts.Frontier == nil {
		opts.Frontier = NewMemoryFrontier()
	}
	cr := &crawler{
		ctx:     ctx,
		opts:    opts,
		front:   opts.Frontier,
		sink:    &warcSink{w: w},
		filters: filters{include: opts.Include, exclude: opts.Exclude},
		perHost: map[string]int{},
		recent:  map[string]struct{}{},
		limit:   newHostLimiter(opts.Concurrency, opts.PerHost, opts.Delay),
	}
	rec := NewTransport(cr.sink, opts.Transport)
	defer rec.CloseIdleConnections()
	tr := &crawlTransport{rt: rec, c: cr}
	cr.robots = newRobotsCache(tr, opts.UserAgent)

	c := colly.NewCollector(
		colly.UserAgent(opts.UserAgent),
		colly.MaxBodySize(0), // the transport already bounds what is parsed
		colly.StdlibContext(ctx),
		colly.IgnoreRobotsTxt(), // robots.txt is handled (and archived) by amber
		colly.AllowURLRevisit(), // the frontier's seen set decides
	)
	c.ParseHTTPErrorResponse = true // a 404 is a capture, not an error
	c.SetRequestTimeout(0)          // the transport's timeouts apply instead
	c.WithTransport(tr)
	c.OnRequest(cr.onRequest)
	c.OnResponse(cr.onResponse)
	c.OnError(cr.onError)
	cr.c = c

	q, err := queue.New(opts.Concurrency, opts.Frontier)
	if err != nil {
		return nil, err
	}
	cr.q = q

	for _, s := range opts.Seeds {
		cr.enqueue(target{url: strings.TrimSpace(s), kind: kindPage, seed: strings.TrimSpace(s), isSeed: true})
	}
	if opts.Scope == ScopeHost || opts.Scope == ScopeDomain {
		cr.seedSitemaps()
	}
	stop := context.AfterFunc(ctx, q.Stop)
	defer stop()
	if err := q.Run(c); err != nil {
		return nil, err
	}
	// Anything recorded that no callback collected is still written.
	cr.fetches.Range(func(k, v any) bool {
		f := v.(Fetch)
		cr.record(&f)
		cr.fetches.Delete(k)
		return true
	})

	res := &Result{
		Pages: cr.pages, Failures: cr.failures, Captures: cr.sink.captures, Bytes: cr.sink.bytes,
		Requests: int(cr.requests.Load()), Skipped: cr.skipped, Truncated: cr.truncated,
	}
	sort.Slice(res.Captures, func(i, j int) bool {
		a, b := res.Captures[i], res.Captures[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Offset < b.Offset
	})
	return res, ctx.Err()
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

// enqueue adds t to the frontier unless it was seen or is a trap.
func (cr *crawler) enqueue(t target) {
	u, err := CheckURL(t.url)
	if err != nil {
		if t.isSeed {
			cr.fail(t.url, true, err)
		}
		return
	}
	t.url = u.String()
	if len(t.url) > cr.opts.MaxURLLength {
		cr.skip(t, "URL longer than the maximum length")
		return
	}
	if repeatsPath(u.EscapedPath(), 3) {
		cr.skip(t, "path repeats a segment (crawler trap)")
		return
	}
	if t.attempt == 0 && t.chain == "" && cr.recentlySeen(t.url) {
		return // the exact URL was queued before: no need to canonicalise it again
	}
	key, err := Canonicalize(t.url, !cr.opts.KeepTracking)
	if err != nil {
		if t.isSeed {
			cr.fail(t.url, true, fmt.Errorf("malformed URL: %v", err))
		}
		return
	}
	if t.chain != "" && containsField(t.chain, key) {
		cr.fail(t.url, t.isSeed, fmt.Errorf("redirect loop: %s", strings.ReplaceAll(t.chain, " ", " → ")))
		return
	}
	if t.attempt == 0 {
		isNew, err := cr.front.MarkSeen(key)
		if err != nil {
			cr.fail(t.url, t.isSeed, err)
			return
		}
		if !isNew {
			return
		}
		host := strings.ToLower(u.Host)
		cr.mu.Lock()
		over := cr.perHost[host] >= cr.opts.MaxURLsPerHost
		if !over {
			cr.perHost[host]++
		}
		cr.mu.Unlock()
		if over {
			cr.skip(t, "per-host URL cap reached")
			return
		}
	}
	ctx := colly.NewContext()
	ctx.Put(ctxKind, t.kind)
	ctx.Put(ctxSeed, t.seed)
	ctx.Put(ctxHops, strconv.Itoa(t.hops))
	ctx.Put(ctxChain, t.chain)
	ctx.Put(ctxVia, t.via)
	ctx.Put(ctxAttempt, strconv.Itoa(t.attempt))
	if t.isSeed {
		ctx.Put(ctxIsSeed, "1")
	}
	if t.leaf {
		ctx.Put(ctxLeaf, "1")
	}
	hdr := http.Header{}
	if t.via != "" && t.kind == kindRequisite {
		hdr.Set("Referer", t.via)
	}
	req := &colly.Request{URL: u, Method: http.MethodGet, Ctx: ctx, Headers: &hdr, Depth: t.hops}
	if err := cr.q.AddRequest(req); err != nil {
		cr.fail(t.url, t.isSeed, err)
	}
}

// recentCacheSize bounds the cache of exact URLs: pages repeat the same
// navigation links, and most links are exact repeats.
const recentCacheSize = 1 << 16

// recentlySeen reports whether u was queued lately, and remembers it.
func (cr *crawler) recentlySeen(u string) bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if _, ok := cr.recent[u]; ok {
		return true
	}
	if len(cr.recent) >= recentCacheSize {
		clear(cr.recent) // a new generation; the seen set stays authoritative
	}
	cr.recent[u] = struct{}{}
	return false
}

func containsField(list, s string) bool {
	for _, f := range strings.Fields(list) {
		if f == s {
			return true
		}
	}
	return false
}

func (cr *crawler) targetOf(ctx *colly.Context, u *url.URL) target {
	hops, _ := strconv.Atoi(ctx.Get(ctxHops))
	attempt, _ := strconv.Atoi(ctx.Get(ctxAttempt))
	return target{
		url: u.String(), kind: ctx.Get(ctxKind), seed: ctx.Get(ctxSeed), isSeed: ctx.Get(ctxIsSeed) == "1",
		leaf: ctx.Get(ctxLeaf) == "1", hops: hops, chain: ctx.Get(ctxChain), via: ctx.Get(ctxVia), attempt: attempt,
	}
}

func (cr *crawler) fail(u string, seed bool, err error) {
	cr.mu.Lock()
	cr.failures = append(cr.failures, Failure{URL: u, Seed: seed, Err: err})
	cr.mu.Unlock()
}

func (cr *crawler) skip(t target, why string) {
	cr.mu.Lock()
	cr.skipped++
	cr.mu.Unlock()
	if t.isSeed {
		cr.fail(t.url, true, errors.New(why))
	}
	cr.log(Fetch{Time: time.Now().UTC(), URL: t.url, Error: "skipped: " + why, Via: t.via, Hops: t.hops, Kind: t.kind})
}

// onRequest applies robots.txt to pages before they are fetched.
func (cr *crawler) onRequest(r *colly.Request) {
	if cr.opts.IgnoreRobots || r.Ctx.Get(ctxKind) != kindPage {
		return
	}
	if !cr.robots.allowed(cr.ctx, r.URL) {
		r.Abort()
		t := cr.targetOf(r.Ctx, r.URL)
		cr.skip(t, "disallowed by robots.txt (--ignore-robots to archive it anyway)")
	}
}

func (cr *crawler) onError(r *colly.Response, err error) {
	if r == nil || r.Request == nil {
		return
	}
	t := cr.targetOf(r.Ctx, r.Request.URL)
	f := cr.takeFetch(r.Request.URL.String())
	f.Via, f.Hops, f.Kind, f.Attempt = t.via, t.hops, t.kind, t.attempt
	cr.record(&f)
	cr.log(f)
	if r.StatusCode != 0 || f.Status != 0 {
		return // a response was recorded: a capture, whatever its status
	}
	if cr.ctx.Err() != nil {
		return
	}
	if t.attempt < cr.opts.Retries && retryable(err) {
		if cr.wait(cr.backoff(t.attempt)) {
			t.attempt++
			cr.enqueue(t)
		}
		return
	}
	cr.fail(t.url, t.isSeed, err)
}

// retryable reports whether a network error may go away on its own.
func retryable(err error) bool {
	msg := err.Error()
	return !strings.Contains(msg, "certificate") && !strings.Contains(msg, "no such host") &&
		!strings.Contains(msg, "unsupported scheme") && !strings.Contains(msg, "larger than --max-size")
}

// backoff is RetryBase·2^attempt with ±25% jitter.
func (cr *crawler) backoff(attempt int) time.Duration {
	d := cr.opts.RetryBase << attempt
	return d - d/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// wait sleeps for d unless the crawl is cancelled first.
func (cr *crawler) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-cr.ctx.Done():
		return false
	}
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
	t := cr.targetOf(r.Ctx, r.Request.URL)
	f := cr.takeFetch(r.Request.URL.String())
	f.Via, f.Hops, f.Kind, f.Attempt = t.via, t.hops, t.kind, t.attempt
	// The records are written after the links they lead to are queued
	// (the deferred call runs last), so a resumed crawl that finds a page
	// in the WARC also finds its links in the frontier.
	defer func() {
		cr.record(&f)
		cr.log(f)
	}()
	base := r.Request.URL

	// 429 and 5xx are archived as they are; try again later.
	if r.StatusCode == http.StatusTooManyRequests || r.StatusCode >= 500 {
		cr.record(&f)
		if t.attempt < cr.opts.Retries {
			d := cr.backoff(t.attempt)
			if ra, ok := retryAfter(r.Headers.Get("Retry-After")); ok && (r.StatusCode == 429 || r.StatusCode == 503) {
				d = ra
			}
			if d <= cr.opts.RetryMaxWait && cr.wait(d) {
				t.attempt++
				cr.enqueue(t)
			}
		}
		return
	}

	if r.StatusCode >= 300 && r.StatusCode < 400 {
		if loc := r.Headers.Get(locationHeader); loc != "" {
			cr.redirect(t, base, loc)
		}
		return
	}
	ct := strings.ToLower(r.Headers.Get("Content-Type"))
	switch {
	case t.kind == kindSitemap:
		cr.onSitemap(t, r.Body)
	case strings.Contains(ct, "html") || ct == "" && looksLikeHTML(r.Body):
		cr.onHTML(t, r, f.Bytes)
	case strings.Contains(ct, "css"):
		for _, u := range ExtractCSS(base, bytes.NewReader(r.Body)) {
			cr.enqueue(target{url: u, kind: kindRequisite, seed: t.seed, hops: t.hops, via: base.String()})
		}
	}
}

// redirect follows one hop as a request of the same kind.
func (cr *crawler) redirect(t target, base *url.URL, loc string) {
	hop := resolve(base, loc)
	if hop == "" {
		return
	}
	key, _ := Canonicalize(base.String(), !cr.opts.KeepTracking)
	chain := strings.TrimSpace(t.chain + " " + key)
	if n := len(strings.Fields(chain)); n > cr.opts.MaxRedirects {
		cr.fail(base.String(), t.isSeed, fmt.Errorf("more than %d redirects", cr.opts.MaxRedirects))
		return
	}
	cr.enqueue(target{url: hop, kind: t.kind, seed: t.seed, isSeed: t.isSeed, leaf: t.leaf, hops: t.hops, chain: chain, via: base.String()})
}

func (cr *crawler) onHTML(t target, r *colly.Response, size int64) {
	base := r.Request.URL
	links, err := ExtractHTML(base, bytes.NewReader(r.Body))
	if err != nil {
		return
	}
	if t.kind == kindPage && r.StatusCode < 300 {
		cr.mu.Lock()
		cr.pages = append(cr.pages, Page{URL: base.String(), Title: links.Title, Date: time.Now().UTC().Truncate(time.Second), Seed: t.isSeed, Size: size})
		cr.mu.Unlock()
	}
	for _, u := range links.Requisites {
		cr.enqueue(target{url: u, kind: kindRequisite, seed: t.seed, hops: t.hops, via: base.String()})
	}
	if links.Refresh != "" {
		// A meta refresh is a redirect a browser follows.
		cr.redirect(t, base, links.Refresh)
	}
	if t.kind != kindPage || t.leaf {
		return
	}
	seed, err := url.Parse(t.seed)
	if err != nil {
		return
	}
	for _, l := range links.Pages {
		lu, err := url.Parse(l)
		if err != nil {
			continue
		}
		next := target{url: l, kind: kindPage, seed: t.seed, hops: t.hops + 1, via: base.String()}
		inScope := cr.opts.Scope != ScopePage && cr.opts.Scope.inScope(seed, lu) &&
			(cr.opts.Depth == 0 || t.hops+1 <= cr.opts.Depth)
		switch {
		case inScope && cr.filters.allow(l):
			cr.enqueue(next)
		case cr.opts.Outlinks && !cr.opts.Scope.inScope(seed, lu) && cr.filters.allow(l):
			next.leaf = true
			cr.enqueue(next)
		}
	}
}

// seedSitemaps queues each seed host's sitemaps: those robots.txt names
// and /sitemap.xml.
func (cr *crawler) seedSitemaps() {
	for _, s := range cr.opts.Seeds {
		u, err := CheckURL(s)
		if err != nil {
			continue
		}
		maps := []string{u.Scheme + "://" + u.Host + "/sitemap.xml"}
		maps = append(maps, cr.robots.entry(cr.ctx, u).sitemaps...)
		for _, m := range maps {
			cr.enqueue(target{url: m, kind: kindSitemap, seed: u.String(), via: robotsURL(u)})
		}
	}
}

// onSitemap queues the pages (or further sitemaps) a sitemap lists, as
// pages one hop from the seed, subject to the scope.
func (cr *crawler) onSitemap(t target, body []byte) {
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return
		}
		if body, err = io.ReadAll(io.LimitReader(zr, 64<<20)); err != nil {
			return
		}
	}
	var doc struct {
		XMLName xml.Name
		URLs    []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
		Sitemaps []struct {
			Loc string `xml:"loc"`
		} `xml:"sitemap"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return
	}
	seed, err := url.Parse(t.seed)
	if err != nil {
		return
	}
	for _, s := range doc.Sitemaps {
		cr.enqueue(target{url: strings.TrimSpace(s.Loc), kind: kindSitemap, seed: t.seed, via: t.url})
	}
	for _, p := range doc.URLs {
		loc := strings.TrimSpace(p.Loc)
		lu, err := url.Parse(loc)
		if err != nil || !cr.opts.Scope.inScope(seed, lu) || !cr.filters.allow(loc) {
			continue
		}
		if cr.opts.Depth != 0 && cr.opts.Depth < 1 {
			continue
		}
		cr.enqueue(target{url: loc, kind: kindPage, seed: t.seed, hops: 1, via: t.url})
	}
}

func looksLikeHTML(b []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

// record writes the exchange of f, once, and notes what was archived.
func (cr *crawler) record(f *Fetch) {
	ex := f.ex
	if ex == nil {
		return
	}
	f.ex = nil
	if err := cr.sink.Record(ex); err != nil {
		f.Err, f.Error = err, err.Error()
		cr.fail(ex.URL, false, err)
		return
	}
	f.Bytes = ex.Response.Size()
	if ex.Truncated != "" {
		cr.mu.Lock()
		cr.truncated++
		cr.mu.Unlock()
	}
}

// takeFetch returns what the transport observed for u.
func (cr *crawler) takeFetch(u string) Fetch {
	if v, ok := cr.fetches.LoadAndDelete(u); ok {
		return v.(Fetch)
	}
	return Fetch{Time: time.Now().UTC(), URL: u}
}

// log writes one crawl-log line and reports progress.
func (cr *crawler) log(f Fetch) {
	if p := cr.opts.Progress; p != nil {
		f.Queued, _ = cr.front.QueueSize()
		p(f)
	}
	if cr.opts.Log == nil {
		return
	}
	line, err := jsonLine(f)
	if err != nil {
		return
	}
	cr.logMu.Lock()
	cr.opts.Log.Write(line)
	cr.logMu.Unlock()
}

type writeNowKey struct{}

// locationHeader is where crawlTransport moves a redirect's Location.
const locationHeader = "Amber-Location"

// crawlTransport applies the politeness limits around the recording
// transport and notes what each fetch archived.
type crawlTransport struct {
	rt *Transport
	c  *crawler
}

func (t *crawlTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	release, err := t.c.limit.acquire(req.Context(), req.URL.Host)
	if err != nil {
		return nil, err
	}
	defer release()
	start := time.Now()
	t.c.requests.Add(1)
	resp, err := t.rt.RoundTrip(req)
	f := Fetch{Time: start.UTC(), URL: req.URL.String(), Duration: time.Since(start), Err: err}
	f.Millis = f.Duration.Milliseconds()
	if err != nil {
		f.Error = err.Error()
	}
	if resp != nil {
		f.Status = resp.StatusCode
		if rb, ok := resp.Body.(*RecordedBody); ok {
			f.ex = rb.Exchange
			f.Bytes = rb.Exchange.Response.Size()
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			// Every redirect hop is crawled as its own request, with its
			// own politeness and seen-set check, so http.Client must not
			// follow it. colly offers no hook that runs before it marks
			// the target as visited, so the header is moved out of the
			// client's sight; the WARC already holds the response as
			// received.
			resp.Header[locationHeader] = resp.Header["Location"]
			delete(resp.Header, "Location")
		}
	}
	if req.Context().Value(writeNowKey{}) != nil {
		// Not a colly request (robots.txt): no callback will write it.
		t.c.record(&f)
		t.c.log(f)
	} else if prev, loaded := t.c.fetches.Swap(f.URL, f); loaded {
		// Not collected by a callback (it should not happen): write it
		// rather than lose it.
		pf := prev.(Fetch)
		t.c.record(&pf)
	}
	return resp, err
}

// hostLimiter bounds requests in flight in all and per host, and spaces
// the requests to one host by a delay.
type hostLimiter struct {
	all     chan struct{}
	perHost int
	delay   time.Duration

	mu    sync.Mutex
	hosts map[string]chan struct{}
}

func newHostLimiter(all, perHost int, delay time.Duration) *hostLimiter {
	return &hostLimiter{all: make(chan struct{}, all), perHost: perHost, delay: delay, hosts: map[string]chan struct{}{}}
}

func (l *hostLimiter) acquire(ctx context.Context, host string) (func(), error) {
	l.mu.Lock()
	h, ok := l.hosts[host]
	if !ok {
		h = make(chan struct{}, l.perHost)
		l.hosts[host] = h
	}
	l.mu.Unlock()
	select {
	case h <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case l.all <- struct{}{}:
	case <-ctx.Done():
		<-h
		return nil, ctx.Err()
	}
	return func() {
		<-l.all
		if l.delay > 0 {
			// The host's slot is held through the delay, so requests to
			// it are spaced; other hosts are not held up.
			go func() {
				time.Sleep(l.delay)
				<-h
			}()
			return
		}
		<-h
	}, nil
}
