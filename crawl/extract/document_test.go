package extract

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func urls(d *Document) []string {
	var out []string
	for _, l := range d.Links {
		out = append(out, l.URL)
	}
	return out
}

func TestDocumentMarkdown(t *testing.T) {
	md := "# Sources\n\n" +
		"See [the report](https://a.example/report.html#sec2 \"Report\") and [again](https://a.example/report.html#sec5).\n" +
		"An autolink <https://b.example/x?y=1> and a bare URL https://c.example/page.\n" +
		"In parens (https://d.example/wiki/Foo_(bar)) and (see https://e.example/z).\n" +
		"Reference [style][ref] and [Shortcut].\n" +
		"![an image](https://img.example/i.png) is not a citation.\n" +
		"`https://code.example/not` is code.\n" +
		"```\nhttps://fence.example/not\n```\n" +
		"Mail <mailto:x@y.example>, [ftp](ftp://f.example/file), [local](#top), [rel](other.md).\n" +
		"\n[ref]: https://f.example/ref \"T\"\n[shortcut]: <https://g.example/s>\n[unused]: https://h.example/u\n"
	d, err := DocumentLinks([]byte(md), "", "notes.txt", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindMarkdown {
		t.Errorf("kind %q", d.Kind)
	}
	want := []string{
		"https://a.example/report.html", "https://b.example/x?y=1", "https://c.example/page",
		"https://d.example/wiki/Foo_(bar)", "https://e.example/z", "https://f.example/ref", "https://g.example/s",
		"https://h.example/u",
	}
	if got := urls(d); !reflect.DeepEqual(got, want) {
		t.Errorf("links\n got %q\nwant %q", got, want)
	}
	var skipped []string
	for _, s := range d.Skipped {
		skipped = append(skipped, s.URL)
	}
	if want := []string{"mailto:x@y.example", "ftp://f.example/file", "other.md"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %q, want %q", skipped, want)
	}
	// Every citation with a place spans its construct in the document.
	for _, r := range d.Refs {
		if r.Start < 0 {
			continue
		}
		span := md[r.Start:r.End]
		if !strings.Contains(span, strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(r.Cited, "https://"), "http://"), "#", 2)[0][:5]) && !strings.HasPrefix(span, "[") {
			t.Errorf("ref %q spans %q", r.Cited, span)
		}
	}
	if got := md[d.Refs[0].Start:d.Refs[0].End]; got != `[the report](https://a.example/report.html#sec2 "Report")` {
		t.Errorf("first ref spans %q", got)
	}
	if d.Refs[1].Link != 0 || d.Refs[1].Cited != "https://a.example/report.html#sec5" {
		t.Errorf("second ref %+v", d.Refs[1])
	}
}

