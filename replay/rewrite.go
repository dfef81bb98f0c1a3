package replay

import (
	"bytes"
	"html"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"

	"github.com/amber-archiver/amber/internal/cssurl"
	"github.com/amber-archiver/amber/internal/srcset"
	xhtml "golang.org/x/net/html"
)

// Archival URL modifiers, as pywb spells them.
const (
	modPage     = ""    // a page: the top frame with the banner, holding the page at modEmbed
	modEmbed    = "mp_" // the page itself in its frame, or a resource embedded in it
	modIdentity = "id_" // the payload exactly as archived
)

// urlRewriter turns URLs found in an archived document into archival URLs
// on the replay server.
type urlRewriter struct {
	base *url.URL // what relative URLs resolve against
	ts   string   // the timestamp every rewritten URL asks for
}

// archival returns the archival URL of the absolute URL abs.
func archival(ts, mod, abs string) string { return "/" + ts + mod + "/" + abs }

// rewrite resolves raw against the base and returns its archival URL.
// URLs that load nothing from a server (fragments, data:, javascript:,
// mailto:, blob:, about:) are returned unchanged, as is anything that does
// not parse: the browser resolves such a URL against the archival URL of
// the document, which keeps it inside the archive.
func (rw *urlRewriter) rewrite(raw, mod string) string {
	s := strings.TrimSpace(raw)
	if s == "" || strings.HasPrefix(s, "#") {
		return raw
	}
	u, err := url.Parse(s)
	if err != nil {
		return raw
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return raw
	}
	abs := u
	if rw.base != nil {
		abs = rw.base.ResolveReference(u)
	}
	if abs.Scheme != "http" && abs.Scheme != "https" || abs.Host == "" {
		return raw
	}
	return archival(rw.ts, mod, abs.String())
}

// rewriteSrcset rewrites each candidate URL of a srcset attribute,
// keeping its descriptors and separators: "a.jpg 480w, b.jpg 800w". The
// candidates are those the crawler fetched (internal/srcset).
func (rw *urlRewriter) rewriteSrcset(v, mod string) string {
	var b strings.Builder
	last := 0
	srcset.Each(v, func(start, end int) {
		b.WriteString(v[last:start])
		b.WriteString(rw.rewrite(v[start:end], mod))
		last = end
	})
	b.WriteString(v[last:])
	return b.String()
}

// rewriteCSS rewrites every url() and @import of a style sheet (or a
// style attribute) to archival URLs; everything else is copied byte for
// byte.
func rewriteCSS(src []byte, rw *urlRewriter) []byte {
	var out bytes.Buffer
	out.Grow(len(src) + len(src)/8)
	// The lexer appends a NUL to its input where capacity allows, which
	// would overwrite the caller's next byte (the "<" of </style>): a full
	// slice expression makes it copy instead.
	l := css.NewLexer(parse.NewInputBytes(src[:len(src):len(src)]))
	importing := false // after @import, before its URL
	imageSet := 0      // parenthesis depth inside image-set(), where strings are URLs
	depth := 0
	pos := 0 // bytes of src consumed
	for {
		tt, data := l.Next()
		if tt == css.ErrorToken {
			if l.Err() != io.EOF && pos < len(src) {
				out.Write(src[pos:]) // an unlexable remainder is copied as is
			}
			break
		}
		pos += len(data)
		switch tt {
		case css.URLToken:
			out.WriteString("url(")
			writeCSSString(&out, rw.rewrite(cssurl.URLValue(data), modEmbed))
			out.WriteString(")")
			importing = false
			continue
		case css.StringToken:
			if importing || imageSet > 0 && depth == imageSet {
				writeCSSString(&out, rw.rewrite(cssurl.Unquote(data), modEmbed))
				importing = false
				continue
			}
		case css.AtKeywordToken:
			importing = strings.EqualFold(string(data), "@import")
		case css.FunctionToken:
			depth++
			if name := strings.ToLower(string(data)); imageSet == 0 && (name == "image-set(" || name == "-webkit-image-set(") {
				imageSet = depth
			}
		case css.LeftParenthesisToken:
			depth++
		case css.RightParenthesisToken:
			if depth == imageSet {
				imageSet = 0
			}
			if depth > 0 {
				depth--
			}
		case css.WhitespaceToken, css.CommentToken:
		default:
			importing = false
		}
		out.Write(data)
	}
	return out.Bytes()
}

