package warc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// ARC is the Internet Archive's format from before WARC (ARC v1 and v2, as
// described in "ARC File Format", version 1.0, 1996). A file starts with a
// version block:
//
//	filedesc://NAME.arc 0.0.0.0 19960923142103 text/plain 76
//	1 0 Alexa Internet
//	URL IP-address Archive-date Content-type Archive-length
//
// and each record is one header line (five fields in v1; ten in v2: URL,
// IP, date, type, result code, checksum, location, offset, file name,
// length), Archive-length bytes of content (for HTTP, the response as
// received, headers included), and a newline. In an .arc.gz file each
// record is its own gzip member. ARC carries no digests.

// ARCVersion is the Record.Version of records read from an ARC file.
const ARCVersion = "ARC/1"

// maxARCLine bounds an ARC header line (a URL and four to nine short fields).
const maxARCLine = 64 << 10

// ARCReader reads the records of an ARC file, plain or gzip-compressed, and
// presents each as a WARC record, the way pywb and warcio do: an http(s)
// record is a "response" whose block is the archived HTTP message, any
// other URL (dns:, filedesc:'s version block aside) a "resource", and the
// version block a "warcinfo". The fields are WARC-Type, WARC-Target-URI,
// WARC-Date (from the 14-digit archive date), WARC-IP-Address,
// Content-Type (application/http; msgtype=response for responses, the
// ARC's content type otherwise) and Content-Length. It never holds a block
// in memory.
type ARCReader struct {
	in   countingReader
	raw  *bufio.Reader
	gz   *gzip.Reader
	text *bufio.Reader

	inMember    bool
	memberStart int64
	memberRecs  int // records read from the current member
	fields      int // fields per header line, from the version block: 5 or 10

	cur  *Record
	body *io.LimitedReader
	err  error // sticky

	// A plain file read through OpenRecords resynchronises after damage
	// at the next line that parses as an ARC header line (arcresync.go).
	resync     bool
	resumeAt   int64        // the offset of that line; -1 if none
	resumeLine string       // the line, read already
	broken     *FormatError // the current record's framing error, found before its content was read
	seen       bool         // the caller was given broken
}

// IsARC reports whether head, the first bytes of a file (decompressed, if
// the file is gzip), begin an ARC file.
func IsARC(head []byte) bool { return bytes.HasPrefix(head, []byte("filedesc://")) }

// NewARCReader returns an ARCReader for r.
func NewARCReader(r io.Reader) (*ARCReader, error) {
	ar := &ARCReader{in: countingReader{r: r}, fields: 5, resumeAt: -1}
	ar.raw = bufio.NewReaderSize(&ar.in, rawBufferSize)
	magic, err := ar.raw.Peek(2)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		ar.gz = new(gzip.Reader)
		ar.text = bufio.NewReaderSize(nil, textBufferSize)
	} else {
		ar.text = ar.raw
	}
	return ar, nil
}

// Compressed reports whether the file is gzip-compressed.
func (r *ARCReader) Compressed() bool { return r.gz != nil }

func (r *ARCReader) offset() int64 { return r.in.n - int64(r.raw.Buffered()) }

// Next finishes the current record and returns the next one, io.EOF at the
// clean end of the file, or a *FormatError.
func (r *ARCReader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.cur != nil {
		seen := r.broken != nil && r.seen
		if err := r.finish(); err != nil && !seen {
			r.cur = nil
			return nil, r.fatal(err)
		}
		r.cur = nil
	}
	rec, err := r.next()
	if err != nil {
		return nil, r.fatal(err)
	}
	r.cur = rec
	return rec, nil
}

// Finish reads what is left of the current record and sets its Length.
func (r *ARCReader) Finish() error {
	if r.cur == nil {
		return r.err
	}
	err := r.finish()
	r.cur = nil
	return r.fatal(err)
}

// fatal makes every error sticky but the non-fatal ones of a plain file
// read through OpenRecords, which resynchronises at the next header line.
func (r *ARCReader) fatal(err error) error {
	var fe *FormatError
	if err != nil && !(errors.As(err, &fe) && !fe.Fatal) {
		r.err = err
	}
	return err
}

