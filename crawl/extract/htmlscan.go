package extract

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// htmlScanner finds the tags of an HTML document, and the text of the
// elements whose content is raw text (script, style, title...), the way
// golang.org/x/net/html's Tokenizer does — same tags, same attributes, same
// raw-text boundaries — but without producing the text between tags: it
// jumps from one '<' to the next, and hands out attribute values as slices
// of the document. Pages are mostly text, so this is several times faster
// than the tokenizer. FuzzScanMatchesTokenizer holds it to the tokenizer.
type htmlScanner struct {
	b   []byte
	pos int
	raw string // the raw-text element whose content comes next, or ""

	// The current token.
	name        []byte // lower-cased tag name
	attrs       []rawAttr
	attrSet     map[string]struct{} // lower-cased names, once a tag has many attributes
	selfClosing bool
	text        []byte // raw text, for tokRaw
	textTag     string // the element text is the content of
}

type rawAttr struct {
	key, val []byte // as in the document: key not lower-cased, val not decoded
}

type htmlTok int

const (
	tokEOF htmlTok = iota
	tokStart
	tokEnd
	tokRaw // the content of a raw-text element
)

func newHTMLScanner(b []byte) *htmlScanner { return &htmlScanner{b: b} }

func isASCIIAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isHTMLSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }

// next scans to the next token the extractor needs.
func (z *htmlScanner) next() htmlTok {
	if z.raw != "" {
		tag := z.raw
		z.raw = ""
		start := z.pos
		if tag == "plaintext" {
			z.pos = len(z.b)
		} else if tag == "script" {
			z.pos = scriptEnd(z.b, z.pos)
		} else {
			z.pos = rawEnd(z.b, z.pos, tag)
		}
		if z.pos > start {
			z.text, z.textTag = z.b[start:z.pos], tag
			return tokRaw
		}
	}
	for {
		i := bytes.IndexByte(z.b[z.pos:], '<')
		if i < 0 || z.pos+i+1 >= len(z.b) {
			z.pos = len(z.b)
			return tokEOF
		}
		z.pos += i
		c := z.b[z.pos+1]
		switch {
		case isASCIIAlpha(c):
			z.pos++ // at the name
			if !z.readTag(true) {
				return tokEOF
			}
			z.checkRaw()
			return tokStart
		case c == '/':
			if z.pos+2 >= len(z.b) {
				z.pos = len(z.b)
				return tokEOF
			}
			c = z.b[z.pos+2]
			switch {
			case c == '>':
				z.pos += 3 // "</>" is nothing
			case isASCIIAlpha(c):
				z.pos += 2
				if !z.readTag(false) {
					return tokEOF
				}
				return tokEnd
			default:
				z.pos += 2
				z.skipPastCloseAngle()
			}
		case c == '!':
			z.pos += 2
			z.skipMarkupDeclaration()
		case c == '?':
			z.pos += 2
			z.skipPastCloseAngle()
		default:
			z.pos++ // a '<' in text
		}
		if z.pos >= len(z.b) {
			return tokEOF
		}
	}
}

// checkRaw notes whether the start tag just read makes what follows it raw
// text (even when it is self-closing, as the tokenizer has it). noscript is
// not among them: amber reads pages as a browser with scripting off, which
// parses the content of <noscript> as markup (and loads its images, style
// sheets and frames).
func (z *htmlScanner) checkRaw() {
	switch string(z.name) {
	case "iframe", "noembed", "noframes", "plaintext", "script", "style", "textarea", "title", "xmp":
		z.raw = string(z.name)
	}
}

