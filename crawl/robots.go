package crawl

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/temoto/robotstxt"

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

	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

type robotsEntry struct {
	once     sync.Once
	loaded   atomic.Bool      // once has run
	group    *robotstxt.Group // nil: everything allowed
	sitemaps []string
	// serverError: robots.txt answered 5xx, so every page is disallowed
	// (RFC 9309 2.3.1.4; a group of the parsed rules would allow them).
	serverError bool
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
	}
}

// robotsRedirects is how many redirects of a robots.txt are followed.
const robotsRedirects = 5

// robotsURL is the robots.txt of u's origin.
func robotsURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + "/robots.txt"
}

// entry returns the host's rules, fetching them on first use. A robots.txt
// that cannot be fetched, or answers 4xx, allows everything; 5xx disallows
// everything (the robots exclusion protocol, RFC 9309), for the crawl: it
// is fetched once per crawl, so a later crawl of the collection asks again.
func (rc *robotsCache) entry(ctx context.Context, u *url.URL) *robotsEntry {
	key := u.Scheme + "://" + u.Host
	rc.mu.Lock()
	e, ok := rc.hosts[key]
	if !ok {
		e = &robotsEntry{}
		rc.hosts[key] = e
	}
	rc.mu.Unlock()
	e.once.Do(func() {
		defer e.loaded.Store(true)
		// Fetched once per crawl: a resumed crawl, and another worker of
		// the crawl, use the copy stored; of two workers fetching it at
		// once, the first to store it wins.
		r, ok, err := rc.front.Robots(ctx, key)
		if !ok || err != nil || r.Crawl != rc.crawl {
			r = rc.fetch(ctx, u)
			r.Crawl = rc.crawl
			if rc.sync == nil || rc.sync() == nil {
				if stored, err := rc.front.PutRobots(ctx, key, r); err == nil {
					r = stored
				}
			}
		}
		if r.Status == 0 {
			return // could not be fetched: everything allowed (the pages' own fetches report the error)
		}
		if r.Status >= 500 && r.Status < 600 {
			e.serverError = true
			return
		}
		data, err := robotstxt.FromStatusAndBytes(r.Status, r.Body)
		if err != nil {
			return
		}
		e.group = data.FindGroup(rc.agent)
		e.sitemaps = data.Sitemaps
	})
	return e
}

// fetch gets u's robots.txt through the recording transport.
func (rc *robotsCache) fetch(ctx context.Context, u *url.URL) frontier.RobotsTxt {
	ctx = context.WithValue(withParse(ctx), writeNowKey{}, true)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL(u), nil)
	if err != nil {
		return frontier.RobotsTxt{}
	}
	req.Header.Set("User-Agent", rc.agent)
	resp, err := rc.client.Do(req)
	if err != nil {
		return frontier.RobotsTxt{}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512<<10))
	resp.Body.Close()
	return frontier.RobotsTxt{Status: resp.StatusCode, Body: body}
}

// disallowedNow reports whether the page u may not be crawled, if its
// host's rules are known already (it fetches nothing).
func (rc *robotsCache) disallowedNow(u *url.URL) bool {
	rc.mu.Lock()
	e := rc.hosts[u.Scheme+"://"+u.Host]
	rc.mu.Unlock()
	return e != nil && e.loaded.Load() && !e.allows(u)
}

// allowed reports whether the page u may be crawled.
func (rc *robotsCache) allowed(ctx context.Context, u *url.URL) bool {
	return rc.entry(ctx, u).allows(u)
}

func (e *robotsEntry) allows(u *url.URL) bool {
	if e.serverError {
		return false
	}
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

type parseKey struct{}

// withParse asks the recording transport to hand the body on whatever its
// type (robots.txt is text/plain, which pages are not parsed as).
func withParse(ctx context.Context) context.Context {
	return context.WithValue(ctx, parseKey{}, true)
}
