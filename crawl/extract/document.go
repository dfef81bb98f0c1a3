// Package extract finds the links a document cites and the items of a feed.
package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Kinds of document DocumentLinks recognises.
const (
	KindHTML      = "html"
	KindBookmarks = "bookmarks" // a browser's bookmarks export (NETSCAPE-Bookmark-file-1)
	KindMarkdown  = "markdown"
	KindText      = "text"
)

// MaxDocumentSize is the largest document ReadDocument reads: 32 MiB,
// far more than any article, bibliography or bookmarks export.
const MaxDocumentSize = 32 << 20

// Errors for errors.Is.
var (
	ErrTooLarge = errors.New("extract: document too large")
	ErrNotText  = errors.New("extract: not a text document (HTML, Markdown or plain text)")
	ErrNoLinks  = errors.New("extract: no http or https links in the document")
)

// Document is what a document cites.
type Document struct {
	Kind string
	// Links are the distinct http(s) links, in the order of their first
	// citation: absolute, fragment dropped.
	Links []Link
	// Skipped are the distinct links not kept (another scheme, or a
	// relative link with no base to resolve it against), in order.
	Skipped []Skipped
	// Refs are every citation of a kept link, in document order, with
	// where it is (for annotating the document).
	Refs []Ref
}

// Link is one distinct link.
type Link struct {
	URL string // absolute, without fragment
	Key string // its canonical form (DocumentOptions.Key), by which links are de-duplicated
}

// Skipped is a link not kept.
type Skipped struct {
	URL    string // as written
	Reason string
}

// Ref is one citation of Links[Link] in the document.
type Ref struct {
	Link  int
	Cited string // as written (resolved against the base), fragment kept
	// Start and End are the byte range of the citation: the <a> or <area>
	// start tag in HTML, the whole link construct in Markdown, the URL in
	// plain text.
	Start, End int
}

// DocumentOptions tune DocumentLinks.
type DocumentOptions struct {
	// Base resolves relative links (the URL a document was fetched
	// from); without it, relative links are skipped. An HTML <base href>
	// takes its place.
	Base string
	// Key returns the canonical form links are de-duplicated by (the
	// crawl's seen-set key); default: the URL without its fragment.
	Key func(string) (string, error)
}

// ReadDocument reads a whole document of at most MaxDocumentSize bytes.
func ReadDocument(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxDocumentSize)
	}
	return b, nil
}

// DocumentLinks returns the links a document cites. The kind (HTML, a
// bookmarks export, Markdown or plain text) is told from the content;
// contentType and name (a file name or URL) only decide between Markdown
// and plain text, and for HTML that does not start like HTML. A document
// that cites no http(s) link returns ErrNoLinks with what it found.
func DocumentLinks(body []byte, contentType, name string, opts DocumentOptions) (*Document, error) {
	kind, err := detect(body, contentType, name)
	if err != nil {
		return nil, err
	}
	c := newCollector(kind, opts)
	switch kind {
	case KindHTML, KindBookmarks:
		c.html(body)
	case KindMarkdown:
		c.markdown(body)
	default:
		c.text(body, 0, len(body))
	}
	if len(c.doc.Links) == 0 {
		return c.doc, ErrNoLinks
	}
	return c.doc, nil
}

// detect tells the kind of a document from its first bytes.
func detect(body []byte, contentType, name string) (string, error) {
	head := body[:min(len(body), 1024)]
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(head, " \t\r\n\f")
	lower := bytes.ToLower(trimmed)
	if bytes.HasPrefix(lower, []byte("<!doctype netscape-bookmark-file-1")) {
		return KindBookmarks, nil
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head[:validPrefix(head)]) && !looksHTML(lower) {
		return "", ErrNotText
	}
	sniffed := http.DetectContentType(trimmed)
	if looksHTML(lower) || strings.HasPrefix(sniffed, "text/html") && !bytes.HasPrefix(lower, []byte("<!--")) {
		return KindHTML, nil
	}
	if !strings.HasPrefix(sniffed, "text/") {
		return "", ErrNotText
	}
	hint := hintOf(contentType, name)
	if hint == KindHTML && bytes.Contains(bytes.ToLower(body), []byte("<a ")) {
		return KindHTML, nil
	}
	if hint == KindMarkdown || looksMarkdown(body) {
		return KindMarkdown, nil
	}
	return KindText, nil
}

// validPrefix is len(b) less a rune cut at the end of the sniffed head.
func validPrefix(b []byte) int {
	for i := len(b); i > 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i-1]) {
			if utf8.FullRune(b[i-1:]) {
				return len(b)
			}
			return i - 1
		}
	}
	return len(b)
}

