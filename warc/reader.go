package warc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// Field is declared in writer.go: one header field, kept in file order.

// Header holds a record's fields in file order. Repeated fields (e.g.
// WARC-Concurrent-To) are kept as separate entries. Lookups are
// case-insensitive.
type Header []Field

// Get returns the value of the first field called name, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns the values of every field called name, in file order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Has reports whether a field called name is present, even with an empty value.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Record is one WARC record returned by Reader.Next.
type Record struct {
	// Offset is where the record starts in the file: the start of its gzip
	// member for compressed files, of its version line for plain ones. Records
	// sharing a gzip member share the member's offset.
	Offset int64
	// Length is the number of file bytes the record occupies: its gzip member
	// (header and trailer included) or, for plain files, version line to the
	// CRLF CRLF after the block. It is set when the record is finished (by
	// Reader.Finish or the next Reader.Next) and stays 0 for records that share
	// a gzip member, which have no length of their own.
	Length int64
	// Version is the version line, e.g. "WARC/1.1".
	Version string
	Header  Header
	// ContentLength is the parsed Content-Length: the size of the block.
	ContentLength int64
	// Body yields exactly the block. It returns io.ErrUnexpectedEOF if the
	// file ends before ContentLength bytes, and a *FormatError if the gzip
	// stream is damaged. It is valid until the next call to Reader.Next.
	Body io.Reader
	// SharedMember reports that this record shares its gzip member with
	// another record. For the first record of such a member it is set when
	// the record is finished.
	SharedMember bool
	// Problems are the syntax errors in the header that the reader got
	// past: a line that is not a field, a bare LF line end. A record whose
	// header cannot be parsed at all (no Content-Length) is a *FormatError
	// instead.
	Problems []*SyntaxError

	rawHeader []byte // the header bytes as read, when the reader keeps them (repair)
}

// SyntaxError is a problem with one line of a record header that does not
// stop the record from being read.
type SyntaxError struct {
	Line int // 1 for the version line
	Msg  string
	// Deviation marks a departure from the spec that loses no information
	// (a bare LF line end); others are damage or a broken writer.
	Deviation bool
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("warc: header line %d: %s", e.Line, e.Msg) }

