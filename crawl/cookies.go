package crawl

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
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
	// Public-suffix aware, as a browser's: a site cannot set a cookie for
	// all of co.uk.
	jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
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

// Cookie is a cookie given to the crawl beforehand (Options.Cookies), as
// a browser holds it: for URL, with Domain set when it also goes to the
// subdomains.
type Cookie struct {
	URL    *url.URL
	Cookie *http.Cookie
}

// maxCookiesFile bounds a cookies.txt file read whole.
const maxCookiesFile = 16 << 20

// ReadCookiesFile reads cookies in the Netscape cookies.txt format that
// wget, curl, yt-dlp and browser extensions write: one cookie a line, seven
// fields separated by tabs (domain, include subdomains, path, secure,
// expiry as Unix seconds with 0 for a session cookie, name, value), "#"
// comments, and the "#HttpOnly_" prefix curl writes on the domain.
// Cookies already expired are left out. A malformed line is an error that
// names it (values are never quoted in errors).
func ReadCookiesFile(r io.Reader) ([]Cookie, error) {
	var out []Cookie
	sc := bufio.NewScanner(io.LimitReader(r, maxCookiesFile))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	now := time.Now()
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		httpOnly := false
		if rest, ok := strings.CutPrefix(line, "#HttpOnly_"); ok {
			line, httpOnly = rest, true
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("cookies line %d: %d tab-separated fields, not 7 (domain, subdomains, path, secure, expiry, name, value)", n, len(f))
		}
		domain := strings.ToLower(strings.TrimSpace(f[0]))
		sub, secure := strings.EqualFold(f[1], "TRUE"), strings.EqualFold(f[3], "TRUE")
		expiry, err := strconv.ParseInt(strings.TrimSpace(f[4]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cookies line %d: expiry %q is not a number of seconds", n, clipField(f[4]))
		}
		host := strings.TrimPrefix(domain, ".")
		if host == "" || strings.ContainsAny(host, "/ ") {
			return nil, fmt.Errorf("cookies line %d: %q is not a domain", n, clipField(f[0]))
		}
		c := &http.Cookie{Name: f[5], Value: f[6], Path: f[2], Secure: secure, HttpOnly: httpOnly}
		if c.Path == "" {
			c.Path = "/"
		}
		if sub || strings.HasPrefix(domain, ".") {
			c.Domain = host
		}
		if expiry > 0 {
			c.Expires = time.Unix(expiry, 0)
			if c.Expires.Before(now) {
				continue
			}
		}
		scheme := "http"
		if secure {
			scheme = "https"
		}
		out = append(out, Cookie{URL: &url.URL{Scheme: scheme, Host: host, Path: c.Path}, Cookie: c})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cookies: %w", err)
	}
	return out, nil
}

func clipField(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
