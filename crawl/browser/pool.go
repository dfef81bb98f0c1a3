package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"
)

// Options configure a Pool. Zero means default.
type Options struct {
	// Chromium is the browser binary; default: FindChromium's choice.
	Chromium string
	// Proxy is the proxy every request of the browser goes through, as a
	// URL ("http://127.0.0.1:PORT"); loopback addresses are not exempt.
	// Empty: none (the browser reaches the network itself).
	Proxy string
	// TrustSPKI are base64 SHA-256 hashes of SubjectPublicKeyInfos whose
	// certificates this browser accepts (the proxy's CA's leaves).
	TrustSPKI []string
	// Browsers is the most browser processes at once, each loading one
	// page at a time. Default 1.
	Browsers int
	// PageTimeout bounds a page's load and behaviour (the waits and the
	// scrolling); when it runs out, what the page shows then is taken.
	// Default 60 s.
	PageTimeout time.Duration
	// CommandTimeout is how long a browser may take to answer once the
	// page is done (the DOM, the screenshot) or to start; one that takes
	// longer is hung and is killed. Default 30 s.
	CommandTimeout time.Duration
	// QuietTime is how long no request may be in flight for the network
	// to count as quiet. Default 500 ms.
	QuietTime time.Duration
	// QuietMax bounds one wait for quiet (pages that poll never go
	// quiet). Default 10 s.
	QuietMax time.Duration
	// MaxScrolls bounds the viewport-high scroll steps on a page
	// (infinite scrolling never reaches the bottom). Default 40.
	MaxScrolls int
	// Width and Height are the viewport's, in CSS pixels at device scale
	// 1, and so the screenshot's size in pixels. Default 1280 × 800.
	Width, Height int
	// MaxText bounds Page.Text, in bytes (cut at a character boundary).
	// Default 1 MiB.
	MaxText int
	// UserAgent replaces Chromium's own User-Agent when set.
	UserAgent string
	// TempDir is where the profile directories go; default os.TempDir().
	TempDir string
}

// Defaults of Options.
const (
	DefaultPageTimeout    = 60 * time.Second
	DefaultCommandTimeout = 30 * time.Second
	DefaultQuietTime      = 500 * time.Millisecond
	DefaultQuietMax       = 10 * time.Second
	DefaultMaxScrolls     = 40
	DefaultWidth          = 1280
	DefaultHeight         = 800
	DefaultMaxText        = 1 << 20
)

// Errors, for errors.Is.
var (
	// ErrClosed: the pool was closed.
	ErrClosed = errors.New("browser: pool closed")
	// ErrBadURL: the URL to load is not an absolute http or https URL.
	ErrBadURL = errors.New("browser: not an http or https URL")
	// ErrCrashed: the browser process died or lost its DevTools
	// connection, or the page's renderer crashed.
	ErrCrashed = errors.New("browser: Chromium crashed")
	// ErrHung: the browser stopped answering DevTools commands.
	ErrHung = errors.New("browser: Chromium stopped answering")
)

// errHung is within's timeout, turned into ErrHung where it is seen.
var errHung = ErrHung

// PageError is a page that could not be captured: its navigation failed
// (a *chromedp.LoadError such as net::ERR_NAME_NOT_RESOLVED), or its
// browser crashed or hung on every attempt (ErrCrashed, ErrHung).
type PageError struct {
	URL      string
	Attempts int // browsers it was tried in
	Err      error
}

func (e *PageError) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("browser: %s: %v (%d attempts)", e.URL, e.Err, e.Attempts)
	}
	return fmt.Sprintf("browser: %s: %v", e.URL, e.Err)
}

func (e *PageError) Unwrap() error { return e.Err }

// Pool runs up to Options.Browsers Chromium processes, each started when
// first needed, and loads one page at a time in each. A browser that
// crashes or hangs is killed (its whole process group) and another takes
// its place; the page is tried once more in it.
type Pool struct {
	opts  Options
	slots chan *instance // one per browser; nil: not running

	mu     sync.Mutex
	live   map[*instance]struct{}
	closed bool
}