// readTag reads a tag from its name to its '>' and reports whether the
// '>' came before the end of the document. z.pos is at the name.
func (z *htmlScanner) readTag(attrs bool) bool {
	b := z.b
	z.attrs = z.attrs[:0]
	clear(z.attrSet)
	z.selfClosing = false
	start := z.pos
	for z.pos < len(b) && !isHTMLSpace(b[z.pos]) && b[z.pos] != '/' && b[z.pos] != '>' {
		z.pos++
	}
	z.name = lowerName(b[start:z.pos])
	if z.pos < len(b) && isHTMLSpace(b[z.pos]) {
		z.pos++ // the tokenizer consumes one white space after the name
	}
	lastValEnd := -1
	for {
		z.skipSpace()
		if z.pos >= len(b) {
			return false
		}
		if b[z.pos] == '>' {
			z.pos++
			// Self-closing: the character before '>' is '/' and is not the
			// last character of the last attribute's value (<p a=/>).
			z.selfClosing = b[z.pos-2] == '/' && (len(z.attrs) == 0 || z.pos-2 != lastValEnd-1)
			return true
		}
		if b[z.pos] == '/' {
			z.pos++ // a '/' where a name would start: no attribute
			continue
		}
		// Attribute name: a leading '=' is part of it.
		ks := z.pos
		z.pos++
		for z.pos < len(b) && !isHTMLSpace(b[z.pos]) && b[z.pos] != '/' && b[z.pos] != '>' && b[z.pos] != '=' {
			z.pos++
		}
		if z.pos >= len(b) {
			return false
		}
		key := b[ks:z.pos]
		vs, ve := z.pos, z.pos
		z.skipSpace()
		if z.pos >= len(b) {
			return false
		}
		switch b[z.pos] {
		case '/':
			z.pos++
		case '=':
			z.pos++
			z.skipSpace()
			if z.pos >= len(b) {
				return false
			}
			switch q := b[z.pos]; q {
			case '>':
			case '"', '\'':
				end := bytes.IndexByte(b[z.pos+1:], q)
				if end < 0 {
					return false
				}
				vs, ve = z.pos+1, z.pos+1+end
				z.pos = ve + 1
			default:
				vs = z.pos
				for z.pos < len(b) && !isHTMLSpace(b[z.pos]) && b[z.pos] != '>' {
					z.pos++
				}
				if z.pos >= len(b) {
					return false
				}
				ve = z.pos
				if isHTMLSpace(b[z.pos]) {
					z.pos++
				}
			}
		}
		if attrs && len(key) > 0 && !z.seenAttr(key) {
			z.attrs = append(z.attrs, rawAttr{key: key, val: b[vs:ve]})
			lastValEnd = ve
		}
	}
}

// seenAttr reports whether the tag has an attribute named key already
// (ASCII case insensitively): the first of repeated attributes counts.
// Past a few attributes, a set keeps a tag with thousands linear.
func (z *htmlScanner) seenAttr(key []byte) bool {
	if len(z.attrs) < 16 {
		for _, a := range z.attrs {
			if asciiLowerEqual(a.key, key) {
				return true
			}
		}
		return false
	}
	if z.attrSet == nil || len(z.attrs) == 16 && len(z.attrSet) == 0 {
		if z.attrSet == nil {
			z.attrSet = map[string]struct{}{}
		}
		for _, a := range z.attrs {
			z.attrSet[string(asciiLower(a.key))] = struct{}{}
		}
	}
	k := string(asciiLower(key))
	if _, ok := z.attrSet[k]; ok {
		return true
	}
	z.attrSet[k] = struct{}{}
	return false
}

// asciiLower returns b with ASCII letters lower-cased (a copy if needed).
func asciiLower(b []byte) []byte {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			out := bytes.Clone(b)
			for j := i; j < len(out); j++ {
				if out[j] >= 'A' && out[j] <= 'Z' {
					out[j] += 'a' - 'A'
				}
			}
			return out
		}
	}
	return b
}

// asciiLowerEqual compares a and b with ASCII letters folded, as the
// tokenizer's lower-casing does (and nothing else).
func asciiLowerEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (z *htmlScanner) skipSpace() {
	for z.pos < len(z.b) && isHTMLSpace(z.b[z.pos]) {
		z.pos++
	}
}

func (z *htmlScanner) skipPastCloseAngle() {
	if i := bytes.IndexByte(z.b[z.pos:], '>'); i >= 0 {
		z.pos += i + 1
	} else {
		z.pos = len(z.b)
	}
}

