package warc

import (
	"bufio"
	"bytes"
	"io"

	"github.com/klauspost/compress/gzip"
)

// RecordReader is what a WARC Reader and an ARCReader have in common: the
// records of a file, one at a time, as WARC records.
type RecordReader interface {
	// Next returns the next record, io.EOF at the clean end of the file,
	// or a *FormatError.
	Next() (*Record, error)
	// Finish reads the rest of the current record and sets its Length.
	Finish() error
	// Compressed reports whether the file is gzip-compressed.
	Compressed() bool
	// InputOffset is how far into the file the reader got.
	InputOffset() int64
}

// sniffSize is how many bytes OpenRecords reads ahead to tell an ARC
// file from a WARC file: more than the gzip header of the first member and
// enough deflate data to yield the 11 bytes of "filedesc://".
const sniffSize = 4 << 10

// OpenRecords returns an ARCReader if r holds an ARC file (told by its
// first bytes, decompressed if it is gzip, whatever the file's name), else
// a *Reader. It reads no further into r than the readers would.
func OpenRecords(r io.Reader) (RecordReader, error) { return openRecordsAt(r, 0) }

// OpenRecordAt returns a reader of the records of a file read from
// offset, the start of a record (its gzip member) as an index gives it:
// an ARCReader if the bytes there are an ARC record's header line, else a
// *Reader. Offsets count from the file's start.
func OpenRecordAt(r io.Reader, offset int64) (RecordReader, error) {
	return openRecordsAt(r, offset)
}

func openRecordsAt(r io.Reader, base int64) (RecordReader, error) {
	ra, _ := r.(io.ReaderAt) // the file (or section) itself, before it is wrapped
	size := sniffSize
	if base == 0 {
		size = identifySize
	}
	head := make([]byte, size)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	switch err {
	case nil:
		r = io.MultiReader(bytes.NewReader(head), r)
	case io.EOF, io.ErrUnexpectedEOF:
		r = bytes.NewReader(head)
	default:
		// A read error (a zip entry's checksum) comes after the bytes
		// before it, where the record reader would have met it.
		r = io.MultiReader(bytes.NewReader(head), errReader{err})
	}
	if base == 0 {
		if err := identify(head, decompressed(head, identifySize)); err != nil {
			return nil, err
		}
	}
	text := sniffText(head)
	arc := IsARC(text)
	if !arc && base > 0 && !bytes.HasPrefix(text, []byte("WARC/")) {
		// A record in the middle of an ARC file starts with its header line.
		line, _, _ := bytes.Cut(text, []byte("\n"))
		_, perr := parseARCHeader(string(bytes.TrimRight(line, "\r")), 0)
		arc = perr == nil && bytes.IndexByte(text, '\n') >= 0
	}
	if !arc {
		wr, err := newReaderAt(r, base)
		if err != nil {
			return nil, err
		}
		wr.resync = true
		if ra != nil {
			wr.ra, wr.raBase = ra, base
		}
		return wr, nil
	}
	ar, err := NewARCReader(r)
	if err != nil {
		return nil, err
	}
	ar.resync = true
	if base > 0 {
		ar.in.n += base // NewARCReader has read its first buffer already
		ar.fields = 0   // the version block is not read: each line by its shape
	}
	return ar, nil
}

// sniffText returns the first bytes of head, decompressed if head starts a
// gzip member. Deflate yields what it decoded before the data ran out.
func sniffText(head []byte) []byte {
	if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		return head
	}
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return nil
	}
	zr.Multistream(false)
	out, _ := io.ReadAll(io.LimitReader(bufio.NewReader(zr), 1024))
	return out
}

// decompressed returns up to limit bytes of head, decompressed if head
// starts a gzip stream (its members one after the other).
func decompressed(head []byte, limit int64) []byte {
	if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		return head
	}
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(bufio.NewReader(zr), limit))
	return out
}

// InputOffset returns how many bytes of the file the reader has consumed.
func (r *ARCReader) InputOffset() int64 { return r.offset() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
