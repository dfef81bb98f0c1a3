package collection_test

import (
	"testing"

	"github.com/amber-archiver/amber/warc/collection"
)

func TestIsPage(t *testing.T) {
	for _, c := range []struct {
		name string
		c    collection.Capture
		want bool
	}{
		{"html 200", collection.Capture{Status: 200, ContentType: "text/html"}, true},
		{"html with charset", collection.Capture{Status: 200, ContentType: "text/html; charset=utf-8"}, true},
		{"upper case, spaces", collection.Capture{Status: 200, ContentType: " Text/HTML ;charset=UTF-8"}, true},
		{"xhtml", collection.Capture{Status: 200, ContentType: "application/xhtml+xml"}, true},
		{"other 2xx", collection.Capture{Status: 203, ContentType: "text/html"}, true},
		{"unparsable parameters", collection.Capture{Status: 200, ContentType: "text/html; charset"}, true},
		{"redirect", collection.Capture{Status: 301, ContentType: "text/html"}, false},
		{"not modified", collection.Capture{Status: 304, ContentType: "text/html"}, false},
		{"not found", collection.Capture{Status: 404, ContentType: "text/html"}, false},
		{"server error", collection.Capture{Status: 503, ContentType: "text/html"}, false},
		{"no status (resource record)", collection.Capture{ContentType: "text/html"}, false},
		{"informational", collection.Capture{Status: 100, ContentType: "text/html"}, false},
		{"pdf", collection.Capture{Status: 200, ContentType: "application/pdf"}, false},
		{"image", collection.Capture{Status: 200, ContentType: "image/png"}, false},
		{"css", collection.Capture{Status: 200, ContentType: "text/css"}, false},
		{"plain text", collection.Capture{Status: 200, ContentType: "text/plain"}, false},
		{"html-ish type", collection.Capture{Status: 200, ContentType: "text/x-server-parsed-html"}, false},
		{"revisit as indexed", collection.Capture{Status: 200, ContentType: "warc/revisit"}, false},
		{"no type, sniffed html", collection.Capture{Status: 200, SniffedHTML: true}, true},
		{"no type, not sniffed", collection.Capture{Status: 200}, false},
		{"sniffing ignored when typed", collection.Capture{Status: 200, ContentType: "image/png", SniffedHTML: true}, false},
		{"requisite html (a frame)", collection.Capture{Status: 200, ContentType: "text/html", Requisite: true}, false},
		{"requisite sniffed", collection.Capture{Status: 200, SniffedHTML: true, Requisite: true}, false},
	} {
		if got := collection.IsPage(c.c); got != c.want {
			t.Errorf("%s: IsPage(%+v) = %t, want %t", c.name, c.c, got, c.want)
		}
	}
}