func looksHTML(lower []byte) bool {
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<meta ", "<title"} {
		if bytes.HasPrefix(lower, []byte(p)) {
			return true
		}
	}
	return false
}

func hintOf(contentType, name string) string {
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "html"):
		return KindHTML
	case strings.Contains(ct, "markdown"):
		return KindMarkdown
	}
	if u, err := url.Parse(name); err == nil && u.Scheme != "" && u.Host != "" {
		name = u.Path
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".xhtml":
		return KindHTML
	case ".md", ".markdown", ".mdown", ".mkd":
		return KindMarkdown
	}
	return ""
}

// looksMarkdown reports whether a text has Markdown link syntax or
// headings: an inline link, a reference definition, an autolink.
func looksMarkdown(b []byte) bool {
	b = b[:min(len(b), 64<<10)]
	if bytes.Contains(b, []byte("](")) || bytes.Contains(b, []byte("<http")) {
		return true
	}
	for line := range bytes.Lines(b) {
		l := bytes.TrimLeft(line, " ")
		if len(line)-len(l) > 3 {
			continue
		}
		if _, _, ok := refDefinition(string(l)); ok {
			return true
		}
		if bytes.HasPrefix(l, []byte("# ")) || bytes.HasPrefix(l, []byte("## ")) || bytes.HasPrefix(l, []byte("```")) {
			return true
		}
	}
	return false
}

// collector gathers links, de-duplicated by key.
type collector struct {
	doc     *Document
	base    *url.URL
	key     func(string) (string, error)
	index   map[string]int
	skipped map[string]bool
}

func newCollector(kind string, opts DocumentOptions) *collector {
	c := &collector{doc: &Document{Kind: kind}, key: opts.Key, index: map[string]int{}, skipped: map[string]bool{}}
	if opts.Base != "" {
		if u, err := url.Parse(opts.Base); err == nil && u.IsAbs() {
			c.base = u
		}
	}
	if c.key == nil {
		c.key = func(s string) (string, error) { return s, nil }
	}
	return c
}

// add records a citation of raw at [start, end).
func (c *collector) add(raw string, start, end int) {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "#") {
		return // a link within the document
	}
	u, err := url.Parse(raw)
	if err != nil {
		c.skip(raw, "malformed URL")
		return
	}
	if !u.IsAbs() {
		if c.base == nil {
			c.skip(raw, "relative link, no base URL to resolve it against")
			return
		}
		u = c.base.ResolveReference(u)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		c.skip(raw, fmt.Sprintf("unsupported scheme %q", u.Scheme))
		return
	}
	if u.Host == "" {
		c.skip(raw, "no host")
		return
	}
	cited := u.String()
	u.Fragment, u.RawFragment = "", ""
	abs := u.String()
	k, err := c.key(abs)
	if err != nil || k == "" {
		c.skip(raw, "malformed URL")
		return
	}
	i, ok := c.index[k]
	if !ok {
		i = len(c.doc.Links)
		c.index[k] = i
		c.doc.Links = append(c.doc.Links, Link{URL: abs, Key: k})
	}
	c.doc.Refs = append(c.doc.Refs, Ref{Link: i, Cited: cited, Start: start, End: end})
}

func (c *collector) skip(raw, reason string) {
	if c.skipped[raw] || len(c.skipped) >= maxSkipped {
		return
	}
	c.skipped[raw] = true
	c.doc.Skipped = append(c.doc.Skipped, Skipped{URL: raw, Reason: reason})
}

// maxSkipped bounds the skipped links listed for one document.
const maxSkipped = 10000

// html reads the href of every <a> and <area>, resolved against <base
// href> when the document has one.
func (c *collector) html(body []byte) {
	z := html.NewTokenizer(bytes.NewReader(body))
	off := 0
	baseSeen := false
	for {
		tt := z.Next()
		raw := len(z.Raw())
		start := off
		off += raw
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		if !hasAttr || a != atom.A && a != atom.Area && a != atom.Base {
			continue
		}
		var href string
		found := false
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			if string(k) == "href" && !found {
				href, found = string(v), true
			}
		}
		if !found {
			continue
		}
		if a == atom.Base {
			if !baseSeen {
				baseSeen = true
				if u, err := url.Parse(strings.TrimSpace(href)); err == nil {
					if c.base != nil {
						u = c.base.ResolveReference(u)
					}
					if u.IsAbs() {
						c.base = u
					}
				}
			}
			continue
		}
		c.add(href, start, off)
	}
}