func (r *ARCReader) finish() error {
	rec := r.cur
	if fe := r.broken; fe != nil {
		r.broken = nil
		return fe // its content is not read: the reader has resynchronised
	}
	if _, err := io.Copy(io.Discard, r.body); err != nil {
		return r.streamError(rec.Offset, err)
	}
	if r.body.N > 0 {
		return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("arc: file ends %d bytes before the end of the record's content (Archive-length %d)", r.body.N, rec.ContentLength), Err: io.ErrUnexpectedEOF, Fatal: true}
	}
	// The record ends with a newline; some writers leave it out at the
	// end of a member or the file, which loses nothing.
	b, err := r.text.Peek(1)
	if err == nil && b[0] == '\n' {
		r.text.Discard(1)
	} else if err != nil && err != io.EOF {
		return r.streamError(rec.Offset, err)
	}
	if r.gz == nil {
		rec.Length = r.offset() - rec.Offset
		return nil
	}
	if _, err := r.text.Peek(1); err != nil {
		if err != io.EOF {
			return r.streamError(rec.Offset, err)
		}
		r.inMember = false
		if !rec.SharedMember {
			rec.Length = r.offset() - rec.Offset
		}
		return nil
	}
	rec.SharedMember = true
	return nil
}

func (r *ARCReader) streamError(off int64, err error) error {
	if errors.Is(err, gzip.ErrChecksum) {
		return &FormatError{Offset: r.memberStart, Msg: "arc: gzip member fails its CRC-32/size check", Err: err, Fatal: true}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FormatError{Offset: off, Msg: "arc: file truncated inside a record", Err: io.ErrUnexpectedEOF, Fatal: true}
	}
	if r.gz != nil {
		return &FormatError{Offset: r.memberStart, Msg: fmt.Sprintf("arc: corrupt gzip data: %v", err), Err: err, Fatal: true}
	}
	return err
}

func (r *ARCReader) next() (*Record, error) {
	if r.gz == nil {
		if off := r.resumeAt; off >= 0 {
			r.resumeAt = -1
			return r.parseRecord(off, false, r.resumeLine) // found by resynchronising
		}
		off := r.offset()
		for {
			// Blank lines between records are tolerated, as pywb does.
			b, err := r.raw.Peek(1)
			if err != nil {
				return nil, err // io.EOF at a clean end
			}
			if b[0] != '\n' && b[0] != '\r' {
				break
			}
			r.raw.Discard(1)
			off++
		}
		return r.readRecord(off, false)
	}
	for {
		if r.inMember {
			b, err := r.text.Peek(1)
			if err == nil && (b[0] == '\n' || b[0] == '\r') {
				r.text.Discard(1)
				continue
			}
			if err != nil {
				if err != io.EOF {
					return nil, r.streamError(r.memberStart, err)
				}
				r.inMember = false
				continue
			}
			r.memberRecs++
			return r.readRecord(r.memberStart, r.memberRecs > 1)
		}
		off := r.offset()
		magic, err := r.raw.Peek(2)
		if len(magic) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
			return nil, &FormatError{Offset: off, Msg: "arc: bytes that are not a gzip member after the last complete record", Fatal: true}
		}
		r.memberStart, r.memberRecs = off, 0
		if err := r.gz.Reset(r.raw); err != nil {
			return nil, &FormatError{Offset: off, Msg: "arc: invalid or truncated gzip header", Err: err, Fatal: true}
		}
		r.gz.Multistream(false)
		r.text.Reset(r.gz)
		r.inMember = true
	}
}

