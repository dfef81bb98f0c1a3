package crawl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/amber-archiver/amber/crawl/browser"
	"github.com/amber-archiver/amber/crawl/browser/proxy"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/extract"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc"
)

// BrowserOptions turn on browser mode (Options.Browser): each page is
// loaded in headless Chromium, whose every request goes through an
// in-process proxy to the recording transport, so the WARC holds what the
// origins sent, exactly as in HTTP mode.
type BrowserOptions struct {
	// Chromium is the browser binary; default: the first of
	// browser.Names on PATH.
	Chromium string
	// Browsers is the most browser processes at once; default 1.
	Browsers int
	// PageTimeout bounds a page's load and behaviour; default 60 s.
	PageTimeout time.Duration
	// PageText, if set, receives the rendered text of each page the
	// browser loaded (for pages.jsonl). It must be quick.
	PageText func(pageURL, text string)
	// Pool sets the remaining browser options (tests shorten the quiet
	// waits); its Chromium, Proxy, TrustSPKI, Browsers and PageTimeout
	// are set from the fields above.
	Pool browser.Options
}

// kindBrowser is the crawl-log kind of a request the browser made.
const kindBrowser = "browser"

// ScreenshotPrefix is the WARC-Target-URI prefix of a page's screenshot
// record (a resource record of type image/png).
const ScreenshotPrefix = "urn:screenshot:"

// OwnTrafficError is a request Chromium made on its own (sign-in, update
// and safe-browsing hosts), not for the page it loads: it is answered
// with an error and not archived.
type OwnTrafficError struct{ Host string }

func (e *OwnTrafficError) Error() string {
	return "not archived: " + e.Host + " is contacted by Chromium itself, not by the page"
}

// browserMode is the browser pool of a crawl, its proxy, and the adapter
// between the proxy and the recording transport.
type browserMode struct {
	cr    *crawler
	front archivedKeys // where the keys the browser archived are finished
	rt    *capture.Transport
	pool  *browser.Pool
	proxy *proxy.Proxy
	opts  BrowserOptions

	open sync.WaitGroup // browser requests not yet done with (written or failed)

	mu       sync.Mutex
	stopping bool                 // stop was called: open takes no more
	pages    int                  // pages being loaded
	cuts     int                  // browser fetches Transport.Cut ended
	done     []string             // keys archived by the browser, to be finished at the next checkpoint
	served   map[string]*keptPage // the pages' HTTP-mode captures, for their navigations
	kept     int                  // bytes of served
	hosts    map[string]int       // the hosts of the pages being loaded
	css      map[string][]string  // a style sheet the browser loaded → the URLs it names
}

// maxCSSNotes bounds the style sheets whose URLs wait to be taken by
// their page.
const maxCSSNotes = 4096

// startBrowser starts the proxy and makes the pool (browsers start when
// the first page needs one). The proxy's handler closes over the run's
// ctx: what the browser fetches is written under it, not under the
// context of the browser's connection, which the browser may close once
// it has the body.
func startBrowser(ctx context.Context, cr *crawler, rt *capture.Transport, o BrowserOptions) (*browserMode, error) {
	bm := &browserMode{cr: cr, rt: rt, opts: o, hosts: map[string]int{}, css: map[string][]string{}}
	bm.front = frontier.WithRetry(cr.opts.Frontier, cr.opts.StateRetry)
	px, err := proxy.Start(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return bm.roundTrip(ctx, req)
	}), proxy.Options{})
	if err != nil {
		return nil, err
	}
	po := o.Pool
	po.Chromium, po.Proxy, po.Browsers, po.PageTimeout = o.Chromium, px.URL(), o.Browsers, o.PageTimeout
	po.TrustSPKI = []string{px.CA().SPKIHash()}
	if po.UserAgent == "" && cr.opts.UserAgent != DefaultUserAgent {
		po.UserAgent = cr.opts.UserAgent
	}
	pool, err := browser.NewPool(po)
	if err != nil {
		px.Close()
		return nil, err
	}
	bm.proxy, bm.pool = px, pool
	return bm, nil
}

// stop ends the browsers and the proxy and waits for what they fetched to
// be written.
func (bm *browserMode) stop() {
	if bm == nil {
		return
	}
	bm.mu.Lock()
	bm.stopping = true
	bm.mu.Unlock()
	bm.pool.Close()
	bm.proxy.Close()
	bm.open.Wait()
}