// markdown reads inline links, reference definitions (and the links
// that use them), autolinks and bare URLs, outside code.
func (c *collector) markdown(body []byte) {
	type usage struct {
		label           string
		start, end      int
		inner, innerEnd int // the bracketed text, read as text when no definition matches
	}
	var usages []usage
	defs := map[string]string{}
	var defOrder []string
	fence := ""
	off := 0
	for line := range bytes.Lines(body) {
		lineStart := off
		off += len(line)
		s := string(line)
		t := strings.TrimLeft(s, " ")
		indent := len(s) - len(t)
		if indent <= 3 {
			if f := fenceOf(t); f != "" {
				if fence == "" {
					fence = f
				} else if strings.HasPrefix(strings.TrimRight(t, " \r\n"), fence) && strings.Trim(strings.TrimRight(t, " \r\n"), fence[:1]) == "" {
					fence = ""
				}
				continue
			}
		}
		if fence != "" {
			continue
		}
		if indent <= 3 {
			if label, dest, ok := refDefinition(t); ok {
				if _, dup := defs[label]; !dup {
					defs[label] = dest
					defOrder = append(defOrder, label)
				}
				continue
			}
		}
		// The line, scanned for code spans, autolinks, links and bare URLs.
		i := 0
		textFrom := 0
		flush := func(to int) {
			if to > textFrom {
				c.text(body, lineStart+textFrom, lineStart+to)
			}
		}
		for i < len(s) {
			switch ch := s[i]; {
			case ch == '\\' && i+1 < len(s):
				i += 2
			case ch == '`':
				n := run(s[i:], '`')
				if j := strings.Index(s[i+n:], strings.Repeat("`", n)); j >= 0 {
					flush(i)
					i += n + j + n
					textFrom = i
				} else {
					i += n
				}
			case ch == '<':
				if j := strings.IndexByte(s[i:], '>'); j > 0 && isAutolink(s[i+1:i+j]) {
					flush(i)
					c.add(s[i+1:i+j], lineStart+i, lineStart+i+j+1)
					i += j + 1
					textFrom = i
				} else {
					i++
				}
			case ch == '[' || ch == '!' && i+1 < len(s) && s[i+1] == '[':
				image := ch == '!'
				open := i
				if image {
					open++
				}
				close := matchBracket(s, open)
				if close < 0 {
					i = open + 1
					continue
				}
				end := close + 1
				if end < len(s) && s[end] == '(' {
					dest, after, ok := inlineDest(s, end)
					if ok {
						flush(i)
						if !image {
							c.add(dest, lineStart+i, lineStart+after)
						}
						i = after
						textFrom = i
						continue
					}
				}
				if image {
					i = open + 1
					continue
				}
				label := s[open+1 : close]
				if end+1 < len(s) && s[end] == '[' {
					if c2 := strings.IndexByte(s[end+1:], ']'); c2 >= 0 {
						if l := s[end+1 : end+1+c2]; l != "" {
							label = l
						}
						end = end + 1 + c2 + 1
					}
				}
				flush(i)
				usages = append(usages, usage{normLabel(label), lineStart + i, lineStart + end, lineStart + open + 1, lineStart + close})
				i = end
				textFrom = i
			default:
				i++
			}
		}
		flush(len(s))
	}
	used := map[string]bool{}
	for _, u := range usages {
		if dest, ok := defs[u.label]; ok {
			used[u.label] = true
			c.add(dest, u.start, u.end)
		} else {
			c.text(body, u.inner, u.innerEnd)
		}
	}
	// Definitions no text uses are still cited by the document.
	for _, l := range defOrder {
		if !used[l] {
			c.add(defs[l], -1, -1)
		}
	}
	c.orderRefs()
}

// orderRefs sorts the citations by position (reference links are found
// after the text), keeping Links in the order of first citation.
func (c *collector) orderRefs() {
	refs := c.doc.Refs
	// Insertion sort by Start: refs are nearly sorted; those without a
	// place (-1) go last.
	pos := func(r Ref) int {
		if r.Start < 0 {
			return int(^uint(0) >> 1)
		}
		return r.Start
	}
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && pos(refs[j]) < pos(refs[j-1]); j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
		}
	}
	// Renumber the links by first citation.
	order := make([]int, len(c.doc.Links))
	for i := range order {
		order[i] = -1
	}
	var links []Link
	for i, r := range refs {
		if order[r.Link] < 0 {
			order[r.Link] = len(links)
			links = append(links, c.doc.Links[r.Link])
		}
		refs[i].Link = order[r.Link]
	}
	c.doc.Links = links
}

func fenceOf(t string) string {
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(t, f) {
			return f
		}
	}
	return ""
}

