package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/amber-archiver/amber/warc"
)

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// oddHTTPHead is the size of an HTTP head past which verify warns: what
// Chromium accepts of a response head (its ERR_RESPONSE_HEADERS_TOO_BIG
// limit). Larger heads are archived as sent and read in bounded memory.
const oddHTTPHead = 256 << 10

// maxListed caps the findings of one kind that are listed one by one for a
// file; the rest are counted in one more finding.
const maxListed = 10

// verifyWARC checks every record of one WARC file and, when res is not nil,
// the file against its datapackage.json entry, in a single read of the file.
// It returns what the checks across files need to know about the records.
// teeFile returns a reader of f that counts the bytes read and feeds the
// datapackage hash of res (if listed), and a finish function that records
// size, time and fixity in s. For the fixity it reads the rest of a listed
// file; an unlisted one is read no further than its records could be
// followed, so garbage costs a bounded read.
func teeFile(ctx context.Context, f io.Reader, res *resource) (io.Reader, func(*FileSummary, time.Time)) {
	counter := &countWriter{}
	var sink io.Writer = counter
	var fx *fixity
	if res != nil {
		fx = newFixity(res)
		sink = io.MultiWriter(counter, fx)
	}
	in := io.TeeReader(ctxReader{ctx, f}, sink)
	return in, func(s *FileSummary, start time.Time) {
		if ctx.Err() != nil {
			return
		}
		if fx != nil {
			if _, err := io.Copy(io.Discard, in); err != nil {
				s.errorf(counter.n, "read error: %v", err)
			}
		}
		s.Bytes = counter.n
		s.Duration = time.Since(start)
		if fx != nil {
			fx.check(s, counter.n)
		}
	}
}

func verifyWARC(ctx context.Context, src *source, res *resource) (s FileSummary, facts *warcFacts) {
	start := time.Now()
	path := src.name
	s.File, s.Kind = path, "warc"
	facts = newWARCFacts(src)
	f, _, err := src.open()
	if err != nil {
		s.errorf(-1, "%v", err)
		facts.stoppedAt = 0
		return s, facts
	}
	defer f.Close()

	// Everything read from the file passes the tee below the WARC reader's
	// buffer exactly once: the byte count and the manifest hash see the
	// whole file even when the records stop making sense.
	in, finish := teeFile(ctx, f, res)
	defer func() { finish(&s, start) }()

	if strings.HasSuffix(path, ".open") {
		s.warnf(-1, "still open (.open): a crawl is writing it or was killed; run the same amber archive command to finish it, or amber repair to salvage it")
	}
	rr, err := warc.OpenRecords(in)
	var na *warc.NotArchiveError
	switch {
	case errors.As(err, &na) && na.Empty && isWARCName(path):
		// Nothing is lost that was there, but a WARC file kept for years
		// holds at least its warcinfo record: an empty one is what a
		// failed copy or a full disk leaves.
		s.errorf(-1, "empty file: no records (a WARC file holds at least its warcinfo record)")
		facts.stoppedAt = 0
		return s, facts
	case na != nil:
		// One finding, not framing errors: nothing in it is a record.
		s.Kind = KindNotArchive
		s.errorf(-1, "%s", na.Reason())
		facts.stoppedAt = 0
		return s, facts
	case err != nil:
		s.errorf(0, "read error: %v", err)
		facts.stoppedAt = 0
		return s, facts
	}
	if ar, ok := rr.(*warc.ARCReader); ok {
		verifyARC(ctx, &s, ar, facts)
		return s, facts
	}
	r := rr.(*warc.Reader)
	if src.from != nil && !r.Compressed() {
		// A second view of the file: a block whose Content-Length runs
		// over the records after it is found before it is read.
		if sec, closer, err := src.from(0); err == nil {
			defer closer.Close()
			if ra, ok := sec.(io.ReaderAt); ok {
				r.CheckBlockEnds(ra)
			}
		}
	}
	if strings.Contains(path, ".gz") && !r.Compressed() {
		s.warnf(-1, "named .gz but not gzip-compressed")
	}
	c := &checker{s: &s, r: r, facts: facts, lastShared: -1,
		segments: map[string]*warc.RecordDigester{}}
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
			return s, facts
		}
		if stop := c.framing(err); stop >= 0 {
			facts.stoppedAt = stop
			break
		}
	}
	c.finish()
	if s.Records == 0 && s.Errors == 0 {
		s.errorf(-1, "no records (a WARC file holds at least its warcinfo record)")
	}
	return s, facts
}

