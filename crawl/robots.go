package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
)

// robotsCache fetches each host's robots.txt once, through the recording
// transport (so it is archived like any response), and answers whether a
// page may be crawled.
type robotsCache struct {
	client *http.Client
	agent  string
	front  frontier.Frontier
	crawl  uint64       // robots.txt stored for an earlier crawl is fetched again
	sync   func() error // makes the archived robots.txt durable before the state says it was fetched

	// base and max bound the wait before an unavailable robots.txt is
	// asked again: base doubled after each failure, up to max.
	base, max time.Duration
	// note, if set, hears when a host's robots.txt becomes unavailable
	// and when it answers again.
	note func(url, msg string)
	// lock, if set, lets one worker of those sharing the frontier fetch
	// a robots.txt while the others wait for what it stores.
	lock RobotsLock

	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

type robotsEntry struct {
	// mu is held while the rules are fetched: the host's other pages wait
	// for them.
	mu       sync.Mutex
	loaded   atomic.Bool      // fetched at least once
	group    *robotstxt.Group // nil: everything allowed
	sitemaps []string
	// unavailable says why robots.txt could not be had (it answered 5xx,
	// or the host did not answer): every page is disallowed (RFC 9309
	// 2.3.1.4) until a fetch after retryAt succeeds. Such an answer is
	// not stored in the frontier, so a resumed crawl asks again.
	unavailable string
	retryAt     time.Time
	failures    int
}

func newRobotsCache(rt http.RoundTripper, agent string, front frontier.Frontier, crawl uint64) *robotsCache {
	return &robotsCache{
		front: front,
		crawl: crawl,
		client: &http.Client{
			Transport: rt,
			// robots.txt redirects are followed, five of them (RFC 9309
			// 2.3.1.2), each hop archived by the transport; past that the
			// last redirect is the answer, which allows everything.
			CheckRedirect: func(_ *http.Request, via []*http.Request) error {
				if len(via) > robotsRedirects {
					return http.ErrUseLastResponse
				}
				return nil
			},
		},
		agent: agent,
		hosts: map[string]*robotsEntry{},
		base:  time.Second,
		max:   2 * time.Minute,
	}
}

// robotsRedirects is how many redirects of a robots.txt are followed.
const robotsRedirects = 5

// robotsURL is the robots.txt of u's origin.
func robotsURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + "/robots.txt"
}

// entry returns the host's rules, fetching them on first use, and again
// once their retry time has come if they were unavailable. A robots.txt
// that answers 4xx allows everything (RFC 9309); one that cannot be
// fetched for a reason that will not go away by itself (no such host, a
// certificate refused) too, and the pages' own fetches report the error.
// A robots.txt is fetched once per crawl: a later crawl of the collection
// asks again.
func (rc *robotsCache) entry(ctx context.Context, u *url.URL) *robotsEntry {
	key := u.Scheme + "://" + u.Host
	rc.mu.Lock()
	e, ok := rc.hosts[key]
	if !ok {
		e = &robotsEntry{}
		rc.hosts[key] = e
	}
	rc.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loaded.Load() && (e.unavailable == "" || time.Now().Before(e.retryAt)) {
		return e
	}
	// Fetched once per crawl: a resumed crawl, and another worker of the
	// crawl, use the copy stored; of two workers fetching it at once, the
	// first to store it wins.
	r, ok, err := rc.front.Robots(ctx, key)
	var fetchErr error
	if !ok || err != nil || r.Crawl != rc.crawl {
		var stored bool
		var unlock func()
		if rc.lock != nil {
			r, stored, unlock = rc.await(ctx, key)
			defer unlock() // once what was fetched is stored, below
		}
		written := false
		if !stored {
			r, written, fetchErr = rc.fetch(ctx, u)
			r.Crawl = rc.crawl
		}
		if ctx.Err() != nil {
			// Interrupted: nothing learnt for this run. But a robots.txt
			// answered and archived is stored, so that the resumed crawl
			// does not fetch (and archive) it again.
			if written && fetchErr == nil && r.Status < 500 && (rc.sync == nil || rc.sync() == nil) {
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				rc.front.PutRobots(sctx, key, r)
				cancel()
			}
			return e
		}
	}
	was := e.unavailable
	e.unavailable = ""
	switch {
	case r.Status >= 500 || r.Status == 0 && fetchErr != nil && retryable(fetchErr):
		e.unavailable = fmt.Sprintf("answered %d", r.Status)
		if r.Status == 0 {
			e.unavailable = "unreachable: " + fetchErr.Error()
		}
		e.failures++
		e.retryAt = time.Now().Add(min(rc.base<<min(e.failures-1, 16), rc.max))
		e.loaded.Store(true)
		if rc.note != nil {
			rc.note(robotsURL(u), fmt.Sprintf("robots.txt %s: the host's pages are not fetched until it answers (asked again in %s)",
				e.unavailable, time.Until(e.retryAt).Round(time.Millisecond)))
		}
		return e
	case fetchErr == nil && (rc.sync == nil || rc.sync() == nil):
		if stored, err := rc.front.PutRobots(ctx, key, r); err == nil {
			r = stored
		}
	}
	if was != "" && rc.note != nil {
		rc.note(robotsURL(u), fmt.Sprintf("robots.txt answers again (%d, after %s): the host's pages are fetched", r.Status, was))
	}
	e.failures = 0
	e.group, e.sitemaps = nil, nil
	if r.Status != 0 {
		if data, err := robotstxt.FromStatusAndBytes(r.Status, r.Body); err == nil {
			e.group = data.FindGroup(rc.agent)
			e.sitemaps = data.Sitemaps
		}
	}
	e.loaded.Store(true)
	return e
}

