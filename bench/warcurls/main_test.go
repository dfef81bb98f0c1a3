package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func record(typ, uri, block string) string {
	return fmt.Sprintf("WARC/1.1\r\nWARC-Type: %s\r\nWARC-Target-URI: %s\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n", typ, uri, len(block), block)
}

func TestScanAndCompare(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	for _, r := range []string{
		record("warcinfo", "", "software: test\r\n"),
		record("request", "http://h/", "GET / HTTP/1.1\r\n\r\n"),
		record("response", "http://h/", "HTTP/1.1 200 OK\r\n\r\n<html>"),
		record("response", "<http://h/a.jpg>", "HTTP/1.1 200 OK\r\n\r\n\x00\xff"),
		record("revisit", "http://h/b.jpg", "HTTP/1.1 200 OK\r\n\r\n"),
		record("response", "http://x/ref/1.html", "HTTP/1.1 200 OK\r\n\r\n"),
	} {
		zw := gzip.NewWriter(&buf) // one member per record
		zw.Write([]byte(r))
		zw.Close()
	}
	name := filepath.Join(dir, "t.warc.gz")
	os.WriteFile(name, buf.Bytes(), 0o644)
	var got []string
	if err := scan(name, func(typ, uri string) {
		if typ == "response" {
			got = append(got, uri)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "http://h/ http://h/a.jpg http://x/ref/1.html" {
		t.Fatalf("got %q", got)
	}
	manifest := filepath.Join(dir, "m.txt")
	os.WriteFile(manifest, []byte("http://h/\nhttp://h/s/\nhttp://h/a.jpg\nhttp://h/b.jpg\n"), 0o644)
	found := map[string]bool{}
	for _, u := range got {
		found[u] = true
	}
	var out bytes.Buffer
	if err := compare(&out, manifest, found, 3, 1, 5, "http://x/"); err != nil {
		t.Fatal(err)
	}
	want := "pages_total 2\npages_found 1\nresources_total 2\nresources_found 1\nresponses 3\nrevisits 1\noutside 1\nexternal 1\nmissing_page http://h/s/\nmissing_resource http://h/b.jpg\n"
	if out.String() != want {
		t.Fatalf("got\n%s", out.String())
	}
}
