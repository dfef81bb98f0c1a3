package report

import (
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/extract"
)

// removeInserted takes out of got every occurrence of the inserted
// strings, in order, and returns what is left.
func removeInserted(got string, inserted []string) string {
	for _, s := range inserted {
		got = strings.Replace(got, s, "", 1)
	}
	return got
}

func TestRobustLinksHTML(t *testing.T) {
	doc := "<!DOCTYPE html>\r\n<p>Cited: <A HREF='https://a.example/x#s1' class=c>x</A>, <a\nhref=\"https://b.example/dead\">dead</a>,\n" +
		"<a href=https://a.example/x#s2>x again</a> <area href=\"https://c.example/\"> <a data-versionurl=\"/1/x\" href=\"https://c.example/\">done</a>\u00a0é</p>\n"
	d, err := extract.DocumentLinks([]byte(doc), "", "", extract.DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 25, 19, 20, 16, 0, time.UTC)
	got, n := RobustLinks([]byte(doc), d, func(l extract.Link) (Version, bool) {
		if strings.Contains(l.URL, "dead") {
			return Version{}, false
		}
		return Version{URL: "/20261125192016/" + l.URL + "?a=1&b=2", Date: when}, true
	})
	if n != 3 {
		t.Errorf("%d annotated, want 3", n)
	}
	want := []string{
		` data-originalurl="https://a.example/x#s1" data-versionurl="/20261125192016/https://a.example/x?a=1&amp;b=2" data-versiondate="2026-11-25T19:20:16Z"`,
		` data-originalurl="https://a.example/x#s2" data-versionurl="/20261125192016/https://a.example/x?a=1&amp;b=2" data-versiondate="2026-11-25T19:20:16Z"`,
		` data-originalurl="https://c.example/" data-versionurl="/20261125192016/https://c.example/?a=1&amp;b=2" data-versiondate="2026-11-25T19:20:16Z"`,
	}
	for _, w := range want {
		if !strings.Contains(string(got), w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
	if !strings.Contains(string(got), "<A"+want[0]+" HREF=") || !strings.Contains(string(got), "<area"+want[2]+" href") {
		t.Errorf("attributes not after the tag name:\n%s", got)
	}
	if rest := removeInserted(string(got), want); rest != doc {
		t.Errorf("the rest of the document changed:\n%q\n%q", rest, doc)
	}
}

func TestRobustLinksMarkdown(t *testing.T) {
	doc := "Sources: [one](https://a.example/1 \"t\"), <https://b.example/2>, https://c.example/(3).\n[ref][r] and [dead](https://dead.example/).\n\n[r]: https://a.example/1#again\n"
	d, err := extract.DocumentLinks([]byte(doc), "", "", extract.DocumentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, n := RobustLinks([]byte(doc), d, func(l extract.Link) (Version, bool) {
		return Version{URL: "http://127.0.0.1:8080/20260101000000/" + l.URL}, !strings.Contains(l.URL, "dead")
	})
	want := "Sources: [one](https://a.example/1 \"t\") ([archived](http://127.0.0.1:8080/20260101000000/https://a.example/1)), " +
		"<https://b.example/2> ([archived](http://127.0.0.1:8080/20260101000000/https://b.example/2)), " +
		"https://c.example/(3) ([archived](<http://127.0.0.1:8080/20260101000000/https://c.example/(3)>)).\n" +
		"[ref][r] ([archived](http://127.0.0.1:8080/20260101000000/https://a.example/1)) and [dead](https://dead.example/).\n\n[r]: https://a.example/1#again\n"
	if n != 4 || string(got) != want {
		t.Errorf("%d annotated:\n%s\nwant\n%s", n, got, want)
	}
}