// ownTraffic reports whether host is one Chromium contacts by itself.
func ownTraffic(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case h == "accounts.google.com", h == "googleapis.com", h == "gvt1.com":
		return true
	case strings.HasSuffix(h, ".googleapis.com"), strings.HasSuffix(h, ".gvt1.com"):
		return true
	case strings.HasPrefix(h, "clients") && strings.HasSuffix(h, ".google.com") && !strings.Contains(strings.TrimSuffix(h, ".google.com"), "."):
		return true
	}
	return false
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// archivedKeys is what the browser needs of the frontier: finishing the
// keys it archived outside the queue.
type archivedKeys interface {
	Recover(ctx context.Context, keys []string, digests []frontier.DigestRef) error
}

// roundTrip sends a request of the browser through the crawl's politeness
// limits and the recording transport, and answers with the response as
// recorded: the entity body as received (content encoding kept, transfer
// coding removed), read back from the record's spool. The exchange is
// written to the WARC, under the run's ctx, once the proxy has passed the
// body on (Close).
//
// It is a fetch of the crawl like those of HTTP mode: the page's own
// navigation is answered from the capture HTTP mode just made of it
// (servePage); a URL new to the run counts towards MaxURLsPerHost, and
// past it is refused (a *SkipError) and counted as skipped; a network
// error, a 429 or a 5xx is retried as HTTP mode retries it, each
// attempt's response archived, and the browser gets the last; and a URL
// archived this way is finished in the frontier at the next checkpoint,
// so that HTTP mode does not fetch it again, in this run or a resumed one.
func (bm *browserMode) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	cr := bm.cr
	host := req.URL.Hostname()
	if loading, ofPage := bm.loading(host); !loading || ownTraffic(host) && !ofPage {
		// Asked for when no page is loading, or of a host Chromium
		// contacts by itself: not the page's.
		err := &OwnTrafficError{Host: host}
		cr.logOnly(Fetch{Time: time.Now().UTC(), URL: req.URL.String(), Kind: kindBrowser, Error: "skipped: " + err.Error()})
		return nil, err
	}
	if resp, ok := bm.servePage(req); ok {
		return resp, nil
	}
	key, err := bm.admit(req)
	if err != nil {
		return nil, err
	}
	bm.mu.Lock()
	stopping := bm.stopping
	if !stopping {
		bm.open.Add(1) // Done by write, or below
	}
	bm.mu.Unlock()
	if stopping {
		return nil, proxy.ErrClosed
	}
	for attempt := 0; ; attempt++ {
		f, resp, err := bm.fetch(req, attempt)
		if d, again := bm.retryIn(ctx, req, resp, err, attempt); again {
			// Archived as HTTP mode archives a failed attempt: a 429 or
			// 5xx in full, a network error not at all (the log has it).
			if resp != nil {
				f.ex.ReleaseContent() // not parsed: the browser does not get it
				bm.writeFetch(ctx, &f)
			} else {
				cr.log(f)
			}
			if bm.wait(ctx, req, d) {
				continue
			}
			bm.open.Done()
			if err == nil {
				// The crawl is draining or the browser gave up: like a
				// cut fetch, nothing more is given.
				err = fmt.Errorf("crawl: not retried: %w", context.Cause(req.Context()))
				if req.Context().Err() == nil {
					err = errors.New("crawl: not retried: the crawl is stopping")
				}
			}
			return nil, err
		}
		if err != nil {
			if errors.Is(err, capture.ErrCut) {
				bm.mu.Lock()
				bm.cuts++
				bm.mu.Unlock()
			}
			cr.log(f)
			bm.open.Done()
			return nil, err
		}
		ex := f.ex
		if strings.Contains(strings.ToLower(ex.ContentType), "css") {
			urls, _ := extract.CSS(req.URL, extract.ToUTF8(ex.Content(), ex.ContentType))
			bm.noteCSS(f.URL, urls)
		}
		ex.ReleaseContent()
		if !seenable(req, resp.StatusCode) {
			key = ""
		}
		out, err := recorded(ex, req)
		if err != nil {
			bm.write(ctx, &f, key)
			return nil, err
		}
		out.Body = &servedBody{ReadCloser: out.Body, done: func() { bm.write(ctx, &f, key) }}
		return out, nil
	}
}

