// Package replay serves an archive to a web browser the way pywb does, from
// the WARC records alone and without any request leaving for the live web.
//
// An archived page is addressed by an archival URL, /TIMESTAMP/URL (for
// example /20261125184329/https://example.org/news/story): the server
// answers with a top frame of its own, a banner naming the capture time
// and the original URL above a sandboxed frame holding the capture of URL
// closest to TIMESTAMP at /TIMESTAMPmp_/URL (framed replay: frame.go says
// why and what it stops). The page's HTML is rewritten so that every link,
// image, srcset candidate, style sheet, font, script, frame, SVG reference,
// the markup inside <noscript> and CSS url() or @import point at archival
// URLs on the same server; links navigate the frame and the top frame
// follows. /TIMESTAMPid_/URL gives a payload exactly as archived. URLs
// that scripts build (fetch, XMLHttpRequest, new Image().src, FontFace,
// an iframe or script made by script, markup and CSS written by script)
// are pointed into the archive by the first script of every page
// (inject.go), resolved against the page's original URL at its
// timestamp; a root-relative request that still escapes it
// (/static/app.js) is sent back in through its Referer. Payloads served
// as archived answer Range requests (ranges.go).
//
// Payloads are served with their transfer encoding removed; a
// Content-Encoding (gzip, deflate, br, zstd) is passed through to the
// browser with the right headers, or decoded when the body is rewritten
// (within a memory budget shared by all requests: past it, a document is
// served as archived). Redirects are replayed with their Location
// rewritten. Every replayed response carries a Memento-Datetime header
// (RFC 7089) and a Content-Security-Policy that lets the page load nothing
// but the replay server, data: and blob: URLs, so a URL no rewriting
// caught (one built in a worker, a dynamic import()) is blocked rather
// than fetched live; and
// X-DNS-Prefetch-Control: off, a Permissions-Policy, and a first script
// that removes WebRTC. A URL that is not in the archive answers 404
// without a Memento-Datetime. Requests naming a host other than
// 127.0.0.1, localhost, [::1] or Handler.Hosts get 403 (DNS rebinding).
//
// The index of captures (from indexes/*.cdxj, or built from the WARC files
// when there is none) is held in memory, up to 250,000 captures (Options.MaxCaptures); WARC
// records are read at their offsets on demand, from the collection
// directory or straight out of a WACZ file.
package replay
