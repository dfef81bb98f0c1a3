package warc

import "bytes"

// chunkedSniff is how many bytes of a body LooksChunked needs to decide:
// a chunk-size line is at most 16 hex digits, then an extension or CRLF.
const chunkedSniff = 64

// LooksChunked reports whether b, the first bytes of an HTTP body (up to
// 64 of them, fewer when the body is shorter), start like chunked transfer
// coding: a chunk-size line (hex digits, maybe spaces and an extension),
// or nothing at all. Older crawlers stored bodies de-chunked under a head
// that still says Transfer-Encoding: chunked; such a body starts with its
// content, which is rarely a hex number followed by a line end.
func LooksChunked(b []byte) bool {
	if len(b) > chunkedSniff {
		b = b[:chunkedSniff]
	}
	if len(b) == 0 {
		return true
	}
	i := 0
	for i < len(b) && isHex(b[i]) {
		i++
	}
	if i == 0 || i > 16 {
		return false
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i == len(b) || bytes.IndexByte([]byte(";\r\n"), b[i]) >= 0
}
