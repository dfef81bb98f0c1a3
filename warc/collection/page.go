package collection

import (
	"mime"
	"strings"
)

// Capture is what IsPage looks at: a response (or revisit) as the crawl
// saw it, or as a WARC file gives it back.
type Capture struct {
	// Status is the HTTP status code; 0 for a record with none (resource,
	// metadata).
	Status int
	// ContentType is the response's Content-Type header, parameters
	// allowed. For a revisit it is the revisit's own header, not the CDXJ
	// index's "warc/revisit".
	ContentType string
	// SniffedHTML says that a response with no Content-Type had a body
	// that looks like HTML (the crawl sniffs it; a WARC reader does not).
	SniffedHTML bool
	// Requisite says the capture was fetched for a page and not as one: an
	// image, a style sheet, a frame's document, robots.txt, a sitemap.
	// Unknown (false) for captures read back from WARC files.
	Requisite bool
}

// IsPage reports whether a capture is a page: an entry point a viewer
// lists in pages/pages.jsonl and opens first. A capture is a page when
//
//   - it was not fetched as a requisite of a page: a frame's document or
//     an HTML error page a style sheet pointed to is part of the page that
//     needs it, not a place to start browsing;
//   - its status is 2xx: a redirect is not where the reader ends up (its
//     target is the page), and a 4xx or 5xx answer is an error, not the
//     document asked for;
//   - it is HTML: its media type is text/html or application/xhtml+xml
//     (the types py-wacz and ReplayWeb.page take for pages), or it has no
//     Content-Type and its body was sniffed as HTML. A PDF or an image seed
//     is archived but not listed.
//
// WACZ 1.1.1 asks of pages.jsonl only that each line has a url and an
// RFC 3339 ts, and defines a page as "a web document as viewed in a web
// browser that is viewing a specific URL"; which captures qualify is left
// to the writer, and this is the choice amber makes everywhere: the crawl
// (the pages outbox), crash recovery (pages rebuilt from WARC records,
// where being a requisite is not known) and the replay server's list when a
// collection has no pages.jsonl.
func IsPage(c Capture) bool {
	if c.Requisite || c.Status < 200 || c.Status > 299 {
		return false
	}
	mt := mediaType(c.ContentType)
	switch {
	case mt == "text/html", mt == "application/xhtml+xml":
		return true
	case mt == "":
		return c.SniffedHTML
	}
	return false
}

// mediaType is the media type of a Content-Type value, lower case and
// without parameters; "" when there is none. A value mime cannot parse
// (servers send odd ones) is cut at its first ';'.
func mediaType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
