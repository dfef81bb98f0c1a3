package verify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/amber-archiver/amber/warc"
)

// warcFacts is what the checks across files need to know about the records
// of one WARC file, kept small: a few words per record, whatever the size of
// the records, so that memory grows with the number of records only.
type warcFacts struct {
	src       *source
	path      string // src.name
	name      string // base name, as CDXJ lines give it
	stoppedAt int64  // where reading stopped at damage; -1 if read to the end

	// index are the records a CDXJ line may point at, in file order.
	index []indexEntry
	// payloads holds a key of (target URI, payload digest) for every
	// response and resource: what revisits may refer to.
	payloads map[[16]byte]struct{}
	revisits []revisitRef

	lastOffset int64 // of the record before, to count records sharing a member
	nth        int
}

// indexEntry is an indexed record, as its CDXJ line must describe it.
type indexEntry struct {
	offset, length int64
	nth            int32 // its place in a gzip member shared by several records
	required       bool  // a response or revisit: it must have a line
	matched        bool  // a line points at it
	ts             int64 // the 14 digits of its WARC-Date
	uri, digest    uint64
}

// revisitRef is an identical-payload-digest revisit: it stands for an
// earlier record of refURI with the same payload digest.
type revisitRef struct {
	offset    int64
	id, uri   string
	refURI    string
	digest    string // canonical
	digestRaw string
}

func newWARCFacts(src *source) *warcFacts {
	return &warcFacts{src: src, path: src.name, name: src.base, stoppedAt: -1,
		payloads: map[[16]byte]struct{}{}, lastOffset: -1}
}

// add notes a record; payload is the check of its payload digest. A
// record whose block could not be read whole has no Length: its length is
// noted as -1, unknown.
func (f *warcFacts) add(rec *warc.Record, block, payload warc.DigestCheck) {
	if rec.Offset == f.lastOffset {
		f.nth++
	} else {
		f.lastOffset, f.nth = rec.Offset, 0
	}
	h := rec.Header
	typ := h.Get("WARC-Type")
	uri := targetURI(h)
	var digest string
	switch payload.Status {
	case warc.DigestMatch, warc.DigestMismatch, warc.DigestDeviation, warc.DigestNotComputable:
		if payload.Recorded.Algorithm != "" {
			digest = digestKey(payload.Recorded) // parsed already
			break
		}
		fallthrough
	default:
		digest = canonicalDigest(h.Get("WARC-Payload-Digest"))
	}
	if digest == "" && typ == "resource" {
		// A resource's block is its payload: indexers give its digest.
		switch {
		case block.Recorded.Algorithm != "":
			digest = digestKey(block.Recorded)
		case block.Computed.Algorithm != "":
			digest = digestKey(block.Computed)
		default:
			digest = canonicalDigest(h.Get("WARC-Block-Digest"))
		}
	}
	if warc.Indexed(h) {
		ts, _ := strconv.ParseInt(warc.CDXJTimestamp(h.Get("WARC-Date")), 10, 64)
		length := rec.Length
		if length == 0 && !rec.SharedMember {
			length = -1
		}
		f.index = append(f.index, indexEntry{offset: rec.Offset, length: length, nth: int32(f.nth),
			required: typ == "response" || typ == "revisit", ts: ts, uri: hash64(uri), digest: hash64(digest)})
	}
	switch {
	case digest == "":
	case typ == "response" || typ == "resource":
		f.payloads[payloadKey(uri, digest)] = struct{}{}
		if payload.Status != warc.DigestMatch && payload.Computed.Algorithm != "" {
			// A revisit may name the payload by what it is, not by
			// what was recorded.
			f.payloads[payloadKey(uri, digestKey(payload.Computed))] = struct{}{}
		}
	case typ == "revisit" && strings.HasSuffix(h.Get("WARC-Profile"), "/identical-payload-digest"):
		ref := h.Get("WARC-Refers-To-Target-URI")
		if ref == "" {
			ref = uri // WARC/1.0 revisits name only their own URI
		}
		f.revisits = append(f.revisits, revisitRef{offset: rec.Offset, id: h.Get("WARC-Record-ID"), uri: uri,
			refURI: ref, digest: digest, digestRaw: h.Get("WARC-Payload-Digest")})
	}
}

// digestKey is the canonical form of a digest for comparisons: the same
// whatever label case and encoding it was written in.
func digestKey(d warc.Digest) string { return d.Algorithm + ":" + string(d.Sum) }

// canonicalDigest is digestKey of a digest as written in a field or a CDXJ
// line, which may drop the "sha1:" label. A value that does not parse is
// kept as it is.
func canonicalDigest(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return ""
	}
	d, err := warc.ParseIndexDigest(s)
	if err != nil {
		return s
	}
	return digestKey(d)
}

// FNV-1a, inline: the hash/fnv hashes allocate.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv64(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hash64(s string) uint64 { return fnv64(fnvOffset, s) }

// payloadKey is 128 bits of (uri, digest): two FNV-1a hashes of different
// bases.
func payloadKey(uri, digest string) [16]byte {
	var k [16]byte
	for i, base := range []uint64{fnvOffset, fnvOffset ^ 0x9e3779b97f4a7c15} {
		h := fnv64(fnv64(fnv64(base, uri), "\x00"), digest)
		for j := range 8 {
			k[8*i+j] = byte(h >> (8 * j))
		}
	}
	return k
}

// checkRevisits looks for the record each identical-payload-digest revisit
// stands for among the records of every file checked, and adds a warning
// to the revisit's file when it is not there.
func checkRevisits(summaries []FileSummary, facts []*warcFacts) {
	for i, f := range facts {
		if f == nil {
			continue
		}
		for _, rv := range f.revisits {
			key := payloadKey(rv.refURI, rv.digest)
			found := false
			for _, g := range facts {
				if g != nil {
					if _, found = g.payloads[key]; found {
						break
					}
				}
			}
			if !found {
				summaries[i].add(Finding{Severity: Warning, Offset: rv.offset, RecordID: rv.id, TargetURI: clipURI(rv.uri),
					Message: fmt.Sprintf("revisit of %s with payload digest %s: the record it stands for is not found in the checked files", clipURI(rv.refURI), clip(rv.digestRaw))})
			}
		}
	}
}

// headerAt reads the header of the nth record of the gzip member (or the
// record of a plain file) at offset.
func headerAt(src *source, offset int64, nth int) (warc.Header, error) {
	var h warc.Header
	err := recordAt(src, offset, nth, func(rec *warc.Record) error {
		h = rec.Header
		return nil
	})
	return h, err
}

// recordAt calls fn with the nth record of the gzip member (or the record
// of a plain file) at offset, in a WARC or an ARC file.
func recordAt(src *source, offset int64, nth int, fn func(*warc.Record) error) error {
	in, c, err := src.at(offset)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := warc.OpenRecordAt(in, offset) // the file may be an ARC file
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err != nil {
			return err
		}
		if i == nth {
			return fn(rec)
		}
	}
}
