package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// oddCollection writes, with amber's own writer, a collection holding what
// hostile servers once made amber archive: a response with 100,000 header
// lines and a request with a ~7 MB head of cookies.
func oddCollection(t *testing.T, dir string) {
	t.Helper()
	coll, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: coll.ArchivePath(), SpoolDir: t.TempDir(), Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	body := "<html><title>odd</title>after a long head</html>"
	resp := w.NewRecord(warc.TypeResponse, date)
	resp.AddField("WARC-Target-URI", "http://example.com/")
	resp.AddField("Content-Type", "application/http;msgtype=response")
	sum := sha1.Sum([]byte(body))
	resp.SetPayloadDigest(sum[:])
	io.WriteString(resp, "HTTP/1.1 200 OK\r\n")
	for i := range 100_000 {
		fmt.Fprintf(resp, "X-Filler-%d: %d\r\n", i, i)
	}
	fmt.Fprintf(resp, "Content-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	req := w.NewRecord(warc.TypeRequest, date)
	req.AddField("WARC-Target-URI", "http://example.com/")
	req.AddField("Content-Type", "application/http;msgtype=request")
	empty := sha1.Sum(nil)
	req.SetPayloadDigest(empty[:])
	io.WriteString(req, "GET / HTTP/1.1\r\nHost: example.com\r\nCookie: ")
	for i := 0; i < 7<<20/4000; i++ {
		fmt.Fprintf(req, "c%d=%s; ", i, strings.Repeat("v", 4000))
	}
	io.WriteString(req, "\r\n\r\n")
	if _, err := w.Write(resp, req); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range w.Files() {
		ls, err := warc.IndexWARC(coll.ArchivePath() + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			lines = append(lines, l.String())
		}
	}
	if err := coll.AddIndex(lines); err != nil {
		t.Fatal(err)
	}
	if err := coll.WriteDatapackage("amber-test", date, w.FileHashes()); err != nil {
		t.Fatal(err)
	}
}

// TestOddHeadsVerifyAndPack: a collection with odd but intact heads
// verifies with exit 0 (warnings naming them) and packs.
func TestOddHeadsVerifyAndPack(t *testing.T) {
	dir := t.TempDir() + "/odd"
	oddCollection(t, dir)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if n := strings.Count(stderr.String(), "warning: "); n != 2 || !strings.Contains(stderr.String(), "in 100003 lines, larger than web browsers accept") {
		t.Errorf("verify warnings:\n%s", stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"pack", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("pack: exit %d\n%s", code, stderr.String())
	}
	if fi, err := os.Stat(dir + ".wacz"); err != nil || fi.Size() < 1000 {
		t.Fatalf("pack wrote %v, %v", fi, err)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"verify", "--strict", dir}, io.Discard, &stderr); code != 1 {
		t.Errorf("verify --strict: exit %d, want 1 (the warnings)", code)
	}
}