// NewPool checks the options and finds Chromium; it starts no browser.
func NewPool(opts Options) (*Pool, error) {
	path, err := FindChromium(opts.Chromium)
	if err != nil {
		return nil, err
	}
	opts.Chromium = path
	if opts.Browsers <= 0 {
		opts.Browsers = 1
	}
	setDefault(&opts.PageTimeout, DefaultPageTimeout)
	setDefault(&opts.CommandTimeout, DefaultCommandTimeout)
	setDefault(&opts.QuietTime, DefaultQuietTime)
	setDefault(&opts.QuietMax, DefaultQuietMax)
	setDefault(&opts.MaxScrolls, DefaultMaxScrolls)
	setDefault(&opts.Width, DefaultWidth)
	setDefault(&opts.Height, DefaultHeight)
	setDefault(&opts.MaxText, DefaultMaxText)
	if opts.Proxy != "" {
		if u, err := url.Parse(opts.Proxy); err != nil || u.Host == "" {
			return nil, fmt.Errorf("browser: proxy %q is not a URL with a host", opts.Proxy)
		}
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	p := &Pool{opts: opts, slots: make(chan *instance, opts.Browsers), live: map[*instance]struct{}{}}
	for range opts.Browsers {
		p.slots <- nil
	}
	return p, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Capture loads u in a browser of the pool, runs the page's behaviour and
// returns what it rendered. It waits for a free browser. A page whose
// browser crashed or hung is tried once more in a new browser; the error
// is then a *PageError, as for a page whose navigation failed.
func (p *Pool) Capture(ctx context.Context, u string) (*Page, error) {
	if pu, err := url.Parse(u); err != nil || !pu.IsAbs() || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return nil, fmt.Errorf("%w: %q", ErrBadURL, u)
	}
	var lastErr error
	for attempt := 1; attempt <= 2; attempt++ {
		b, err := p.acquire(ctx)
		if err != nil {
			return nil, err
		}
		page, err := capture(ctx, b, u, &p.opts)
		switch {
		case err == nil:
			p.release(b)
			page.Attempts = attempt
			return page, nil
		case errors.Is(err, ErrCrashed), errors.Is(err, ErrHung):
			p.retire(b)
			lastErr = err
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		case ctx.Err() != nil:
			// The tab was closed by the cancellation; the browser is fine.
			p.release(b)
			return nil, ctx.Err()
		default:
			p.release(b)
			return nil, &PageError{URL: u, Attempts: attempt, Err: err}
		}
	}
	return nil, &PageError{URL: u, Attempts: 2, Err: lastErr}
}

// acquire takes a free browser, starting one if its slot has none.
func (p *Pool) acquire(ctx context.Context) (*instance, error) {
	var b *instance
	select {
	case b = <-p.slots:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.slots <- nil
		return nil, ErrClosed
	}
	if b != nil && b.alive() {
		return b, nil
	}
	if b != nil { // died while idle
		p.forget(b)
		b.kill()
	}
	b, err := launch(&p.opts, p.opts.CommandTimeout)
	if err != nil {
		p.slots <- nil
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		b.kill()
		p.slots <- nil
		return nil, ErrClosed
	}
	p.live[b] = struct{}{}
	p.mu.Unlock()
	return b, nil
}

func (p *Pool) release(b *instance) { p.slots <- b }

// retire kills b and frees its slot for a new browser.
func (p *Pool) retire(b *instance) {
	p.forget(b)
	b.kill()
	p.slots <- nil
}

func (p *Pool) forget(b *instance) {
	p.mu.Lock()
	delete(p.live, b)
	p.mu.Unlock()
}

// PIDs are the process IDs of the running browsers (each leads a process
// group with its renderers), for measurements and tests.
func (p *Pool) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for b := range p.live {
		pids = append(pids, b.pid)
	}
	return pids
}

// Close kills every browser and removes their profiles; captures in
// progress fail, and later ones return ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	live := p.live
	p.live = map[*instance]struct{}{}
	p.mu.Unlock()
	for b := range live {
		b.kill()
	}
	return nil
}