// writeCSSString writes s as a double-quoted CSS string.
func writeCSSString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\a `)
		case '\r':
			b.WriteString(`\d `)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// URL-valued attributes. Every URL gets modEmbed, links and forms too: a
// page is shown in the sandboxed frame of its top frame (server.go), and
// a link navigates that frame, not the top.
var (
	urlAttrs = map[string]bool{
		"src": true, "href": true, "poster": true, "background": true, "action": true,
		"formaction": true, "data": true, "lowsrc": true, "manifest": true, "xlink:href": true,
		"icon": true,
		// lazy-loading conventions: scripts copy these into src
		"data-src": true, "data-lazy-src": true, "data-original": true, "data-url": true,
		"data-bg": true, "data-background": true, "data-poster": true,
	}
	srcsetAttrs = map[string]bool{"srcset": true, "imagesrcset": true, "data-srcset": true, "data-lazy-srcset": true}
)

// htmlRewriter rewrites an HTML document.
type htmlRewriter struct {
	urlRewriter
	// inject is inserted before anything that can run: just after <head>,
	// or before the first element that is not <html> or <head>. nil for
	// nothing.
	inject []byte
}

// rewriteHTML rewrites src and returns the new document. The tokenizer
// keeps every byte it does not rewrite (the raw text of unchanged tags,
// text, comments, scripts).
func (hr *htmlRewriter) rewriteHTML(src []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(src) + len(src)/4 + len(hr.inject))
	z := xhtml.NewTokenizer(bytes.NewReader(src))
	inStyle, inNoscript := false, false
	injected := hr.inject == nil
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := z.Raw()
		switch tt {
		case xhtml.TextToken:
			switch {
			case inStyle:
				out.Write(rewriteCSS(raw, &hr.urlRewriter))
			case inNoscript:
				// The tokenizer, like a browser running scripts, reads
				// <noscript> as text; lazy loaders parse that text and
				// insert it, so its URLs are rewritten as markup.
				inner := &htmlRewriter{urlRewriter: hr.urlRewriter}
				out.Write(inner.rewriteHTML(raw))
			default:
				out.Write(raw)
			}
			continue
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "style":
				inStyle = false
			case "noscript":
				inNoscript = false
			}
			out.Write(raw)
			continue
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
		default:
			out.Write(raw)
			continue
		}
		tok := z.Token()
		if !injected && tok.Data != "html" && tok.Data != "head" {
			out.Write(hr.inject)
			injected = true
		}
		changed := hr.rewriteTag(&tok)
		if changed {
			writeTag(&out, tok, tt == xhtml.SelfClosingTagToken)
		} else {
			out.Write(raw)
		}
		switch tok.Data {
		case "style":
			inStyle = tt == xhtml.StartTagToken
		case "noscript":
			inNoscript = tt == xhtml.StartTagToken
		case "head":
			if !injected {
				out.Write(hr.inject)
				injected = true
			}
		}
	}
	if !injected {
		out.Write(hr.inject)
	}
	return out.Bytes()
}

// rewriteTag rewrites the URLs of one start tag, and reports whether it
// changed anything.
func (hr *htmlRewriter) rewriteTag(tok *xhtml.Token) bool {
	changed := false
	mod := modEmbed
	isRefresh := false
	if tok.Data == "meta" {
		for _, a := range tok.Attr {
			if a.Key == "http-equiv" && strings.EqualFold(strings.TrimSpace(a.Val), "refresh") {
				isRefresh = true
			}
		}
	}
	if tok.Data == "base" {
		// The base applies to every URL after it: resolve it against the
		// document, then point it into the archive for URLs that scripts
		// build from it.
		for i, a := range tok.Attr {
			if a.Key == "href" && a.Namespace == "" {
				if abs, err := hr.base.Parse(strings.TrimSpace(a.Val)); err == nil && (abs.Scheme == "http" || abs.Scheme == "https") {
					hr.base = abs
					tok.Attr[i].Val = archival(hr.ts, modEmbed, abs.String())
					changed = true
				}
			}
		}
		return changed
	}
	attrs := tok.Attr[:0]
	for _, a := range tok.Attr {
		k := a.Key
		if a.Namespace != "" {
			k = a.Namespace + ":" + a.Key
		}
		switch {
		case k == "rel" && tok.Data == "link":
			if v := dropHints(a.Val); v != a.Val {
				a.Val, changed = v, true
			}
		case k == "integrity" || k == "ping":
			// Subresource integrity fails on rewritten style sheets; ping
			// would report a click to the live site.
			changed = true
			continue
		case urlAttrs[k]:
			if v := hr.rewrite(a.Val, mod); v != a.Val {
				a.Val, changed = v, true
			}
		case srcsetAttrs[k]:
			if v := hr.rewriteSrcset(a.Val, modEmbed); v != a.Val {
				a.Val, changed = v, true
			}
		case k == "srcdoc" && tok.Data == "iframe":
			// A document of its own: rewritten, with the first script.
			inner := &htmlRewriter{urlRewriter: hr.urlRewriter, inject: hr.inject}
			if v := string(inner.rewriteHTML([]byte(a.Val))); v != a.Val {
				a.Val, changed = v, true
			}
		case k == "style":
			if v := string(rewriteCSS([]byte(a.Val), &hr.urlRewriter)); v != a.Val {
				a.Val, changed = v, true
			}
		case k == "content" && isRefresh:
			if v := hr.rewriteRefresh(a.Val); v != a.Val {
				a.Val, changed = v, true
			}
		}
		attrs = append(attrs, a)
	}
	tok.Attr = attrs
	return changed
}

// dropHints removes the resource hints that make a browser resolve or
// connect to a host without loading anything through the page's CSP
// (dns-prefetch, preconnect) from a rel attribute. The href is rewritten
// into the archive as well; dropping the hint is what keeps a browser that
// ignores the rewritten href from looking the live host up.
func dropHints(rel string) string {
	f := strings.Fields(rel)
	kept := f[:0]
	for _, t := range f {
		switch strings.ToLower(t) {
		case "dns-prefetch", "preconnect":
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == len(strings.Fields(rel)) {
		return rel
	}
	return strings.Join(kept, " ")
}

// rewriteRefresh rewrites the URL of <meta http-equiv=refresh
// content="5; url=...">.
func (hr *htmlRewriter) rewriteRefresh(v string) string {
	i := indexFoldASCII(v, "url=") // on v itself: ToLower may change its length
	if i < 0 {
		return v
	}
	u := strings.Trim(v[i+4:], ` '"`)
	return v[:i+4] + hr.rewrite(u, modEmbed)
}