// FormatError reports a WARC or gzip framing problem.
type FormatError struct {
	// Offset is the offset of the record (or gzip member) concerned.
	Offset int64
	Msg    string
	// Err is the underlying cause, if any: gzip.ErrChecksum,
	// io.ErrUnexpectedEOF, a flate.CorruptInputError.
	Err error
	// Fatal reports that the reader cannot go on past this error: every
	// later call to Next returns it again. A non-fatal error is confined to
	// one gzip member, and Next resumes with the member after it; in a
	// plain file read through OpenRecords, Next resumes at the next record
	// header found after the damage (Next says where).
	Fatal bool
	// Next is the offset of the record a plain file's reader resumed at
	// after this error, or 0 when it found none (or did not look).
	Next int64
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("warc: offset %d: %s", e.Offset, e.Msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Sizes of the read buffers. maxLine bounds a single header line, maxHeader
// the whole WARC header, so garbage never makes the reader allocate without
// bound.
const (
	rawBufferSize  = 256 << 10
	textBufferSize = 64 << 10
	maxHeaderBytes = 1 << 20
)

// countingReader counts the bytes taken from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Reader reads the records of a WARC file, plain or gzip-compressed, as a
// stream: it never holds a block in memory and never seeks.
//
// For gzip files it decompresses one member at a time. The decompressor reads
// the *bufio.Reader byte by byte (flate never reads ahead of the member's
// end), so the offset of every member is exact: bytes taken from the file
// minus bytes still buffered.
//
// Use it like archive/tar:
//
//	for {
//		rec, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		...read rec.Body...
//		err = r.Finish() // optional: reports framing errors of rec, sets rec.Length
//	}
type Reader struct {
	in   countingReader
	raw  *bufio.Reader // file bytes
	gz   *gzip.Reader  // nil for plain files
	text *bufio.Reader // record bytes: raw itself, or a buffer over gz

	inMember      bool
	memberStart   int64
	memberRecords int

	cur      *Record
	body     *bodyReader
	finished bool  // cur has been finished
	finErr   error // the result of finishing cur
	reported bool  // finErr was returned by Finish
	pending  error // a framing error seen by the body reader, reported by Finish
	err      error // sticky fatal error
	lfOnly   bool  // the last line read ended in a bare LF

	keepRaw bool   // keep each record's header bytes in Record.rawHeader
	rawHead []byte // the header bytes of the record being parsed
	lines   []int  // start and end of each of its lines in rawHead
	firstLF int    // the number of its first line with a bare LF end, 0 if none

	// Plain files read through OpenRecords resynchronise after framing
	// damage (resync.go): the next record header found is left in rawHead
	// and lines, to be parsed by the next call to Next.
	resync   bool
	resumeAt int64       // the offset of that header; -1 if none
	ra       io.ReaderAt // the file again, at offsets minus raBase: to check where a block ends before reading it
	raBase   int64
}

// NewReader returns a Reader for r. It looks at the first two bytes to tell a
// gzip file (magic 1f 8b) from a plain one; an empty r is a valid file with no
// records.
func NewReader(r io.Reader) (*Reader, error) { return newReaderAt(r, 0) }

// newReaderAt returns a Reader for a file read from offset base: offsets
// are reported from the start of the file.
func newReaderAt(r io.Reader, base int64) (*Reader, error) {
	wr := &Reader{in: countingReader{r: r, n: base}, resumeAt: -1}
	wr.raw = bufio.NewReaderSize(&wr.in, rawBufferSize)
	magic, err := wr.raw.Peek(2)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		wr.gz = new(gzip.Reader)
		wr.text = bufio.NewReaderSize(nil, textBufferSize)
	} else {
		wr.text = wr.raw
	}
	return wr, nil
}

// Compressed reports whether the file is gzip-compressed.
func (r *Reader) Compressed() bool { return r.gz != nil }

// InputOffset returns how many bytes of the file the reader has consumed:
// after a fatal error, how far it got.
func (r *Reader) InputOffset() int64 { return r.in.n - int64(r.raw.Buffered()) }

// Next finishes the current record, if any, and returns the next one. It
// returns io.EOF at the clean end of the file, and a *FormatError for a
// framing problem. A framing error of the previous record that Finish has not
// already returned is returned by Next instead of a record.
func (r *Reader) Next() (*Record, error) {
	if r.cur != nil {
		err := r.finish()
		reported := r.reported
		r.cur, r.body, r.pending = nil, nil, nil
		r.finished, r.finErr, r.reported = false, nil, false
		if err != nil && !reported {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Fatal || err == io.EOF {
			r.err = err
		}
		return nil, err
	}
	r.cur = rec
	return rec, nil
}

// Finish reads what is left of the current record's block, checks the CRLF
// CRLF after it and, for gzip files, whether its member ends there. It sets
// the record's Length and SharedMember and returns any framing error of the
// record (a *FormatError). Calling it is optional: Next finishes the previous
// record itself. It is idempotent.
func (r *Reader) Finish() error {
	if r.cur == nil {
		return nil
	}
	err := r.finish()
	r.reported = true
	return err
}

func (r *Reader) finish() error {
	if r.finished {
		return r.finErr
	}
	r.finished = true
	r.finErr = r.finishRecord()
	if r.finErr == nil {
		return nil
	}
	var fe *FormatError
	switch {
	case !errors.As(r.finErr, &fe) || fe.Fatal:
		r.err = r.finErr // an I/O error, or a stream the reader cannot follow
	case r.gz != nil && r.inMember:
		r.skipMember() // resume with the next member
	case r.gz == nil && r.resync && !r.body.broken:
		r.resyncAfter(fe, -1) // resume at the next record header
	}
	return r.finErr
}

func (r *Reader) finishRecord() error {
	rec := r.cur
	if r.body.broken {
		return r.pending // the block is not read: the reader resynchronises
	}
	if _, err := io.Copy(io.Discard, r.body); err != nil {
		if r.pending != nil {
			return r.pending
		}
		return err
	}
	if r.pending != nil {
		return r.pending
	}
	// Not io.ReadFull: it would turn a short read into io.ErrUnexpectedEOF,
	// which gzip also returns for a truncated member.
	var trailer [4]byte
	n := 0
	var err error
	for n < len(trailer) && err == nil {
		var m int
		m, err = r.text.Read(trailer[n:])
		n += m
	}
	if n < len(trailer) {
		if err != io.EOF {
			return r.streamError(err)
		}
		if r.gz != nil {
			r.inMember = false
			return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("gzip member ends %d bytes after the block, without the CRLF CRLF that must follow it", n)}
		}
		return &FormatError{Offset: rec.Offset, Msg: "file ends without the CRLF CRLF that must follow the block", Err: io.ErrUnexpectedEOF, Fatal: true}
	}
	if string(trailer[:]) != "\r\n\r\n" {
		msg := fmt.Sprintf("block of Content-Length %d is followed by %q, not CRLF CRLF (wrong Content-Length?)", rec.ContentLength, trailer[:])
		return &FormatError{Offset: rec.Offset, Msg: msg, Fatal: r.gz == nil && !r.resync}
	}
	if r.gz == nil {
		rec.Length = r.InputOffset() - rec.Offset
		return nil
	}
	if _, err := r.text.Peek(1); err != nil {
		if err != io.EOF {
			return r.streamError(err)
		}
		r.inMember = false
		if !rec.SharedMember {
			rec.Length = r.InputOffset() - rec.Offset
		}
		return nil
	}
	rec.SharedMember = true
	return nil
}

// streamError turns an error of the gzip stream into a *FormatError and
// leaves the reader where it can go on, if it can.
func (r *Reader) streamError(err error) error {
	if r.gz == nil {
		return err // an I/O error of the file
	}
	pos := r.InputOffset()
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		// The whole member has been read, trailer included: the next one
		// starts here.
		r.inMember = false
		return &FormatError{Offset: r.memberStart, Msg: "gzip member fails its CRC-32/size check: the decompressed bytes are damaged", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &FormatError{Offset: r.memberStart, Msg: fmt.Sprintf("gzip member truncated: the file ends at byte %d inside it", pos), Err: err, Fatal: true}
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return &FormatError{Offset: r.memberStart, Msg: fmt.Sprintf("corrupt gzip data near byte %d", pos), Err: err, Fatal: true}
	}
	if errors.Is(err, gzip.ErrHeader) {
		return &FormatError{Offset: r.memberStart, Msg: fmt.Sprintf("invalid gzip header near byte %d", pos), Err: err, Fatal: true}
	}
	return err
}

func (r *Reader) next() (*Record, error) {
	if r.gz == nil {
		if off := r.resumeAt; off >= 0 {
			r.resumeAt = -1
			return r.parseHeader(off, false) // found by resynchronising
		}
		off := r.InputOffset()
		if _, err := r.raw.Peek(1); err != nil {
			return nil, err // io.EOF at a clean end
		}
		return r.readRecord(off, false)
	}
	for {
		if r.inMember {
			if _, err := r.text.Peek(1); err != nil {
				if err != io.EOF {
					return nil, r.streamError(err)
				}
				// Empty gzip members (written by some tools as padding)
				// hold no record and are skipped, as warcio does.
				r.inMember = false
				continue
			}
			r.memberRecords++
			return r.readRecord(r.memberStart, r.memberRecords > 1)
		}
		off := r.InputOffset()
		magic, err := r.raw.Peek(2)
		if len(magic) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
			return nil, r.trailing(off)
		}
		r.memberStart, r.memberRecords = off, 0
		if err := r.gz.Reset(r.raw); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, &FormatError{Offset: off, Msg: "gzip member truncated inside its header", Err: io.ErrUnexpectedEOF, Fatal: true}
			}
			return nil, r.streamError(err)
		}
		r.gz.Multistream(false)
		r.text.Reset(r.gz)
		r.inMember = true
	}
}

