package crawl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
)

// writeNowKey marks a request that is not colly's (robots.txt): the
// transport writes its records itself, and says so in the writeNow.
type writeNowKey struct{}

type writeNow struct{ written bool }

// crawlTransport applies the politeness limits around the recording
// transport and notes what each fetch archived.
type crawlTransport struct {
	rt *capture.Transport
	c  *crawler
}

func (t *crawlTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.c.limit.do(req, func() (*http.Response, error) {
		t.c.tally.requests.Add(1)
		return t.rt.RoundTrip(req)
	})
	f := Fetch{Time: start.UTC(), URL: req.URL.String(), Duration: time.Since(start), Err: err}
	f.Millis = f.Duration.Milliseconds()
	if err != nil {
		f.Error = err.Error()
	}
	if resp != nil {
		f.Status = resp.StatusCode
		if rb, ok := resp.Body.(*capture.RecordedBody); ok {
			f.ex = rb.Exchange
			f.Bytes = rb.Exchange.Response.Size()
		}
	}
	if rb, ok := bodyOf(resp); ok && req.Context().Value(writeNowKey{}) == nil {
		// colly's callbacks take the body from the exchange, where the
		// transport recorded (and spooled) it: colly would read it whole
		// into memory, gunzip it and copy it, and its API has no way to
		// leave a body unread but for aborting the request (README,
		// "colly"). So colly is handed an empty one.
		rb.Withhold()
		resp.ContentLength = 0
	}
	if wn, ok := req.Context().Value(writeNowKey{}).(*writeNow); ok {
		// Not a colly request (robots.txt): no callback will write it.
		hadExchange := f.ex != nil
		if _, err := t.c.record(req.Context(), &f); err == nil && hadExchange {
			wn.written = true
		}
		t.c.log(f)
	} else if prev, loaded := t.c.fetches.Swap(f.URL, f); loaded {
		// Not collected by a callback (it should not happen): write it
		// rather than lose it.
		pf := prev.(Fetch)
		t.c.record(req.Context(), &pf)
	}
	return resp, err
}

// hostLimiter bounds requests in flight in all and per host, and spaces
// the requests to one host by a delay. Each host has a queue and up to
// perHost fetchers: goroutines that take its requests one after another
// and hand each response back to the goroutine that asked. A fetcher goes
// on to the next queued request at once, without waiting to be woken, so
// a host's slots do not idle between requests while the machine is busy.
type hostLimiter struct {
	all     chan struct{}
	slots   HostSlots   // shared with other workers, or nil
	lost    func(error) // hears that a slot could not be had (the state is gone)
	perHost int
	delay   time.Duration

	mu    sync.Mutex
	hosts map[string]*hostQueue
}

type hostQueue struct {
	queue   []*fetchRequest
	running int // fetchers at work on this host
}

type fetchRequest struct {
	ctx  context.Context
	do   func() (*http.Response, error)
	resp *http.Response
	err  error
	done chan struct{}
}

func newHostLimiter(all, perHost int, delay time.Duration) *hostLimiter {
	return &hostLimiter{all: make(chan struct{}, all), perHost: perHost, delay: delay, hosts: map[string]*hostQueue{}}
}

// do runs fn, a request to req's host, within the limits, and returns its
// result. It waits for fn even if req's context is cancelled meanwhile
// (fn's request then ends at once), so that what fn recorded is not lost.
func (l *hostLimiter) do(req *http.Request, fn func() (*http.Response, error)) (*http.Response, error) {
	r := &fetchRequest{ctx: req.Context(), do: fn, done: make(chan struct{})}
	host := req.URL.Host
	l.mu.Lock()
	h := l.hosts[host]
	if h == nil {
		h = &hostQueue{}
		l.hosts[host] = h
	}
	h.queue = append(h.queue, r)
	start := h.running < l.perHost
	if start {
		h.running++
	}
	l.mu.Unlock()
	if start {
		go l.fetcher(host, h)
	}
	<-r.done
	return r.resp, r.err
}

// fetcher takes the host's requests until its queue is empty.
func (l *hostLimiter) fetcher(host string, h *hostQueue) {
	for {
		l.mu.Lock()
		if len(h.queue) == 0 {
			h.running--
			if h.running == 0 {
				delete(l.hosts, host)
			}
			l.mu.Unlock()
			return
		}
		r := h.queue[0]
		h.queue[0] = nil
		h.queue = h.queue[1:]
		l.mu.Unlock()
		l.run(host, r)
		if l.delay > 0 {
			// This slot stays taken through the delay, so requests to the
			// host are spaced; other hosts are not held up.
			time.Sleep(l.delay)
		}
	}
}

func (l *hostLimiter) run(host string, r *fetchRequest) {
	defer close(r.done)
	select {
	case l.all <- struct{}{}:
	case <-r.ctx.Done():
		r.err = r.ctx.Err()
		return
	}
	defer func() { <-l.all }()
	if l.slots != nil {
		release, err := l.slots.Acquire(r.ctx, host)
		if err != nil {
			if l.lost != nil && r.ctx.Err() == nil {
				l.lost(err)
			}
			r.err = fmt.Errorf("%w: %w", errNoSlot, err)
			return
		}
		defer release()
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return
	}
	r.resp, r.err = r.do()
}

// errNoSlot is a request not sent for want of a shared host slot: the
// crawl stops, and the URL is fetched again when it resumes.
var errNoSlot = errors.New("no host slot")

// HostSlots bounds the requests in flight on each host across several
// workers (frontier.HostSlots, in Redis). Acquire waits for a slot of
// host and returns the function that gives it back.
type HostSlots interface {
	Acquire(ctx context.Context, host string) (release func(), err error)
}

func bodyOf(resp *http.Response) (*capture.RecordedBody, bool) {
	if resp == nil {
		return nil, false
	}
	rb, ok := resp.Body.(*capture.RecordedBody)
	return rb, ok
}

// HostCap caps the URLs queued per host across every worker sharing the
// frontier (frontier.HostCap, in Redis). Add queues entries as
// Frontier.Add does, but refuses those new to the crawl whose host,
// hosts[i], has had its cap of URLs queued, and returns their indexes.
type HostCap interface {
	Add(ctx context.Context, entries []frontier.Entry, hosts []string) (queued int, capped []int, err error)
}

// overHostCap counts a URL of host admitted by this run and reports
// whether the host had reached Options.MaxURLsPerHost: the run's own
// count, kept in memory (a resumed run counts from 0). With a shared
// HostCap the count is the crawl's, taken as the URLs are queued (enqueue).
func (cr *crawler) overHostCap(host string) bool {
	return cr.opts.HostCap == nil && !cr.admission.countHost(host)
}

// enqueue adds the admitted entries (of targets ts) to the frontier, through
// the shared per-host cap if there is one: a target it refuses is skipped
// as over the cap, like one over this run's.
func (cr *crawler) enqueue(ctx context.Context, entries []frontier.Entry, ts []target) (int, error) {
	if cr.opts.HostCap == nil {
		return cr.queue.Add(ctx, entries)
	}
	hosts := make([]string, len(ts))
	for i, t := range ts {
		if u, err := CheckURL(t.URL); err == nil {
			hosts[i] = strings.ToLower(u.Host)
		}
	}
	n, capped, err := cr.opts.HostCap.Add(ctx, entries, hosts)
	if err != nil {
		return n, err
	}
	for _, i := range capped {
		if i >= 0 && i < len(ts) {
			cr.skip(ts[i], hostCapSkip)
		}
	}
	return n, nil
}

const hostCapSkip = "per-host URL cap reached"
