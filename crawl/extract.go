package crawl

import (
	"bytes"
	"io"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"
)

// Links is what a page refers to.
type Links struct {
	Title      string
	Requisites []string // absolute URLs a browser loads to render the page
	Pages      []string // absolute URLs of linked pages (a, area, canonical, next, prev)
	Refresh    string   // target of a <meta http-equiv=refresh>, absolute
}

// requisiteAttrs lists the elements and attributes whose URLs a browser
// fetches to render a page. srcset-style attributes are parsed separately.
var requisiteAttrs = []struct{ sel, attr string }{
	{"img", "src"}, {"img", "data-src"}, {"img", "data-original"}, {"img", "data-lazy-src"},
	{"picture source", "data-src"},
	{"script", "src"},
	{"video", "poster"}, {"video", "src"}, {"audio", "src"},
	{"video source", "src"}, {"audio source", "src"}, {"track", "src"},
	{"embed", "src"}, {"object", "data"},
	{"input[type=image]", "src"},
	{"iframe", "src"}, {"frame", "src"},
	{"[background]", "background"},
}

var srcsetAttrs = []struct{ sel, attr string }{
	{"img", "srcset"}, {"img", "data-srcset"},
	{"source", "srcset"}, {"source", "data-srcset"},
}

// linkRelRequisite lists <link rel> values whose href a browser loads.
var linkRelRequisite = map[string]bool{
	"stylesheet": true, "icon": true, "shortcut": true, "apple-touch-icon": true,
	"apple-touch-icon-precomposed": true, "mask-icon": true, "preload": true,
	"manifest": true, "modulepreload": true, "prefetch": false,
}

// ExtractHTML finds the requisites and links of an HTML document fetched
// from pageURL, resolving against <base href> when present.
func ExtractHTML(pageURL *url.URL, body io.Reader) (Links, error) {
	doc, err := goquery.NewDocumentFromReader(body)
	if err != nil {
		return Links{}, err
	}
	base := pageURL
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := pageURL.Parse(strings.TrimSpace(href)); err == nil {
			base = b
		}
	}
	var out Links
	out.Title = strings.TrimSpace(doc.Find("title").First().Text())
	seen := map[string]bool{}
	add := func(list *[]string, raw string) {
		if u := resolve(base, raw); u != "" && !seen[u] {
			seen[u] = true
			*list = append(*list, u)
		}
	}
	for _, ra := range requisiteAttrs {
		doc.Find(ra.sel).Each(func(_ int, s *goquery.Selection) {
			if v, ok := s.Attr(ra.attr); ok {
				add(&out.Requisites, v)
			}
		})
	}
	for _, sa := range srcsetAttrs {
		doc.Find(sa.sel).Each(func(_ int, s *goquery.Selection) {
			if v, ok := s.Attr(sa.attr); ok {
				for _, u := range ParseSrcset(v) {
					add(&out.Requisites, u)
				}
			}
		})
	}
	doc.Find("link[href]").Each(func(_ int, s *goquery.Selection) {
		rels := strings.Fields(strings.ToLower(s.AttrOr("rel", "")))
		for _, rel := range rels {
			if linkRelRequisite[rel] {
				add(&out.Requisites, s.AttrOr("href", ""))
				break
			}
		}
		if v, ok := s.Attr("imagesrcset"); ok {
			for _, u := range ParseSrcset(v) {
				add(&out.Requisites, u)
			}
		}
	})
	// Inline CSS: <style> blocks resolve against the document base, style
	// attributes too.
	doc.Find("style").Each(func(_ int, s *goquery.Selection) {
		for _, u := range ExtractCSS(base, strings.NewReader(s.Text())) {
			add(&out.Requisites, u)
		}
	})
	doc.Find("[style]").Each(func(_ int, s *goquery.Selection) {
		for _, u := range ExtractCSS(base, strings.NewReader(s.AttrOr("style", ""))) {
			add(&out.Requisites, u)
		}
	})
	doc.Find("a[href], area[href]").Each(func(_ int, s *goquery.Selection) {
		add(&out.Pages, s.AttrOr("href", ""))
	})
	doc.Find("link[href]").Each(func(_ int, s *goquery.Selection) {
		for _, rel := range strings.Fields(strings.ToLower(s.AttrOr("rel", ""))) {
			if rel == "canonical" || rel == "next" || rel == "prev" {
				add(&out.Pages, s.AttrOr("href", ""))
				break
			}
		}
	})
	doc.Find("meta[http-equiv]").Each(func(_ int, s *goquery.Selection) {
		if !strings.EqualFold(s.AttrOr("http-equiv", ""), "refresh") {
			return
		}
		// content="5; url=/next" (the url= part may be quoted or bare)
		_, target, ok := strings.Cut(s.AttrOr("content", ""), ";")
		if !ok {
			return
		}
		target = strings.TrimSpace(target)
		if len(target) >= 4 && strings.EqualFold(target[:4], "url=") {
			target = strings.TrimSpace(target[4:])
		}
		target = strings.Trim(target, `"'`)
		if u := resolve(base, target); u != "" {
			out.Refresh = u
		}
	})
	return out, nil
}

