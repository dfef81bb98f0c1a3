package crawl

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
)

// Bounds on the cookies the crawl keeps and sends back, as browsers bound
// them (Chromium: 4096 bytes a cookie, 180 a domain). A site that sets
// many large cookies on every page cannot make amber send an ever larger
// request, or write a request record its own verify refuses.
const (
	// MaxCookieSize is the most bytes of a cookie's name and value; a
	// larger cookie is ignored, as a browser ignores it.
	MaxCookieSize = 4096
	// MaxCookiesPerHost is the most distinct cookies (name, domain, path)
	// kept from one host, and the most sent in one request; later new
	// ones are ignored.
	MaxCookiesPerHost = 180
	// MaxCookieHeader bounds the Cookie header of one request (32 KiB:
	// more than common servers accept, 8 to 16 KiB); cookies beyond it are
	// left out, the longest paths and then the oldest cookies going first.
	MaxCookieHeader = 32 << 10
	// maxCookieAttr bounds a cookie's Domain and Path (Chromium: 1024).
	maxCookieAttr = 1024
)

// boundedJar is net/http/cookiejar within the bounds above.
type boundedJar struct {
	jar *cookiejar.Jar
	mu  sync.Mutex
	set map[string]map[string]struct{} // host → the cookies it set, "name\x00domain\x00path"
}

func newBoundedJar() *boundedJar {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &boundedJar{jar: jar, set: map[string]map[string]struct{}{}}
}

// SetCookies keeps the cookies of a response that are within the bounds.
func (j *boundedJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	host := strings.ToLower(u.Hostname())
	keep := make([]*http.Cookie, 0, len(cookies))
	j.mu.Lock()
	set := j.set[host]
	if set == nil {
		set = map[string]struct{}{}
		j.set[host] = set
	}
	for _, c := range cookies {
		if len(c.Name)+len(c.Value) > MaxCookieSize || len(c.Domain) > maxCookieAttr || len(c.Path) > maxCookieAttr {
			continue
		}
		key := c.Name + "\x00" + strings.ToLower(c.Domain) + "\x00" + c.Path
		if _, ok := set[key]; !ok {
			if len(set) >= MaxCookiesPerHost {
				continue
			}
			set[key] = struct{}{}
		}
		keep = append(keep, c)
	}
	j.mu.Unlock()
	if len(keep) > 0 {
		j.jar.SetCookies(u, keep)
	}
}

// Cookies returns the cookies to send to u, in the jar's order (longest
// path first, then oldest), as many as fit MaxCookiesPerHost and
// MaxCookieHeader.
func (j *boundedJar) Cookies(u *url.URL) []*http.Cookie {
	all := j.jar.Cookies(u)
	out, size := all[:0], 0
	for _, c := range all {
		n := len(c.Name) + 1 + len(c.Value)
		if len(out) > 0 {
			n += len("; ")
		}
		if len(out) == MaxCookiesPerHost || size+n > MaxCookieHeader {
			break
		}
		size += n
		out = append(out, c)
	}
	return out
}
