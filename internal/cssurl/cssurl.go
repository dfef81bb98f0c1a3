// Package cssurl reads the URLs of CSS tokens (as github.com/tdewolff/parse
// returns them): url(...) values and quoted strings, with CSS escapes
// resolved. The crawler and the replay rewriter both use it, so what is
// fetched is what is rewritten.
package cssurl

import "strings"

// URLValue returns the URL inside a url( ) token.
func URLValue(tok []byte) string {
	s := string(tok)
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, ")")
	s = strings.Trim(s, " \t\r\n\f")
	if len(s) > 0 && (s[0] == '"' || s[0] == '\'') {
		return Unquote([]byte(s))
	}
	return Unescape(s)
}

// Unquote returns the value of a quoted CSS string token.
func Unquote(tok []byte) string {
	s := string(tok)
	if len(s) >= 1 && (s[0] == '"' || s[0] == '\'') {
		q := s[0]
		s = s[1:]
		if len(s) > 0 && s[len(s)-1] == q {
			s = s[:len(s)-1]
		}
	}
	return Unescape(s)
}

// Unescape resolves CSS escapes: an escaped character stands for itself,
// hex digits for a code point (one optional space after them is part of
// the escape), and a backslash before a newline is a line continuation.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '\n' {
			continue
		}
		j := i
		for j < len(s) && j-i < 6 && isHex(s[j]) {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			continue
		}
		var r rune
		for _, c := range s[i:j] {
			r = r*16 + rune(hexVal(byte(c)))
		}
		if r == 0 || r > 0x10ffff {
			r = '\ufffd'
		}
		b.WriteRune(r)
		if j < len(s) && isSpace(s[j]) {
			j++
		}
		i = j - 1
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