// RobotsLock makes the workers sharing a frontier fetch each robots.txt
// once (frontier.Redis.LockRobots): LockRobots takes origin's lock for
// ttl, renewed until unlock; ok is false while another worker holds it.
type RobotsLock interface {
	LockRobots(ctx context.Context, origin string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// The robots.txt lock's time to live (renewed while held: a worker that
// dies holding it holds up the others this long), and how long a worker
// waits for another's fetch at most before it fetches itself.
const (
	robotsLockTTL  = 10 * time.Second
	robotsWaitMost = 2 * time.Minute
)

// await returns the origin's robots.txt once another worker stored it
// (stored), or takes the origin's lock so that this worker fetches it and
// the others wait: unlock gives the lock back. It polls with backoff while
// another worker holds the lock; when the lock goes without a robots.txt
// of this crawl stored (its holder died, or the robots.txt could not be
// had), the next to take it fetches. Past robotsWaitMost, or when the lock
// cannot be asked for, it lets this worker fetch without it.
func (rc *robotsCache) await(ctx context.Context, origin string) (r frontier.RobotsTxt, stored bool, unlock func()) {
	none := func() {}
	wait := 20 * time.Millisecond
	deadline := time.Now().Add(robotsWaitMost)
	for {
		release, ok, err := rc.lock.LockRobots(ctx, origin, robotsLockTTL)
		if err != nil {
			return frontier.RobotsTxt{}, false, none
		}
		// Taken or not, the one who held it before may have stored it.
		if r, found, err := rc.front.Robots(ctx, origin); err == nil && found && r.Crawl == rc.crawl {
			if ok {
				release()
			}
			return r, true, none
		}
		if ok {
			return frontier.RobotsTxt{}, false, release
		}
		if time.Now().After(deadline) {
			return frontier.RobotsTxt{}, false, none
		}
		t := time.NewTimer(wait - wait/4 + time.Duration(rand.Int64N(int64(wait/2)+1)))
		select {
		case <-ctx.Done():
			t.Stop()
			return frontier.RobotsTxt{}, false, none
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// fetch gets u's robots.txt through the recording transport.
func (rc *robotsCache) fetch(ctx context.Context, u *url.URL) (_ frontier.RobotsTxt, written bool, _ error) {
	wn := &writeNow{}
	ctx = context.WithValue(capture.WithParse(ctx), writeNowKey{}, wn)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL(u), nil)
	if err != nil {
		return frontier.RobotsTxt{}, false, err
	}
	req.Header.Set("User-Agent", rc.agent)
	resp, err := rc.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			err = ue.Err // the message names the URL already
		}
		return frontier.RobotsTxt{}, wn.written, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512<<10))
	resp.Body.Close()
	return frontier.RobotsTxt{Status: resp.StatusCode, Body: body}, wn.written, nil
}

// disallowedNow reports whether the page u may not be crawled, if its
// host's rules are known already (it fetches nothing). A host whose
// robots.txt is unavailable for now is not known to disallow it.
func (rc *robotsCache) disallowedNow(u *url.URL) bool {
	rc.mu.Lock()
	e := rc.hosts[u.Scheme+"://"+u.Host]
	rc.mu.Unlock()
	if e == nil || !e.loaded.Load() || !e.mu.TryLock() {
		return false
	}
	defer e.mu.Unlock()
	return e.unavailable == "" && !e.allows(u)
}

// check reports whether the page u may be crawled; when it may not
// because robots.txt is unavailable, it says why and in how long
// robots.txt is asked again.
func (rc *robotsCache) check(ctx context.Context, u *url.URL) (ok bool, unavailable string, retryIn time.Duration) {
	e := rc.entry(ctx, u)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.unavailable != "" {
		return false, e.unavailable, max(time.Until(e.retryAt), 0)
	}
	return e.allows(u), "", 0
}

func (e *robotsEntry) allows(u *url.URL) bool {
	if e.group == nil {
		return true
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return e.group.Test(p)
}
