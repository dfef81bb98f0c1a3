package frontier

import (
	"encoding/binary"
	"encoding/json"
	"errors"
)

// bbolt holds a record per URL, rewritten at every step of the URL's life
// (queued, leased, extended, finished) and read at every Add of a link to
// it, and one per digest: both in a compact binary form, a version byte
// and then fields as varints and length-prefixed strings. JSON, which
// starts with '{', is still read.

const recV1 = 1

var errRec = errors.New("malformed record")

type recWriter []byte

func (w recWriter) uint(v uint64) recWriter { return binary.AppendUvarint(w, v) }
func (w recWriter) int(v int64) recWriter   { return binary.AppendVarint(w, v) }
func (w recWriter) str(s string) recWriter  { return append(w.uint(uint64(len(s))), s...) }
func (w recWriter) bytes(b []byte) recWriter {
	return append(w.uint(uint64(len(b))), b...)
}

type recReader struct {
	b   []byte
	err error
}

func (r *recReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errRec
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errRec
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) bytes() []byte {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errRec
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *recReader) str() string { return string(r.bytes()) }

// decodeRec reads v into what a JSON record would unmarshal into; open
// returns the binary fields' reader, or nil when fn is done (JSON).
func decodeRec(v []byte, into any) (*recReader, error) {
	switch {
	case len(v) > 0 && v[0] == '{':
		return nil, json.Unmarshal(v, into)
	case len(v) > 0 && v[0] == recV1:
		return &recReader{b: v[1:]}, nil
	}
	return nil, errRec
}

func (r *urlRec) encode() []byte {
	var flags uint64
	if r.Requisite {
		flags = 1
	}
	w := recWriter(make([]byte, 0, 24+len(r.Reason)+len(r.Data)+len(r.Worker)))
	w = append(w, recV1, r.State)
	return w.uint(r.Crawl).uint(flags).str(r.Reason).bytes(r.Data).uint(r.Token).str(r.Worker).int(r.Expires)
}

func (r *urlRec) decode(v []byte) error {
	rr, err := decodeRec(v, r)
	if rr == nil || err != nil {
		return err
	}
	if len(rr.b) == 0 {
		return errRec
	}
	*r = urlRec{State: rr.b[0]}
	rr.b = rr.b[1:]
	r.Crawl = rr.uint()
	r.Requisite = rr.uint()&1 != 0
	r.Reason = rr.str()
	if d := rr.bytes(); len(d) > 0 {
		r.Data = append([]byte(nil), d...)
	}
	r.Token = rr.uint()
	r.Worker = rr.str()
	r.Expires = rr.int()
	return rr.err
}

func encodeDigest(d DigestRef) []byte {
	w := recWriter(make([]byte, 0, 8+len(d.Digest)+len(d.RecordID)+len(d.URI)+len(d.Date)))
	w = append(w, recV1)
	return w.str(d.Digest).str(d.RecordID).str(d.URI).str(d.Date)
}

func decodeDigest(v []byte, d *DigestRef) error {
	rr, err := decodeRec(v, d)
	if rr == nil || err != nil {
		return err
	}
	*d = DigestRef{Digest: rr.str(), RecordID: rr.str(), URI: rr.str(), Date: rr.str()}
	return rr.err
}
