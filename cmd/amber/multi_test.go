package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/internal/testworkers"
	"github.com/amber-archiver/amber/warc"
)

// revisitedPaths are the URLs of the article worker B captured again and,
// finding their payload digests in the crawl's shared digest index, wrote
// as revisits of worker A's records.
var revisitedPaths = []string{testsite.Article, "/static/main.css", "/news/2026/11/img/hero.jpg", "/static/app.js"}

// workerCollections builds two collections as two workers of one crawl
// write them: A archives the article; B archives another page with the
// real binary, and holds revisits of A's records for the article and some
// of its requisites, captured ten minutes later (see testworkers for why
// they are not written by amber archive).
func workerCollections(t *testing.T, site *testsite.Site, root string) (a, b string) {
	t.Helper()
	a, b = filepath.Join(root, "A"), filepath.Join(root, "B")
	if code, _, stderr := amberRun(t, "archive", "-q", "--worker-id", "worker-a", "-o", a, site.URL(testsite.Article)); code != 0 {
		t.Fatalf("archive A: exit %d: %s", code, stderr)
	}
	if code, _, stderr := amberRun(t, "archive", "-q", "--worker-id", "worker-b", "-o", b, site.URL("/news/2026/11/other.html")); code != 0 {
		t.Fatalf("archive B: exit %d: %s", code, stderr)
	}
	var captures []testworkers.Capture
	for _, p := range revisitedPaths {
		c := testworkers.Capture{URL: site.URL(p)}
		if p == testsite.Article {
			c.Title = testsite.Headline
		}
		captures = append(captures, c)
	}
	if _, err := testworkers.AddRevisits(a, b, "worker-b", 10*time.Minute, captures...); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func warcFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, warc.ArchiveDir, "*.warc.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no WARC files in %s: %v", dir, err)
	}
	return files
}

