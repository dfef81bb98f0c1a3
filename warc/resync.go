package warc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Resynchronising a plain (uncompressed) WARC file. A gzip file has its
// members to go on with after damage; a plain file has only its version
// lines. After a framing error (a header that does not parse, bytes that
// are no record, a block that does not end where its Content-Length
// says) a Reader made by OpenRecords reads on, line by line, to the next
// line that is "WARC/1.0" or "WARC/1.1" followed by header fields, a blank
// line and one valid Content-Length, and goes on from there: one damaged
// record never hides the records after it.
//
// The scan reads every byte once and keeps at most one candidate header
// (1 MiB): a file of garbage costs a linear read and bounded memory.

// CheckBlockEnds gives the reader of a plain file a second view of the
// same file (at file offsets), so that a block whose Content-Length does
// not end it is recognised before it is read, whatever its size, and the
// records it would run over are not lost. Without it the reader checks
// blocks up to 256 KiB (what it can see ahead in its buffer), and a larger
// block that runs over records hides them.
func (r *Reader) CheckBlockEnds(ra io.ReaderAt) { r.ra, r.raBase = ra, 0 }

// resyncAfter makes fe, a framing error of a plain file, non-fatal and
// scans on to the next record header, naming it in fe. cand >= 0 is the
// offset of a version line readRecord has already read into rawHead (see
// startCandidate).
func (r *Reader) resyncAfter(fe *FormatError, cand int64) *FormatError {
	fe.Fatal = false
	next, err := r.scanRecord(cand)
	switch {
	case err == nil:
		fe.Next = next
		r.resumeAt = next
		fe.Msg += fmt.Sprintf("; the next record found at offset %d", next)
	case err == io.EOF:
		fe.Msg += "; no record after it"
	default:
		fe.Msg += fmt.Sprintf("; looking for the next record: %v", err)
		fe.Fatal = true
	}
	return fe
}

// startCandidate moves the line at rawHead[start:end] to the start of
// rawHead, as the version line of a header being scanned.
func (r *Reader) startCandidate(start, end int) {
	n := copy(r.rawHead, r.rawHead[start:end])
	r.rawHead = r.rawHead[:n]
	r.lines = append(r.lines[:0], 0, n)
	r.firstLF = 0
	if r.lfOnly {
		r.firstLF = 1
	}
}

// scanRecord reads on to the next record header and leaves it in rawHead
// and lines for parseHeader, returning its offset; io.EOF if the file
// holds none. A candidate is dropped at the first line that is no header
// field, and that line may start the next candidate, so no version line
// is passed over.
func (r *Reader) scanRecord(cand int64) (int64, error) {
	in := cand >= 0
	for {
		if !in {
			r.rawHead = r.rawHead[:0]
		}
		lineOff := r.InputOffset()
		limit := textBufferSize
		if in {
			limit = maxHeaderBytes - len(r.rawHead)
		}
		start, end, err := r.readLine(limit)
		switch {
		case errors.Is(err, errLineTooLong):
			// Neither a version line nor a field a resynchronised
			// header may have; the rest of it is read as lines.
			in = false
			if err := r.skipLine(); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, err // io.EOF: no record after the damage
		}
		line := r.rawHead[start:end]
		if in {
			n := len(r.lines)/2 + 1
			switch {
			case start == end:
				if r.validCandidate() {
					if r.lfOnly && r.firstLF == 0 {
						r.firstLF = n
					}
					return cand, nil
				}
				in = false
				continue
			case isFieldLine(line):
				if r.lfOnly && r.firstLF == 0 {
					r.firstLF = n
				}
				r.lines = append(r.lines, start, end)
				continue
			}
			in = false
		}
		if v := versionSuffix(line); v >= 0 {
			r.startCandidate(start+v, end)
			cand, in = lineOff+int64(v), true
		}
	}
}

// skipLine reads past the end of the current line.
func (r *Reader) skipLine() error {
	for {
		_, err := r.text.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// validCandidate reports whether the header in rawHead has one
// Content-Length, a number.
func (r *Reader) validCandidate() bool {
	count, ok := 0, false
	for i := 2; i < len(r.lines); i += 2 {
		line := r.rawHead[r.lines[i]:r.lines[i+1]]
		name, value, _ := bytes.Cut(line, []byte(":"))
		if strings.EqualFold(string(name), "Content-Length") {
			count++
			v := strings.Trim(string(value), " \t")
			_, err := strconv.ParseUint(v, 10, 63)
			ok = err == nil && v != ""
		}
	}
	return count == 1 && ok
}

// isVersionLine reports whether line is the version line of a record the
// reader resynchronises at.
func isVersionLine(line []byte) bool {
	return string(line) == "WARC/1.0" || string(line) == "WARC/1.1"
}

// versionSuffix returns where a version line the reader resynchronises
// at starts in line, or -1: a record cut short, with no line end of its
// own, runs into the version line of the next one.
func versionSuffix(line []byte) int {
	const n = len("WARC/1.0")
	if len(line) >= n && isVersionLine(line[len(line)-n:]) {
		return len(line) - n
	}
	return -1
}

// isFieldLine reports whether line is a header field or the continuation
// of one.
func isFieldLine(line []byte) bool {
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return true
	}
	name, _, ok := bytes.Cut(line, []byte(":"))
	return ok && isToken(string(name))
}

// checkBlockEnd looks ahead, without reading, at where the block of rec
// (whose header has just been read) ends: CRLF CRLF must follow it. It
// returns the framing error if it does not, or nil if it does or cannot
// be seen (a block larger than the buffer, without CheckBlockEnds).
func (r *Reader) checkBlockEnd(rec *Record) *FormatError {
	n := rec.ContentLength
	var tail []byte
	got := int64(-1) // block bytes present, when the file ends inside the block
	switch {
	case n+4 <= int64(r.raw.Size()):
		b, err := r.raw.Peek(int(n + 4))
		if err != nil && err != io.EOF {
			return nil // an I/O error: met when the block is read
		}
		if int64(len(b)) < n {
			got = int64(len(b))
		} else {
			tail = b[n:]
		}
	case r.ra != nil:
		var t [4]byte
		m, err := r.ra.ReadAt(t[:], r.InputOffset()+n-r.raBase)
		if err != nil && err != io.EOF {
			return nil
		}
		if m == 0 {
			return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("the file ends inside the block of Content-Length %d", n), Err: io.ErrUnexpectedEOF}
		}
		tail = t[:m]
	default:
		return nil
	}
	switch {
	case got >= 0:
		return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("file ends %d bytes into a block of Content-Length %d", got, n), Err: io.ErrUnexpectedEOF}
	case string(tail) == "\r\n\r\n":
		return nil
	case len(tail) < 4 && strings.HasPrefix("\r\n\r\n", string(tail)):
		return &FormatError{Offset: rec.Offset, Msg: "file ends without the CRLF CRLF that must follow the block", Err: io.ErrUnexpectedEOF}
	}
	return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("block of Content-Length %d is followed by %q, not CRLF CRLF (wrong Content-Length?)", n, tail)}
}