// maxTrailing bounds what trailing reads: past it, the bytes are too many
// to be padding, and reading on would only take time (or never end).
const maxTrailing = 16 << 20

// trailing describes the bytes after the last gzip member and consumes
// them, up to maxTrailing.
func (r *Reader) trailing(off int64) error {
	var n int64
	zeros := true
	buf := make([]byte, 32<<10)
	for {
		if n >= maxTrailing {
			return &FormatError{Offset: off, Msg: fmt.Sprintf("more than %d bytes that are not a gzip member after the last complete record (not read further)", maxTrailing), Fatal: true}
		}
		m, err := r.raw.Read(buf)
		for _, b := range buf[:m] {
			if b != 0 {
				zeros = false
				break
			}
		}
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if zeros {
		return &FormatError{Offset: off, Msg: fmt.Sprintf("%d bytes of zero padding after the last record", n), Fatal: true}
	}
	return &FormatError{Offset: off, Msg: fmt.Sprintf("%d bytes that are not a gzip member after the last complete record", n), Fatal: true}
}

// headerError is a record header that cannot be parsed, at off. Inside a
// gzip member it is not fatal: the member is skipped. In a plain file it
// is fatal, unless the reader resynchronises (OpenRecords): then it goes
// on at the next record header.
func (r *Reader) headerError(off int64, format string, args ...any) error {
	if r.gz != nil {
		r.skipMember()
	}
	fe := &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...), Fatal: r.gz == nil}
	if r.err != nil && r.gz != nil {
		return r.err // skipping hit a broken gzip stream
	}
	if r.gz == nil && r.resync {
		return r.resyncAfter(fe, -1)
	}
	return fe
}