func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// sortedUnion is what one index over the collections must hold.
func sortedUnion(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// TestWorkerCollections puts the collections of two workers side by side
// and uses them as one with verify, index, pack and replay.
func TestWorkerCollections(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	root := t.TempDir()
	a, b := workerCollections(t, site, root)
	for dir, worker := range map[string]string{a: "worker-a", b: "worker-b"} {
		for _, f := range warcFiles(t, dir) {
			if !regexp.MustCompile(`^amber-[0-9]{14}-[0-9]{5}-` + worker + `\.warc\.gz$`).MatchString(filepath.Base(f)) {
				t.Errorf("%s: not named after %s", f, worker)
			}
		}
	}

	// Alone, B's revisits point at records verify cannot see; with A,
	// every one is found, and nothing else is amiss.
	code, _, stderr := amberRun(t, "verify", b)
	if code != 0 || strings.Count(stderr, "the record it stands for is not found") != len(revisitedPaths) {
		t.Fatalf("verify B: exit %d, want 0 and %d revisits not found:\n%s", code, len(revisitedPaths), stderr)
	}
	if code, _, stderr := amberRun(t, "verify", "--strict", a, b); code != 0 || stderr != "" {
		t.Fatalf("verify --strict A B: exit %d:\n%s", code, stderr)
	}

	// One index: the sorted union of the collections' own.
	union := sortedUnion(readLines(t, filepath.Join(a, warc.IndexPath)), readLines(t, filepath.Join(b, warc.IndexPath)))
	code, stdout, stderr := amberRun(t, "index", a, b)
	if code != 0 || stdout != strings.Join(union, "\n")+"\n" {
		t.Fatalf("index A B: exit %d, stderr %s; got\n%s\nwant\n%s", code, stderr, stdout, strings.Join(union, "\n"))
	}

	// One WACZ, verified clean, deterministic.
	wacz := filepath.Join(root, "crawl.wacz")
	if code, stdout, stderr := amberRun(t, "pack", "-o", wacz, a, b); code != 0 || !strings.HasPrefix(stdout, "packed "+a+", "+b+" (") {
		t.Fatalf("pack A B: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr := amberRun(t, "verify", "--strict", wacz); code != 0 || stderr != "" {
		t.Fatalf("verify --strict crawl.wacz: exit %d:\n%s", code, stderr)
	}
	again := filepath.Join(root, "again.wacz")
	if code, _, stderr := amberRun(t, "pack", "-q", "-o", again, a, b); code != 0 {
		t.Fatalf("pack again: exit %d: %s", code, stderr)
	}
	if x, y := readFile(t, wacz), readFile(t, again); !bytes.Equal(x, y) {
		t.Errorf("the same collections packed to different bytes")
	}
	checkMergedWACZ(t, wacz, union, a, b)

	// Replay: a capture of A, and B's revisits served with A's payload.
	base := startReplay(t, a, b)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, p := range []string{"/news/2026/11/img/hero.jpg", "/static/app.js"} {
		want := responseBody(t, a, site.URL(p))
		for _, ts := range captureTimes(t, union, site.URL(p)) {
			got := get(t, client, base+ts+"mp_/"+site.URL(p))
			if !bytes.Equal(got, want) {
				t.Errorf("replay of %s at %s: %d bytes, want A's payload of %d bytes", p, ts, len(got), len(want))
			}
		}
	}
	times := captureTimes(t, union, site.URL(testsite.Article))
	if len(times) != 2 {
		t.Fatalf("article captured at %v, want A's and B's", times)
	}
	if page := get(t, client, base+times[1]+"mp_/"+site.URL(testsite.Article)); !bytes.Contains(page, []byte(testsite.Headline)) {
		t.Errorf("B's revisit of the article does not replay A's page:\n%.300s", page)
	}
	if index := get(t, client, base); !bytes.Contains(index, []byte("other.html")) || !bytes.Contains(index, []byte("story.html")) {
		t.Errorf("the page list lacks the pages of A or B:\n%s", index)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkMergedWACZ reads the package back: every WARC file of the
// collections once, one index equal to union whose every line cuts out a
// record of its URL and time, one pages.jsonl of all pages sorted by time,
// every log.
func checkMergedWACZ(t *testing.T, wacz string, union []string, dirs ...string) {
	t.Helper()
	zr, err := zip.OpenReader(wacz)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	entries := map[string]*zip.File{}
	var names []string
	for _, zf := range zr.File {
		if entries[zf.Name] != nil {
			t.Errorf("%s twice in the package", zf.Name)
		}
		entries[zf.Name] = zf
		names = append(names, zf.Name)
	}
	var want []string
	pageLines := 0
	for _, d := range dirs {
		for _, sub := range []string{warc.ArchiveDir, warc.LogsDir} {
			es, _ := os.ReadDir(filepath.Join(d, sub))
			for _, e := range es {
				want = append(want, sub+"/"+e.Name())
			}
		}
		pageLines += len(readLines(t, filepath.Join(d, warc.PagesPath))) - 1
	}
	want = append(want, warc.IndexPath, warc.PagesPath, warc.DatapackagePath, warc.WACZDigestPath)
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("entries\n%v\nwant\n%v", names, want)
	}

	index := strings.Split(strings.TrimSuffix(string(readEntry(t, entries[warc.IndexPath])), "\n"), "\n")
	if !slices.Equal(index, union) {
		t.Fatalf("the package's index is not the union of the collections':\n%s", strings.Join(index, "\n"))
	}
	for _, line := range index {
		l, err := warc.ParseCDXJLine(line)
		if err != nil {
			t.Fatal(err)
		}
		zf := entries[warc.ArchiveDir+"/"+l.Filename]
		if zf == nil || zf.Method != zip.Store {
			t.Fatalf("%s: no stored WARC file %s", line, l.Filename)
		}
		off, err := zf.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		zr2, err := gzip.NewReader(io.NewSectionReader(zipFile(t, wacz), off+l.Offset, l.Length))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		r, err := warc.NewReader(zr2)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		date := strings.NewReplacer("-", "", ":", "", "T", "", "Z", "").Replace(rec.Header.Get("WARC-Date"))
		if rec.Header.Get("WARC-Target-URI") != l.URL || date != l.Timestamp {
			t.Errorf("%s: points at %s of %s", line, rec.Header.Get("WARC-Target-URI"), rec.Header.Get("WARC-Date"))
		}
	}

	pages := strings.Split(strings.TrimSuffix(string(readEntry(t, entries[warc.PagesPath])), "\n"), "\n")
	if !strings.Contains(pages[0], `"format":"json-pages-1.0"`) || len(pages)-1 != pageLines {
		t.Fatalf("pages.jsonl: %d lines after %q, want %d pages", len(pages)-1, pages[0], pageLines)
	}
	last := ""
	for _, line := range pages[1:] {
		var p warc.PageEntry
		if err := json.Unmarshal([]byte(line), &p); err != nil || p.URL == "" {
			t.Fatalf("page line %q: %v", line, err)
		}
		if p.TS < last {
			t.Errorf("pages not sorted by time: %s after %s", p.TS, last)
		}
		last = p.TS
	}
}

func readEntry(t *testing.T, zf *zip.File) []byte {
	t.Helper()
	rc, err := zf.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zipFile(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// captureTimes are the timestamps of the index lines of url, sorted.
func captureTimes(t *testing.T, index []string, url string) []string {
	t.Helper()
	var out []string
	for _, line := range index {
		if l, err := warc.ParseCDXJLine(line); err == nil && l.URL == url {
			out = append(out, l.Timestamp)
		}
	}
	slices.Sort(out)
	return out
}

// responseBody is the payload of the response record of url in the
// collection dir: the body without its transfer coding, as replay serves
// it.
func responseBody(t *testing.T, dir, url string) []byte {
	t.Helper()
	var body []byte
	for _, f := range warcFiles(t, dir) {
		eachRecord(t, f, func(h warc.Header, block []byte) {
			if h.Get("WARC-Type") != warc.TypeResponse || h.Get("WARC-Target-URI") != url {
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(resp.Body); err != nil {
				t.Fatal(err)
			}
		})
	}
	if body == nil {
		t.Fatalf("no response for %s in %s", url, dir)
	}
	return body
}

func get(t *testing.T, c *http.Client, u string) []byte {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%.300s", u, resp.Status, b)
	}
	return b
}

// startReplay starts amber replay of the paths and returns its base URL;
// the process is stopped at the end of the test.
func startReplay(t *testing.T, paths ...string) string {
	t.Helper()
	cmd := exec.Command("amber-program", append([]string{"replay"}, paths...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(` at (http://127\.0\.0\.1:[0-9]+/)$`).FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		t.Fatalf("amber replay printed %q (%v); stderr: %s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, out)
	return m[1]
}

// TestWorkerCollectionsClash refuses collections whose WARC files share a
// name, in one line naming both, for index, pack and replay.
func TestWorkerCollectionsClash(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	root := t.TempDir()
	a := filepath.Join(root, "A")
	if code, _, stderr := amberRun(t, "archive", "-q", "--worker-id", "w1", "-o", a, site.URL(testsite.Article)); code != 0 {
		t.Fatalf("archive: exit %d: %s", code, stderr)
	}
	c := filepath.Join(root, "C") // a copy, as if two workers had one id
	if out, err := exec.Command("cp", "-r", a, c).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	name := path.Base(filepath.ToSlash(warcFiles(t, a)[0]))
	wacz := filepath.Join(root, "x.wacz")
	for _, args := range [][]string{{"index", a, c}, {"pack", "-o", wacz, a, c}, {"replay", a, c}} {
		code, stdout, stderr := amberRun(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "two WARC files called "+name+": "+filepath.Join(a, warc.ArchiveDir, name)+" and "+filepath.Join(c, warc.ArchiveDir, name)) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", args[0], code, stdout, stderr)
		}
	}
	if _, err := os.Stat(wacz); err == nil {
		t.Errorf("pack wrote %s", wacz)
	}
	// The same collection given twice is no clash.
	if code, _, stderr := amberRun(t, "index", a, a); code != 0 {
		t.Errorf("index A A: exit %d: %s", code, stderr)
	}
	if code, _, stderr := amberRun(t, "pack", "-o", wacz, a); code != 0 {
		t.Errorf("pack A: exit %d: %s", code, stderr)
	}
	if code, _, stderr := amberRun(t, "pack", a, c); code != 2 || !strings.Contains(stderr, "needs -o FILE.wacz") {
		t.Errorf("pack A C without -o: exit %d: %s", code, stderr)
	}
}