// readLine reads one header line, without its line end, bounded.
func (r *ARCReader) readLine(off int64) (string, error) {
	var line []byte
	for {
		frag, err := r.text.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxARCLine {
			return "", &FormatError{Offset: off, Msg: fmt.Sprintf("arc: header line longer than %d bytes", maxARCLine), Fatal: true}
		}
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return "", &FormatError{Offset: off, Msg: "arc: file ends inside a header line", Err: io.ErrUnexpectedEOF, Fatal: true}
		}
		return "", r.streamError(off, err)
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

func (r *ARCReader) readRecord(off int64, shared bool) (*Record, error) {
	line, err := r.readLine(off)
	if err != nil {
		return nil, err
	}
	return r.parseRecord(off, shared, line)
}

// parseRecord makes the record whose header line, at off, is line.
func (r *ARCReader) parseRecord(off int64, shared bool, line string) (*Record, error) {
	first := off == 0 && !shared
	fields := r.fields
	if strings.HasPrefix(line, "filedesc:") {
		fields = 0 // a version block's line has five fields or ten; its URL no spaces
	} else if first {
		return nil, &FormatError{Offset: off, Msg: "arc: not an ARC file: it does not start with a filedesc:// version block", Fatal: true}
	}
	f, err := parseARCHeader(line, fields)
	if err != nil {
		fe := &FormatError{Offset: off, Msg: "arc: " + err.Error(), Fatal: true}
		if r.gz == nil && r.resync && !first {
			return nil, r.resyncAfter(fe)
		}
		return nil, fe
	}
	rec := &Record{Offset: off, SharedMember: shared, Version: ARCVersion, ContentLength: f.length}
	typ, ctype := "resource", f.mime
	switch {
	case strings.HasPrefix(f.url, "filedesc:"):
		typ = "warcinfo"
		if first {
			// The version block's second line gives the version; v2
			// files have ten fields per header line.
			head, _ := r.text.Peek(int(min(f.length, 64)))
			if bytes.HasPrefix(head, []byte("2 ")) {
				r.fields = 10
			}
		}
	case strings.HasPrefix(f.url, "http:") || strings.HasPrefix(f.url, "https:"):
		if head, _ := r.text.Peek(int(min(f.length, 5))); bytes.HasPrefix(head, []byte("HTTP/")) {
			typ, ctype = "response", "application/http; msgtype=response"
		}
	}
	rec.Header = Header{
		{Name: "WARC-Type", Value: typ},
		{Name: "WARC-Target-URI", Value: f.url},
		{Name: "WARC-Date", Value: f.date.Format(time.RFC3339)},
	}
	if f.ip != "" && f.ip != "0.0.0.0" {
		rec.Header = append(rec.Header, Field{Name: "WARC-IP-Address", Value: f.ip})
	}
	if ctype != "" && ctype != "-" {
		rec.Header = append(rec.Header, Field{Name: "Content-Type", Value: ctype})
	}
	rec.Header = append(rec.Header, Field{Name: "Content-Length", Value: strconv.FormatInt(f.length, 10)})
	r.body = &io.LimitedReader{R: r.text, N: f.length}
	rec.Body = &arcBody{r: r, off: off}
	r.broken, r.seen = nil, false
	if r.gz == nil && r.resync {
		if fe := r.checkContentEnd(rec); fe != nil {
			r.broken = r.resyncAfter(fe)
			r.body.N = 0
		}
	}
	return rec, nil
}

// arcBody reads a record's content and turns stream errors into
// *FormatErrors.
type arcBody struct {
	r   *ARCReader
	off int64
}

func (b *arcBody) Read(p []byte) (int, error) {
	if fe := b.r.broken; fe != nil {
		b.r.seen = true
		return 0, fe
	}
	n, err := b.r.body.Read(p)
	if err == io.EOF && b.r.body.N > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		err = b.r.streamError(b.off, err)
	}
	return n, err
}

type arcHeader struct {
	url, ip, mime string
	date          time.Time
	length        int64
}

// parseARCHeader splits an ARC header line. A URL with spaces in it (old
// crawlers wrote them unescaped) is taken whole: the fields after it are
// counted from the end, as pywb does. fields is 5 (v1) or 10 (v2), or 0
// to go by the line itself.
func parseARCHeader(line string, fields int) (arcHeader, error) {
	parts := strings.Fields(line)
	if len(parts) < 5 {
		return arcHeader{}, fmt.Errorf("header line %q has %d fields, not 5 or 10", clip(line), len(parts))
	}
	n := fields
	switch {
	case fields == 0 && len(parts) >= 10 && isARCDate(parts[len(parts)-8]):
		// Without the version block (a version line; a record read at its
		// offset), a line is v2 if it has a date where v2 has one.
		n = 10
	case fields == 0 || len(parts) < n:
		n = 5 // a v2 file whose line has v1's fields
	}
	url := strings.Join(parts[:len(parts)-n+1], "%20")
	rest := parts[len(parts)-n+1:]
	var h arcHeader
	h.url, h.ip, h.mime = url, rest[0], rest[2]
	if !strings.Contains(h.url, ":") {
		return arcHeader{}, fmt.Errorf("header line %q: %q is not a URL", clip(line), clip(h.url))
	}
	d := rest[1]
	if len(d) > 14 {
		d = d[:14]
	}
	for len(d) < 14 && len(d) >= 4 {
		d += "0" // dates of 12 digits exist in old files
	}
	t, err := time.Parse("20060102150405", d)
	if err != nil {
		return arcHeader{}, fmt.Errorf("header line %q: archive date %q is not YYYYMMDDhhmmss", clip(line), clip(rest[1]))
	}
	h.date = t.UTC()
	length, err := strconv.ParseInt(rest[len(rest)-1], 10, 64)
	if err != nil || length < 0 {
		return arcHeader{}, fmt.Errorf("header line %q: archive length %q is not a number", clip(line), clip(rest[len(rest)-1]))
	}
	h.length = length
	return h, nil
}

// isARCDate reports whether s looks like an archive date: 12 to 14 digits
// (or more: some writers add fractions).
func isARCDate(s string) bool {
	if len(s) < 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
