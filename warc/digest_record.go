package warc

import (
	"bytes"
	"crypto/sha1"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// DigestStatus is the outcome of checking one digest field of a record.
type DigestStatus int

const (
	// DigestAbsent: the record has no such field.
	DigestAbsent DigestStatus = iota
	// DigestMatch: recomputed and equal.
	DigestMatch
	// DigestMismatch: recomputed and different: the bytes changed, or the
	// writer hashed something else.
	DigestMismatch
	// DigestDeviation: the recorded value is not what the spec defines but
	// matches another reading of the same intact bytes (Note says which):
	// a payload digest over the chunked body as transmitted, as wget and
	// nlnwa/gowarc write it.
	DigestDeviation
	// DigestMalformed: the value is not "algorithm:value" of the right size.
	DigestMalformed
	// DigestUnknown: an algorithm amber cannot compute.
	DigestUnknown
	// DigestNotComputable: the payload is not in this record: a revisit's
	// payload digest names an earlier record's payload, and the first
	// segment of a segmented record holds only the start of its payload.
	DigestNotComputable
)

// DigestCheck is the result of checking one digest field.
type DigestCheck struct {
	Field    string // "WARC-Block-Digest" or "WARC-Payload-Digest"
	Value    string // the field's value as recorded
	Status   DigestStatus
	Recorded Digest // the parsed value (Match, Mismatch, Deviation, NotComputable)
	Computed Digest // the digest the spec defines (Match, Mismatch, Deviation)
	// Err explains Malformed and Unknown (the parse error) and, for a
	// Mismatch, why the payload may be ill-defined (a malformed chunk).
	Err  error
	Note string // Deviation: what the recorded value was taken over
}

// ErrTransmittedNotHashed is the Err of a payload DigestMismatch of a
// chunked message when RecordDigester.SkipTransmittedHash was called: the
// recorded value may still be a DigestDeviation, a digest over the chunked
// body as transmitted, which only a digester hashing it can tell.
var ErrTransmittedNotHashed = errors.New("warc: the chunked body as transmitted was not hashed")

// Field names of the digests.
const (
	BlockDigestField   = "WARC-Block-Digest"
	PayloadDigestField = "WARC-Payload-Digest"
)

// RecordDigester recomputes a record's block and payload digests while its
// block streams through Write: one pass, no copy of the block, every hash
// fed from the caller's buffer. The payload is what WARC 1.1 section 5.9
// defines: for an HTTP message (Content-Type application/http) the entity
// body after the head, with chunked transfer coding removed and content
// coding kept, at most the message's Content-Length; for other records the
// whole block.
type RecordDigester struct {
	block      hash.Hash
	blockCheck DigestCheck
	revisit    bool // a revisit record: see emptyBlockDigest

	payloadCheck DigestCheck
	payload      hash.Hash // nil when the payload is not hashed
	sameAsBlock  bool      // the payload is the block, in the block's algorithm
	http         *httpPayload
	segment      *segmentState // set for the segments of a segmented record
}

// SkipTransmittedHash saves the third hash a chunked HTTP message costs:
// the one over the body as transmitted, chunk framing included, which only
// serves to recognise a payload digest taken over those bytes (as wget and
// nlnwa/gowarc write it). Such a digest is then reported as a
// DigestMismatch with Err ErrTransmittedNotHashed. Call it before Write.
func (d *RecordDigester) SkipTransmittedHash() {
	if d.http != nil {
		d.http.skipRaw = true
	}
}

// segmentState carries a segmented record's payload across its segments.
type segmentState struct {
	originID string
	next     int         // the WARC-Segment-Number expected next
	want     DigestCheck // the origin's payload digest
}

// NewRecordDigester prepares the digests of the record with header h.
func NewRecordDigester(h Header) *RecordDigester {
	d := &RecordDigester{
		blockCheck:   parseDigestField(h, BlockDigestField),
		payloadCheck: parseDigestField(h, PayloadDigestField),
	}
	typ := h.Get("WARC-Type")
	switch {
	case d.blockCheck.Status == DigestMatch: // parsed: to be computed
		d.block, _ = NewHash(d.blockCheck.Recorded.Algorithm)
	case d.blockCheck.Status == DigestAbsent && d.payloadCheck.Status == DigestAbsent && typ == TypeResource:
		// Indexers key such a record by the SHA-1 of its block (its
		// payload): Block gives it as Computed, to check an index line.
		d.block = sha1.New()
	}
	d.revisit = typ == TypeRevisit
	if d.payloadCheck.Status != DigestMatch {
		return d
	}
	if typ == TypeRevisit {
		d.payloadCheck.Status = DigestNotComputable
		return d
	}
	if n := h.Get("WARC-Segment-Number"); n != "" && n != "1" || typ == "continuation" {
		// A later segment: its payload is a continuation of the origin's,
		// checked when the segments are chained with Continue.
		d.payloadCheck.Status = DigestNotComputable
		return d
	}
	alg := d.payloadCheck.Recorded.Algorithm
	switch {
	case IsHTTPMessage(h):
		d.http = newHTTPPayload(alg)
	case d.block != nil && d.blockCheck.Recorded.Algorithm == alg:
		d.sameAsBlock = true
	default:
		d.payload, _ = NewHash(alg)
	}
	if h.Get("WARC-Segment-Number") == "1" {
		d.segment = &segmentState{originID: h.Get("WARC-Record-ID"), next: 2, want: d.payloadCheck}
		if d.sameAsBlock {
			// The block hash ends with this segment; the payload goes on.
			d.sameAsBlock = false
			d.payload, _ = NewHash(alg)
		}
	}
	return d
}

// IsHTTPMessage reports whether a record's block is an HTTP message whose
// payload is its entity body: a request, response, revisit or continuation
// of Content-Type application/http.
func IsHTTPMessage(h Header) bool {
	switch h.Get("WARC-Type") {
	case TypeRequest, TypeResponse, TypeRevisit, "continuation":
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Content-Type"))), "application/http")
	}
	return false
}

func parseDigestField(h Header, name string) DigestCheck {
	c := DigestCheck{Field: name, Value: h.Get(name)}
	if c.Value == "" {
		return c
	}
	d, err := ParseDigest(c.Value)
	switch {
	case errors.Is(err, ErrUnknownAlgorithm):
		c.Status, c.Err = DigestUnknown, err
	case err != nil:
		c.Status, c.Err = DigestMalformed, err
	default:
		c.Status, c.Recorded = DigestMatch, d // provisional: "parsed"
	}
	return c
}

// Continue chains the next segment of a segmented record (a continuation
// record with header h) to d, the digester of the segment before it. It
// returns nil when h is not that next segment. The returned digester
// checks h's own block digest and, when h is the last segment (it has
// WARC-Segment-Total-Length), the origin's payload digest over the whole
// reassembled payload.
func (d *RecordDigester) Continue(h Header) *RecordDigester {
	s := d.segment
	if s == nil || h.Get("WARC-Segment-Origin-ID") != s.originID || h.Get("WARC-Segment-Number") != strconv.Itoa(s.next) {
		return nil
	}
	n := NewRecordDigester(h)
	n.payloadCheck = DigestCheck{Field: PayloadDigestField}
	n.payload, n.http, n.segment = d.payload, d.http, s
	d.segment = nil
	s.next++
	if h.Get("WARC-Segment-Total-Length") != "" {
		n.segment = nil
		n.payloadCheck = s.want
	} else {
		n.payloadCheck.Status = DigestNotComputable
	}
	return n
}

// HTTPHead returns the size in bytes (its blank line included) and the
// number of lines of the largest HTTP head seen in the block of an HTTP
// message whose payload digest is checked, or 0, 0.
func (d *RecordDigester) HTTPHead() (size int64, lines int) {
	if d.http == nil {
		return 0, 0
	}
	return d.http.headSize, d.http.headLines
}

// Segmented reports whether d is a segment of a segmented record that
// expects a continuation.
func (d *RecordDigester) Segmented() bool { return d.segment != nil }

// Write feeds the next bytes of the block. It never fails.
func (d *RecordDigester) Write(p []byte) (int, error) {
	if d.block != nil {
		d.block.Write(p)
	}
	switch {
	case d.http != nil:
		d.http.Write(p)
	case d.payload != nil:
		d.payload.Write(p)
	}
	return len(p), nil
}

// Block returns the check of WARC-Block-Digest, once the whole block has
// been written.
func (d *RecordDigester) Block() DigestCheck {
	c := d.blockCheck
	if c.Status == DigestAbsent && d.block != nil {
		c.Computed = Digest{"sha1", d.block.Sum(nil)}
	}
	if c.Status == DigestMatch {
		c.Computed = Digest{c.Recorded.Algorithm, d.block.Sum(nil)}
		if !bytes.Equal(c.Computed.Sum, c.Recorded.Sum) {
			c.Status = DigestMismatch
			// (A mismatch with the empty digest: the block is not empty.)
			if d.revisit && emptyBlockDigest(c.Recorded) {
				c.Status, c.Note = DigestDeviation, emptyBlockNote
			}
		}
	}
	return c
}

// emptyBlockNote explains the block digest GNU Wget writes on its revisit
// records (wget 1.14 to 1.21 at least, with --warc-dedup): the digest of
// an empty block, while the block holds the HTTP head of the response.
// Nothing is lost (a revisit's block is only that head), but the head
// cannot be proved intact, so it is a deviation, not damage.
const emptyBlockNote = "an empty block, as GNU Wget writes revisit records, so the HTTP head the block holds cannot be checked; over that head it is"

// emptyBlockDigest reports whether d is the digest of no bytes at all.
func emptyBlockDigest(d Digest) bool {
	h, err := NewHash(d.Algorithm)
	return err == nil && bytes.Equal(h.Sum(nil), d.Sum)
}

// Payload returns the check of WARC-Payload-Digest, once the whole block
// has been written. For the first segment of a segmented record, and a
// segment that is not the last, it is DigestNotComputable.
func (d *RecordDigester) Payload() DigestCheck {
	c := d.payloadCheck
	if c.Status != DigestMatch {
		return c
	}
	if d.segment != nil {
		c.Status = DigestNotComputable
		return c
	}
	alg := c.Recorded.Algorithm
	switch {
	case d.sameAsBlock:
		c.Computed = Digest{alg, d.block.Sum(nil)}
	case d.payload != nil:
		c.Computed = Digest{alg, d.payload.Sum(nil)}
	case d.http != nil:
		return d.http.check(c)
	}
	if !bytes.Equal(c.Computed.Sum, c.Recorded.Sum) {
		c.Status = DigestMismatch
	}
	return c
}

// httpPayload receives an HTTP message and hashes its entity body.
type httpPayload struct {
	alg      string
	scan     headScanner // the head, streamed: no head is held whole
	headDone bool
	// The largest head seen (an interim response has its own), for
	// RecordDigester.HTTPHead.
	headSize  int64
	headLines int
	chunked   bool
	length    int64 // Content-Length of the body; -1 if none or chunked
	seen      int64 // body bytes seen
	payload   hash.Hash
	raw       hash.Hash // chunked: the body as transmitted; else, from Content-Length on, every body byte
	skipRaw   bool      // no raw hash for a chunked body
	cd        chunkDecoder
	err       error
	// A chunked head over a body that does not start like chunked coding
	// (stored de-chunked by an older crawler): the first bytes are held in
	// sniff until LooksChunked can tell, then the body is hashed as stored.
	sniff     []byte
	decided   bool
	dechunked bool
}

// errDechunked explains a payload digest mismatch of a body stored
// de-chunked under a chunked head.
var errDechunked = errors.New("the HTTP head says Transfer-Encoding: chunked but the body is not chunked; computed over the body as stored")

// dechunkedNote names the deviation of a body stored de-chunked whose
// payload digest matches it as stored.
const dechunkedNote = "the body as stored, which is not chunked although the HTTP head says Transfer-Encoding: chunked (stored de-chunked, as older crawlers did)"

func newHTTPPayload(alg string) *httpPayload {
	h, _ := NewHash(alg)
	return &httpPayload{alg: alg, payload: h, length: -1}
}

func (hp *httpPayload) Write(p []byte) {
	for len(p) > 0 && !hp.headDone && hp.err == nil {
		p = hp.writeHead(p)
	}
	if hp.headDone && len(p) > 0 {
		hp.body(p)
	}
}

// writeHead feeds the head scanner and returns the bytes after the head,
// or nil if the head goes on. However long the head, it is not kept.
func (hp *httpPayload) writeHead(p []byte) []byte {
	s := &hp.scan
	rest := s.write(p)
	if s.err != nil {
		hp.err = s.err
		return nil
	}
	if !s.done {
		return nil
	}
	if s.size > hp.headSize {
		hp.headSize, hp.headLines = s.size, s.lines
	}
	if s.status >= 100 && s.status < 200 && s.status != 101 {
		// An interim response (100 Continue, 103 Early Hints) recorded
		// before the final one: the payload is the final response's.
		s.reset()
		return rest
	}
	hp.headDone = true
	if s.te != "" {
		codings := strings.Split(s.te, ",")
		hp.chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
	}
	if hp.chunked {
		if !hp.skipRaw {
			hp.raw, _ = NewHash(hp.alg)
		}
		hp.cd.out = hp.payload
	} else if s.clCount == 1 {
		// Only digits, as net/http reads it: a "-1", "+5" or garbage
		// bounds nothing, and the payload is every byte after the head.
		if n, err := strconv.ParseUint(strings.TrimSpace(s.cl), 10, 63); err == nil {
			hp.length = int64(n)
		}
	}
	return rest
}

func (hp *httpPayload) body(p []byte) {
	if hp.chunked && !hp.decided {
		n := min(len(p), chunkedSniff-len(hp.sniff))
		hp.sniff = append(hp.sniff, p[:n]...)
		p = p[n:]
		if len(hp.sniff) < chunkedSniff {
			return
		}
		hp.decide()
	}
	if len(p) > 0 {
		hp.bodyBytes(p)
	}
}

// decide tells, from the first bytes of a body under a chunked head,
// whether it is chunked, and hashes those bytes accordingly.
func (hp *httpPayload) decide() {
	hp.decided = true
	if !LooksChunked(hp.sniff) {
		hp.chunked, hp.dechunked, hp.raw = false, true, nil
	}
	if len(hp.sniff) > 0 {
		hp.bodyBytes(hp.sniff)
	}
	hp.sniff = nil
}

func (hp *httpPayload) bodyBytes(p []byte) {
	if hp.chunked {
		if hp.raw != nil {
			hp.raw.Write(p)
		}
		hp.cd.Write(p)
		return
	}
	if hp.length >= 0 && hp.seen+int64(len(p)) > hp.length {
		// Bytes beyond the message's Content-Length are not payload. The
		// hash of every body byte is forked off here, for a writer that
		// took the digest over them all.
		in := max(0, hp.length-hp.seen)
		hp.payload.Write(p[:in])
		if hp.raw == nil {
			hp.raw = cloneHash(hp.alg, hp.payload)
		}
		if hp.raw != nil {
			hp.raw.Write(p[in:])
		}
		hp.seen += int64(len(p))
		return
	}
	hp.payload.Write(p)
	hp.seen += int64(len(p))
}

// cloneHash copies the state of h into a new hash of the same algorithm.
func cloneHash(alg string, h hash.Hash) hash.Hash {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil
	}
	state, err := m.MarshalBinary()
	if err != nil {
		return nil
	}
	c, _ := NewHash(alg)
	if u, ok := c.(encoding.BinaryUnmarshaler); !ok || u.UnmarshalBinary(state) != nil {
		return nil
	}
	return c
}

