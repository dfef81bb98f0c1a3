package capture_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/capture"
)

type buffer struct{ bytes.Buffer }

func (b *buffer) Size() int64    { return int64(b.Len()) }
func (b *buffer) Discard() error { b.Reset(); return nil }

type maker struct{ blocks []*buffer }

func (m *maker) NewBlock(time.Time) capture.Block {
	b := &buffer{}
	m.blocks = append(m.blocks, b)
	return b
}
func (m *maker) HashAlgorithm() string { return "sha1" }

// A chunked, gzipped response is recorded as it came: the block holds
// the chunk framing and the compressed bytes; the payload digest is over
// the gzip body without the framing; the caller gets the body decoded.
func TestRecordsTheWire(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "<html><body>hello</body></html>")
	zw.Close()
	body := gz.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(body[:10])
		w.(http.Flusher).Flush() // no Content-Length: sent chunked
		w.Write(body[10:])
	}))
	defer srv.Close()
	m := &maker{}
	tr := capture.NewTransport(m, capture.Options{})
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/page", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, ok := resp.Body.(*capture.RecordedBody)
	if !ok {
		t.Fatalf("body is a %T", resp.Body)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "<html><body>hello</body></html>" {
		t.Errorf("body read %q, want it decoded", got)
	}
	ex := rb.Exchange
	block := m.blocks[0].Bytes()
	if !bytes.HasPrefix(block, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.Contains(block, []byte("Transfer-Encoding: chunked\r\n")) ||
		!bytes.Contains(block, append([]byte("\r\na\r\n"), body[:10]...)) {
		t.Errorf("block is not the message as sent:\n%q", block)
	}
	want := sha1.Sum(body)
	if !bytes.Equal(ex.PayloadDigest, want[:]) || ex.PayloadSize != int64(len(body)) {
		t.Errorf("payload digest %x over %d bytes, want %x over the %d bytes of the gzip body", ex.PayloadDigest, ex.PayloadSize, want, len(body))
	}
	if !bytes.HasPrefix(ex.Request, []byte("GET /page HTTP/1.1\r\n")) {
		t.Errorf("request recorded as %q", ex.Request)
	}
}