// checker checks the records of one file.
type checker struct {
	s          *FileSummary
	r          *warc.Reader
	facts      *warcFacts
	lastShared int64
	rec        *warc.Record // the record being checked, for findings

	// segments are the segmented records whose next segment is due, by
	// WARC-Segment-Origin-ID.
	segments map[string]*warc.RecordDigester

	noBlockDigest      int // records without WARC-Block-Digest
	firstNoBlockDigest int64

	// hashTransmitted: hash chunked bodies as transmitted too, once a
	// record showed that this file's writer took payload digests over them.
	hashTransmitted bool
	nth             int // the record's place in its gzip member
}

func (c *checker) add(sev Severity, format string, args ...any) {
	c.s.add(c.finding(sev, c.rec, fmt.Sprintf(format, args...)))
}

func (c *checker) finding(sev Severity, rec *warc.Record, msg string) Finding {
	return Finding{Severity: sev, Offset: rec.Offset, Message: msg,
		RecordID: clipURI(rec.Header.Get("WARC-Record-ID")), TargetURI: findingURI(rec.Header)}
}

// targetURI is WARC-Target-URI without the angle brackets WARC/1.0 writers
// put around it.
func targetURI(h warc.Header) string {
	u := h.Get("WARC-Target-URI")
	if len(u) > 1 && u[0] == '<' && u[len(u)-1] == '>' {
		u = u[1 : len(u)-1]
	}
	return u
}

// maxFindingURI bounds the target URI a finding names: a finding is one
// line, and a crafted URI can be a megabyte long.
const maxFindingURI = 2000

// findingURI is targetURI, cut to maxFindingURI bytes for a finding.
func findingURI(h warc.Header) string { return clipURI(targetURI(h)) }

// clipURI cuts a URI to maxFindingURI bytes for a finding.
func clipURI(u string) string {
	if len(u) > maxFindingURI {
		u = u[:maxFindingURI] + fmt.Sprintf("...(%d bytes)", len(u))
	}
	return u
}

// framing reports a framing error and, if reading the file must stop,
// where the bytes left unchecked start; else it returns -1.
func (c *checker) framing(err error) (stop int64) {
	var fe *warc.FormatError
	if !errors.As(err, &fe) {
		c.s.errorf(c.r.InputOffset(), "read error after %d records: %v", c.s.Records, err)
		return c.r.InputOffset()
	}
	msg := fe.Msg
	stop = -1
	if fe.Fatal {
		stop = fe.Offset
		msg += fmt.Sprintf("; reading stopped there, after %d records: amber repair can write the intact records to a new file", c.s.Records)
	}
	f := Finding{Severity: Error, Offset: fe.Offset, Message: msg}
	if c.rec != nil && c.rec.Offset == fe.Offset {
		f.RecordID, f.TargetURI = clipURI(c.rec.Header.Get("WARC-Record-ID")), findingURI(c.rec.Header)
	}
	c.s.add(f)
	return stop
}

// record checks one record. It returns a framing error of the record, which
// the caller reports; digests are compared only for a complete block.
func (c *checker) record(rec *warc.Record) error {
	c.rec = rec
	h := rec.Header
	c.checkFields(rec)
	typ := h.Get("WARC-Type")
	if c.s.Records == 1 && typ != "warcinfo" {
		c.add(Warning, "first record is %q, not warcinfo", typ)
	}

	if c.s.Records > 1 && rec.Offset == c.prevOffset() {
		c.nth++
	} else {
		c.nth = 0
	}
	d := c.digester(h)
	if !c.hashTransmitted {
		d.SkipTransmittedHash()
	}
	// io.Copy feeds the digester straight from the reader's buffer
	// (Body is an io.WriterTo): every hash from the same bytes, no copy.
	_, readErr := io.Copy(d, rec.Body)
	ferr := c.r.Finish()
	if readErr != nil || ferr != nil && !errors.Is(ferr, gzip.ErrChecksum) {
		// The block is incomplete: its digests say nothing. The record
		// is still noted, so that the index and revisits referring to it
		// are not reported as pointing at nothing.
		c.facts.add(rec, warc.DigestCheck{}, warc.DigestCheck{})
		if ferr != nil {
			return ferr
		}
		return readErr
	}
	if rec.SharedMember && rec.Offset != c.lastShared {
		c.lastShared = rec.Offset
		c.add(Warning, "several records share the gzip member at offset %d: they cannot be read from their own offsets, which breaks indexed replay (amber writes one member per record)", rec.Offset)
	}

	block := d.Block()
	if block.Status == warc.DigestAbsent {
		if c.noBlockDigest == 0 {
			c.firstNoBlockDigest = rec.Offset
		}
		c.noBlockDigest++
	}
	c.digest(block)
	payload := d.Payload()
	if errors.Is(payload.Err, warc.ErrTransmittedNotHashed) {
		// Rare: read the record again, hashing what was skipped.
		payload = c.rehash(rec)
		if payload.Status == warc.DigestDeviation {
			c.hashTransmitted = true // this writer does it for every record
		}
	}
	c.digest(payload)
	if size, lines := d.HTTPHead(); size > oddHTTPHead {
		c.add(Warning, "HTTP head of %d bytes in %d lines, larger than web browsers accept (%d KiB): the server sent it so and the record holds it intact, but replay tools may refuse it", size, lines, oddHTTPHead>>10)
	}
	if d.Segmented() && typ != "continuation" {
		c.segments[h.Get("WARC-Record-ID")] = d // continuations are kept by digester
	}
	c.facts.add(rec, block, payload)
	// A CRC error: the digests above tell whether the block is intact.
	return ferr
}

