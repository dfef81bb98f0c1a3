package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc"
)

// warcSink writes each exchange as a response (or revisit) record
// followed by its request record, linked both ways with
// WARC-Concurrent-To.
type warcSink struct {
	w     *warc.Writer
	index digestIndex // nil: no look-ups
	dedup bool

	mu     sync.Mutex
	recent map[string]frontier.DigestRef // digests written in this run, not yet in the frontier
}

// digestIndex is what the sink needs of the frontier: its digest index.
type digestIndex interface {
	LookupDigest(ctx context.Context, digest string) (frontier.DigestRef, bool, error)
}

// committed forgets digests the state now holds, so recent stays as small
// as one checkpoint's worth of records however long the crawl runs.
func (s *warcSink) committed(refs []frontier.DigestRef) {
	s.mu.Lock()
	for _, r := range refs {
		if cur, ok := s.recent[r.Digest]; ok && cur.RecordID == r.RecordID {
			delete(s.recent, r.Digest)
		}
	}
	s.mu.Unlock()
}

func (s *warcSink) HashAlgorithm() string { return s.w.Algorithm() }

func (s *warcSink) NewBlock(started time.Time) capture.Block {
	return s.w.NewRecord(warc.TypeResponse, started)
}

// recordOut is what Record wrote.
type recordOut struct {
	revisit bool
	ref     *frontier.DigestRef // a full response revisits may refer to
}

// RevisitProfile is the WARC-Profile of revisits amber writes.
const RevisitProfile = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

// earlier finds an archived record with the same payload digest: one
// written by this run, or one in the frontier's index. A look-up that
// fails is an error, never taken for a payload not archived before.
func (s *warcSink) earlier(ctx context.Context, digest string) (frontier.DigestRef, bool, error) {
	s.mu.Lock()
	ref, ok := s.recent[digest]
	s.mu.Unlock()
	if ok || s.index == nil {
		return ref, ok, nil
	}
	ref, ok, err := s.index.LookupDigest(ctx, digest)
	if err != nil {
		return ref, false, &DigestLookupError{Digest: digest, Err: err}
	}
	return ref, ok, nil
}

// DigestLookupError is a payload whose digest could not be looked up in
// the frontier: whether it is a revisit is not known, so it is not
// written.
type DigestLookupError struct {
	Digest string
	Err    error
}

func (e *DigestLookupError) Error() string {
	return fmt.Sprintf("crawl state: looking up payload digest %s: %v", e.Digest, e.Err)
}
func (e *DigestLookupError) Unwrap() error { return e.Err }

func (s *warcSink) Record(ctx context.Context, ex *capture.Exchange) (recordOut, error) {
	var out recordOut
	resp, ok := ex.Response.(*warc.Builder)
	if !ok {
		return out, errors.New("crawl: response block was not made by this sink")
	}
	digest := warc.FormatDigest(s.w.Algorithm(), ex.PayloadDigest)
	if s.dedup && ex.PayloadSize >= MinRevisitSize && ex.Truncated == "" {
		ref, ok, err := s.earlier(ctx, digest)
		if err != nil {
			resp.Discard()
			return out, err
		}
		if ok {
			rv, err := s.revisit(ex, resp, ref)
			if err != nil {
				return out, err
			}
			resp = rv
			out.revisit = true
		}
	}
	req := s.w.NewRecord(warc.TypeRequest, ex.Started)
	if _, err := req.Write(ex.Request); err != nil {
		resp.Discard()
		req.Discard()
		return out, err
	}

	resp.AddField("WARC-Target-URI", ex.URL)
	resp.AddField("Content-Type", "application/http;msgtype=response")
	if ex.RemoteIP != "" {
		resp.AddField("WARC-IP-Address", ex.RemoteIP)
	}
	resp.AddField("WARC-Concurrent-To", req.ID())
	if ex.Truncated != "" {
		resp.AddField("WARC-Truncated", ex.Truncated)
	}
	resp.SetPayloadDigest(ex.PayloadDigest)
	if !out.revisit && incompressible(ex.ContentType, ex.ContentEncoding) {
		resp.SetIncompressible()
	}

	req.AddField("WARC-Target-URI", ex.URL)
	req.AddField("Content-Type", "application/http;msgtype=request")
	if ex.RemoteIP != "" {
		req.AddField("WARC-IP-Address", ex.RemoteIP)
	}
	req.AddField("WARC-Concurrent-To", resp.ID())
	req.SetPayloadDigest(ex.RequestPayloadDigest)

	id := resp.ID()
	if _, err := s.w.Write(resp, req); err != nil {
		return out, fmt.Errorf("writing WARC records: %w", err)
	}
	if !out.revisit && ex.PayloadSize >= MinRevisitSize && ex.Truncated == "" {
		ref := frontier.DigestRef{Digest: digest, RecordID: id, URI: ex.URL, Date: ex.Started.UTC().Format(warc.DateFormat)}
		s.mu.Lock()
		if s.recent == nil {
			s.recent = map[string]frontier.DigestRef{}
		}
		if _, dup := s.recent[digest]; !dup {
			s.recent[digest] = ref
			out.ref = &ref
		}
		s.mu.Unlock()
	}
	return out, nil
}

// revisit builds a revisit record for a response whose payload was
// archived before: the HTTP status line and headers are kept, the payload
// is left out, and the record names the one it repeats.
func (s *warcSink) revisit(ex *capture.Exchange, resp *warc.Builder, ref frontier.DigestRef) (*warc.Builder, error) {
	head := resp.Head(1 << 20)
	_, n := warc.HTTPHeadEnd(head) // the status line and headers, with the blank line that ends them
	if n < 0 {
		return resp, nil // no complete header: keep the full response
	}
	rv := s.w.NewRecord(warc.TypeRevisit, ex.Started)
	if _, err := rv.Write(head[:n]); err != nil {
		rv.Discard()
		return nil, err
	}
	resp.Discard()
	rv.AddField("WARC-Profile", RevisitProfile)
	rv.AddField("WARC-Refers-To", ref.RecordID)
	rv.AddField("WARC-Refers-To-Target-URI", ref.URI)
	rv.AddField("WARC-Refers-To-Date", ref.Date)
	return rv, nil
}

func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// incompressible reports whether a body of this type and encoding is
// already compressed, so deflating it again would cost CPU for nothing.
func incompressible(contentType, contentEncoding string) bool {
	if ce := strings.ToLower(strings.TrimSpace(contentEncoding)); ce != "" && ce != "identity" {
		return true // gzip, br, deflate, zstd
	}
	ct := strings.ToLower(contentType)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	switch {
	case strings.HasPrefix(ct, "image/"):
		return ct != "image/svg+xml" && ct != "image/bmp" && ct != "image/x-icon" && ct != "image/vnd.microsoft.icon"
	case strings.HasPrefix(ct, "video/"), strings.HasPrefix(ct, "audio/"):
		return true
	case ct == "font/woff" || ct == "font/woff2" || ct == "application/font-woff" || ct == "application/font-woff2":
		return true
	case ct == "application/zip" || ct == "application/gzip" || ct == "application/x-gzip" ||
		ct == "application/pdf" || ct == "application/x-7z-compressed" || ct == "application/x-xz" || ct == "application/zstd":
		return true
	}
	return false
}
