package replay

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// TestLenientHeads: archived HTTP heads written by other tools that do not
// match their bodies, or do not parse as net/http wants them, are served
// with the body the record holds: never a 502.
func TestLenientHeads(t *testing.T) {
	t0 := time.Date(2010, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, raw, want string
		status          int
	}{
		{"negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: -1\r\n\r\nhello body", "hello body", 200},
		{"garbage Content-Length", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: lots\r\n\r\nhello body", "hello body", 200},
		{"two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nhello body", "hello body", 200},
		{"no status text", "HTTP/1.1 404\r\nContent-Type: text/plain\r\n\r\ngone", "gone", 404},
		{"folded header", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Folded: one\r\n two\r\n\r\nfolded", "folded", 200},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nlf body", "lf body", 200},
		{"not a field", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nthis is no header\r\n\r\nstill served", "still served", 200},
		{"chunked head, body stored de-chunked", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nplain stored body", "plain stored body", 200},
		{"chunked head, chunked body", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n chunk\r\n0\r\n\r\n", "hello chunk", 200},
	}
	dir := filepath.Join(t.TempDir(), "coll")
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath()})
	if err != nil {
		t.Fatal(err)
	}
	url := func(i int) string { return "http://old.example/" + string(rune('a'+i)) }
	for i, tc := range cases {
		b := w.NewRecord(warc.TypeResponse, t0)
		b.AddField("WARC-Target-URI", url(i))
		b.AddField("Content-Type", "application/http;msgtype=response")
		b.Write([]byte(tc.raw))
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex(w.Index()); err != nil {
		t.Fatal(err)
	}
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(NewHandler(a))
	defer srv.Close()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/" + t0.Format(tsLayout) + "mp_/" + url(i))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || string(body) != tc.want {
				t.Errorf("served %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
}

// TestDamagedRecordSkipped: a WARC file with one damaged record between
// good ones still opens; the damaged record is left out and counted, and
// the records after it are served: after a damaged gzip member, and in
// uncompressed files after a record cut short in the middle or garbage
// between records (the reader resynchronises at the next version line).
func TestDamagedRecordSkipped(t *testing.T) {
	for _, tc := range []struct {
		file string
		urls []string // served after the damage
	}{
		{"gzip-crc.warc.gz", []string{"t.txt"}},
		{"plain-cut-in-the-middle.warc", []string{"s.css", "r.txt"}},
		{"plain-garbage-between.warc", []string{"t.txt", "s.css", "r.txt"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			a, err := OpenWARC(filepath.Join("..", "testdata", "damaged", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Skipped() != 1 {
				t.Errorf("%d records skipped, want 1", a.Skipped())
			}
			srv := httptest.NewServer(NewHandler(a))
			defer srv.Close()
			for _, u := range tc.urls {
				resp, err := http.Get(srv.URL + "/20240506070809mp_/http://example.com/" + u)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || u == "r.txt" && string(body) != "resource body" {
					t.Errorf("%s, after the damaged record: %d %q, want 200", u, resp.StatusCode, body)
				}
			}
		})
	}
}

// TestNotArchiveInCollection: a file in archive/ that is no WARC file is
// left out and named; the collection's WARC files are replayed.
func TestNotArchiveInCollection(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("..", "testdata", "damaged", "good.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "archive"), 0o755)
	os.WriteFile(filepath.Join(dir, "archive", "good.warc.gz"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "archive", "notes.warc"), []byte("my notes\n"), 0o644)
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if na := a.NotArchives(); len(na) != 1 || !errors.Is(na[0], warc.ErrNotArchive) || filepath.Base(na[0].Path) != "notes.warc" {
		t.Errorf("left out %v, want notes.warc", na)
	}
	if a.Len() == 0 {
		t.Error("nothing indexed from good.warc.gz")
	}
}