// check compares the recorded payload digest with the entity body's and,
// failing that, with the readings other writers use.
func (hp *httpPayload) check(c DigestCheck) DigestCheck {
	if hp.err != nil {
		c.Status, c.Err = DigestMismatch, fmt.Errorf("the payload cannot be found: %w", hp.err)
		c.Computed = Digest{}
		return c
	}
	if hp.chunked && !hp.decided {
		hp.decide() // a body shorter than the sniff
	}
	c.Computed = Digest{hp.alg, hp.payload.Sum(nil)}
	if hp.dechunked {
		if bytes.Equal(c.Computed.Sum, c.Recorded.Sum) {
			c.Status, c.Note = DigestDeviation, dechunkedNote
		} else {
			c.Status, c.Err = DigestMismatch, errDechunked
		}
		return c
	}
	if bytes.Equal(c.Computed.Sum, c.Recorded.Sum) {
		c.Status = DigestMatch
		return c
	}
	if hp.raw != nil && bytes.Equal(hp.raw.Sum(nil), c.Recorded.Sum) {
		c.Status = DigestDeviation
		if hp.chunked {
			c.Note = "the chunked body as transmitted, chunk framing included (as wget and nlnwa/gowarc write it); the WARC spec wants it over the de-chunked entity body"
		} else {
			c.Note = fmt.Sprintf("the %d bytes after the HTTP head, %d more than its Content-Length; the WARC spec wants it over the entity body", hp.seen, hp.seen-hp.length)
		}
		return c
	}
	c.Status = DigestMismatch
	switch {
	case hp.chunked && hp.cd.err != nil:
		c.Err = fmt.Errorf("the chunked body is malformed: %w", hp.cd.err)
	case hp.chunked && hp.skipRaw:
		c.Err = ErrTransmittedNotHashed
	}
	return c
}

