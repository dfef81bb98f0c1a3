package warc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Resynchronising a plain ARC file, as resync.go does for WARC: after a
// header line that does not parse, or a record whose content is not
// followed by the next header line where its Archive-length says, an
// ARCReader made by OpenRecords reads on, line by line, to the next line
// that parses as an ARC header line, and goes on there. Every byte is
// read once; one line (64 KiB) is held.

// resyncAfter makes fe non-fatal and scans on to the next header line,
// naming it in fe; with none, the file ends there.
func (r *ARCReader) resyncAfter(fe *FormatError) *FormatError {
	fe.Fatal = false
	for {
		off := r.offset()
		line, err := r.scanLine()
		if err == io.EOF {
			fe.Msg += "; no record after it"
			return fe
		}
		if err != nil {
			fe.Msg += fmt.Sprintf("; looking for the next record: %v", err)
			fe.Fatal = true
			return fe
		}
		if isARCHeaderLine(line, r.fields) {
			r.resumeAt, r.resumeLine, fe.Next = off, line, off
			fe.Msg += fmt.Sprintf("; the next record found at offset %d", off)
			return fe
		}
	}
}

// scanLine reads the next line without its line end; a line longer than
// maxARCLine is skipped whole and returned empty.
func (r *ARCReader) scanLine() (string, error) {
	var line []byte
	long := false
	for {
		frag, err := r.text.ReadSlice('\n')
		if !long {
			line = append(line, frag...)
			if len(line) > maxARCLine {
				line, long = nil, true
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) > 0:
			return strings.TrimRight(string(line), "\r\n"), nil
		case err != nil:
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// isARCHeaderLine reports whether line is the header line of a record a
// reader resynchronises at: it parses, and its URL has a scheme.
func isARCHeaderLine(line string, fields int) bool {
	if strings.HasPrefix(line, "filedesc:") {
		return false
	}
	h, err := parseARCHeader(line, fields)
	return err == nil && strings.Contains(h.url, ":") && !strings.ContainsAny(h.url, "<>\"")
}

// checkContentEnd looks ahead, without reading, at where the content of
// rec (whose header line has just been read) ends: a newline, the end of
// the file, or the next header line must follow. It returns the framing
// error if they do not, or nil if they do or cannot be seen (content
// larger than the buffer).
func (r *ARCReader) checkContentEnd(rec *Record) *FormatError {
	n := rec.ContentLength
	const lookahead = 4 << 10 // for the next header line, when the newline is left out
	if n+lookahead > int64(r.raw.Size()) {
		return nil
	}
	b, err := r.raw.Peek(int(n + lookahead))
	if err != nil && err != io.EOF {
		return nil
	}
	if int64(len(b)) < n {
		return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("arc: file ends %d bytes into the record's content (Archive-length %d)", len(b), n), Err: io.ErrUnexpectedEOF}
	}
	after := b[n:]
	if len(after) == 0 || after[0] == '\n' {
		return nil
	}
	line, _, found := bytes.Cut(after, []byte("\n"))
	if !found && len(after) == lookahead {
		return nil // a line too long to see: met when read
	}
	if isARCHeaderLine(strings.TrimRight(string(line), "\r"), r.fields) {
		return nil // the newline left out, as some writers do
	}
	return &FormatError{Offset: rec.Offset, Msg: fmt.Sprintf("arc: the record's content (Archive-length %d) is followed by %q, not a newline and the next header line (wrong length?)", n, clip(string(line)))}
}