// readRecord reads a version line and header fields from r.text and
// parses them. Errors inside a gzip member are not fatal: the member can
// be skipped.
func (r *Reader) readRecord(off int64, shared bool) (*Record, error) {
	r.rawHead = r.rawHead[:0]
	r.firstLF = 0
	// What does not start with a version line is not a WARC record; at the
	// start of the file, not a WARC file (OpenRecords has told that already:
	// what it reads on is a WARC file damaged at its start).
	notWARC := func(format string, args ...any) error {
		if off == 0 && !r.resync {
			format = "not a WARC file: " + format
		}
		return r.headerError(off, format, args...)
	}
	start, end, err := r.readLine(textBufferSize)
	if err != nil {
		if errors.Is(err, errLineTooLong) {
			return nil, notWARC("no WARC version line in the first %d bytes", textBufferSize)
		}
		if err == io.EOF {
			if r.gz != nil {
				return nil, notWARC("gzip member ends inside the version line")
			}
			return nil, &FormatError{Offset: off, Msg: "file ends inside the version line", Err: io.ErrUnexpectedEOF, Fatal: true}
		}
		return nil, r.streamError(err)
	}
	if !bytes.HasPrefix(r.rawHead[start:end], []byte("WARC/")) {
		return nil, notWARC("expected a WARC version line, found %q", clip(string(r.rawHead[start:end])))
	}
	if r.lfOnly {
		r.firstLF = 1
	}
	// The lines are gathered first and made into one string, which every
	// field then slices: one allocation per header, not one per line.
	r.lines = append(r.lines[:0], start, end)
	for n := 2; ; n++ {
		lineOff := r.InputOffset()
		start, end, err := r.readLine(maxHeaderBytes - len(r.rawHead))
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return nil, r.headerError(off, "WARC header longer than %d bytes (in line %d)", maxHeaderBytes, n)
			}
			if err == io.EOF {
				if r.gz != nil {
					return nil, r.headerError(off, "gzip member ends inside the WARC header")
				}
				return nil, &FormatError{Offset: off, Msg: "file ends inside the WARC header", Err: io.ErrUnexpectedEOF, Fatal: true}
			}
			return nil, r.streamError(err)
		}
		if r.lfOnly && r.firstLF == 0 {
			r.firstLF = n
		}
		if start == end {
			break
		}
		if len(r.rawHead) > maxHeaderBytes {
			return nil, r.headerError(off, "WARC header longer than %d bytes", maxHeaderBytes)
		}
		if r.gz == nil && r.resync && isVersionLine(r.rawHead[start:end]) {
			// The header is cut short, and the next record starts here.
			r.startCandidate(start, end)
			fe := &FormatError{Offset: off, Msg: fmt.Sprintf("WARC header cut short in line %d by the version line of another record", n)}
			return nil, r.resyncAfter(fe, lineOff)
		}
		r.lines = append(r.lines, start, end)
	}
	return r.parseHeader(off, shared)
}

