package crawl

import (
	"strings"

	"github.com/nlnwa/whatwg-url/canonicalizer"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// canonParser parses URLs the way browsers do (WHATWG URL): lower-case
// scheme and host, default port removed, dot segments resolved.
var canonParser = canonicalizer.New(canonicalizer.WithRemoveFragment())

// trackingParam reports whether a query parameter only tracks the visitor.
func trackingParam(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "utm_") || n == "fbclid" || n == "gclid" || n == "dclid" || n == "msclkid" || n == "mc_eid"
}

// Canonicalize returns the key a URL has in the seen set: WHATWG-parsed,
// fragment dropped, percent-encoding normalised (upper-case hex, unreserved
// characters decoded) and, if stripTracking, tracking parameters removed.
// The URL fetched and recorded in the WARC is never changed.
func Canonicalize(raw string, stripTracking bool) (string, error) {
	if alreadyCanonical(raw, stripTracking) {
		return raw, nil
	}
	return canonicalizeSlow(raw, stripTracking)
}

// canonicalizeSlow is Canonicalize through the WHATWG parser.
func canonicalizeSlow(raw string, stripTracking bool) (string, error) {
	u, err := canonParser.Parse(raw)
	if err != nil {
		return "", err
	}
	if stripTracking && u.Search() != "" {
		sp := u.SearchParams()
		var drop []string
		sp.Iterate(func(p *whatwg.NameValuePair) {
			if trackingParam(p.Name) {
				drop = append(drop, p.Name)
			}
		})
		if len(drop) > 0 {
			for _, d := range drop {
				sp.Delete(d)
			}
			left := 0
			sp.Iterate(func(*whatwg.NameValuePair) { left++ })
			if left == 0 {
				u.SetSearch("")
			} else {
				u.SetSearchParams(sp)
			}
		}
	}
	return normalizePercent(u.Href(true)), nil
}

// normalizePercent upper-cases the hex digits of percent escapes and
// decodes escapes of unreserved characters (RFC 3986, section 6.2.2.2).
func normalizePercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// alreadyCanonical reports, cheaply, whether raw is a URL that WHATWG
// parsing would give back unchanged: http(s), a lower-case host name or
// dotted-quad address, a port that is not the default, a path and query
// of characters that are never escaped or resolved (no '%', no dot
// segments, no backslash), no fragment, and, when stripping, no tracking
// parameter. Most links on a page are such URLs; the others take the full
// parser. FuzzAlreadyCanonical holds it to the parser.
func alreadyCanonical(raw string, stripTracking bool) bool {
	var rest string
	switch {
	case strings.HasPrefix(raw, "http://"):
		rest = raw[len("http://"):]
	case strings.HasPrefix(raw, "https://"):
		rest = raw[len("https://"):]
	default:
		return false
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return false // the parser adds the path "/"
	}
	authority, path := rest[:slash], rest[slash:]
	host, port, hasPort := strings.Cut(authority, ":")
	if !simpleHost(host) {
		return false
	}
	if hasPort {
		if port == "" || len(port) > 5 || port[0] == '0' || !allDigits(port) {
			return false
		}
		if port == "80" && raw[4] == ':' || port == "443" && raw[4] == 's' {
			return false // the default port is dropped
		}
		if n := atoiSmall(port); n > 65535 {
			return false
		}
	}
	path, query, hasQuery := strings.Cut(path, "?")
	if !simpleChars(path, false) || hasDotSegment(path) {
		return false
	}
	if hasQuery && !simpleQuery(query, stripTracking) {
		return false
	}
	return true
}

// simpleQuery accepts a query that comes back unchanged when the parser
// re-serialises it as form parameters (which stripping does): name=value
// pairs of letters, digits and -._*, none a tracking parameter.
func simpleQuery(q string, stripTracking bool) bool {
	if !stripTracking {
		return simpleChars(q, true)
	}
	for _, kv := range strings.Split(q, "&") {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" || trackingParam(name) || !formChars(name) || !formChars(value) {
			return false
		}
	}
	return true
}

func formChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '*') {
			return false
		}
	}
	return true
}

// simpleHost accepts lower-case DNS names whose last label is not
// numeric, and dotted quads without leading zeros: hosts the WHATWG host
// parser leaves as they are.
func simpleHost(h string) bool {
	if h == "" || len(h) > 253 || h[0] == '.' || h[0] == '-' {
		return false
	}
	labels := strings.Split(h, ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false // a trailing dot: kept by browsers, but rare; leave it to the parser
	}
	if allDigits(last) {
		if len(labels) != 4 {
			return false
		}
		for _, l := range labels {
			if l == "" || len(l) > 3 || !allDigits(l) || len(l) > 1 && l[0] == '0' || atoiSmall(l) > 255 {
				return false
			}
		}
		return true
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "xn--") {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// A name ends in a label that starts with a letter (top-level
	// domains do); one that does not may be a number the parser reads as
	// IPv4 (0x7f, 0-0, 1e).
	return last[0] >= 'a' && last[0] <= 'z'
}

// simpleChars reports whether s has only characters that WHATWG URL
// serialisation leaves alone in a path (or a query of a special URL).
func simpleChars(s string, query bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&()*+,;=:@/", c) >= 0:
		case c == '\'' && !query:
		case c == '?' && query:
		default:
			return false
		}
	}
	return true
}

// hasDotSegment reports whether a path has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for rest := p; ; {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." {
			return true
		}
		if !more {
			return false
		}
		rest = after
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoiSmall parses a short string of digits.
func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
