package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// TestReplayHosts runs amber replay with --host and sends it requests
// naming several hosts, as a browser after DNS rebinding would: only
// 127.0.0.1, localhost, [::1] and the --host name get the archive.
func TestReplayHosts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "coll")
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath()})
	if err != nil {
		t.Fatal(err)
	}
	b := w.NewRecord(warc.TypeResponse, time.Date(2026, 11, 25, 18, 43, 29, 0, time.UTC))
	b.AddField("WARC-Target-URI", "http://news.example/")
	b.AddField("Content-Type", "application/http;msgtype=response")
	b.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 18\r\n\r\n<h1>archived</h1>\n"))
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex(w.Index()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	g := &globalOptions{stdout: &stdout, stderr: &stderr}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runReplay(ctx, g, replayOptions{hosts: []string{"archive.lan"}}, []string{dir}, ready)
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("runReplay: %v\n%s", err, stderr.String())
	}
	u, _ := url.Parse(base)
	_, port, _ := net.SplitHostPort(u.Host)
	for host, want := range map[string]string{
		"127.0.0.1:" + port:    "200 OK",
		"localhost:" + port:    "200 OK",
		"archive.lan:" + port:  "200 OK",
		"archive.lan":          "200 OK",
		"evil.example:" + port: "403 Forbidden",
		"lan:" + port:          "403 Forbidden",
	} {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /20261125184329mp_/http://news.example/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
		resp, _ := io.ReadAll(conn)
		conn.Close()
		status, _, _ := strings.Cut(string(resp), "\r\n")
		if !strings.Contains(status, want) {
			t.Errorf("Host %s: %q, want %s", host, status, want)
		}
		if want != "200 OK" && strings.Contains(string(resp), "archived</h1>") {
			t.Errorf("Host %s: the archive answered", host)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runReplay: %v", err)
	}
}
