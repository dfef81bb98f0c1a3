package crawl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/amber-archiver/amber/warc"
)

// Options configure a crawl. Zero values mean the documented default.
type Options struct {
	Seeds       []string
	Concurrency int    // requests in flight in all; default 8
	PerHost     int    // requests in flight per host; default 2
	UserAgent   string // default DefaultUserAgent
	Transport   TransportOptions
	// MaxRedirects bounds a redirect chain; default 20.
	MaxRedirects int
	// Progress, if set, is called after every fetch. It must be quick.
	Progress func(Fetch)
}

// DefaultUserAgent names amber; users can and should set their own contact.
const DefaultUserAgent = "amber/0.1 (web archiver; +https://github.com/amber-archiver/amber)"

// Fetch describes the outcome of one request, for progress and logs.
type Fetch struct {
	URL      string
	Status   int // 0 when no response was recorded
	Bytes    int64
	Duration time.Duration
	Err      error
	Seed     bool
}

// Page is a seed page as it appears in pages.jsonl.
type Page struct {
	URL   string
	Title string
	Date  time.Time
}

// Failure is a URL for which no response could be recorded.
type Failure struct {
	URL  string
	Seed bool
	Err  error
}

// Result summarises a crawl.
type Result struct {
	Pages    []Page
	Captures []Capture
	Failures []Failure
	Bytes    int64 // response bytes archived
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

// Context keys carried by each colly request.
const (
	ctxKind = "amber.kind" // "page" or "requisite"
	ctxSeed = "amber.seed" // "1" for a seed and the hops of its redirects
	ctxHops = "amber.redirects"
)

// crawler holds the state of one Run.
type crawler struct {
	opts    Options
	c       *colly.Collector
	sink    *warcSink
	limited sync.Map // host → rule added

	mu       sync.Mutex
	pages    []Page
	failures []Failure
}

// Run archives every seed with its page requisites into w. It returns an
// error only when the crawl could not run at all; URLs that failed are in
// Result.Failures.
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
	cr := &crawler{opts: opts, sink: &warcSink{w: w}}
	tr := NewTransport(cr.sink, opts.Transport)
	defer tr.CloseIdleConnections()

	c := colly.NewCollector(
		colly.Async(true),
		colly.UserAgent(opts.UserAgent),
		colly.MaxBodySize(0), // the transport already bounds what is parsed
		colly.StdlibContext(ctx),
		colly.IgnoreRobotsTxt(),
	)
	c.ParseHTTPErrorResponse = true // a 404 is a capture, not an error
	c.SetRequestTimeout(0)          // the transport's timeouts apply instead
	c.WithTransport(&limitTransport{rt: tr, sem: make(chan struct{}, opts.Concurrency), c: cr})
	cr.c = c

	c.OnRequest(func(r *colly.Request) { cr.limitHost(r.URL.Host) })
	c.OnResponse(cr.onResponse)
	c.OnError(cr.onError)

	for _, s := range opts.Seeds {
		cr.enqueue(s, "page", true, 0, "")
	}
	c.Wait()

	res := &Result{Pages: cr.pages, Failures: cr.failures, Captures: cr.sink.captures, Bytes: cr.sink.bytes}
	sort.Slice(res.Captures, func(i, j int) bool {
		a, b := res.Captures[i], res.Captures[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Offset < b.Offset
	})
	return res, ctx.Err()
}

// limitHost gives each host its own colly limit rule, so the per-host
// bound holds for every host, CDNs included.
func (cr *crawler) limitHost(host string) {
	if _, loaded := cr.limited.LoadOrStore(host, true); loaded {
		return
	}
	cr.c.Limit(&colly.LimitRule{
		DomainRegexp: "^" + regexp.QuoteMeta(host) + "$",
		Parallelism:  cr.opts.PerHost,
	})
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

func (cr *crawler) enqueue(raw, kind string, seed bool, redirects int, referer string) {
	u, err := CheckURL(raw)
	if err != nil {
		if seed {
			cr.fail(raw, seed, err)
		}
		return
	}
	ctx := colly.NewContext()
	ctx.Put(ctxKind, kind)
	ctx.Put(ctxHops, strconv.Itoa(redirects))
	if seed {
		ctx.Put(ctxSeed, "1")
	}
	hdr := http.Header{}
	if referer != "" {
		hdr.Set("Referer", referer)
	}
	err = cr.c.Request(http.MethodGet, u.String(), nil, ctx, hdr)
	var visited *colly.AlreadyVisitedError
	if err != nil && !errors.As(err, &visited) {
		cr.fail(u.String(), seed, err)
	}
}

func (cr *crawler) fail(u string, seed bool, err error) {
	cr.mu.Lock()
	cr.failures = append(cr.failures, Failure{URL: u, Seed: seed, Err: err})
	cr.mu.Unlock()
}

func (cr *crawler) onError(r *colly.Response, err error) {
	var visited *colly.AlreadyVisitedError
	if errors.As(err, &visited) || r == nil || r.Request == nil {
		return
	}
	if r.StatusCode != 0 {
		return // a response was recorded: a capture, whatever its status
	}
	cr.fail(r.Request.URL.String(), r.Ctx.Get(ctxSeed) == "1", err)
}

func (cr *crawler) onResponse(r *colly.Response) {
	kind, seed := r.Ctx.Get(ctxKind), r.Ctx.Get(ctxSeed) == "1"
	base := r.Request.URL
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		loc := r.Headers.Get(locationHeader)
		hops, _ := strconv.Atoi(r.Ctx.Get(ctxHops))
		if loc == "" {
			return
		}
		if hops >= cr.opts.MaxRedirects {
			cr.fail(base.String(), seed, fmt.Errorf("more than %d redirects", cr.opts.MaxRedirects))
			return
		}
		if target := resolve(base, loc); target != "" {
			cr.enqueue(target, kind, seed, hops+1, r.Request.Headers.Get("Referer"))
		}
		return
	}
	ct := strings.ToLower(r.Headers.Get("Content-Type"))
	switch {
	case strings.Contains(ct, "html") || ct == "" && looksLikeHTML(r.Body):
		links, err := ExtractHTML(base, bytes.NewReader(r.Body))
		if err != nil {
			return
		}
		if seed && kind == "page" {
			cr.mu.Lock()
			cr.pages = append(cr.pages, Page{URL: base.String(), Title: links.Title, Date: time.Now().UTC().Truncate(time.Second)})
			cr.mu.Unlock()
		}
		for _, u := range links.Requisites {
			cr.enqueue(u, "requisite", false, 0, base.String())
		}
	case strings.Contains(ct, "css"):
		for _, u := range ExtractCSS(base, bytes.NewReader(r.Body)) {
			cr.enqueue(u, "requisite", false, 0, base.String())
		}
	}
}

func looksLikeHTML(b []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

// locationHeader is where limitTransport moves a redirect's Location.
const locationHeader = "Amber-Location"

// limitTransport bounds the requests in flight across all hosts and reports
// each fetch.
type limitTransport struct {
	rt  http.RoundTripper
	sem chan struct{}
	c   *crawler
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case t.sem <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	defer func() { <-t.sem }()
	start := time.Now()
	resp, err := t.rt.RoundTrip(req)
	if resp != nil && resp.Header.Get("Location") != "" {
		// Every redirect hop is crawled as its own request, with its own
		// politeness and seen-set check, so http.Client must not follow it.
		// colly offers no hook that runs before it marks the target as
		// visited, so the header is moved out of the client's sight; the
		// WARC already holds the response as received.
		resp.Header[locationHeader] = resp.Header["Location"]
		delete(resp.Header, "Location")
	}
	if p := t.c.opts.Progress; p != nil {
		f := Fetch{URL: req.URL.String(), Duration: time.Since(start), Err: err}
		if resp != nil {
			f.Status = resp.StatusCode
		}
		p(f)
	}
	return resp, err
}
