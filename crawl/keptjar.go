package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// keptJar is the crawl's cookie jar (boundedJar) with what sites set kept
// in the frontier, so that a crawl resumed after a crash, or another
// worker of the crawl, sends the cookies this run would have sent. The
// cookies a user gave (Options.Cookies) are not stored: every run is given
// them again.
type keptJar struct {
	*boundedJar
	// store puts cookies in the frontier; it reports its own errors.
	store func([]frontier.Cookie)

	mu      sync.Mutex
	stored  map[string]string    // key → data, as in the frontier
	created map[string]time.Time // key → when the cookie was first set
	last    time.Time            // the latest of created: each is later than the one before
}

// loadJar sets the cookies the frontier holds in jar, after those it
// holds already (the user's), and returns the jar that keeps new ones.
func loadJar(ctx context.Context, front frontier.Frontier, jar *boundedJar, store func([]frontier.Cookie)) (*keptJar, error) {
	kj := &keptJar{boundedJar: jar, store: store, stored: map[string]string{}, created: map[string]time.Time{}}
	cs, err := front.Cookies(ctx)
	if err != nil {
		return nil, fmt.Errorf("crawl state: reading the cookie jar: %w", err)
	}
	type kept struct {
		created time.Time
		u       *url.URL
		c       *http.Cookie
	}
	var all []kept
	for _, c := range cs {
		created, u, ck, ok := decodeCookie(c.Data)
		if !ok {
			continue // unreadable: as if the site had not set it
		}
		kj.stored[c.Key], kj.created[c.Key] = string(c.Data), created
		if created.After(kj.last) {
			kj.last = created
		}
		all = append(all, kept{created, u, ck})
	}
	// Set again in the order first set: the jar sends cookies of equal
	// path length oldest first.
	slices.SortStableFunc(all, func(a, b kept) int { return a.created.Compare(b.created) })
	for _, k := range all {
		jar.SetCookies(k.u, []*http.Cookie{k.c})
	}
	return kj, nil
}

// SetCookies keeps the cookies of a response, and stores those that
// changed.
func (kj *keptJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	kj.boundedJar.SetCookies(u, cookies)
	now := time.Now()
	var put []frontier.Cookie
	kj.mu.Lock()
	for _, c := range cookies {
		if len(c.Name)+len(c.Value) > MaxCookieSize || len(c.Domain) > maxCookieAttr || len(c.Path) > maxCookieAttr {
			continue // the jar did not take it
		}
		key := cookieKey(u, c)
		created, ok := kj.created[key]
		if !ok {
			created = now
			if !created.After(kj.last) {
				created = kj.last.Add(time.Nanosecond)
			}
			kj.last = created
		}
		data := encodeCookie(created, u, c, now)
		if data == nil {
			if _, ok := kj.stored[key]; !ok {
				continue
			}
			delete(kj.stored, key)
			delete(kj.created, key)
		} else if kj.stored[key] == string(data) {
			continue
		} else {
			kj.stored[key], kj.created[key] = string(data), created
		}
		put = append(put, frontier.Cookie{Key: key, Data: data})
	}
	kj.mu.Unlock()
	if len(put) > 0 {
		kj.store(put)
	}
}

// cookieKey is a cookie's identity in a jar: the host that set it, its
// name, its domain and its path (a missing one defaulting to the request
// path's directory, RFC 6265 5.1.4).
func cookieKey(u *url.URL, c *http.Cookie) string {
	path := c.Path
	if path == "" || path[0] != '/' {
		path = u.EscapedPath()
		if i := strings.LastIndexByte(path, '/'); i > 0 {
			path = path[:i]
		} else {
			path = "/"
		}
	}
	return strings.ToLower(u.Hostname()) + "\x00" + c.Name + "\x00" + strings.ToLower(c.Domain) + "\x00" + path
}

// encodeCookie is what is stored of a cookie set for u: when it was first
// set (Unix nanoseconds), the URL and the cookie as a Set-Cookie value,
// each on a line, with a relative Max-Age
// made an absolute expiry, so that setting it again later does not make
// it live longer. It is nil for a cookie that deletes (expired, Max-Age
// of zero or less).
func encodeCookie(created time.Time, u *url.URL, c *http.Cookie, now time.Time) []byte {
	ck := *c
	switch {
	case ck.MaxAge < 0, !ck.Expires.IsZero() && !ck.Expires.After(now):
		return nil
	case ck.MaxAge > 0:
		ck.Expires, ck.MaxAge = now.Add(time.Duration(ck.MaxAge)*time.Second), 0
	}
	ck.Raw, ck.RawExpires, ck.Unparsed = "", "", nil
	return []byte(strconv.FormatInt(created.UnixNano(), 10) + "\n" + u.String() + "\n" + ck.String())
}

func decodeCookie(data []byte) (created time.Time, u *url.URL, c *http.Cookie, ok bool) {
	f := strings.SplitN(string(data), "\n", 3)
	if len(f) != 3 {
		return created, nil, nil, false
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return created, nil, nil, false
	}
	if u, err = url.Parse(f[1]); err != nil {
		return created, nil, nil, false
	}
	if c, err = http.ParseSetCookie(f[2]); err != nil {
		return created, nil, nil, false
	}
	return time.Unix(0, ns), u, c, true
}
