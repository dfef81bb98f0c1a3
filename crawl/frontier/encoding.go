package frontier

import (
	"encoding/json"

	"github.com/amber-archiver/amber/internal/binrec"
)

// bbolt holds a record per URL, rewritten at every step of the URL's life
// (queued, leased, extended, finished) and read at every Add of a link to
// it, and one per digest: both in the compact binary form of
// internal/binrec. JSON, which starts with '{', is still read.

// decodeRec reads v into what a JSON record would unmarshal into, or
// returns the binary fields' reader (nil when v was JSON).
func decodeRec(v []byte, into any) (*binrec.Reader, error) {
	r, isJSON, err := binrec.Open(v)
	if isJSON {
		return nil, json.Unmarshal(v, into)
	}
	return r, err
}

func (r *urlRec) encode() []byte {
	var flags uint64
	if r.Requisite {
		flags = 1
	}
	return binrec.New(24 + len(r.Reason) + len(r.Data) + len(r.Worker)).Byte(r.State).
		Uint(r.Crawl).Uint(flags).Str(r.Reason).Bytes(r.Data).Uint(r.Token).Str(r.Worker).Int(r.Expires)
}

func (r *urlRec) decode(v []byte) error {
	rr, err := decodeRec(v, r)
	if rr == nil || err != nil {
		return err
	}
	*r = urlRec{State: rr.Byte()}
	r.Crawl = rr.Uint()
	r.Requisite = rr.Uint()&1 != 0
	r.Reason = rr.Str()
	if d := rr.Bytes(); len(d) > 0 {
		r.Data = append([]byte(nil), d...)
	}
	r.Token = rr.Uint()
	r.Worker = rr.Str()
	r.Expires = rr.Int()
	return rr.Err()
}

func encodeDigest(d DigestRef) []byte {
	return binrec.New(8 + len(d.Digest) + len(d.RecordID) + len(d.URI) + len(d.Date)).
		Str(d.Digest).Str(d.RecordID).Str(d.URI).Str(d.Date)
}

func decodeDigest(v []byte, d *DigestRef) error {
	rr, err := decodeRec(v, d)
	if rr == nil || err != nil {
		return err
	}
	*d = DigestRef{Digest: rr.Str(), RecordID: rr.Str(), URI: rr.Str(), Date: rr.Str()}
	return rr.Err()
}
