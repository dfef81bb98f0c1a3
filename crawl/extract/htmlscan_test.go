package extract

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// extractHTMLTokenizer is ExtractHTML on golang.org/x/net/html's
// tokenizer: the oracle FuzzScanMatchesTokenizer holds the scanner to.
// Both feed the same htmlExtractor, so what the fuzzer compares is how
// the document is cut into tags, attributes and raw text. The tokenizer
// is told that scripting is off: the content of <noscript> is markup.
func extractHTMLTokenizer(pageURL *url.URL, body io.Reader) (Links, error) {
	x := newHTMLExtractor(pageURL, DefaultMaxLinksPerPage)
	var err error
	x.nested = func(doc string) {
		if e := tokenizeHTML(x, strings.NewReader(doc)); e != nil && err == nil {
			err = e
		}
	}
	if e := tokenizeHTML(x, body); e != nil || err != nil {
		return Links{}, cmp.Or(e, err)
	}
	return x.finish(), nil
}

func tokenizeHTML(x *htmlExtractor, body io.Reader) error {
	z := html.NewTokenizer(body)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return err
			}
			return nil
		case html.TextToken:
			x.text("", func() string { return string(z.Text()) })
		case html.EndTagToken:
			name, _ := z.TagName()
			x.end(string(name))
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tag == "noscript" { // self-closing too: the tokenizer would make its content raw
				z.NextIsNotRawText()
			}
			attrs := map[string]string{}
			for hasAttr {
				k, v, more := z.TagAttr()
				key := string(k)
				if _, dup := attrs[key]; !dup { // the first of repeated attributes counts
					attrs[key] = string(v)
				}
				hasAttr = more
			}
			x.start(tag, tt == html.SelfClosingTagToken, len(attrs) > 0, func(name string) (string, bool) {
				v, ok := attrs[name]
				return v, ok
			})
		}
	}
}

// The scanner-based ExtractHTML finds exactly what the tokenizer-based one
// found, on any input.
func FuzzScanMatchesTokenizer(f *testing.F) {
	for _, s := range []string{
		`<html><head><title>A &amp; B</title><base href="/x/"><link rel="stylesheet preload" href=s.css></head>`,
		`<img src="a.png" SRC="b.png" srcset="c.png 1x, d.png 2x" data-src='e.png'><img/src=f.png>`,
		`<a href="?a=1&amp;b=2&copy=3&not;">x</a><a href=g.html?x&lt;y>y</a><area href=h.html/>`,
		`<!-- <img src=no.png> --><!--> <img src=yes1.png><!---> <img src=yes2.png><!-- --!> <img src=yes3.png>`,
		`<!DOCTYPE html><? pi ><!bogus <img src=no2.png>><img src=yes4.png>`,
		`<script>var s = "<img src=no3.png>"; </script><img src=yes5.png>`,
		`<script><!-- <script> </script> <img src=no4.png> --> </script><img src=yes6.png>`,
		`<style>@import "i.css"; .a{background:url(j.png)}</style><div style="background:url('k.png')">`,
		`<title>T1</title><title>T2</title><TITLE/>`,
		`<noscript><img src=no5.png></noscript><textarea><img src=no6.png></textarea><xmp><img src=no7.png></xmp>`,
		`<meta http-equiv="Refresh" content="0; URL='/next'"><input type=IMAGE src=btn.png>`,
		`<p a=/><img src=z.png/><img src="q.png"/>`,
		"<img\x00 src\x00=\"n\x00ul.png\" srcset=\"a\r\nb.png 2x\">",
		`<video poster=p.jpg><source src=v.mp4><track src=t.vtt></video><object data=o.swf><embed src=e.swf>`,
		`<plaintext><img src=no8.png></plaintext><img src=no9.png>`,
		`<body background=bg.png><table background="tb.png"><td background='td.png'>`,
		`</ img src=no10.png><img src=yes7.png`,
		`<a href="x" href="y"><a HREF="z" href="w">`,
		`<noscript><img src=ns.png><noscript><style>.a{background:url(ns2.png)}</style></noscript></noscript><NOSCRIPT/><img src=after.png>`,
		`<head><noscript><link rel=stylesheet href=ns.css></noscript><noscript><img src=n.png`,
		`<svg><use xlink:href="s.svg#a"/><image href=i.png /><feImage xlink:href=f.png></svg><image src=h.png>`,
		`<link rel="prefetch prerender" href=x><link rel=ICON href=i.ico><link rel=prerender href=p.html>`,
		`<img src="http://h.example/a.png" srcset="http://h.example:80/b.png 2x"><a href=/x><img src=/x>`,
		`<img src="` + strings.Repeat("a", 70000) + `.png"><img src=` + strings.Repeat("b", 5000),
		`<img src=a.png<img src=b.png <a href="unterminated`,
		`<iframe srcdoc="<img src=sd.png><base href=/other/><title>no</title><iframe srcdoc='&lt;img src=sd2.png&gt;'>"></iframe><title>yes</title><img src=after.png>`,
		strings.Repeat(`<img src=/i/x.png><a href=/p>`, 2000),
	} {
		f.Add(s)
	}
	page, _ := url.Parse("http://h.example/p/q.html")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := extractHTMLTokenizer(page, strings.NewReader(s))
		if err != nil {
			t.Skip()
		}
		got, err := ReadHTML(page, strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("input %q:\nscanner   %+v\ntokenizer %+v", s, got, want)
		}
	})
}

// A tag with a hundred thousand attributes, or a page of unclosed
// comments and scripts, takes time linear in its size.
func TestScanLinear(t *testing.T) {
	page, _ := url.Parse("http://h.example/")
	var sb strings.Builder
	sb.WriteString("<img src=a.png ")
	for i := range 100000 {
		fmt.Fprintf(&sb, "a%d=%d ", i, i)
	}
	sb.WriteString("A5=dup>")
	sb.WriteString(strings.Repeat("<script><!--<script>", 20000))
	links := HTML(page, []byte(sb.String()), DefaultMaxLinksPerPage)
	if len(links.Requisites) != 1 {
		t.Errorf("requisites %q", links.Requisites)
	}
}

// BenchmarkExtractHTML compares the scanner with the tokenizer on a page
// like the benchmark site's articles.
func BenchmarkExtractHTML(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<!DOCTYPE html><html><head><title>Article</title><link rel=stylesheet href="/static/site.css"><script src="/static/app.js"></script></head><body>`)
	for i := range 400 {
		sb.WriteString(`<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation.</p>`)
		if i%20 == 0 {
			sb.WriteString(`<figure><img src="/img/a.jpg" srcset="/img/a-800.jpg 800w, /img/a-1200.jpg 1200w" loading="lazy" alt="x"><figcaption>Caption</figcaption></figure><a href="/2025/01/01/other.html">Other</a>`)
		}
	}
	sb.WriteString(`</body></html>`)
	doc := sb.String()
	page, _ := url.Parse("http://h.example/p/q.html")
	b.SetBytes(int64(len(doc)))
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			HTML(page, []byte(doc), DefaultMaxLinksPerPage)
		}
	})
	b.Run("tokenizer", func(b *testing.B) {
		for b.Loop() {
			extractHTMLTokenizer(page, strings.NewReader(doc))
		}
	})
}
