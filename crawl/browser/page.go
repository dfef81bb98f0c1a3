package browser

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/amber-archiver/amber/internal/srcset"
)

// Page is what a browser rendered of one URL.
type Page struct {
	URL      string // as asked for
	FinalURL string // after redirects and script navigation
	Title    string
	// Text is the rendered text of the body (innerText), up to
	// Options.MaxText bytes.
	Text string
	// Links are the rendered DOM's hyperlinks (a and area href; link rel
	// canonical, next, prev, alternate, prerender), absolute, without
	// fragments, in document order, once each.
	Links []string
	// Requisites are the rendered DOM's resources: img currentSrc, src
	// and every srcset candidate, picture sources, link href (style
	// sheets, icons, preloads, manifests), script src, iframe and frame
	// src, media and posters, embed and object, and the CSS background
	// images of the elements (computed style), in the page and its
	// same-origin frames.
	Requisites []string
	// Requested are the URLs the page's target asked for (DevTools
	// network events), once each, in order: what reached the proxy, as
	// far as the page's own renderer knows.
	Requested []string
	// Screenshot is a PNG of the viewport (Width × Height pixels) with
	// the page scrolled back to the top, after the behaviour, as
	// browsertrix-crawler takes it.
	Screenshot    []byte
	Width, Height int
	// TimedOut is set when the page timeout ended the load or the
	// behaviour early: the rest is what the page showed then.
	TimedOut bool
	Scrolls  int           // viewport-high scroll steps made
	Duration time.Duration // from the navigation to the screenshot
	Attempts int           // browsers it took (2: the first crashed or hung)
}

// Limits of one page's lists.
const (
	maxRequested = 25000
	maxURLs      = 25000
)

//go:embed extract.js
var extractJS string

// rendered is what extract.js returns.
type rendered struct {
	URL        string      `json:"url"`
	Title      string      `json:"title"`
	Text       string      `json:"text"`
	Links      []string    `json:"links"`
	Requisites []string    `json:"requisites"`
	Srcsets    [][2]string `json:"srcsets"` // [base URL, srcset]
}

// capture loads u in a new tab of b and runs the behaviour. Its errors
// wrap ErrCrashed or ErrHung when the browser is to be replaced.
func capture(ctx context.Context, b *instance, u string, o *Options) (*Page, error) {
	tab, closeTab := chromedp.NewContext(b.ctx)
	defer closeTab()
	stop := context.AfterFunc(ctx, closeTab)
	defer stop()

	nw := newNetWatch()
	// The tab's first call opens it; it must not carry a deadline (that
	// would close the tab), so the wait is bounded around it.
	if err := within(o.CommandTimeout, func() error { return chromedp.Listen(tab, nw.event) }); err != nil {
		return nil, browserErr(b, tab, err)
	}
	cmd, cancel := context.WithTimeout(tab, o.CommandTimeout)
	_, err := chromedp.Call(cmd, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(o.Width), Height: int64(o.Height), DeviceScaleFactor: 1,
	})
	if err == nil {
		// A tab in the background renders no frames, and without frames
		// IntersectionObservers (lazy loaders) never fire.
		_, err = chromedp.Call(cmd, page.BringToFront, cdp.Empty{})
	}
	if err == nil {
		_, err = chromedp.Call(cmd, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	}
	cancel()
	if err != nil {
		return nil, browserErr(b, tab, err)
	}

	started := time.Now()
	pg := &Page{URL: u}
	beh, cancel := context.WithTimeout(tab, o.PageTimeout)
	err = behave(beh, nw, u, o, pg)
	timedOut := beh.Err() != nil
	cancel()
	switch {
	case err == nil:
	case nw.crashed() || !b.alive():
		return nil, browserErr(b, tab, err)
	case timedOut && tab.Err() == nil:
		pg.TimedOut = true // take what the page shows now
	default:
		var le *chromedp.LoadError
		if errors.As(err, &le) {
			return nil, err // the navigation failed: not the browser's fault
		}
		return nil, browserErr(b, tab, err)
	}

	cmd, cancel = context.WithTimeout(tab, o.CommandTimeout)
	defer cancel()
	if err := finish(cmd, o, pg); err != nil {
		return nil, browserErr(b, tab, err)
	}
	pg.Requested = nw.urls()
	pg.Duration = time.Since(started)
	return pg, nil
}

// browserErr names what went wrong with the browser: gone (ErrCrashed) or
// not answering (ErrHung). An error after the caller's cancellation is
// the cancellation's.
func browserErr(b *instance, tab context.Context, err error) error {
	switch {
	case tab.Err() != nil && b.alive():
		return err // the tab was closed for the caller
	case !b.alive():
		return fmt.Errorf("%w: %v", ErrCrashed, err)
	case errors.Is(err, ErrHung), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %v", ErrHung, err)
	}
	return fmt.Errorf("%w: %v", ErrCrashed, err)
}