// chunkDecoder removes chunked transfer coding from bytes pushed into it.
// A body cut short (WARC-Truncated) yields the chunk data present, as far
// as the chunks go: what an HTTP client reading it hands on.
type chunkDecoder struct {
	state int
	line  []byte
	left  uint64
	out   hash.Hash
	err   error
}

const (
	chunkSize = iota
	chunkData
	chunkDataEnd
	chunkTrailer
	chunkDone
)

func (c *chunkDecoder) Write(p []byte) {
	for len(p) > 0 && c.err == nil {
		switch c.state {
		case chunkData:
			n := min(uint64(len(p)), c.left)
			c.out.Write(p[:n])
			p, c.left = p[n:], c.left-n
			if c.left == 0 {
				c.state = chunkDataEnd
			}
		case chunkDone:
			return // bytes after the last chunk are not payload
		default:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				if c.line = append(c.line, p...); len(c.line) > 4096 {
					c.err = errors.New("chunk line longer than 4096 bytes")
				}
				return
			}
			c.line = append(c.line, p[:i]...)
			p = p[i+1:]
			line := strings.TrimSuffix(string(c.line), "\r")
			c.line = c.line[:0]
			c.endLine(line)
		}
	}
}

func (c *chunkDecoder) endLine(line string) {
	switch c.state {
	case chunkSize:
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 63)
		if err != nil {
			c.err = fmt.Errorf("bad chunk size line %q", clip(line))
			return
		}
		if n == 0 {
			c.state = chunkTrailer
		} else {
			c.left, c.state = n, chunkData
		}
	case chunkDataEnd:
		if line != "" {
			c.err = errors.New("chunk data not followed by CRLF")
			return
		}
		c.state = chunkSize
	case chunkTrailer:
		if line == "" {
			c.state = chunkDone
		}
	}
}