// resolve makes raw absolute against base and drops the fragment. It
// returns "" for empty references and schemes that are not fetched.
func resolve(base *url.URL, raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "#") {
		return ""
	}
	u, err := base.Parse(raw)
	if err != nil {
		return ""
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "" // data:, javascript:, mailto:, tel:, blob: ...
	}
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

// ParseSrcset returns the URLs of a srcset attribute ("a.jpg 1x, b.jpg
// 2x"). URLs may contain commas, so candidates are split the way the HTML
// standard does: a URL runs to whitespace, and a trailing comma ends it.
func ParseSrcset(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		u := s[start:i]
		trailingComma := strings.HasSuffix(u, ",")
		u = strings.TrimRight(u, ",")
		if u != "" {
			out = append(out, u)
		}
		if trailingComma {
			continue
		}
		// Skip the descriptor up to the next comma outside parentheses.
		depth := 0
		for i < len(s) {
			c := s[i]
			i++
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// ExtractCSS returns the absolute URLs a style sheet loads: url(...) values
// (backgrounds, fonts in @font-face src lists, cursors, ...), @import
// targets and image-set() strings, resolved against base.
func ExtractCSS(base *url.URL, r io.Reader) []string {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil
	}
	l := css.NewLexer(parse.NewInputBytes(src))
	var out []string
	seen := map[string]bool{}
	add := func(raw string) {
		if u := resolve(base, raw); u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	afterImport := false
	stringFunc := 0 // nesting depth inside url( / image-set( whose strings are URLs
	for {
		tt, data := l.Next()
		switch tt {
		case css.ErrorToken:
			return out
		case css.AtKeywordToken:
			afterImport = bytes.EqualFold(data, []byte("@import"))
			continue
		case css.URLToken:
			add(cssURLValue(data))
		case css.FunctionToken:
			name := strings.ToLower(string(data))
			if stringFunc > 0 {
				stringFunc++
			} else if name == "url(" || name == "src(" || strings.HasSuffix(name, "image-set(") {
				stringFunc = 1
			}
		case css.RightParenthesisToken:
			if stringFunc > 0 {
				stringFunc--
			}
		case css.StringToken:
			if stringFunc > 0 || afterImport {
				add(cssString(data))
			}
		case css.WhitespaceToken, css.CommentToken:
			continue
		}
		afterImport = false
	}
}

// cssURLValue unwraps url(...) as the lexer returns it.
func cssURLValue(tok []byte) string {
	s := string(tok)
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, ")")
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return unescapeCSS(s)
}

func cssString(tok []byte) string {
	s := string(tok)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') {
		s = s[1:]
		if s[len(s)-1] == tok[0] {
			s = s[:len(s)-1]
		}
	}
	return unescapeCSS(s)
}

// unescapeCSS removes the backslash escapes that occur in URLs in practice
// (escaped quotes, parentheses and spaces); hex escapes are rare there and
// left alone.
func unescapeCSS(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && !isHex(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