// parseHeader makes the record whose header lines readRecord (or the
// resynchronising scan) left in r.rawHead and r.lines.
func (r *Reader) parseHeader(off int64, shared bool) (*Record, error) {
	rec := &Record{Offset: off, SharedMember: shared}
	if r.firstLF > 0 {
		rec.Problems = append(rec.Problems, &SyntaxError{Line: r.firstLF, Msg: "line ends in a bare LF, not CRLF", Deviation: true})
	}
	head := string(r.rawHead)
	rec.Version = head[r.lines[0]:r.lines[1]]
	for i := 2; i < len(r.lines); i += 2 {
		n := i/2 + 1
		line := head[r.lines[i]:r.lines[i+1]]
		if line[0] == ' ' || line[0] == '\t' {
			if len(rec.Header) == 0 {
				rec.Problems = append(rec.Problems, &SyntaxError{Line: n, Msg: fmt.Sprintf("continuation line before any field: %q", clip(line))})
				continue
			}
			last := &rec.Header[len(rec.Header)-1]
			last.Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			// Not a field: a damaged or badly written line. The rest of
			// the header may still be sound, so it is reported, not fatal.
			rec.Problems = append(rec.Problems, &SyntaxError{Line: n, Msg: fmt.Sprintf("malformed header field %q", clip(line))})
			continue
		}
		if !validValue(value) {
			rec.Problems = append(rec.Problems, &SyntaxError{Line: n, Msg: fmt.Sprintf("field %s has control characters in its value", name)})
		}
		if len(line) > textBufferSize {
			rec.Problems = append(rec.Problems, &SyntaxError{Line: n, Deviation: true,
				Msg: fmt.Sprintf("field %s is %d bytes long, more than many WARC readers take in one line (%d)", name, len(line), textBufferSize)})
		}
		rec.Header = append(rec.Header, Field{Name: name, Value: strings.Trim(value, " \t")})
	}
	cls := rec.Header.Values("Content-Length")
	switch {
	case len(cls) == 0:
		return nil, r.headerError(off, "missing Content-Length")
	case len(cls) > 1:
		return nil, r.headerError(off, "%d Content-Length fields", len(cls))
	}
	n, err := strconv.ParseInt(cls[0], 10, 64)
	if err != nil || n < 0 || cls[0][0] == '+' {
		return nil, r.headerError(off, "invalid Content-Length %q", clip(cls[0]))
	}
	rec.ContentLength = n
	if r.keepRaw {
		rec.rawHeader = append([]byte(nil), r.rawHead...)
	}
	r.body = &bodyReader{r: r, rec: rec, left: n}
	rec.Body = r.body
	if r.gz == nil && r.resync {
		if fe := r.checkBlockEnd(rec); fe != nil {
			// The block does not end where its Content-Length says: it
			// is not read (it would run over the records after it), and
			// the reader resynchronises from where it starts, now, so
			// that the error says where it goes on.
			r.pending, r.body.err, r.body.broken = r.resyncAfter(fe, -1), fe, true
		}
	}
	return rec, nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads the next line, of at most limit bytes, onto r.rawHead
// and returns where it is there, without its CRLF. A bare LF is accepted as
// a line end, as other WARC readers do, and noted in r.lfOnly.
func (r *Reader) readLine(limit int) (start, end int, err error) {
	start = len(r.rawHead)
	for {
		b, err := r.text.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gathered, up to limit.
			if len(r.rawHead)-start+len(b) > limit {
				r.rawHead = r.rawHead[:start]
				return 0, 0, errLineTooLong
			}
			r.rawHead = append(r.rawHead, b...)
			continue
		}
		if err != nil {
			partial := len(b) > 0 || len(r.rawHead) > start
			r.rawHead = r.rawHead[:start]
			if err == io.EOF && partial {
				return 0, 0, io.EOF
			}
			return 0, 0, err
		}
		if len(r.rawHead)-start+len(b) > limit {
			r.rawHead = r.rawHead[:start]
			return 0, 0, errLineTooLong
		}
		r.rawHead = append(r.rawHead, b...)
		break
	}
	end = len(r.rawHead) - 1
	if end > start && r.rawHead[end-1] == '\r' {
		end--
		r.lfOnly = false
	} else {
		r.lfOnly = true
	}
	return start, end, nil
}