func TestDocumentHTML(t *testing.T) {
	page := `<!DOCTYPE html><html><head><base href="https://site.example/dir/"><title>x</title></head><body>
<p><a href="https://a.example/1#x">one</a> <A HREF="rel/2">two</A> <a href="https://a.example/1#y">one again</a>
<a name="anchor">no href</a> <a href="javascript:void(0)">js</a> <a href="#top">top</a>
<map><area href="https://b.example/area" alt=""></map></body></html>`
	d, err := DocumentLinks([]byte(page), "text/plain", "x.md", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindHTML {
		t.Errorf("kind %q", d.Kind)
	}
	want := []string{"https://a.example/1", "https://site.example/dir/rel/2", "https://b.example/area"}
	if got := urls(d); !reflect.DeepEqual(got, want) {
		t.Errorf("links %q, want %q", got, want)
	}
	if len(d.Refs) != 4 {
		t.Fatalf("%d refs", len(d.Refs))
	}
	for _, r := range d.Refs {
		tag := strings.ToLower(page[r.Start:r.End])
		if !strings.HasPrefix(tag, "<a") || !strings.HasSuffix(tag, ">") {
			t.Errorf("ref %q spans %q", r.Cited, tag)
		}
	}
	if len(d.Skipped) != 1 || d.Skipped[0].URL != "javascript:void(0)" {
		t.Errorf("skipped %+v", d.Skipped)
	}
}

func TestDocumentBookmarks(t *testing.T) {
	// As Firefox and Chrome export them.
	b := `<!DOCTYPE NETSCAPE-Bookmark-file-1>
<!-- This is an automatically generated file.
     It will be read and overwritten.
     DO NOT EDIT! -->
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks</H1>
<DL><p>
    <DT><H3 ADD_DATE="1700000000" LAST_MODIFIED="1700000001">Reading</H3>
    <DL><p>
        <DT><A HREF="https://news.example/story" ADD_DATE="1700000002">Story</A>
        <DT><A HREF="place:sort=8&maxResults=10" ADD_DATE="1700000003">Recent</A>
        <DT><A HREF="http://old.example/" ADD_DATE="1700000004" ICON="data:image/png;base64,AAAA">Old</A>
    </DL><p>
</DL><p>
`
	d, err := DocumentLinks([]byte(b), "", "bookmarks.txt", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindBookmarks {
		t.Errorf("kind %q", d.Kind)
	}
	if got, want := urls(d), []string{"https://news.example/story", "http://old.example/"}; !reflect.DeepEqual(got, want) {
		t.Errorf("links %q, want %q", got, want)
	}
	if len(d.Skipped) != 1 || !strings.HasPrefix(d.Skipped[0].URL, "place:") {
		t.Errorf("skipped %+v", d.Skipped)
	}
}

func TestDocumentText(t *testing.T) {
	txt := "Sources, one a line:\nhttps://a.example/x.\n\"https://b.example/y\", and https://c.example/z?q=1;\n" +
		"(https://d.example/p) https://e.example/w_(x) http://f.example/!? notascheme://x.example/\n" +
		"ftp://files.example/pub/file.tar.gz\nhttps://a.example/x#again\n"
	d, err := DocumentLinks([]byte(txt), "", "list", DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindText {
		t.Errorf("kind %q", d.Kind)
	}
	want := []string{"https://a.example/x", "https://b.example/y", "https://c.example/z?q=1", "https://d.example/p",
		"https://e.example/w_(x)", "http://f.example/"}
	if got := urls(d); !reflect.DeepEqual(got, want) {
		t.Errorf("links\n got %q\nwant %q", got, want)
	}
	var skipped []string
	for _, s := range d.Skipped {
		skipped = append(skipped, s.URL)
	}
	if want := []string{"notascheme://x.example/", "ftp://files.example/pub/file.tar.gz"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %q, want %q", skipped, want)
	}
	if txt[d.Refs[0].Start:d.Refs[0].End] != "https://a.example/x" {
		t.Errorf("ref 0 spans %q", txt[d.Refs[0].Start:d.Refs[0].End])
	}
}

func TestDocumentKeyAndBase(t *testing.T) {
	key := func(s string) (string, error) {
		u, err := url.Parse(s)
		if err != nil {
			return "", err
		}
		u.Host = strings.ToLower(u.Host)
		u.RawQuery = ""
		return u.String(), nil
	}
	d, err := DocumentLinks([]byte("[a](https://A.example/p?utm_source=x) [b](https://a.example/p) [c](/q)"), "", "", DocumentOptions{Key: key, Base: "https://base.example/dir/doc.md"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := urls(d), []string{"https://A.example/p?utm_source=x", "https://base.example/q"}; !reflect.DeepEqual(got, want) {
		t.Errorf("links %q, want %q", got, want)
	}
}

func TestDocumentBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"empty":    "",
		"no links": "just words, www.example.org is not a URL here\n",
		"html":     "<html><body><a href=\"mailto:a@b\">x</a></body></html>",
	} {
		d, err := DocumentLinks([]byte(body), "", "", DocumentOptions{})
		if !errors.Is(err, ErrNoLinks) || d == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := DocumentLinks([]byte("%PDF-1.7\n\x00\x01\x02 https://a.example/"), "", "x.pdf", DocumentOptions{}); !errors.Is(err, ErrNotText) {
		t.Errorf("pdf: %v", err)
	}
	if _, err := DocumentLinks([]byte("\x89PNG\r\n\x1a\n\x00\x00"), "", "", DocumentOptions{}); !errors.Is(err, ErrNotText) {
		t.Errorf("png: %v", err)
	}
	if _, err := ReadDocument(strings.NewReader(strings.Repeat("x", MaxDocumentSize+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large: %v", err)
	}
}

func FuzzDocumentLinks(f *testing.F) {
	for _, s := range []string{
		"[a](https://a.example/x) <https://b.example/> https://c.example/(x)).",
		"<!DOCTYPE NETSCAPE-Bookmark-file-1><DL><DT><A HREF=\"https://x.example/\">x</A></DL>",
		"<html><base href=\"https://b.example/\"><a href=\"rel\">r</a><area href=//h.example/>",
		"[x]: https://d.example/\n[y][x] [x] [x][]\n```\nhttps://no.example/\n```",
		"text https://e.example/a,b;c: 'https://f.example/'",
		"[a](<https://g.example/x y> \"t\") ![i](https://i.example/) `https://code/`",
	} {
		f.Add([]byte(s), "", "")
	}
	f.Fuzz(func(t *testing.T, body []byte, ct, name string) {
		d, err := DocumentLinks(body, ct, name, DocumentOptions{})
		if err != nil && !errors.Is(err, ErrNoLinks) && !errors.Is(err, ErrNotText) {
			t.Fatalf("unexpected error %v", err)
		}
		if d == nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range d.Links {
			u, err := url.Parse(l.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
				t.Fatalf("link %q is not an absolute http(s) URL without fragment", l.URL)
			}
			if seen[l.Key] {
				t.Fatalf("link %q twice", l.Key)
			}
			seen[l.Key] = true
		}
		last := -1
		for _, r := range d.Refs {
			if r.Link < 0 || r.Link >= len(d.Links) {
				t.Fatalf("ref to link %d of %d", r.Link, len(d.Links))
			}
			if r.Start < 0 {
				continue
			}
			if r.Start > r.End || r.End > len(body) || r.Start < last {
				t.Fatalf("ref span [%d,%d) after %d in %d bytes", r.Start, r.End, last, len(body))
			}
			last = r.Start
			if (d.Kind == KindHTML || d.Kind == KindBookmarks) && body[r.Start] != '<' {
				t.Fatalf("html ref at %d starts with %q", r.Start, body[r.Start])
			}
		}
	})
}
