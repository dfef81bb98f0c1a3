package warc

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

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

// ErrNotArchive is matched (errors.Is) by a *NotArchiveError.
var ErrNotArchive = errors.New("warc: not a WARC, ARC or WACZ file")

// NotArchiveError is a file that is neither a WARC file, an ARC file nor
// a WACZ package, told by its first bytes: a text file, an HTML page,
// random bytes, an empty file, a zip that is no WACZ. It is one line for
// the user, not a list of framing errors: nothing in it is a record.
type NotArchiveError struct {
	Path string // set by the caller that knows it
	// What the file is instead, as far as its first bytes tell:
	Empty bool   // no bytes at all
	Zip   bool   // a zip file, but without datapackage.json or WARC files
	Gzip  bool   // gzip-compressed; Start is decompressed
	Start []byte // the first bytes (at most 64 KiB)
}

func (e *NotArchiveError) Error() string {
	if e.Path == "" {
		return e.Reason()
	}
	return e.Path + ": " + e.Reason()
}

func (e *NotArchiveError) Is(target error) bool { return target == ErrNotArchive }

// Reason is the message without the path.
func (e *NotArchiveError) Reason() string {
	return "not a WARC, ARC or WACZ file (" + e.describe() + ")"
}

func (e *NotArchiveError) describe() string {
	switch {
	case e.Empty:
		return "an empty file"
	case e.Zip:
		return "a zip file, but without datapackage.json or WARC files in archive/"
	}
	what := ""
	if e.Gzip {
		what = "gzip-compressed, "
	}
	if len(e.Start) == 0 {
		return what + "no bytes decompressed"
	}
	if len(bytes.Trim(e.Start, "\x00")) == 0 {
		return what + "starts with zero bytes"
	}
	line, rest, _ := bytes.Cut(e.Start, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	more := len(bytes.TrimSpace(rest)) > 0
	const show = 40
	if len(line) > show {
		line, more = line[:show], true
	}
	if !utf8.Valid(line) || bytes.ContainsFunc(line, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return fmt.Sprintf("%sbinary data, starts with % x", what, line[:min(len(line), 8)])
	}
	q := strconv.Quote(string(line))
	if more {
		q = q[:len(q)-1] + "…\""
	}
	return what + "starts with " + q
}

// identifySize is how much of a file OpenRecords looks at to tell a WARC
// or ARC file from something else.
const identifySize = 64 << 10

// identify returns a *NotArchiveError if head, the first bytes of a file
// (text: decompressed, if head is gzip), start neither a WARC file nor an
// ARC file, and hold no WARC version line further on (a WARC file damaged
// at its start is still a WARC file, with its damage reported in detail).
// A gzip stream that does not decompress cannot be told: it is left to the
// reader, which says where it is damaged.
func identify(head, text []byte) error {
	gz := len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
	switch {
	case len(head) == 0:
		return &NotArchiveError{Empty: true}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return &NotArchiveError{Zip: true}
	case gz && len(text) == 0:
		return nil
	case startsAs(text, "WARC/"), startsAs(text, "filedesc://"), hasVersionLine(text, gz):
		return nil
	}
	return &NotArchiveError{Gzip: gz, Start: text}
}

// startsAs reports whether text starts with prefix, or is a prefix of it
// (a file cut short).
func startsAs(text []byte, prefix string) bool {
	n := min(len(text), len(prefix))
	return n > 0 && string(text[:n]) == prefix[:n]
}

// hasVersionLine reports whether b holds a WARC/1.0 or WARC/1.1 version
// line that starts a line or, in gzip (members decompressed one after the
// other), a gzip member.
func hasVersionLine(b []byte, gz bool) bool {
	for _, v := range []string{"WARC/1.0\r\n", "WARC/1.1\r\n", "WARC/1.0\n", "WARC/1.1\n"} {
		if !gz {
			v = "\n" + v
		}
		if bytes.Contains(b, []byte(v)) {
			return true
		}
	}
	return false
}