// validValue reports whether a field value is free of control characters
// other than tab (a CR or LF inside a value would break the framing of
// whoever copies the field).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// skipMember discards the rest of the current gzip member after a framing
// error inside it.
func (r *Reader) skipMember() {
	if _, err := io.Copy(io.Discard, r.text); err != nil {
		r.err = r.streamError(err)
		var fe *FormatError
		if errors.As(r.err, &fe) && !fe.Fatal {
			r.err = nil // a CRC error: the next member is fine
		}
	}
	r.inMember = false
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// bodyReader yields a record's block.
type bodyReader struct {
	r    *Reader
	rec  *Record
	left int64
	err  error
	// broken: err is the record's framing error, found before its block
	// was read; once the caller has seen it, Next does not return it again.
	broken bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		if b.broken && b.r.body == b {
			b.r.reported = true
		}
		return 0, b.err
	}
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.text.Read(p)
	b.left -= int64(n)
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		if b.left == 0 {
			return n, nil
		}
		got := b.rec.ContentLength - b.left
		if b.r.gz != nil {
			b.r.inMember = false
			b.r.pending = &FormatError{Offset: b.rec.Offset, Msg: fmt.Sprintf("block is %d bytes, Content-Length says %d: the gzip member ends first", got, b.rec.ContentLength), Err: io.ErrUnexpectedEOF}
		} else {
			b.r.pending = &FormatError{Offset: b.rec.Offset, Msg: fmt.Sprintf("file ends %d bytes into a block of Content-Length %d", got, b.rec.ContentLength), Err: io.ErrUnexpectedEOF, Fatal: true}
		}
		b.err = io.ErrUnexpectedEOF
		return n, b.err
	}
	b.err = b.r.streamError(err)
	b.r.pending = b.err
	return n, b.err
}

// WriteTo writes the rest of the block to w straight from the reader's
// buffer, saving the copy into a caller's buffer that Read makes: this is
// how io.Copy reads a block. Its errors are those of Read.
func (b *bodyReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if b.err != nil {
			if b.broken && b.r.body == b {
				b.r.reported = true
			}
			return total, b.err
		}
		if b.left <= 0 {
			return total, nil
		}
		n := b.r.text.Buffered()
		if n == 0 {
			if _, err := b.r.text.Peek(1); err != nil {
				// Read sees the same error and sets the reader's state.
				_, err := b.Read(make([]byte, 1))
				if err == nil {
					continue
				}
				return total, err
			}
			n = b.r.text.Buffered()
		}
		n = int(min(int64(n), b.left))
		p, _ := b.r.text.Peek(n)
		m, werr := w.Write(p)
		b.r.text.Discard(m)
		b.left -= int64(m)
		total += int64(m)
		if werr != nil {
			return total, werr
		}
	}
}

// ErrNotRegular is wrapped by the error of OpenFile for a path that is not
// a regular file: a named pipe, a device, a socket. Reading one may never
// end (a FIFO blocks until a writer comes, /dev/zero never ends), and none
// can be a WARC file worth keeping.
var ErrNotRegular = errors.New("warc: not a regular file")

// NotRegularError is a path that is not a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, DescribeMode(e.Mode))
}

func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// DescribeMode names the kind of file a mode is, for messages.
func DescribeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}

// CheckRegular returns a *NotRegularError if the file at path (following
// symbolic links) exists and is not a regular file, the error of os.Stat
// if it cannot be looked at, and nil for a regular file. It never opens
// the file, so it never blocks.
func CheckRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return nil
}

// OpenFile opens a file for reading, refusing (with a *NotRegularError)
// anything that is not a regular file without blocking on it: it is opened
// non-blocking, which a FIFO without a writer needs, and looked at before
// anything is read.
func OpenFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return f, nil
}

// ReadSmallFile reads a whole file that is expected to be small (a JSON
// manifest, pages.jsonl): through OpenFile, so a FIFO or a device is
// refused rather than blocked on, and refusing one over limit bytes.
func ReadSmallFile(path string, limit int64) ([]byte, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("warc: %s: more than %d bytes", path, limit)
	}
	return b, nil
}