// behave navigates, waits for the network to go quiet, and scrolls to the
// bottom a viewport at a time, waiting for quiet after each step.
func behave(ctx context.Context, nw *netWatch, u string, o *Options, pg *Page) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return err
	}
	if err := nw.waitQuiet(ctx, o.QuietTime, o.QuietMax); err != nil {
		return err
	}
	for pg.Scrolls < o.MaxScrolls {
		if nw.crashed() {
			return ErrCrashed
		}
		pos, err := chromedp.Run(ctx, chromedp.Evaluate[[3]float64](`(() => {
			window.scrollBy(0, window.innerHeight);
			const e = document.scrollingElement || document.documentElement;
			return [window.scrollY, window.innerHeight, e ? e.scrollHeight : 0];
		})()`))
		if err != nil {
			return err
		}
		pg.Scrolls++
		if err := nw.waitQuiet(ctx, o.QuietTime, o.QuietMax); err != nil {
			return err
		}
		// The bottom as it is after the step's loads (which may have
		// made the page longer).
		pos, err = chromedp.Run(ctx, chromedp.Evaluate[[3]float64](`(() => {
			const e = document.scrollingElement || document.documentElement;
			return [window.scrollY, window.innerHeight, e ? e.scrollHeight : 0];
		})()`))
		if err != nil {
			return err
		}
		if pos[0]+pos[1] >= pos[2]-1 {
			break
		}
	}
	return nw.waitQuiet(ctx, o.QuietTime, o.QuietMax)
}

// finish scrolls back to the top and takes the DOM's URLs, the text and
// the screenshot.
func finish(ctx context.Context, o *Options, pg *Page) error {
	r, err := chromedp.Run(ctx, chromedp.Evaluate[rendered](extractJS, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	pg.FinalURL, pg.Title = r.URL, r.Title
	pg.Text = truncateUTF8(r.Text, o.MaxText)
	pg.Links = dedup(r.Links, maxURLs)
	reqs := r.Requisites
	for _, s := range r.Srcsets {
		base, err := url.Parse(s[0])
		if err != nil {
			continue
		}
		for _, c := range srcset.URLs(s[1]) {
			if abs := absolute(base, c); abs != "" {
				reqs = append(reqs, abs)
			}
		}
	}
	pg.Requisites = dedup(reqs, maxURLs)
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	if err != nil {
		return err
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot.Data))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	pg.Screenshot, pg.Width, pg.Height = shot.Data, cfg.Width, cfg.Height
	return nil
}

func absolute(base *url.URL, ref string) string {
	u, err := base.Parse(strings.TrimSpace(ref))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

func dedup(in []string, limit int) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !seen[s] && len(out) < limit {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// netWatch counts the page's requests in flight from DevTools network
// events.
type netWatch struct {
	mu       sync.Mutex
	inflight map[network.RequestID]struct{}
	last     time.Time // of the last request starting or ending
	seen     map[string]bool
	order    []string
	crash    bool
}

func newNetWatch() *netWatch {
	return &netWatch{inflight: map[network.RequestID]struct{}{}, seen: map[string]bool{}, last: time.Now()}
}

// event runs on chromedp's reading goroutine: it must not block.
func (n *netWatch) event(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request == nil || strings.HasPrefix(e.Request.URL, "data:") || strings.HasPrefix(e.Request.URL, "blob:") {
			return
		}
		n.inflight[e.RequestID] = struct{}{} // a redirect keeps its ID
		n.last = time.Now()
		if u := e.Request.URL; !n.seen[u] && len(n.order) < maxRequested {
			n.seen[u] = true
			n.order = append(n.order, u)
		}
	case *network.EventLoadingFinished:
		delete(n.inflight, e.RequestID)
		n.last = time.Now()
	case *network.EventLoadingFailed:
		delete(n.inflight, e.RequestID)
		n.last = time.Now()
	case *inspector.EventTargetCrashed:
		n.crash = true
	}
}

func (n *netWatch) crashed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.crash
}

func (n *netWatch) urls() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.order...)
}

// waitQuiet waits until no request has been in flight for quiet, counted
// from the call at the earliest (what a scroll step sets off starts after
// it), or for at most max (a page that polls is never quiet).
func (n *netWatch) waitQuiet(ctx context.Context, quiet, max time.Duration) error {
	start := time.Now()
	limit := start.Add(max)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n.mu.Lock()
		busy, last, crash := len(n.inflight), n.last, n.crash
		n.mu.Unlock()
		if last.Before(start) {
			last = start
		}
		switch {
		case crash:
			return ErrCrashed
		case busy == 0 && time.Since(last) >= quiet, time.Now().After(limit):
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