// indexFoldASCII is strings.Index, ASCII letters matched in any case;
// lower must be lower-case ASCII.
func indexFoldASCII(s, lower string) int {
	for i := 0; i+len(lower) <= len(s); i++ {
		j := 0
		for j < len(lower) {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
			j++
		}
		if j == len(lower) {
			return i
		}
	}
	return -1
}

// writeTag renders a start tag whose attributes were rewritten.
func writeTag(b *bytes.Buffer, tok xhtml.Token, selfClosing bool) {
	b.WriteByte('<')
	b.WriteString(tok.Data)
	for _, a := range tok.Attr {
		b.WriteByte(' ')
		if a.Namespace != "" {
			b.WriteString(a.Namespace)
			b.WriteByte(':')
		}
		b.WriteString(a.Key)
		b.WriteString(`="`)
		b.WriteString(escapeAttr(a.Val))
		b.WriteByte('"')
	}
	if selfClosing {
		b.WriteString(" /")
	}
	b.WriteByte('>')
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")

func escapeAttr(s string) string { return attrEscaper.Replace(s) }

// escapeText escapes s for HTML text, with every non-ASCII character as a
// character reference so the banner is right in any ASCII-compatible
// charset the page declares.
func escapeText(s string) string {
	var b strings.Builder
	for _, r := range html.EscapeString(s) {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		}
	}
	return b.String()
}
