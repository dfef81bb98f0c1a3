package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A page with a million <img> tags, archived with a small
// --max-urls-per-host, stays within bounded memory: what extraction keeps
// of one page is capped (extract.DefaultMaxLinksPerPage), and what is not
// fetched is counted as skipped in the summary line. Peak RSS of the amber
// process is measured (a bound, not a timing).
func TestMillionImages(t *testing.T) {
	images := 1_000_000
	if raceEnabled {
		images = 60_000 // past the per-page cap still; the race detector makes it slow; the bound is not asserted then
	}
	var page bytes.Buffer
	page.WriteString("<!doctype html><html><head><title>A million images</title></head><body>")
	for i := range images {
		fmt.Fprintf(&page, `<img src="/i/%07d.jpg">`, i)
	}
	page.WriteString("</body></html>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html")
			w.Write(page.Bytes())
		case strings.HasPrefix(r.URL.Path, "/i/"):
			w.Header().Set("Content-Type", "image/jpeg")
			io.WriteString(w, "jpeg "+r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	const perHost = 10
	cmd, peak := peakProcess(t, "archive", "--max-urls-per-host", strconv.Itoa(perHost), "-o", dir, srv.URL+"/")
	err := cmd.Wait()
	out := cmd.Stdout.(*bytes.Buffer).String()
	if err != nil {
		t.Fatalf("archive: %v\n%s", err, out)
	}
	rss := peak() >> 10 // KiB
	t.Logf("peak RSS %d MiB; %s", rss>>10, strings.TrimSpace(out))
	// The page and perHost-1 images are admitted; robots.txt is archived
	// besides. Skipped: every other image, and /favicon.ico (the page names
	// no icon) past the per-host cap.
	m := regexp.MustCompile(`archived (\d+) responses .*; 0 failed, (\d+) skipped`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line with skipped URLs:\n%s", out)
	}
	if m[1] != strconv.Itoa(perHost+1) || m[2] != strconv.Itoa(images-(perHost-1)+1) {
		t.Errorf("%s responses, %s skipped; want %d, %d", m[1], m[2], perHost+1, images-(perHost-1)+1)
	}
	// Before the cap, the crawl peaked at ~350 MiB; it now stays near a
	// crawl's usual ~150 MiB.
	if rss > 250<<10 && !raceEnabled {
		t.Errorf("peak RSS %d MiB, want at most 250", rss>>10)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify", "-q", dir}, io.Discard, &stderr); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, stderr.String())
	}
}