// fetch sends one attempt of a browser request. On success f holds the
// recorded exchange and resp its response (whose body is not read: the
// exchange is).
// withCookies returns r with the crawl's cookies for its URL that the
// browser did not send itself (a cookie of the same name), so that a page
// behind a login or consent wall (--cookies) loads its scripts' requests
// as HTTP mode loads the page: the request record holds the Cookie field
// as it was sent. r is left alone; a copy is returned when cookies are
// added.
func (bm *browserMode) withCookies(r *http.Request) *http.Request {
	if bm.cr.jar == nil {
		return r
	}
	var add []*http.Cookie
	for _, c := range bm.cr.jar.Cookies(r.URL) {
		if _, err := r.Cookie(c.Name); err != nil {
			add = append(add, c)
		}
	}
	if len(add) == 0 {
		return r
	}
	r = r.Clone(r.Context())
	for _, c := range add {
		r.AddCookie(c)
	}
	return r
}

func (bm *browserMode) fetch(req *http.Request, attempt int) (Fetch, *http.Response, error) {
	cr := bm.cr
	r := req
	if attempt > 0 && req.GetBody != nil {
		// The RoundTripper contract: the caller's request is left alone.
		body, err := req.GetBody()
		if err != nil {
			return Fetch{}, nil, err
		}
		r = req.Clone(req.Context())
		r.Body = body
	}
	r = bm.withCookies(r)
	start := time.Now()
	resp, err := cr.limit.do(r, func() (*http.Response, error) {
		cr.tally.requests.Add(1)
		return bm.rt.RoundTrip(r)
	})
	if err == nil && cr.jar != nil {
		cr.jar.SetCookies(req.URL, resp.Cookies()) // what HTTP mode sends next
	}
	f := Fetch{Time: start.UTC(), URL: req.URL.String(), Duration: time.Since(start), Kind: kindBrowser, Via: req.Header.Get("Referer"), Attempt: attempt}
	f.Millis = f.Duration.Milliseconds()
	if err != nil {
		f.Err, f.Error = err, err.Error()
		return f, nil, err
	}
	rb, ok := resp.Body.(*capture.RecordedBody)
	if !ok {
		resp.Body.Close()
		err := errors.New("crawl: the recording transport returned no recorded body")
		f.Err, f.Error = err, err.Error()
		return f, nil, err
	}
	f.Status, f.ex, f.Bytes = resp.StatusCode, rb.Exchange, rb.Exchange.Response.Size()
	return f, resp, nil
}

// retryIn says whether a browser request is to be sent again, and after
// how long, by HTTP mode's rules (process, onResponse): a network error
// that may go away by itself (retryable), a 429 or a 5xx, after the
// backoff or the Retry-After of a 429 or 503, up to Options.Retries
// times and within RetryMaxWait. Only requests that are safe to repeat
// (GET, HEAD, OPTIONS) are: a browser does not send a POST twice either.
func (bm *browserMode) retryIn(ctx context.Context, req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	cr := bm.cr
	if attempt >= cr.opts.Retries || req.Context().Err() != nil || cr.draining(ctx) {
		return 0, false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return 0, false
	}
	var d time.Duration
	switch {
	case err != nil:
		if !retryable(err) || errors.Is(err, errNoSlot) {
			return 0, false
		}
		d = cr.backoff(attempt)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		d = statusRetryIn(cr, resp.StatusCode, resp.Header.Get("Retry-After"), attempt)
	default:
		return 0, false
	}
	return d, d <= cr.opts.RetryMaxWait
}

// statusRetryIn is how long HTTP mode waits before it fetches a 429 or
// 5xx again: the backoff, or the Retry-After of a 429 or 503.
func statusRetryIn(cr *crawler, status int, retryAfterValue string, attempt int) time.Duration {
	d := cr.backoff(attempt)
	if ra, ok := retryAfter(retryAfterValue); ok && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		d = max(ra, time.Millisecond)
	}
	return d
}

// wait sleeps for d unless the crawl is cancelled or drained, or the
// browser gives up on the request, first.
func (bm *browserMode) wait(ctx context.Context, req *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !bm.cr.draining(ctx)
	case <-req.Context().Done():
		return false
	case <-ctx.Done():
		return false
	case <-bm.cr.opts.Drain:
		return false
	}
}

