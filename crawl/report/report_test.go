package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// writeCollection makes a collection by hand: one run whose seeds are a
// page behind two redirects, a 404, a page that failed, a redirect loop
// and a redirect to ftp:.
func writeCollection(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath(), Info: []warc.Field{
		{Name: "software", Value: "amber/test"},
		{Name: "amber-crawl", Value: "3 (run 2)"},
		{Name: "amber-seeds", Value: "http://a.example/old http://a.example/404 http://down.example/ http://a.example/loop http://a.example/ftp not-a-url"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 19, 20, 16, 0, time.UTC)
	resp := func(uri, head string) {
		b := w.NewRecord(warc.TypeResponse, at)
		b.AddField("WARC-Target-URI", uri)
		b.AddField("Content-Type", "application/http;msgtype=response")
		b.Write([]byte(head))
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second)
	}
	resp("http://a.example/old", "HTTP/1.1 301 Moved\r\nLocation: /mid\r\nContent-Length: 0\r\n\r\n")
	resp("http://a.example/mid", "HTTP/1.1 302 Found\r\nLocation: https://b.example/new\r\nContent-Length: 0\r\n\r\n")
	resp("https://b.example/new", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello")
	resp("http://a.example/404", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	resp("http://a.example/loop", "HTTP/1.1 302 Found\r\nLocation: /loop2\r\nContent-Length: 0\r\n\r\n")
	resp("http://a.example/loop2", "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n")
	resp("http://a.example/ftp", "HTTP/1.1 302 Found\r\nLocation: ftp://files.example/x\r\nContent-Length: 0\r\n\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex(w.Index()); err != nil {
		t.Fatal(err)
	}
	log := `{"time":"2026-11-25T19:20:18Z","url":"http://down.example/","status":0,"bytes":0,"ms":3,"error":"dial tcp: lookup down.example: no such host","hops":0,"kind":"page"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, warc.LogsDir, "crawl-20261125192016-abcdef12.jsonl"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRows(t *testing.T) {
	dir := writeCollection(t)
	c, err := Open(dir, Options{Run: 2})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Run: 2, URL: "http://a.example/old", FinalURL: "https://b.example/new", Status: 200, Captured: time.Date(2026, 11, 25, 19, 20, 18, 0, time.UTC), ArchivalPath: "/20261125192018/https://b.example/new", Redirects: 2},
		{Run: 2, URL: "http://a.example/404", FinalURL: "http://a.example/404", Status: 404, Captured: time.Date(2026, 11, 25, 19, 20, 19, 0, time.UTC), ArchivalPath: "/20261125192019/http://a.example/404"},
		{Run: 2, URL: "http://down.example/", Failure: "dial tcp: lookup down.example: no such host"},
		{Run: 2, URL: "http://a.example/loop", Redirects: 2, Failure: "redirect loop at http://a.example/loop"},
		{Run: 2, URL: "http://a.example/ftp", Failure: `redirect to an unsupported scheme "ftp": ftp://files.example/x`},
		{Run: 2, URL: "not-a-url", Failure: `not an absolute URL: "not-a-url"`},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*.warc.gz"))
	for i, w := range want {
		r := rows[i]
		if r.Status != 0 {
			if r.RecordID == "" || r.WARCFile != filepath.Base(files[0]) {
				t.Errorf("row %d: record %q in %q", i, r.RecordID, r.WARCFile)
			}
			r.RecordID, r.WARCFile = "", ""
		}
		if r != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, r, w)
		}
	}
	body, ct, final, err := c.Body("http://a.example/old", 1<<20)
	if err != nil || string(body) != "hello" || ct != "text/html" || final != "https://b.example/new" {
		t.Errorf("Body: %q %q %q %v", body, ct, final, err)
	}
	if _, err := Open(dir, Options{Run: 1}); !errors.Is(err, ErrNoSuchRun) {
		t.Errorf("run 1: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "nowhere"), Options{}); !errors.Is(err, ErrNotCollection) {
		t.Errorf("no collection: %v", err)
	}
}