func run(s string, ch byte) int {
	n := 0
	for n < len(s) && s[n] == ch {
		n++
	}
	return n
}

// matchBracket returns the index of the ] closing the [ at open, or -1.
func matchBracket(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// inlineDest parses "(dest "title")" at s[open] and returns the
// destination and the index after the closing paren.
func inlineDest(s string, open int) (dest string, after int, ok bool) {
	i := open + 1
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '<' {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return "", 0, false
		}
		dest = s[i+1 : i+j]
		i += j + 1
	} else {
		depth, from := 0, i
	loop:
		for ; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				if depth == 0 {
					break loop
				}
				depth--
			case ' ', '\t', '\r', '\n':
				break loop
			}
		}
		dest = s[from:min(i, len(s))]
	}
	// An optional title, then the closing paren.
	for i < len(s) && s[i] != ')' {
		switch s[i] {
		case '"', '\'':
			j := strings.IndexByte(s[i+1:], s[i])
			if j < 0 {
				return "", 0, false
			}
			i += j + 2
		case ' ', '\t':
			i++
		default:
			return "", 0, false
		}
	}
	if i >= len(s) {
		return "", 0, false
	}
	return dest, i + 1, true
}

// refDefinition parses a reference definition line: [label]: dest "title".
func refDefinition(t string) (label, dest string, ok bool) {
	if !strings.HasPrefix(t, "[") || strings.HasPrefix(t, "[^") {
		return "", "", false
	}
	end := strings.Index(t, "]:")
	if end < 2 {
		return "", "", false
	}
	label = t[1:end]
	if strings.ContainsAny(label, "[]") {
		return "", "", false
	}
	rest := strings.TrimSpace(t[end+2:])
	if strings.HasPrefix(rest, "<") {
		j := strings.IndexByte(rest, '>')
		if j < 0 {
			return "", "", false
		}
		dest = rest[1:j]
	} else if f := strings.Fields(rest); len(f) > 0 {
		dest = f[0]
	}
	if dest == "" {
		return "", "", false
	}
	return normLabel(label), dest, true
}

func normLabel(l string) string { return strings.ToLower(strings.Join(strings.Fields(l), " ")) }

// isAutolink reports whether s (between < and >) is a Markdown autolink:
// scheme:rest with no spaces.
func isAutolink(s string) bool {
	c := strings.IndexByte(s, ':')
	if c < 2 || c > 32 || strings.ContainsAny(s, " \t<\r\n") {
		return false
	}
	return schemeChars(s[:c])
}

func schemeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		letter := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z'
		if !letter && (i == 0 || !(ch >= '0' && ch <= '9' || ch == '+' || ch == '.' || ch == '-')) {
			return false
		}
	}
	return s != ""
}

// text finds bare URLs (scheme://…) in body[from:to], trimmed the way
// linkifiers trim them: trailing punctuation is not part of the URL, nor
// a closing paren without its opening one.
func (c *collector) text(body []byte, from, to int) {
	s := body[from:to]
	for i := 0; i < len(s); {
		j := bytes.Index(s[i:], []byte("://"))
		if j < 0 {
			return
		}
		sep := i + j
		start := sep
		for start > i && isSchemeByte(s[start-1]) {
			start--
		}
		for start < sep && !isLetter(s[start]) {
			start++ // a scheme starts with a letter
		}
		if start == sep || start > 0 && isWordByte(s[start-1]) {
			i = sep + 3
			continue
		}
		end := sep + 3
		for end < len(s) && !urlStop(s[end]) {
			end++
		}
		end = trimURL(s[start:end]) + start
		if end > sep+3 {
			c.add(string(s[start:end]), from+start, from+end)
		}
		i = max(end, sep+3)
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isSchemeByte(b byte) bool {
	return isLetter(b) || b >= '0' && b <= '9' || b == '+' || b == '-' || b == '.'
}
func isWordByte(b byte) bool { return isSchemeByte(b) || b == '_' || b >= 0x80 }

func urlStop(b byte) bool {
	return b <= ' ' || b == '<' || b == '>' || b == '"' || b == '`' || b == 0x7f
}

// trimURL returns the length of u without its trailing punctuation.
func trimURL(u []byte) int {
	n := len(u)
	for n > 0 {
		switch u[n-1] {
		case '.', ',', ';', ':', '!', '?', '\'', '"', '*', '_', '~':
			n--
			continue
		case ')', ']':
			open, close := byte('('), u[n-1]
			if close == ']' {
				open = '['
			}
			if bytes.Count(u[:n], []byte{open}) < bytes.Count(u[:n], []byte{close}) {
				n--
				continue
			}
		}
		break
	}
	return n
}
