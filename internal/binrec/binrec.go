// Package binrec is the compact binary form of the records amber keeps in
// its crawl state (the frontier's URL and digest records, the crawl's
// entry data): a version byte, then fields as varints, single bytes and
// length-prefixed strings. A record written as JSON, which starts with
// '{', is recognised so that older state still reads.
package binrec

import (
	"encoding/binary"
	"errors"
)

// V1 is the version byte of the binary form.
const V1 = 1

// ErrMalformed is the error of a record that does not decode.
var ErrMalformed = errors.New("malformed record")

// Writer appends fields to a record.
type Writer []byte

// New starts a record of about sizeHint bytes, with its version byte.
func New(sizeHint int) Writer { return append(make(Writer, 0, sizeHint+1), V1) }

func (w Writer) Uint(v uint64) Writer { return binary.AppendUvarint(w, v) }
func (w Writer) Int(v int64) Writer   { return binary.AppendVarint(w, v) }
func (w Writer) Byte(b byte) Writer   { return append(w, b) }
func (w Writer) Str(s string) Writer  { return append(w.Uint(uint64(len(s))), s...) }
func (w Writer) Bytes(b []byte) Writer {
	return append(w.Uint(uint64(len(b))), b...)
}

// Reader reads a record's fields in the order they were written. The
// first field that does not decode sets Err, and every later read
// returns a zero value.
type Reader struct {
	b   []byte
	err error
}

// Open starts reading the binary record b; isJSON reports a record
// written as JSON (the caller unmarshals it).
func Open(b []byte) (r *Reader, isJSON bool, err error) {
	switch {
	case len(b) > 0 && b[0] == '{':
		return nil, true, nil
	case len(b) > 0 && b[0] == V1:
		return &Reader{b: b[1:]}, false, nil
	}
	return nil, false, ErrMalformed
}

// Err is the first decoding error, or nil.
func (r *Reader) Err() error { return r.err }

func (r *Reader) fail() { r.err, r.b = ErrMalformed, nil }

func (r *Reader) Uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *Reader) Int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *Reader) Byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Bytes returns a length-prefixed field; it aliases the record.
func (r *Reader) Bytes() []byte {
	n := r.Uint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *Reader) Str() string { return string(r.Bytes()) }
