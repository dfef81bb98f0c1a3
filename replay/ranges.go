package replay

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Range requests (RFC 9110 §14) for payloads served as archived, which is
// what media elements need to seek: one range, bytes=a-b, a- or -n, over
// the payload as archived (transfer encoding removed). What is not
// answered with a range, and why:
//
//   - a payload archived with a Content-Encoding (gzip, br...): a range
//     of the encoded bytes is a part of a compressed stream that a browser
//     cannot decode by itself, and browsers ask for media with
//     Accept-Encoding: identity; the whole payload is sent (200), as the
//     RFC lets a server do, and no Accept-Ranges is advertised;
//   - a document rewritten for replay (HTML, CSS): its bytes are not the
//     archived ones;
//   - a capture that is not a 200, and a 206 the crawler archived itself,
//     which is replayed as archived, with its own Content-Range;
//   - several ranges (bytes=0-1,5-6): the whole payload, not multipart;
//   - a Range header that does not parse: ignored, the whole payload;
//   - If-Range that names another validator than the capture's ETag
//     (strong) or Last-Modified: the whole payload.
//
// A range that starts at or past the end is answered 416 with
// Content-Range: bytes */LENGTH.

// byteRange is a range of a payload, start inclusive, end exclusive.
type byteRange struct{ start, end int64 }

var errUnsatisfiable = errors.New("range not satisfiable")

// parseRange parses a Range header of one byte range against a payload
// of size bytes. ok is false when the header is to be ignored (syntax,
// another unit, several ranges); err is errUnsatisfiable when it asks for
// nothing the payload has.
func parseRange(h string, size int64) (r byteRange, ok bool, err error) {
	unit, spec, found := strings.Cut(strings.TrimSpace(h), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return byteRange{}, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if first == "" { // -n: the last n bytes
		n, valid := num(last)
		if !valid {
			return byteRange{}, false, nil
		}
		if n == 0 || size == 0 {
			return byteRange{}, true, errUnsatisfiable
		}
		return byteRange{start: max(size-n, 0), end: size}, true, nil
	}
	a, valid := num(first)
	if !valid {
		return byteRange{}, false, nil
	}
	end := size
	if last != "" {
		b, valid := num(last)
		if !valid || b < a {
			return byteRange{}, false, nil
		}
		end = min(b+1, size)
	}
	if a >= size {
		return byteRange{}, true, errUnsatisfiable
	}
	return byteRange{start: a, end: end}, true, nil
}

// rangeable reports whether a payload served as archived can be
// answered in ranges (see above).
func rangeable(status int, header http.Header) bool {
	if status != http.StatusOK {
		return false
	}
	for _, v := range header.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return false
			}
		}
	}
	return true
}

// ifRangeHolds reports whether an If-Range precondition lets the range
// be served: it names the archived response's strong ETag, or exactly its
// Last-Modified date.
func ifRangeHolds(ifRange string, archived http.Header) bool {
	ifRange = strings.TrimSpace(ifRange)
	if ifRange == "" {
		return true
	}
	if strings.HasPrefix(ifRange, `"`) {
		etag := strings.TrimSpace(archived.Get("Etag"))
		return etag != "" && !strings.HasPrefix(etag, "W/") && etag == ifRange
	}
	lm := archived.Get("Last-Modified")
	return lm != "" && lm == ifRange
}

// serveRange answers a range request for a payload served as archived;
// it reports false when the request is to get the whole payload. size is
// the payload's length, which the caller finds (-1 unknown: no range).
func (h *Handler) serveRange(w http.ResponseWriter, r *http.Request, resp *response, size int64, noBody bool) bool {
	rh := r.Header.Get("Range")
	if rh == "" || size < 0 || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	if !ifRangeHolds(r.Header.Get("If-Range"), resp.header) {
		return false
	}
	br, ok, err := parseRange(rh, size)
	if !ok {
		return false
	}
	hdr := w.Header()
	if errors.Is(err, errUnsatisfiable) {
		hdr.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		hdr.Del("Content-Length")
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		if !noBody {
			fmt.Fprintf(w, "amber replay: range %q is past the end of the %d-byte payload\n", rh, size)
		}
		return true
	}
	n := br.end - br.start
	hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", br.start, br.end-1, size))
	hdr.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusPartialContent)
	if noBody {
		return true
	}
	if _, err := io.CopyN(io.Discard, resp.body, br.start); err != nil {
		h.logf("replay: %s: range %s: %v", resp.capture.URL, rh, err)
		return true
	}
	if _, err := io.CopyN(w, resp.body, n); err != nil {
		h.logf("replay: %s: range %s: %v", resp.capture.URL, rh, err)
	}
	return true
}

// payloadSize is the length of a payload whose response does not say it
// (chunked, or truncated): the capture is read once more and counted.
func (h *Handler) payloadSize(c *Capture) int64 {
	again, err := h.a.load(c)
	if err != nil {
		return -1
	}
	defer again.Close()
	n, err := io.Copy(io.Discard, again.body)
	if err != nil {
		return -1
	}
	return n
}
