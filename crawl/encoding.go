package crawl

import (
	"encoding/binary"
	"encoding/json"
	"errors"
)

// A frontier entry's data (a target) is in a compact binary form: a
// version byte, then fields as uvarints and length-prefixed strings.
// Entries written as JSON, which starts with '{', still read.

const recordV1 = 1

var errRecord = errors.New("crawl: malformed frontier entry")

type recordWriter []byte

func (w recordWriter) uint(v uint64) recordWriter { return binary.AppendUvarint(w, v) }
func (w recordWriter) str(s string) recordWriter  { return append(w.uint(uint64(len(s))), s...) }
func (w recordWriter) byte(b byte) recordWriter   { return append(w, b) }
func newRecord(sizeHint int) recordWriter         { return append(make(recordWriter, 0, sizeHint), recordV1) }

type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) str() string {
	n := r.uint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errRecord
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recordReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// openRecord starts reading a binary record; json reports a JSON one.
func openRecord(b []byte) (r *recordReader, isJSON bool, err error) {
	switch {
	case len(b) > 0 && b[0] == '{':
		return nil, true, nil
	case len(b) > 0 && b[0] == recordV1:
		return &recordReader{b: b[1:]}, false, nil
	}
	return nil, false, errRecord
}

const (
	targetSeed = 1 << iota
	targetLeaf
)

func (t target) encode() []byte {
	var flags byte
	if t.IsSeed {
		flags |= targetSeed
	}
	if t.Leaf {
		flags |= targetLeaf
	}
	return newRecord(len(t.URL) + len(t.Kind) + len(t.Seed) + len(t.Chain) + len(t.Via) + 12).
		str(t.URL).str(t.Kind).str(t.Seed).byte(flags).uint(uint64(t.Hops)).str(t.Chain).str(t.Via)
}

func decodeTarget(b []byte, t *target) error {
	r, isJSON, err := openRecord(b)
	if isJSON {
		return json.Unmarshal(b, t)
	}
	if err != nil {
		return err
	}
	*t = target{URL: r.str(), Kind: r.str(), Seed: r.str()}
	flags := r.byte()
	t.IsSeed, t.Leaf = flags&targetSeed != 0, flags&targetLeaf != 0
	t.Hops = int(r.uint())
	t.Chain, t.Via = r.str(), r.str()
	return r.err
}
