package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/report"
	"github.com/amber-archiver/amber/warc"
)

// citedSite is a test server with pages a document cites: 200s with
// requisites, a 404, a redirect chain, a feed whose items can change.
type citedSite struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	items []string // paths the feed lists
	docMD string   // served at /doc.md
}

func newCitedSite(t *testing.T) *citedSite {
	s := &citedSite{hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		items, docMD := s.items, s.docMD
		s.mu.Unlock()
		page := func(title string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>%s</title><link rel="stylesheet" href="/style.css"></head><body><h1>%s</h1><img src="/img.png"></body></html>`, title, title)
		}
		switch p := r.URL.Path; {
		case p == "/robots.txt", p == "/favicon.ico":
			http.NotFound(w, r)
		case p == "/style.css":
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, "body{background:url(/bg.png)}")
		case p == "/img.png", p == "/bg.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n" + p))
		case p == "/missing":
			http.NotFound(w, r)
		case p == "/r1":
			http.Redirect(w, r, "/r2", http.StatusFound)
		case p == "/r2":
			http.Redirect(w, r, "/final", http.StatusMovedPermanently)
		case p == "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Test feed</title>`)
			for _, it := range items {
				fmt.Fprintf(w, "<item><title>%s</title><link>%s</link></item>", it, it)
			}
			fmt.Fprint(w, `</channel></rss>`)
		case p == "/bad-feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, "<html><body>this is no feed</body></html>")
		case p == "/doc.md":
			w.Header().Set("Content-Type", "text/markdown")
			io.WriteString(w, docMD)
		default:
			page(strings.TrimPrefix(p, "/"))
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *citedSite) url(p string) string { return s.srv.URL + p }

func (s *citedSite) hitCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// amberRun runs the amber binary TestMain installed and returns its exit
// status and output.
func amberRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("amber-program", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// warcRecord is a record read back from the collection's WARC files.
type warcRecord struct {
	typ, uri, date, file string
	status               int
}

func readRecordsByID(t *testing.T, dir string) map[string]warcRecord {
	t.Helper()
	out := map[string]warcRecord{}
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*.warc.gz"))
	for _, f := range files {
		eachRecord(t, f, func(h warc.Header, block []byte) {
			wr := warcRecord{typ: h.Get("WARC-Type"), uri: h.Get("WARC-Target-URI"), date: h.Get("WARC-Date"), file: filepath.Base(f)}
			if wr.typ == "response" || wr.typ == "revisit" {
				fmt.Sscanf(string(block), "HTTP/1.1 %d", &wr.status)
			}
			out[h.Get("WARC-Record-ID")] = wr
		})
	}
	return out
}

// TestLinksFromDocuments archives what a Markdown and an HTML document
// cite, then checks the report in its three formats, replay of each
// archival path, and the Robust Links rewrite of the HTML document.
func TestLinksFromDocuments(t *testing.T) {
	site := newCitedSite(t)
	dead := refusedURL(t) + "gone"
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "coll")
	md := "# Sources\n\nSee [a](" + site.url("/a#one") + ") and [a again](" + site.url("/a#two") + "),\n" +
		"[missing](" + site.url("/missing") + "), a chain <" + site.url("/r1") + ">, " + dead + ".\n" +
		"Mail <mailto:editor@news.example>.\n"
	html := "<!DOCTYPE html>\n<html><body><p>Cited: <a href=\"" + site.url("/b") + "\">b</a>, <A HREF='" + site.url("/a#three") + "'>a</A>,\n" +
		"<a class=x href=\"" + site.url("/missing") + "\">missing</a> <a href=\"" + site.url("/r1") + "\">moved</a> <a href=\"" + dead + "\">dead</a>\n" +
		"<a href=\"ftp://files.example/x\">ftp</a> <a href=\"#top\">top</a> é\u00a0</p></body></html>\n"
	mdPath, htmlPath := filepath.Join(tmp, "sources.md"), filepath.Join(tmp, "page.html")
	os.WriteFile(mdPath, []byte(md), 0o644)
	os.WriteFile(htmlPath, []byte(html), 0o644)

	code, stdout, stderr := amberRun(t, "archive", "-o", dir, "--retries", "0", "--links-from", mdPath, "--links-from", htmlPath)
	if code != exitDamage { // a cited seed (the dead host) could not be captured
		t.Fatalf("archive: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "skipped mailto:editor@news.example: unsupported scheme") || !strings.Contains(stderr, dead+": ") {
		t.Errorf("stderr does not list the skipped link and the failure:\n%s", stderr)
	}
	hits := site.hitCounts()
	for _, p := range []string{"/a", "/b", "/missing", "/r1", "/r2", "/final", "/style.css", "/img.png", "/bg.png"} {
		if hits[p] != 1 {
			t.Errorf("%s fetched %d times, want once (hits %v)", p, hits[p], hits)
		}
	}

	code, out, stderr := amberRun(t, "report", dir, "--json")
	if code != exitPartial {
		t.Fatalf("report: exit %d, want 3\n%s%s", code, out, stderr)
	}
	var rows []report.Row
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	records := readRecordsByID(t, dir)
	type want struct {
		url, final string
		status     int
		failure    string
	}
	wants := []want{
		{site.url("/a"), site.url("/a"), 200, ""},
		{site.url("/missing"), site.url("/missing"), 404, ""},
		{site.url("/r1"), site.url("/final"), 200, ""},
		{dead, "", 0, "connection refused"},
		{site.url("/b"), site.url("/b"), 200, ""},
		{"mailto:editor@news.example", "", 0, `skipped: unsupported scheme "mailto"`},
		{"ftp://files.example/x", "", 0, `skipped: unsupported scheme "ftp"`},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(wants), out)
	}
	for i, w := range wants {
		r := rows[i]
		if r.URL != w.url || r.FinalURL != w.final || r.Status != w.status || r.Run != 1 {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
		if w.failure != "" {
			if !strings.Contains(r.Failure, w.failure) || r.RecordID != "" {
				t.Errorf("row %d: failure %q, want %q", i, r.Failure, w.failure)
			}
			continue
		}
		if r.Failure != "" {
			t.Errorf("row %d: failure %q", i, r.Failure)
		}
		rec, ok := records[r.RecordID]
		if !ok || rec.typ != "response" || rec.uri != r.FinalURL || rec.file != r.WARCFile || rec.status != r.Status {
			t.Errorf("row %d: record %s is %+v", i, r.RecordID, rec)
		}
		if d, _ := time.Parse(time.RFC3339Nano, rec.date); !d.Equal(r.Captured) {
			t.Errorf("row %d: captured %s, record dated %s", i, r.Captured, rec.date)
		}
		if wantPath := "/" + r.Captured.UTC().Format("20060102150405") + "/" + r.FinalURL; r.ArchivalPath != wantPath {
			t.Errorf("row %d: archival path %s, want %s", i, r.ArchivalPath, wantPath)
		}
	}
	if rows[2].Redirects != 2 {
		t.Errorf("redirects %d, want 2", rows[2].Redirects)
	}

	// CSV and the table give the same fields.
	code, out, _ = amberRun(t, "report", dir, "--csv")
	if code != exitPartial {
		t.Fatalf("report --csv: exit %d", code)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != len(rows)+1 || strings.Join(recs[0], ",") != strings.Join(reportColumns, ",") {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	_, table, _ := amberRun(t, "report", dir)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != len(rows)+1 {
		t.Fatalf("table has %d lines:\n%s", len(lines), table)
	}
	for i, r := range rows {
		if got, want := strings.Join(recs[i+1], "|"), strings.Join(rowFields(r), "|"); got != want {
			t.Errorf("csv row %d: %s, want %s", i, got, want)
		}
		for _, f := range rowFields(r) {
			if f != "" && f != r.FinalURL && !strings.Contains(lines[i+1], f) {
				t.Errorf("table line %d lacks %q: %s", i+1, f, lines[i+1])
			}
		}
	}

	// amber replay answers each archival path with the page.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var rstderr bytes.Buffer
	go func() {
		done <- runReplay(ctx, &globalOptions{stdout: io.Discard, stderr: &rstderr}, replayOptions{}, []string{dir}, ready)
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("replay: %v %s", err, rstderr.String())
	}
	for _, r := range rows {
		if r.ArchivalPath == "" {
			continue
		}
		// The identity mode (id_) gives the archived payload itself.
		p := strings.Replace(r.ArchivalPath, "/", "", 1)
		ts, target, _ := strings.Cut(p, "/")
		for _, u := range []string{strings.TrimSuffix(base, "/") + r.ArchivalPath, strings.TrimSuffix(base, "/") + "/" + ts + "id_/" + target} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != r.Status {
				t.Errorf("replay %s: %d, want %d", u, resp.StatusCode, r.Status)
			}
			if strings.Contains(u, "id_/") && r.Status == 200 {
				title := strings.TrimPrefix(r.FinalURL, site.url("/"))
				if !strings.Contains(string(body), "<h1>"+title+"</h1>") {
					t.Errorf("replay %s: not the page:\n%s", u, body)
				}
			}
		}
	}
	cancel()
	<-done

	// Robust Links: every archived link of the HTML document annotated,
	// failures untouched, the rest byte for byte the same.
	outPath := filepath.Join(tmp, "robust.html")
	code, _, stderr = amberRun(t, "report", dir, "--robust-links", htmlPath, "--replay-base", "http://archive.example/", "-o", outPath)
	if code != exitPartial { // the dead link is not archived
		t.Fatalf("robust links: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(outPath)
	byURL := map[string]report.Row{}
	for _, r := range rows {
		byURL[r.URL] = r
	}
	var inserted []string
	for _, cited := range []string{site.url("/b"), site.url("/a#three"), site.url("/missing"), site.url("/r1")} {
		r := byURL[strings.Split(cited, "#")[0]]
		attrs := fmt.Sprintf(` data-originalurl="%s" data-versionurl="http://archive.example%s" data-versiondate="%s"`, cited, r.ArchivalPath, r.Captured.UTC().Format(time.RFC3339))
		if !strings.Contains(string(got), attrs) {
			t.Errorf("no %s in\n%s", attrs, got)
		}
		inserted = append(inserted, attrs)
	}
	if strings.Count(string(got), "data-versionurl") != 4 {
		t.Errorf("want 4 annotated links:\n%s", got)
	}
	if rest := removeAll(string(got), inserted); rest != html {
		t.Errorf("the rest of the document changed:\n%q\nwant\n%q", rest, html)
	}

	// Markdown: an (archived) link after each archived link.
	code, out, _ = amberRun(t, "report", dir, "--robust-links", mdPath)
	if code != exitPartial {
		t.Fatalf("robust links (markdown): exit %d", code)
	}
	if want := "[a](" + site.url("/a#one") + ") ([archived](" + byURL[site.url("/a")].ArchivalPath + "))"; !strings.Contains(out, want) {
		t.Errorf("no %s in\n%s", want, out)
	}
	if strings.Count(out, "([archived](") != 4 || !strings.Contains(out, dead+".\n") {
		t.Errorf("want 4 archived links, the dead one untouched:\n%s", out)
	}
}

func removeAll(s string, parts []string) string {
	for _, p := range parts {
		s = strings.Replace(s, p, "", 1)
	}
	return s
}

// TestFeedNightly runs a feed twice as cron would: the second run fetches
// the feed again and only the two new items; with --recrawl, every item.
// A --links-from URL is archived itself, with its links.
func TestFeedNightly(t *testing.T) {
	site := newCitedSite(t)
	dir := filepath.Join(t.TempDir(), "coll")
	site.mu.Lock()
	site.items = []string{site.url("/item1"), site.url("/item2"), "/item3"}
	site.mu.Unlock()
	if code, out, errs := amberRun(t, "archive", "-q", "-o", dir, "--feed", site.url("/feed.xml")); code != 0 {
		t.Fatalf("run 1: exit %d %s%s", code, out, errs)
	}
	h1 := site.hitCounts()
	for _, p := range []string{"/feed.xml", "/item1", "/item2", "/item3"} {
		if h1[p] != 1 {
			t.Errorf("run 1: %s fetched %d times", p, h1[p])
		}
	}
	site.mu.Lock()
	site.items = append(site.items, site.url("/item4"), site.url("/item5"))
	site.mu.Unlock()
	if code, out, errs := amberRun(t, "archive", "-q", "-o", dir, "--feed", site.url("/feed.xml")); code != 0 {
		t.Fatalf("run 2: exit %d %s%s", code, out, errs)
	}
	h2 := site.hitCounts()
	for p, want := range map[string]int{"/feed.xml": 2, "/item1": 1, "/item2": 1, "/item3": 1, "/item4": 1, "/item5": 1} {
		if h2[p] != want {
			t.Errorf("run 2: %s fetched %d times in all, want %d", p, h2[p], want)
		}
	}
	if code, out, errs := amberRun(t, "archive", "-q", "-o", dir, "--recrawl", "--feed", site.url("/feed.xml")); code != 0 {
		t.Fatalf("run 3: exit %d %s%s", code, out, errs)
	}
	h3 := site.hitCounts()
	for p, want := range map[string]int{"/feed.xml": 3, "/item1": 2, "/item5": 2} {
		if h3[p] != want {
			t.Errorf("run 3: %s fetched %d times in all, want %d", p, h3[p], want)
		}
	}
	// The report of run 2: the feed and its items, those of run 1 pointing
	// to run 1's captures.
	code, out, _ := amberRun(t, "report", dir, "--run", "2", "--json")
	var rows []report.Row
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 6 {
		t.Fatalf("report --run 2: exit %d\n%s", code, out)
	}
	if rows[0].URL != site.url("/feed.xml") || rows[5].URL != site.url("/item5") || rows[0].Status != 200 {
		t.Errorf("rows %+v", rows)
	}
	if !rows[1].Captured.Before(rows[5].Captured) && rows[1].WARCFile == rows[5].WARCFile {
		t.Errorf("item1 (run 1) and item5 (run 2) have the same capture file %s", rows[1].WARCFile)
	}

	// A document given as a URL is archived, and what it cites.
	site.mu.Lock()
	site.docMD = "Read [this](/doc-cited) and " + site.url("/doc-other") + ".\n"
	site.mu.Unlock()
	if code, out, errs := amberRun(t, "archive", "-q", "-o", dir, "--links-from", site.url("/doc.md")); code != 0 {
		t.Fatalf("links-from URL: exit %d %s%s", code, out, errs)
	}
	h4 := site.hitCounts()
	for _, p := range []string{"/doc.md", "/doc-cited", "/doc-other"} {
		if h4[p] != 1 {
			t.Errorf("%s fetched %d times", p, h4[p])
		}
	}
	code, out, _ = amberRun(t, "report", dir, "--run", "4", "--csv")
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, site.url("/doc-cited")) {
		t.Errorf("report --run 4: exit %d\n%s", code, out)
	}
}

// TestLinksBadInput: a document without links is a usage error; a feed
// that does not parse, or cannot be fetched, fails alone.
func TestLinksBadInput(t *testing.T) {
	site := newCitedSite(t)
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty.md")
	os.WriteFile(empty, []byte("# Nothing to cite\n\nmailto:x@y is not a link here.\n"), 0o644)
	code, out, errs := amberRun(t, "archive", "-o", filepath.Join(tmp, "c1"), "--links-from", empty)
	if code != exitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no http or https links") {
		t.Errorf("no links: exit %d\n%s%s", code, out, errs)
	}
	bin := filepath.Join(tmp, "x.pdf")
	os.WriteFile(bin, []byte("%PDF-1.7\n\x00\x00\x00"), 0o644)
	if code, _, errs := amberRun(t, "archive", "-o", filepath.Join(tmp, "c1"), "--links-from", bin); code != exitUsage || strings.Count(errs, "\n") != 1 {
		t.Errorf("binary: exit %d %s", code, errs)
	}
	if code, _, errs := amberRun(t, "archive", "-o", filepath.Join(tmp, "c1"), "--links-from", filepath.Join(tmp, "nonexistent")); code != exitUsage || strings.Count(errs, "\n") != 1 {
		t.Errorf("missing file: exit %d %s", code, errs)
	}

	// A bad feed and an unreachable one beside a good seed: exit 3, the
	// seed archived, both feeds reported as failed.
	dir := filepath.Join(tmp, "c2")
	dead := refusedURL(t) + "gone"
	code, out, errs = amberRun(t, "archive", "-o", dir, "--retries", "0", "--feed", site.url("/bad-feed.xml"), "--feed", dead, "--feed", site.url("/missing"), site.url("/b"))
	if code != exitPartial {
		t.Fatalf("bad feeds: exit %d, want 3\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, site.url("/bad-feed.xml")+": feed") || !strings.Contains(errs, dead+": ") {
		t.Errorf("stderr:\n%s", errs)
	}
	if site.hitCounts()["/b"] != 1 {
		t.Errorf("the seed was not archived")
	}
	code, out, _ = amberRun(t, "report", dir, "--json")
	var rows []report.Row
	json.Unmarshal([]byte(out), &rows)
	got := map[string]report.Row{}
	for _, r := range rows {
		got[r.URL] = r
	}
	if code != exitPartial || got[site.url("/b")].Status != 200 || !strings.Contains(got[site.url("/bad-feed.xml")].Failure, "not an RSS, Atom or JSON feed") ||
		got[site.url("/bad-feed.xml")].Status != 200 || !strings.Contains(got[dead].Failure, "refused") ||
		got[site.url("/missing")].Failure != site.url("/missing")+": archived with HTTP status 404" {
		t.Errorf("report: exit %d\n%s", code, out)
	}
	if code, _, errs := amberRun(t, "report", filepath.Join(tmp, "nowhere")); code != exitUsage || strings.Count(errs, "\n") != 1 {
		t.Errorf("report of no collection: exit %d %s", code, errs)
	}
	if code, _, errs := amberRun(t, "report", dir, "--run", "7"); code != exitUsage || strings.Count(errs, "\n") != 1 {
		t.Errorf("report of no such run: exit %d %s", code, errs)
	}
}
