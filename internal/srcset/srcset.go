// Package srcset walks the image candidates of a srcset attribute the way
// the HTML standard parses them, so that the crawler fetches and the
// replay rewrites the very same URLs.
package srcset

// Each calls fn with the byte offsets [start, end) of every candidate URL
// in s ("a.jpg 1x, b.jpg 2x"). A URL runs to white space and may contain
// commas; commas that end it belong to the separator, and a URL ending in
// one has no descriptors. Descriptors run to the next comma outside
// parentheses.
func Each(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		end := i
		for end > start && s[end-1] == ',' {
			end--
		}
		if end > start {
			fn(start, end)
		}
		if end < i {
			continue // trailing commas: no descriptors
		}
		depth := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if c == ',' && depth == 0 {
				i++
				break
			}
		}
	}
}

// URLs returns the candidate URLs of s.
func URLs(s string) []string {
	var out []string
	Each(s, func(start, end int) { out = append(out, s[start:end]) })
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
