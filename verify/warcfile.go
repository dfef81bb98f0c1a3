package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// readBufferSize is the size of the reads that feed all of a record's hashes.
const readBufferSize = 256 << 10

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// verifyWARC checks every record of one WARC file and, when res is not nil,
// the file against its datapackage.json entry, in a single read of the file.
func verifyWARC(ctx context.Context, path string, res *resource) (s FileSummary) {
	s.File = path
	f, err := os.Open(path)
	if err != nil {
		s.errorf(-1, "%v", err)
		return s
	}
	defer f.Close()
	var size int64 = -1
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}

	// Everything read from the file passes the tee below the WARC reader's
	// buffer exactly once: the byte count and the manifest hash see the
	// whole file even when the records stop making sense.
	counter := &countWriter{}
	var sink io.Writer = counter
	var fx *fixity
	if res != nil {
		fx = newFixity(res)
		sink = io.MultiWriter(counter, fx)
	}
	in := io.TeeReader(ctxReader{ctx, f}, sink)
	defer func() {
		if ctx.Err() != nil {
			return
		}
		if _, err := io.Copy(io.Discard, in); err != nil {
			s.errorf(counter.n, "read error: %v", err)
		}
		s.Bytes = counter.n
		if fx != nil {
			fx.check(&s, counter.n)
		}
	}()

	r, err := warc.NewReader(in)
	if err != nil {
		s.errorf(0, "read error: %v", err)
		return s
	}
	if size == 0 {
		s.warnf(-1, "empty file: no records")
		return s
	}
	if strings.Contains(path, ".gz") && !r.Compressed() {
		s.warnf(-1, "named .gz but not gzip-compressed")
	}
	c := &checker{s: &s, r: r, buf: make([]byte, readBufferSize), lastShared: -1}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			s.Records++
			err = c.record(rec)
			if err == nil {
				continue
			}
		}
		if ctx.Err() != nil {
			return s
		}
		if c.framing(err) {
			break
		}
	}
	if s.Records == 0 && s.Errors == 0 {
		s.warnf(-1, "no records")
	}
	return s
}

type checker struct {
	s          *FileSummary
	r          *warc.Reader
	buf        []byte
	lastShared int64
	rec        *warc.Record // the record being checked, for findings
}

func (c *checker) add(sev Severity, format string, args ...any) {
	f := Finding{Severity: sev, Offset: c.rec.Offset, Message: fmt.Sprintf(format, args...),
		RecordID: c.rec.Header.Get("WARC-Record-ID"), TargetURI: c.rec.Header.Get("WARC-Target-URI")}
	c.s.add(f)
}

// framing reports a framing error and whether reading the file must stop.
func (c *checker) framing(err error) (stop bool) {
	var fe *warc.FormatError
	if !errors.As(err, &fe) {
		c.s.errorf(c.r.InputOffset(), "read error after %d records: %v", c.s.Records, err)
		return true
	}
	msg := fe.Msg
	if fe.Fatal {
		msg += fmt.Sprintf("; reading stopped at byte %d, after %d records", c.r.InputOffset(), c.s.Records)
	}
	f := Finding{Severity: Error, Offset: fe.Offset, Message: msg}
	if c.rec != nil && c.rec.Offset == fe.Offset {
		f.RecordID, f.TargetURI = c.rec.Header.Get("WARC-Record-ID"), c.rec.Header.Get("WARC-Target-URI")
	}
	c.s.add(f)
	return fe.Fatal
}

// parseDigest parses a digest field; nil means there is nothing to check.
func (c *checker) parseDigest(name string) *warc.Digest {
	v := c.rec.Header.Get(name)
	if v == "" {
		return nil
	}
	d, err := warc.ParseDigest(v)
	switch {
	case errors.Is(err, warc.ErrUnknownAlgorithm):
		c.add(Warning, "%s %q uses an unknown algorithm; not checked", name, v)
		return nil
	case err != nil:
		c.add(Error, "%s %q is malformed: %v", name, v, errors.Unwrap(err))
		return nil
	}
	return &d
}

