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