// skipMarkupDeclaration skips a comment, a doctype or a bogus comment;
// z.pos is after "<!".
func (z *htmlScanner) skipMarkupDeclaration() {
	b := z.b
	if z.pos+2 > len(b) {
		z.pos = len(b)
		return
	}
	if b[z.pos] != '-' || b[z.pos+1] != '-' {
		z.skipPastCloseAngle()
		return
	}
	z.pos += 2
	dashes, beginning := 0, true
	for z.pos < len(b) {
		c := b[z.pos]
		z.pos++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return
			}
		case '!':
			if dashes >= 2 {
				if z.pos >= len(b) {
					return
				}
				c = b[z.pos]
				z.pos++
				if c == '>' {
					return
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
}

// rawEnd returns where the raw text of element tag, starting at pos, ends:
// at the "</tag" followed by white space, '/' or '>', or at the end.
func rawEnd(b []byte, pos int, tag string) int {
	for {
		i := bytes.IndexByte(b[pos:], '<')
		if i < 0 {
			return len(b)
		}
		pos += i
		if endTagAt(b, pos, tag) {
			return pos
		}
		pos++
	}
}

// endTagAt reports whether b holds "</tag" at pos, followed by white
// space, '/' or '>'.
func endTagAt(b []byte, pos int, tag string) bool {
	if pos+2+len(tag) >= len(b) || b[pos+1] != '/' {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := b[pos+2+i]
		if c != tag[i] && c != tag[i]-('a'-'A') {
			return false
		}
	}
	c := b[pos+2+len(tag)]
	return isHTMLSpace(c) || c == '/' || c == '>'
}

// scriptEnd returns where the content of a script element starting at
// pos ends, following the HTML rules for "<!--" and "<script" inside
// scripts (script data escaped and double escaped states).
func scriptEnd(b []byte, pos int) int {
	const (
		data = iota
		escaped
		escapedDash
		escapedDashDash
		double
		doubleDash
		doubleDashDash
	)
	state := data
	for pos < len(b) {
		if state == data {
			i := bytes.IndexByte(b[pos:], '<')
			if i < 0 {
				return len(b)
			}
			pos += i
			if endTagAt(b, pos, "script") {
				return pos
			}
			if pos+3 < len(b) && b[pos+1] == '!' && b[pos+2] == '-' && b[pos+3] == '-' {
				pos += 4
				state = escapedDashDash
				continue
			}
			pos++
			continue
		}
		c := b[pos]
		switch state {
		case escaped, escapedDash, escapedDashDash:
			switch {
			case c == '-':
				if state == escaped {
					state = escapedDash
				} else {
					state = escapedDashDash
				}
				pos++
			case c == '<':
				if endTagAt(b, pos, "script") {
					return pos
				}
				pos++
				switch {
				case pos < len(b) && isASCIIAlpha(b[pos]):
					if scriptTagAt(b, pos) {
						pos += len("script")
						state = double
					} else {
						state = escaped
					}
				case pos < len(b) && b[pos] == '/':
					state = escaped // not "</script": still escaped
				default:
					state = data // as the tokenizer does
				}
			case c == '>' && state == escapedDashDash:
				state = data
				pos++
			default:
				state = escaped
				pos++
			}
		default: // double escaped
			switch {
			case c == '-':
				if state == double {
					state = doubleDash
				} else {
					state = doubleDashDash
				}
				pos++
			case c == '<':
				pos++
				if pos < len(b) && b[pos] == '/' && scriptTagAt(b, pos+1) {
					pos += 1 + len("script")
					state = escaped
					continue
				}
				state = double
			case c == '>' && state == doubleDashDash:
				state = data
				pos++
			default:
				state = double
				pos++
			}
		}
	}
	return len(b)
}

// scriptTagAt reports whether b holds "script" (any case) at pos followed
// by white space, '/' or '>'.
func scriptTagAt(b []byte, pos int) bool {
	const s = "script"
	if pos+len(s) >= len(b) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[pos+i]
		if c != s[i] && c != s[i]-('a'-'A') {
			return false
		}
	}
	c := b[pos+len(s)]
	return isHTMLSpace(c) || c == '/' || c == '>'
}

var (
	nul         = []byte{0}
	replacement = []byte("\ufffd")
)

// lowerName lower-cases ASCII letters and replaces NUL as the tokenizer
// does, copying only when something changes.
func lowerName(b []byte) []byte {
	needs := bytes.IndexByte(b, 0) >= 0
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			needs = true
			break
		}
	}
	if !needs {
		return b
	}
	out := bytes.ReplaceAll(b, nul, replacement)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}

// attrValue decodes an attribute value as the tokenizer does: NUL
// replaced, newlines normalised, character references resolved (with the
// rules for attributes, where "&copy=" stays as it is).
func attrValue(v []byte) string {
	if bytes.IndexByte(v, '&') < 0 && bytes.IndexByte(v, '\r') < 0 && bytes.IndexByte(v, 0) < 0 {
		return string(v)
	}
	if bytes.IndexByte(v, '\r') < 0 && bytes.IndexByte(v, 0) < 0 && onlyAmpEntities(v) {
		return strings.ReplaceAll(string(v), "&amp;", "&")
	}
	return tokenizerAttrValue(v)
}

// onlyAmpEntities reports whether every '&' in v starts "&amp;".
func onlyAmpEntities(v []byte) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == '&' && !bytes.HasPrefix(v[i:], []byte("&amp;")) {
			return false
		}
	}
	return true
}

// tokenizerAttrValue decodes v with the tokenizer itself, for the rare
// values with other character references.
func tokenizerAttrValue(v []byte) string {
	var doc []byte
	switch {
	case bytes.IndexByte(v, '"') < 0:
		doc = append(append([]byte(`<a v="`), v...), `">`...)
	case bytes.IndexByte(v, '\'') < 0:
		doc = append(append([]byte(`<a v='`), v...), `'>`...)
	default: // an unquoted value: no white space, no '>'
		doc = append(append([]byte(`<a v=`), v...), ` >`...)
	}
	z := html.NewTokenizer(bytes.NewReader(doc))
	if z.Next() != html.StartTagToken {
		return string(v)
	}
	_, val, _ := z.TagAttr()
	return string(val)
}

// rawText converts the content of a raw-text element as the tokenizer's
// Text does: newlines normalised, NUL replaced, and character references
// resolved for title and textarea (escapable raw text).
func rawText(b []byte, tag string) string {
	s := string(b)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\ufffd")
	}
	if tag == "title" || tag == "textarea" {
		s = html.UnescapeString(s)
	}
	return s
}
