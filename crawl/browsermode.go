package crawl

import (
	"bufio"
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
	rt    *capture.Transport
	pool  *browser.Pool
	proxy *proxy.Proxy
	opts  BrowserOptions

	open sync.WaitGroup // browser requests not yet done with (written or failed)

	mu       sync.Mutex
	stopping bool                // stop was called: open takes no more
	pages    int                 // pages being loaded
	cuts     int                 // browser fetches Transport.Cut ended
	hosts    map[string]int      // the hosts of the pages being loaded
	css      map[string][]string // a style sheet the browser loaded → the URLs it names
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

// roundTrip sends a request of the browser through the crawl's politeness
// limits and the recording transport, and answers with the response as
// recorded: the entity body as received (content encoding kept, transfer
// coding removed), read back from the record's spool. The exchange is
// written to the WARC, under the run's ctx, once the proxy has passed the
// body on (Close).
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
	bm.mu.Lock()
	stopping := bm.stopping
	if !stopping {
		bm.open.Add(1) // Done by write, or below
	}
	bm.mu.Unlock()
	if stopping {
		return nil, proxy.ErrClosed
	}
	start := time.Now()
	resp, err := cr.limit.do(req, func() (*http.Response, error) {
		cr.tally.requests.Add(1)
		return bm.rt.RoundTrip(req)
	})
	f := Fetch{Time: start.UTC(), URL: req.URL.String(), Duration: time.Since(start), Kind: kindBrowser, Via: req.Header.Get("Referer")}
	f.Millis = f.Duration.Milliseconds()
	if err != nil {
		if errors.Is(err, capture.ErrCut) {
			bm.mu.Lock()
			bm.cuts++
			bm.mu.Unlock()
		}
		f.Err, f.Error = err, err.Error()
		cr.log(f)
		bm.open.Done()
		return nil, err
	}
	rb, ok := resp.Body.(*capture.RecordedBody)
	if !ok {
		resp.Body.Close()
		bm.open.Done()
		return nil, errors.New("crawl: the recording transport returned no recorded body")
	}
	ex := rb.Exchange
	f.Status, f.ex, f.Bytes = resp.StatusCode, ex, ex.Response.Size()
	if strings.Contains(strings.ToLower(ex.ContentType), "css") {
		urls, _ := extract.CSS(req.URL, extract.ToUTF8(ex.Content(), ex.ContentType))
		bm.noteCSS(f.URL, urls)
	}
	ex.ReleaseContent()
	out, err := recorded(ex, req)
	if err != nil {
		bm.write(ctx, &f)
		return nil, err
	}
	out.Body = &servedBody{ReadCloser: out.Body, done: func() { bm.write(ctx, &f) }}
	return out, nil
}

// write writes the exchange of a browser request and queues its digest.
func (bm *browserMode) write(ctx context.Context, f *Fetch) {
	defer bm.open.Done()
	digest, err := bm.cr.record(ctx, f)
	bm.cr.log(*f)
	if err == nil && digest != nil {
		bm.cr.sched.pend(nil, digest)
	}
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