// seenable reports whether a browser request's response stands for its
// URL in the seen set: a GET of the whole resource. A Range request's 206
// is part of it, and HTTP mode still fetches the whole.
func seenable(req *http.Request, status int) bool {
	return req.Method == http.MethodGet && req.Header.Get("Range") == "" && status != http.StatusPartialContent
}

// SkipError is a browser request the proxy refuses because the crawl
// would not fetch its URL (Options.MaxURLsPerHost): the browser gets an
// error answer, nothing is archived, and the URL counts as skipped.
type SkipError struct {
	URL, Reason string
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason + ": " + e.URL }

// admit counts a browser request's URL towards its host's
// MaxURLsPerHost, as admit counts HTTP mode's, unless this run has
// counted the exact URL lately (HTTP mode queued it, or the browser asked
// for it before); past the cap it is refused. It returns the URL's
// seen-set key.
func (bm *browserMode) admit(req *http.Request) (string, error) {
	cr := bm.cr
	u := req.URL.String()
	key, err := Canonicalize(u, !cr.opts.KeepTracking)
	if err != nil {
		key = "" // sent all the same, as the browser asked; not kept in the seen set
	}
	over := !cr.admission.countBrowser(strings.ToLower(req.URL.Host), u)
	if over {
		const why = "per-host URL cap reached"
		cr.skip(target{URL: u, Kind: kindBrowser, Via: req.Header.Get("Referer")}, why)
		return "", &SkipError{URL: u, Reason: why}
	}
	return key, nil
}

// countBrowser counts a URL the browser asks for towards its host's cap
// and reports whether it is within it. A URL queued lately (as a page or
// a requisite) or counted before is not counted again; one counted now
// is remembered as a requisite queued, so that a page's HTML naming it
// does not queue it again. One over the cap is not remembered.
func (a *admission) countBrowser(host, u string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, asPage := a.recent[recentKey{kindPage, u}]
	_, asReq := a.recent[recentKey{kindRequisite, u}]
	if asPage || asReq {
		return true
	}
	if a.perHost[host] >= a.maxPerHost {
		return false
	}
	a.perHost[host]++
	if len(a.recent) >= recentCacheSize {
		clear(a.recent) // as recentlySeen does
	}
	a.recent[recentKey{kindRequisite, u}] = struct{}{}
	return true
}

// write writes the exchange of a browser request and queues its digest,
// and its key (if any) to be finished in the frontier once the record is
// synced.
func (bm *browserMode) write(ctx context.Context, f *Fetch, key string) {
	defer bm.open.Done()
	if bm.writeFetch(ctx, f) && key != "" {
		bm.mu.Lock()
		bm.done = append(bm.done, key)
		bm.mu.Unlock()
	}
}

// writeFetch writes the exchange of one attempt and queues its digest; it
// reports whether the records were written.
func (bm *browserMode) writeFetch(ctx context.Context, f *Fetch) bool {
	digest, err := bm.cr.record(ctx, f)
	bm.cr.log(*f)
	if err == nil && digest != nil {
		bm.cr.sched.pend(nil, digest)
	}
	return err == nil
}

// takeDone returns the keys of the browser fetches written so far, to be
// finished after the next sync (checkpoint).
func (bm *browserMode) takeDone() []string {
	if bm == nil {
		return nil
	}
	bm.mu.Lock()
	defer bm.mu.Unlock()
	keys := bm.done
	bm.done = nil
	return keys
}

// finishDone marks the keys finished in the frontier: the browser fetched
// and archived them, and their records are synced (synced: the
// checkpoint synced the WARC files after the keys were taken; else sync
// does). Recover does exactly that (a key new to the crawl, queued, or
// finished in an earlier crawl becomes done in this one; one another
// worker holds a live lease on is left to it).
func (bm *browserMode) finishDone(ctx context.Context, keys []string, synced bool, sync func() error) error {
	if bm == nil || len(keys) == 0 {
		return nil
	}
	if !synced {
		if err := sync(); err != nil {
			return err
		}
	}
	if err := bm.front.Recover(context.WithoutCancel(ctx), keys, nil); err != nil {
		return fmt.Errorf("crawl state: finishing %d URLs the browser archived: %w", len(keys), err)
	}
	return nil
}