func (c *checker) prevOffset() int64 { return c.facts.lastOffset }

// rehash reads the record being checked again and returns the check of its
// payload digest with every hash a digester can take.
func (c *checker) rehash(rec *warc.Record) warc.DigestCheck {
	var check warc.DigestCheck
	err := recordAt(c.facts.src, rec.Offset, c.nth, func(again *warc.Record) error {
		d := warc.NewRecordDigester(again.Header)
		if _, err := io.Copy(d, again.Body); err != nil {
			return err
		}
		check = d.Payload()
		return nil
	})
	if err != nil {
		check = warc.DigestCheck{Field: warc.PayloadDigestField, Value: rec.Header.Get(warc.PayloadDigestField),
			Status: warc.DigestMismatch, Err: fmt.Errorf("reading the record again: %w", err)}
	}
	return check
}

// digester returns the digester for a record: a fresh one, or for the next
// segment of a segmented record, one that goes on with its payload.
func (c *checker) digester(h warc.Header) *warc.RecordDigester {
	if h.Get("WARC-Type") != "continuation" {
		return warc.NewRecordDigester(h)
	}
	origin := h.Get("WARC-Segment-Origin-ID")
	if prev, ok := c.segments[origin]; ok {
		delete(c.segments, origin)
		if d := prev.Continue(h); d != nil {
			if d.Segmented() {
				c.segments[origin] = d
			}
			return d
		}
		c.add(Warning, "segment %s of %s is not the one expected next: the payload digest of the segmented record is not checked", h.Get("WARC-Segment-Number"), origin)
		return warc.NewRecordDigester(h)
	}
	c.add(Warning, "continuation of %s, whose earlier segments are not before it in this file: the payload digest of the segmented record is not checked", origin)
	return warc.NewRecordDigester(h)
}

// digest reports the outcome of one digest check.
func (c *checker) digest(d warc.DigestCheck) {
	switch d.Status {
	case warc.DigestMismatch:
		what := "block digest"
		if d.Field == warc.PayloadDigestField {
			what = "payload digest"
		}
		msg := fmt.Sprintf("%s mismatch: recorded %s, computed %s", what, d.Recorded, d.Computed)
		if d.Computed.Algorithm == "" {
			msg = fmt.Sprintf("%s %s not checked", what, d.Recorded)
		}
		if d.Err != nil {
			msg += fmt.Sprintf(" (%v)", d.Err)
		}
		c.add(Error, "%s", msg)
	case warc.DigestDeviation:
		c.add(Warning, "%s %s is over %s: %s", d.Field, d.Value, d.Note, d.Computed)
	case warc.DigestMalformed:
		c.add(Error, "%s %q is malformed: %v", d.Field, clip(d.Value), cause(d.Err))
	case warc.DigestUnknown:
		c.add(Warning, "%s %q uses an unknown algorithm; not checked", d.Field, clip(d.Value))
	}
}

// cause strips the package prefix of a warc error for a message.
func cause(err error) string {
	return strings.TrimPrefix(err.Error(), "warc: ")
}

// finish reports what is only known at the end of the file.
func (c *checker) finish() {
	for _, origin := range slices.Sorted(maps.Keys(c.segments)) {
		c.s.warnf(-1, "segmented record %s ends without its last segment in this file: its payload digest is not checked", origin)
	}
	switch {
	case c.noBlockDigest == 1:
		c.s.warnf(c.firstNoBlockDigest, "the record at offset %d has no WARC-Block-Digest: its block cannot be checked for damage", c.firstNoBlockDigest)
	case c.noBlockDigest > 1:
		c.s.warnf(c.firstNoBlockDigest, "%d records have no WARC-Block-Digest: their blocks cannot be checked for damage (the first at offset %d)", c.noBlockDigest, c.firstNoBlockDigest)
	}
}