// record checks one record. It returns a framing error of the record, which
// the caller reports; digests are compared only for a complete block.
func (c *checker) record(rec *warc.Record) error {
	c.rec = rec
	h := rec.Header
	if rec.Version != "WARC/1.0" && rec.Version != "WARC/1.1" {
		c.add(Error, "version %q is not WARC/1.0 or WARC/1.1", rec.Version)
	}
	for _, name := range []string{"WARC-Record-ID", "WARC-Date", "WARC-Type"} {
		if h.Get(name) == "" {
			c.add(Error, "missing mandatory field %s", name)
		}
	}
	if d := h.Get("WARC-Date"); d != "" {
		if t, err := time.Parse(time.RFC3339Nano, d); err != nil || !strings.HasSuffix(d, "Z") || t.IsZero() {
			c.add(Error, "WARC-Date %q is not a UTC date in W3C-ISO8601 form", d)
		}
	}
	typ := h.Get("WARC-Type")
	if c.s.Records == 1 && typ != "warcinfo" {
		c.add(Warning, "first record is %q, not warcinfo", typ)
	}

	blockD := c.parseDigest("WARC-Block-Digest")
	payloadD := c.parseDigest("WARC-Payload-Digest")
	if typ == "revisit" {
		payloadD = nil // the digest of the record it refers to
	}
	var blockH, payloadH hash.Hash
	var hp *httpPayload
	var writers []io.Writer
	if blockD != nil {
		blockH, _ = warc.NewHash(blockD.Algorithm)
		writers = append(writers, blockH)
	}
	httpMsg := (typ == "response" || typ == "request") &&
		strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Content-Type"))), "application/http")
	switch {
	case payloadD == nil:
	case httpMsg:
		hp = newHTTPPayload(payloadD.Algorithm)
		writers = append(writers, hp)
	case blockD != nil && blockD.Algorithm == payloadD.Algorithm:
		payloadH = blockH // no HTTP framing: the payload is the block
	default:
		payloadH, _ = warc.NewHash(payloadD.Algorithm)
		writers = append(writers, payloadH)
	}

	var readErr error
	for {
		n, err := rec.Body.Read(c.buf)
		for _, w := range writers {
			w.Write(c.buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	if err := c.r.Finish(); err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	if rec.SharedMember && rec.Offset != c.lastShared {
		c.lastShared = rec.Offset
		c.add(Warning, "several records share the gzip member at offset %d: they cannot be read from their own offsets (amber writes one member per record)", rec.Offset)
	}

	if blockD != nil {
		if got := blockH.Sum(nil); !bytes.Equal(got, blockD.Sum) {
			c.add(Error, "block digest mismatch: recorded %s, computed %s", blockD, warc.FormatDigest(blockD.Algorithm, got))
		}
	}
	switch {
	case hp != nil:
		c.httpPayload(hp, payloadD)
	case payloadH != nil:
		if got := payloadH.Sum(nil); !bytes.Equal(got, payloadD.Sum) {
			c.add(Error, "payload digest mismatch: recorded %s, computed %s over the block", payloadD, warc.FormatDigest(payloadD.Algorithm, got))
		}
	}
	return nil
}

func (c *checker) httpPayload(hp *httpPayload, want *warc.Digest) {
	if hp.err != nil {
		c.add(Error, "payload digest not checked: %v", hp.err)
		return
	}
	payload := hp.payloadSum()
	if bytes.Equal(payload, want.Sum) {
		return
	}
	if hp.chunked {
		if raw := hp.raw.Sum(nil); bytes.Equal(raw, want.Sum) {
			c.add(Warning, "payload digest %s is over the chunked body as transmitted, chunk framing included (as wget and nlnwa/gowarc write it); the WARC spec wants it over the de-chunked entity body: %s",
				want, warc.FormatDigest(want.Algorithm, payload))
			return
		}
	}
	msg := fmt.Sprintf("payload digest mismatch: recorded %s, computed %s", want, warc.FormatDigest(want.Algorithm, payload))
	if hp.chunked && hp.cd.err != nil {
		msg += fmt.Sprintf(" (chunked body is malformed: %v)", hp.cd.err)
	}
	c.add(Error, "%s", msg)
}

// maxHTTPHead bounds the HTTP head kept in memory to find the body.
const maxHTTPHead = 1 << 20

// httpPayload receives an HTTP message block and hashes its entity body both
// as transmitted (raw) and, for a chunked message, de-chunked (dec).
type httpPayload struct {
	head     []byte
	headDone bool
	chunked  bool
	raw      hash.Hash
	dec      hash.Hash
	cd       chunkDecoder
	err      error
}

func newHTTPPayload(alg string) *httpPayload {
	raw, _ := warc.NewHash(alg)
	dec, _ := warc.NewHash(alg)
	hp := &httpPayload{raw: raw, dec: dec}
	hp.cd.out = dec
	return hp
}

func (hp *httpPayload) Write(p []byte) (int, error) {
	if hp.err != nil {
		return len(p), nil
	}
	if hp.headDone {
		hp.body(p)
		return len(p), nil
	}
	from := max(0, len(hp.head)-3)
	hp.head = append(hp.head, p...)
	headLen, bodyStart := warc.HTTPHeadEnd(hp.head[from:])
	if bodyStart < 0 {
		if len(hp.head) > maxHTTPHead {
			hp.err = fmt.Errorf("no end of the HTTP header in the first %d bytes", maxHTTPHead)
			hp.head = nil
		}
		return len(p), nil
	}
	hp.headDone = true
	head, err := warc.ParseHTTPHeader(hp.head[:from+headLen])
	if err != nil {
		hp.err = err
		return len(p), nil
	}
	for _, te := range head.Fields.Values("Transfer-Encoding") {
		codings := strings.Split(te, ",")
		hp.chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
	}
	hp.body(hp.head[from+bodyStart:])
	hp.head = nil
	return len(p), nil
}

func (hp *httpPayload) body(p []byte) {
	hp.raw.Write(p)
	if hp.chunked {
		hp.cd.Write(p)
	}
}

// payloadSum is the digest the WARC spec defines: the entity body without
// transfer encoding. A message without a complete head has an empty payload.
func (hp *httpPayload) payloadSum() []byte {
	if hp.chunked {
		return hp.dec.Sum(nil)
	}
	return hp.raw.Sum(nil)
}

// chunkDecoder removes chunked transfer coding from bytes pushed into it.
type chunkDecoder struct {
	state int
	line  []byte
	left  uint64
	out   io.Writer
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
			c.err = fmt.Errorf("bad chunk size line %q", line)
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
