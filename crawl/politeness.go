package crawl

import (
	"context"
	"net/http"
	"sync"
	"time"
)

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
	if rb, ok := bodyOf(resp); ok && req.Context().Value(writeNowKey{}) == nil {
		// colly's callbacks take the body from the exchange: colly would
		// only copy it (and re-encode a non-UTF-8 one).
		rb.empty = true
		resp.ContentLength = 0
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

func bodyOf(resp *http.Response) (*RecordedBody, bool) {
	if resp == nil {
		return nil, false
	}
	rb, ok := resp.Body.(*RecordedBody)
	return rb, ok
}
