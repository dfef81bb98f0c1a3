package crawl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// Capture is one archived response, as recorded in the WARC.
type Capture struct {
	URL         string
	Date        time.Time
	Status      int
	ContentType string
	File        string // WARC file base name
	Offset      int64
	RecordID    string
	Bytes       int64 // size of the response block
}

// warcSink writes each exchange as a response record followed by its
// request record, linked both ways with WARC-Concurrent-To.
type warcSink struct {
	w *warc.Writer

	mu       sync.Mutex
	captures []Capture
	bytes    int64
}

func (s *warcSink) HashAlgorithm() string { return s.w.Algorithm() }

func (s *warcSink) NewBlock(started time.Time) Block {
	return s.w.NewRecord(warc.TypeResponse, started)
}

func (s *warcSink) Record(ex *Exchange) error {
	resp, ok := ex.Response.(*warc.Builder)
	if !ok {
		return errors.New("crawl: response block was not made by this sink")
	}
	req := s.w.NewRecord(warc.TypeRequest, ex.Started)
	if _, err := req.Write(ex.Request); err != nil {
		resp.Discard()
		req.Discard()
		return err
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
	if incompressible(ex.ContentType, ex.ContentEncoding) {
		resp.SetIncompressible()
	}

	req.AddField("WARC-Target-URI", ex.URL)
	req.AddField("Content-Type", "application/http;msgtype=request")
	if ex.RemoteIP != "" {
		req.AddField("WARC-IP-Address", ex.RemoteIP)
	}
	req.AddField("WARC-Concurrent-To", resp.ID())
	req.SetPayloadDigest(ex.RequestPayloadDigest)

	size := resp.Size()
	written, err := s.w.Write(resp, req)
	if err != nil {
		return fmt.Errorf("writing WARC records: %w", err)
	}
	s.mu.Lock()
	s.captures = append(s.captures, Capture{
		URL: ex.URL, Date: ex.Started.UTC().Truncate(time.Second), Status: ex.StatusCode,
		ContentType: ex.ContentType, File: written[0].File, Offset: written[0].Offset,
		RecordID: written[0].ID, Bytes: size,
	})
	s.bytes += size
	s.mu.Unlock()
	return nil
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