// blockReader is a response block that can be read back before it is
// written (warc.Builder).
type blockReader interface {
	Reader() (io.Reader, error)
}

// recorded parses the response message the exchange recorded, skipping
// interim (1xx) responses; its body reads the entity body from the block.
func recorded(ex *capture.Exchange, req *http.Request) (*http.Response, error) {
	b, ok := ex.Response.(blockReader)
	if !ok {
		return nil, errors.New("crawl: response block cannot be read back")
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, fmt.Errorf("reading back the recorded response: %w", err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// servedBody calls done once, when the proxy has closed the body.
type servedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *servedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// loading reports whether a page is being loaded, and whether one of
// them is on host.
func (bm *browserMode) loading(host string) (any, onHost bool) {
	bm.mu.Lock()
	defer bm.mu.Unlock()
	return bm.pages > 0, bm.hosts[strings.ToLower(host)] > 0
}

// enter notes a page on host that starts (d = 1) or ends (d = -1)
// loading, and returns how many browser fetches were cut so far.
func (bm *browserMode) enter(host string, d int) int {
	host = strings.ToLower(host)
	bm.mu.Lock()
	defer bm.mu.Unlock()
	bm.pages += d
	bm.hosts[host] += d
	if bm.hosts[host] <= 0 {
		delete(bm.hosts, host)
	}
	return bm.cuts
}

func (bm *browserMode) noteCSS(u string, urls []string) {
	if len(urls) == 0 {
		return
	}
	bm.mu.Lock()
	if len(bm.css) >= maxCSSNotes {
		clear(bm.css) // pages take theirs at once; these were orphans
	}
	bm.css[u] = urls
	bm.mu.Unlock()
}

func (bm *browserMode) takeCSS(u string) []string {
	bm.mu.Lock()
	defer bm.mu.Unlock()
	urls := bm.css[u]
	delete(bm.css, u)
	return urls
}

// browsing reports whether the job's page is to be loaded in the browser.
func (cr *crawler) browsing(j *job) bool {
	return cr.browser != nil && j.page != nil && j.t.Kind == kindPage
}

// browse loads the job's page (archived already, in HTTP mode) in the
// browser, writes its screenshot and queues what HTTP mode found and what
// the rendered DOM names, but for the URLs the browser fetched itself. It
// returns false when the crawl stopped the page short (cancelled, or
// fetches cut while draining): the page is not finished, and is loaded
// again when the crawl resumes.
func (cr *crawler) browse(ctx context.Context, j *job) bool {
	bm := cr.browser
	pageURL := j.page.URL
	host := ""
	if u, err := url.Parse(pageURL); err == nil {
		host = u.Hostname()
	}
	defer bm.dropPage(pageURL)
	if cr.draining(ctx) {
		return false // not started: loaded when the crawl resumes
	}
	cuts := bm.enter(host, 1)
	pg, err := bm.pool.Capture(ctx, pageURL)
	cut := bm.enter(host, -1) != cuts
	if ctx.Err() != nil || cut && cr.draining(ctx) {
		return false // its links are found again when it is
	}
	if err != nil {
		cr.add(ctx, j.links)
		cr.tally.fail(pageURL, false, err) // its HTTP capture stands
		cr.log(Fetch{Time: time.Now().UTC(), URL: pageURL, Kind: kindPage, Error: err.Error(), Via: j.t.Via, Hops: j.t.Hops})
		return true
	}
	if bm.opts.PageText != nil {
		bm.opts.PageText(pageURL, pg.Text)
	}
	fetched := make(map[string]bool, len(pg.Requested))
	var reqs []string
	for _, u := range pg.Requested {
		fetched[u] = true
		reqs = append(reqs, bm.takeCSS(u)...)
	}
	reqs = append(reqs, pg.Requisites...)
	links := j.links[:0:0]
	for _, t := range j.links {
		if t.Kind != kindRequisite || !fetched[t.URL] {
			links = append(links, t)
		}
	}
	j.links = links
	var left []string
	for _, u := range reqs {
		if !fetched[u] {
			left = append(left, u)
		}
	}
	j.addRequisites(left, nil, pageURL)
	cr.followPages(j, pageURL, pg.Links)
	cr.add(ctx, j.links)
	if len(pg.Screenshot) > 0 {
		if err := cr.screenshot(pageURL, pg.Screenshot); err != nil {
			cr.setFatal(fmt.Errorf("writing the WARC: %w", err))
			return false
		}
	}
	return true
}

// screenshot writes a page's screenshot as a resource record, as
// browsertrix-crawler does (no WARC-Concurrent-To).
func (cr *crawler) screenshot(pageURL string, png []byte) error {
	w := cr.sink.w
	b := w.NewRecord(warc.TypeResource, time.Now())
	if _, err := b.Write(png); err != nil {
		b.Discard()
		return err
	}
	b.AddField("WARC-Target-URI", ScreenshotPrefix+pageURL)
	b.AddField("Content-Type", "image/png")
	h, _ := warc.NewHash(w.Algorithm()) // checked by the writer
	h.Write(png)
	b.SetPayloadDigest(h.Sum(nil))
	b.SetIncompressible()
	_, err := w.Write(b)
	return err
}

// logOnly writes a crawl-log line that is no fetch of the crawl's, so
// progress does not count it.
func (cr *crawler) logOnly(f Fetch) { cr.flog.write(f) }

// keptPage is the response block HTTP mode recorded for a page, kept
// until the browser asks for the page.
type keptPage struct {
	block []byte
}

// Bounds of the pages' HTTP-mode captures kept for their navigations: a
// larger page, or one past the total (pages waiting for a browser of the
// pool), is fetched again by the browser.
const (
	maxKeptPage  = 4 << 20
	maxKeptPages = 32 << 20
)

// keepPage keeps the response block of a page the browser is to load,
// before its records are written (the block cannot be read afterwards),
// so that the browser's navigation is answered with it rather than
// fetched again (servePage).
func (cr *crawler) keepPage(j *job) {
	bm := cr.browser
	if !cr.browsing(j) || j.fetch.ex == nil {
		return
	}
	ex := j.fetch.ex
	b, ok := ex.Response.(blockReader)
	size := int(ex.Response.Size())
	if !ok || ex.Truncated != "" || ex.Method != http.MethodGet || size > maxKeptPage {
		return
	}
	key, err := Canonicalize(j.page.URL, false)
	if err != nil {
		return
	}
	bm.mu.Lock()
	room := bm.kept+size <= maxKeptPages
	if room {
		bm.kept += size
	}
	bm.mu.Unlock()
	if !room {
		return
	}
	var block []byte
	if r, err := b.Reader(); err == nil {
		buf := bytes.NewBuffer(make([]byte, 0, size))
		if _, err := buf.ReadFrom(r); err == nil && buf.Len() == size {
			block = buf.Bytes()
		}
	}
	bm.mu.Lock()
	defer bm.mu.Unlock()
	if old := bm.served[key]; block == nil || old != nil {
		bm.kept -= size // unreadable, or the page is kept already (a redirect back to it)
		return
	}
	if bm.served == nil {
		bm.served = map[string]*keptPage{}
	}
	bm.served[key] = &keptPage{block: block}
}

// dropPage forgets a page's kept capture once the browser is done with
// the page (it may not have asked: a navigation the browser refused).
func (bm *browserMode) dropPage(pageURL string) {
	key, err := Canonicalize(pageURL, false)
	if err != nil {
		return
	}
	bm.takePage(key)
}

func (bm *browserMode) takePage(key string) *keptPage {
	bm.mu.Lock()
	defer bm.mu.Unlock()
	kp := bm.served[key]
	if kp != nil {
		delete(bm.served, key)
		bm.kept -= len(kp.block)
	}
	return kp
}

// servePage answers the browser's navigation to a page with the response
// HTTP mode recorded for it a moment before, once: nothing is fetched or
// written again. The browser renders the very bytes the archive holds,
// so what its scripts then load goes with the archived HTML.
func (bm *browserMode) servePage(req *http.Request) (*http.Response, bool) {
	if req.Method != http.MethodGet || req.Header.Get("Range") != "" {
		return nil, false
	}
	key, err := Canonicalize(req.URL.String(), false)
	if err != nil {
		return nil, false
	}
	kp := bm.takePage(key)
	if kp == nil {
		return nil, false
	}
	br := bufio.NewReader(bytes.NewReader(kp.block))
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, false // it was parsed once: not expected
		}
		if resp.StatusCode >= 200 {
			return resp, true
		}
	}
}
