package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestCookiesAcrossKill: a cookie a page sets is in the crawl state, so
// that the crawl resumed after a SIGKILL sends it with the requests it
// makes, though it does not fetch that page again. The value is in the
// request records, as sent, and nowhere in the logs.
func TestCookiesAcrossKill(t *testing.T) {
	const value = "s3cr3t-v4lue"
	arrived := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var sent []string // Cookie headers /next.html was requested with
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: value, Path: "/", MaxAge: 3600})
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><link rel=icon href=/icon.png></head><body><a href="/next.html">next</a></body></html>`)
		case "/next.html":
			mu.Lock()
			sent = append(sent, r.Header.Get("Cookie"))
			first := len(sent) == 1
			mu.Unlock()
			if first {
				once.Do(func() { close(arrived) })
				<-r.Context().Done() // hangs until the crawl is killed
				return
			}
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><link rel=icon href=/icon.png></head><body>next</body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	args := []string{"archive", "-q", "--scope", "host", "-o", dir, srv.URL + "/"}
	cmd := amberProcess(t, args...)
	<-arrived
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 2 || sent[1] != "session="+value {
		t.Fatalf("/next.html was requested with cookies %q; want the resumed run to send session=%s", sent, value)
	}
	var warcs []byte
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*.warc.gz"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		warcs = append(warcs, b...)
	}
	if !bytes.Contains(warcs, []byte("GET /next.html HTTP/1.1\r\n")) || !bytes.Contains(warcs, []byte("\r\nCookie: session="+value+"\r\n")) {
		t.Error("no request record of /next.html with the cookie as sent")
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	if len(logs) == 0 {
		t.Fatal("no crawl log")
	}
	for _, l := range logs {
		if b, _ := os.ReadFile(l); bytes.Contains(b, []byte(value)) {
			t.Errorf("%s holds the cookie's value", l)
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), value) {
		t.Error("the output holds the cookie's value")
	}
}
