package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/amber-archiver/amber/warc"
)

// arcNoDigests is the one finding every ARC file gets: the format has no
// digests, so verify can only say that the file reads to its end.
const arcNoDigests = "ARC file: no digests to check; framing only (header lines, lengths, gzip members)"

// verifyARC checks the framing of an ARC file, told from a WARC file by
// its first bytes: every header line parses, every record's content is as
// long as its header says, every gzip member is intact. In a plain file
// the reader goes on past damage at the next header line; in a gzip file
// the first error ends the check.
func verifyARC(ctx context.Context, s *FileSummary, r *warc.ARCReader, facts *warcFacts) {
	s.Kind = "arc"
	s.warnf(-1, arcNoDigests)
	if strings.Contains(s.File, ".gz") && !r.Compressed() {
		s.warnf(-1, "named .gz but not gzip-compressed")
	}
	lastShared := int64(-1)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			s.Records++
			// The payload's SHA-1 is what amber index (and pywb) give an
			// ARC record, so the collection's index is checked against it.
			var payload warc.DigestCheck
			var d warc.Digest
			var ok bool
			if d, ok, err = warc.ARCPayloadDigest(rec); err == nil {
				err = r.Finish()
			}
			if ok {
				payload = warc.DigestCheck{Field: warc.PayloadDigestField, Status: warc.DigestMatch, Recorded: d, Computed: d}
			}
			if err == nil {
				facts.add(rec, warc.DigestCheck{}, payload)
				if rec.SharedMember && rec.Offset != lastShared {
					lastShared = rec.Offset
					s.add(Finding{Severity: Warning, Offset: rec.Offset, TargetURI: findingURI(rec.Header),
						Message: fmt.Sprintf("several records share the gzip member at offset %d: they cannot be read from their own offsets, which breaks indexed replay", rec.Offset)})
				}
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		var fe *warc.FormatError
		if !errors.As(err, &fe) {
			s.errorf(r.InputOffset(), "read error after %d records: %v", s.Records, err)
			return
		}
		f := Finding{Severity: Error, Offset: fe.Offset, Message: fe.Msg}
		if rec != nil && rec.Offset == fe.Offset {
			f.TargetURI = findingURI(rec.Header)
		}
		if !fe.Fatal {
			// A plain file: the reader goes on at the next header line.
			s.add(f)
			continue
		}
		facts.stoppedAt = fe.Offset
		f.Message += fmt.Sprintf("; reading stopped there, after %d records", s.Records)
		s.add(f)
		return
	}
	if s.Records == 0 {
		s.errorf(-1, "no records (an ARC file holds at least its filedesc version block)")
	}
}
