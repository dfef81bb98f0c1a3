package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/report"
	"github.com/amber-archiver/amber/warc"
)

// jsonSite serves a page with a style sheet, two images (one large enough
// to be stored as a revisit when fetched again) and one image whose
// connection is closed before any response: a failed requisite.
func jsonSite(t *testing.T) *httptest.Server {
	big := bytes.Repeat([]byte("PNG image bytes "), 200) // over crawl.MinRevisitSize
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page.html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><title>Harbour</title><link rel=icon href=/a.png><link rel=stylesheet href=/s.css></head>`+
				`<body><img src=/a.png><img src=/big.png><img src=/broken.png></body></html>`)
		case "/s.css":
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, "body{color:navy}")
		case "/a.png":
			w.Header().Set("Content-Type", "image/png")
			io.WriteString(w, "small png")
		case "/big.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(big)
		case "/broken.png":
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// refusedURL is a URL on 127.0.0.1 whose port nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

// amberJSON runs the amber program and returns its exit status, stdout and
// stderr.
func amberJSON(t *testing.T, args ...string) (int, []byte, string) {
	t.Helper()
	cmd := exec.Command("amber-program", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.Bytes(), stderr.String()
}

// decodeOne decodes stdout as exactly one JSON object into v, with no
// field v does not have, and nothing after it.
func decodeOne(t *testing.T, stdout []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON object:\n%s", stdout)
	}
}

// eachRecord calls each with every record of the WARC file f, read with
// amber's reader.
func eachRecord(t *testing.T, f string, each func(h warc.Header, block []byte)) {
	t.Helper()
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := warc.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		block, err := io.ReadAll(rec.Body)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		each(rec.Header, block)
	}
}

// warcCounts is what a run's WARC files hold, read back with amber's reader.
type warcCounts struct {
	records, responses, revisits, requests int
	// responseBytes is the size of the HTTP responses as received: the
	// block of a response; for a revisit, its block (the head) and the
	// payload of the response it refers to.
	responseBytes int64
}

func countWARC(t *testing.T, files []string, all []string) warcCounts {
	t.Helper()
	payloads := map[string]int64{} // record id of a response → its payload size
	for _, f := range all {
		eachRecord(t, f, func(h warc.Header, block []byte) {
			if h.Get("WARC-Type") == "response" {
				_, payload, _ := bytes.Cut(block, []byte("\r\n\r\n"))
				payloads[h.Get("WARC-Record-ID")] = int64(len(payload))
			}
		})
	}
	var c warcCounts
	for _, f := range files {
		eachRecord(t, f, func(h warc.Header, block []byte) {
			c.records++
			switch h.Get("WARC-Type") {
			case "response":
				c.responses++
				c.responseBytes += int64(len(block))
			case "revisit":
				c.responses++
				c.revisits++
				orig, ok := payloads[h.Get("WARC-Refers-To")]
				if !ok {
					t.Errorf("%s: revisit of %s refers to no response", f, h.Get("WARC-Target-URI"))
				}
				c.responseBytes += int64(len(block)) + orig
			case "request":
				c.requests++
			}
		})
	}
	return c
}

// jsonArchive is the documented object of amber archive --json.
type jsonArchive struct {
	Dir        string    `json:"dir"`
	Crawl      uint64    `json:"crawl"`
	Run        uint64    `json:"run"`
	Resumed    bool      `json:"resumed"`
	Started    time.Time `json:"started"`
	DurationNs int64     `json:"durationNs"`
	NothingNew bool      `json:"nothingNew"`
	Responses  int       `json:"responses"`
	Pages      int       `json:"pages"`
	Resources  int       `json:"resources"`
	Revisits   int       `json:"revisits"`
	Requests   int       `json:"requests"`
	Failed     int       `json:"failed"`
	Skipped    int       `json:"skipped"`
	Truncated  int       `json:"truncated"`
	Bytes      int64     `json:"bytes"`
	Failures   []struct {
		URL    string `json:"url"`
		Seed   bool   `json:"seed"`
		Reason string `json:"reason"`
	} `json:"failures"`
	Files struct {
		WARC        []string `json:"warc"`
		Log         string   `json:"log"`
		Index       string   `json:"index"`
		Pages       string   `json:"pages"`
		Datapackage string   `json:"datapackage"`
		WACZ        string   `json:"wacz"`
	} `json:"files"`
	Seeds []struct {
		Run          uint64    `json:"run"`
		URL          string    `json:"url"`
		FinalURL     string    `json:"finalUrl"`
		Status       int       `json:"status"`
		Captured     time.Time `json:"captured"`
		ArchivalPath string    `json:"archivalPath"`
		WARCFile     string    `json:"warcFile"`
		RecordID     string    `json:"recordId"`
		Failure      string    `json:"failure"`
	} `json:"seeds"`
	WACZ     *jsonPack `json:"wacz"`
	Exit     int       `json:"exit"`
	ExitName string    `json:"exitName"`
	Error    string    `json:"error"`
}

// jsonPack is the documented object of amber pack --json.
type jsonPack struct {
	Dir          string `json:"dir"`
	Output       string `json:"output"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	Files        int    `json:"files"`
	FileBytes    int64  `json:"fileBytes"`
	WARCFiles    int    `json:"warcFiles"`
	Records      int    `json:"records"`
	IndexLines   int    `json:"indexLines"`
	Pages        int    `json:"pages"`
	MainPageURL  string `json:"mainPageUrl"`
	MainPageDate string `json:"mainPageDate"`
	Errors       int    `json:"errors"`
	Warnings     int    `json:"warnings"`
	Exit         int    `json:"exit"`
	ExitName     string `json:"exitName"`
	Error        string `json:"error"`
}

// lineCount is the number of lines of a file.
func lineCount(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// checkArchiveJSON checks the fields of got that follow from the
// collection in dir and the process that printed it.
//
// unanswered is the number of requests sent that got no response (none is
// retried, with --retries 0): the failures, and a robots.txt that could not
// be fetched.
func checkArchiveJSON(t *testing.T, got *jsonArchive, dir string, code int, stderr string, before, after time.Time, all []string, unanswered, skipped int) {
	t.Helper()
	if got.Exit != code || got.ExitName != exitName(code) {
		t.Errorf("exit %d %q in the JSON, the process exited %d", got.Exit, got.ExitName, code)
	}
	if got.Dir != dir {
		t.Errorf("dir %q, want %q", got.Dir, dir)
	}
	if got.Started.Before(before.Add(-time.Second)) || got.Started.After(after) || got.Started.Location() != time.UTC {
		t.Errorf("started %v, not between %v and %v in UTC", got.Started, before, after)
	}
	if got.DurationNs <= 0 || got.DurationNs > int64(after.Sub(before)) {
		t.Errorf("durationNs %d, the process ran %d", got.DurationNs, after.Sub(before))
	}
	for _, f := range append(slices.Clone(got.Files.WARC), got.Files.Log, got.Files.Index, got.Files.Pages, got.Files.Datapackage) {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("files lists %q: %v", f, err)
		}
	}
	if !strings.HasPrefix(got.Files.Log, filepath.Join(dir, "logs", "crawl-")) || got.Files.Index != filepath.Join(dir, warc.IndexPath) ||
		got.Files.Pages != filepath.Join(dir, warc.PagesPath) || got.Files.Datapackage != filepath.Join(dir, warc.DatapackagePath) {
		t.Errorf("files %+v", got.Files)
	}
	c := countWARC(t, got.Files.WARC, all)
	if got.Responses != c.responses || got.Revisits != c.revisits || got.Bytes != c.responseBytes {
		t.Errorf("responses %d, revisits %d, bytes %d; the WARC files hold %d, %d, %d",
			got.Responses, got.Revisits, got.Bytes, c.responses, c.revisits, c.responseBytes)
	}
	// Every attempt sends a request: those answered are archived with their
	// request record.
	if got.Requests != c.requests+unanswered {
		t.Errorf("requests %d, want %d request records + %d unanswered", got.Requests, c.requests, unanswered)
	}
	if got.Resources != got.Responses-got.Pages || got.Failed != len(got.Failures) || got.Skipped != skipped || got.Truncated != 0 {
		t.Errorf("resources %d, failed %d, skipped %d, truncated %d (failures %+v)", got.Resources, got.Failed, got.Skipped, got.Truncated, got.Failures)
	}
	var lines []string
	for _, f := range got.Failures {
		lines = append(lines, "amber: "+f.URL+": "+f.Reason)
	}
	if want := strings.Join(lines, "\n"); strings.TrimSuffix(stderr, "\n") != want {
		t.Errorf("stderr:\n%s\nwant the failures, one a line:\n%s", stderr, want)
	}
}

// TestArchivePackJSON runs amber archive --json and amber pack --json, as a
// cron job would, and checks every documented field against the files
// written and the process's exit status.
func TestArchivePackJSON(t *testing.T) {
	site := jsonSite(t)
	dir := filepath.Join(t.TempDir(), "coll")
	page := site.URL + "/page.html"
	archives := func() []string {
		files, _ := filepath.Glob(filepath.Join(dir, warc.ArchiveDir, "*.warc.gz"))
		return files
	}

	// A failed requisite: exit 3, and the JSON says so.
	before := time.Now()
	code, stdout, stderr := amberJSON(t, "archive", "--json", "--retries", "0", "-o", dir, page)
	after := time.Now()
	if code != exitPartial {
		t.Fatalf("exit %d, want %d: %s", code, exitPartial, stderr)
	}
	var first jsonArchive
	decodeOne(t, stdout, &first)
	checkArchiveJSON(t, &first, dir, code, stderr, before, after, archives(), 1, 0)
	if first.Crawl != 1 || first.Run != 1 || first.Resumed || first.NothingNew || first.Error != "" || first.WACZ != nil || first.Files.WACZ != "" {
		t.Errorf("first run: %+v", first)
	}
	// robots.txt (404), the page, s.css, a.png (once, though named twice),
	// big.png; broken.png failed; the page names an icon, so no favicon.ico.
	if first.Responses != 5 || first.Pages != 1 || first.Revisits != 0 || first.Requests != 6 {
		t.Errorf("first run: %d responses, %d pages, %d revisits, %d requests; want 5, 1, 0, 6", first.Responses, first.Pages, first.Revisits, first.Requests)
	}
	if len(first.Failures) != 1 || first.Failures[0].URL != site.URL+"/broken.png" || first.Failures[0].Seed || first.Failures[0].Reason == "" {
		t.Errorf("failures %+v, want broken.png, not a seed", first.Failures)
	}
	if !slices.Equal(first.Files.WARC, archives()) || len(first.Files.WARC) != 1 {
		t.Errorf("files.warc %v, the archive holds %v", first.Files.WARC, archives())
	}
	if n := lineCount(t, first.Files.Pages) - 1; n != first.Pages {
		t.Errorf("pages.jsonl lists %d pages, the JSON says %d", n, first.Pages)
	}
	// Where the seed went: the page's response record, at the path
	// amber replay answers.
	lines, err := warc.IndexWARC(first.Files.WARC[0])
	if err != nil {
		t.Fatal(err)
	}
	var pageLine warc.CDXJLine
	for _, l := range lines {
		if l.URL == page && l.Type == warc.TypeResponse {
			pageLine = l
		}
	}
	if len(first.Seeds) != 1 {
		t.Fatalf("seeds %+v, want the one seed", first.Seeds)
	}
	sd := first.Seeds[0]
	if sd.Run != first.Run || sd.URL != page || sd.FinalURL != page || sd.Status != 200 || sd.RecordID != pageLine.RecordID || sd.RecordID == "" ||
		sd.WARCFile != filepath.Base(first.Files.WARC[0]) || sd.ArchivalPath != "/"+pageLine.Timestamp+"/"+page ||
		warc.CDXJTimestamp(sd.Captured.Format(time.RFC3339)) != pageLine.Timestamp || sd.Failure != "" {
		t.Errorf("seed %+v, want the capture %+v", sd, pageLine)
	}

	// Again with --recrawl and --wacz: big.png is a revisit, the package
	// is written and described, exit 3 again.
	before = time.Now()
	code, stdout, stderr = amberJSON(t, "archive", "--json", "--retries", "0", "--recrawl", "--wacz", "-o", dir, page)
	after = time.Now()
	if code != exitPartial {
		t.Fatalf("exit %d, want %d: %s", code, exitPartial, stderr)
	}
	var second jsonArchive
	decodeOne(t, stdout, &second)
	checkArchiveJSON(t, &second, dir, code, stderr, before, after, archives(), 1, 0)
	if second.Crawl != 2 || second.Run != 2 || second.Revisits != 1 || second.Responses != 5 || second.NothingNew {
		t.Errorf("second run: crawl %d, run %d, %d revisits, %d responses", second.Crawl, second.Run, second.Revisits, second.Responses)
	}
	if len(second.Files.WARC) != 1 || slices.Contains(archives(), second.Files.WARC[0]) == false || second.Files.WARC[0] == first.Files.WARC[0] {
		t.Errorf("second run's files.warc %v: want its own new file", second.Files.WARC)
	}
	wacz := dir + ".wacz"
	if second.WACZ == nil || second.Files.WACZ != wacz {
		t.Fatalf("--wacz: files.wacz %q, wacz %+v", second.Files.WACZ, second.WACZ)
	}
	checkPackJSON(t, second.WACZ, dir, wacz, exitOK)

	// amber pack --json on its own: the same package, the same object.
	code, stdout, stderr = amberJSON(t, "pack", "--json", "-o", filepath.Join(t.TempDir(), "again.wacz"), dir)
	if code != 0 || stderr != "" {
		t.Fatalf("pack: exit %d: %s", code, stderr)
	}
	var packed jsonPack
	decodeOne(t, stdout, &packed)
	checkPackJSON(t, &packed, dir, packed.Output, code)
	if b, _ := os.ReadFile(wacz); "sha256:"+hex.EncodeToString(sha256sum(b)) != packed.SHA256 {
		t.Errorf("the same collection packed twice: %s, %s", second.WACZ.SHA256, packed.SHA256)
	}

	// Nothing new: the seed is archived, nothing is fetched, exit 0 (the
	// finished crawl is followed by a new one, with nothing to do).
	code, stdout, stderr = amberJSON(t, "archive", "--json", "-o", dir, page)
	var none jsonArchive
	decodeOne(t, stdout, &none)
	if code != 0 || none.Exit != 0 || none.ExitName != "ok" || !none.NothingNew || none.Responses != 0 || none.Requests != 0 ||
		len(none.Files.WARC) != 0 || none.Files.WARC == nil || none.Failures == nil || none.Files.Log != "" || none.Crawl != 3 || none.Run != 3 || stderr != "" {
		t.Errorf("nothing new: exit %d, %+v, stderr %q", code, none, stderr)
	}

	// A seed that cannot be captured: exit 1 in the process and the JSON,
	// the failure marked as a seed; --quiet silences no failure.
	refused := refusedURL(t)
	other := filepath.Join(t.TempDir(), "other")
	before = time.Now()
	code, stdout, stderr = amberJSON(t, "archive", "--json", "-q", "--retries", "0", "-o", other, refused, site.URL+"/s.css")
	after = time.Now()
	if code != exitDamage {
		t.Fatalf("exit %d, want %d: %s", code, exitDamage, stderr)
	}
	var failed jsonArchive
	decodeOne(t, stdout, &failed)
	files, _ := filepath.Glob(filepath.Join(other, warc.ArchiveDir, "*.warc.gz"))
	// The seed's robots.txt cannot be fetched (its one request unanswered):
	// RFC 9309 has the host's pages disallowed, so the seed is not asked
	// for, and is skipped as well as failed.
	checkArchiveJSON(t, &failed, other, code, stderr, before, after, files, 1, 1)
	if failed.ExitName != "failed" || len(failed.Failures) != 1 || failed.Failures[0].URL != refused || !failed.Failures[0].Seed ||
		!strings.Contains(failed.Failures[0].Reason, "connect") || failed.Pages != 0 || failed.Responses != 2 {
		t.Errorf("failed seed: %+v", failed)
	}
	if len(failed.Seeds) != 2 || failed.Seeds[0].URL != refused || !strings.Contains(failed.Seeds[0].Failure, "connect") || failed.Seeds[0].ArchivalPath != "" ||
		failed.Seeds[1].URL != site.URL+"/s.css" || failed.Seeds[1].Status != 200 || failed.Seeds[1].Failure != "" {
		t.Errorf("where the seeds went: %+v", failed.Seeds)
	}
}

// TestPrintSeeds: the lines that end amber archive on a terminal, one per
// seed, at most maxSeedLines of them.
func TestPrintSeeds(t *testing.T) {
	var rows []report.Row
	rows = append(rows, report.Row{URL: "https://example.org/a", ArchivalPath: "/20261201000000/https://example.org/a", Status: 200},
		report.Row{URL: "https://gone.example/", Failure: "dial tcp: refused\x1b[2J"})
	var b strings.Builder
	printSeeds(&b, "coll", rows)
	want := "where each seed went (amber replay coll serves these paths):\n" +
		"  https://example.org/a → /20261201000000/https://example.org/a (200)\n" +
		"  https://gone.example/ → not archived: dial tcp: refused\\x1b[2J\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for i := range 15 {
		rows = append(rows, report.Row{URL: fmt.Sprintf("https://example.org/%d", i), ArchivalPath: "/1/x", Status: 200})
	}
	b.Reset()
	printSeeds(&b, "coll", rows)
	if n := strings.Count(b.String(), "\n"); n != 1+maxSeedLines+1 || !strings.Contains(b.String(), "… and 7 more: amber report coll lists them all") {
		t.Errorf("17 seeds:\n%s", b.String())
	}
}

func sha256sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// checkPackJSON checks a pack summary against the package it names and
// the collection it was packed from.
func checkPackJSON(t *testing.T, got *jsonPack, dir, wacz string, code int) {
	t.Helper()
	b, err := os.ReadFile(wacz)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dir != dir || got.Output != wacz || got.Bytes != int64(len(b)) || got.SHA256 != "sha256:"+hex.EncodeToString(sha256sum(b)) {
		t.Errorf("pack: dir %q output %q bytes %d sha256 %s; want %q %q %d the file's", got.Dir, got.Output, got.Bytes, got.SHA256, dir, wacz, len(b))
	}
	if got.Exit != code || got.ExitName != exitName(code) || got.Error != "" || got.Errors != 0 || got.Warnings != 0 {
		t.Errorf("pack: exit %d %q error %q, %d errors, %d warnings; the process exited %d", got.Exit, got.ExitName, got.Error, got.Errors, got.Warnings, code)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var files, warcs int
	var size int64
	for _, f := range zr.File {
		if f.Name == "datapackage.json" || f.Name == "datapackage-digest.json" {
			continue
		}
		files++
		size += int64(f.UncompressedSize64)
		if strings.HasPrefix(f.Name, "archive/") {
			warcs++
		}
	}
	all, _ := filepath.Glob(filepath.Join(dir, warc.ArchiveDir, "*.warc.gz"))
	if got.Files != files || got.FileBytes != size || got.WARCFiles != warcs || warcs != len(all) {
		t.Errorf("pack: %d files, %d bytes, %d WARC files; the package holds %d, %d, %d (the collection %d WARC files)",
			got.Files, got.FileBytes, got.WARCFiles, files, size, warcs, len(all))
	}
	if c := countWARC(t, all, all); got.Records != c.records {
		t.Errorf("pack: %d records, the WARC files hold %d", got.Records, c.records)
	}
	if n := lineCount(t, filepath.Join(dir, warc.IndexPath)); got.IndexLines != n {
		t.Errorf("pack: %d index lines, the index has %d", got.IndexLines, n)
	}
	if n := lineCount(t, filepath.Join(dir, warc.PagesPath)) - 1; got.Pages != n || n < 1 {
		t.Errorf("pack: %d pages, pages.jsonl lists %d", got.Pages, n)
	}
	var dp struct {
		MainPageURL  string `json:"mainPageUrl"`
		MainPageDate string `json:"mainPageDate"`
	}
	if rc, err := zr.Open("datapackage.json"); err == nil {
		json.NewDecoder(rc).Decode(&dp)
		rc.Close()
	}
	if got.MainPageURL != dp.MainPageURL || got.MainPageDate != dp.MainPageDate || !strings.HasSuffix(got.MainPageURL, "/page.html") {
		t.Errorf("pack: main page %q %q, the package's datapackage.json %q %q", got.MainPageURL, got.MainPageDate, dp.MainPageURL, dp.MainPageDate)
	}
}

// TestJSONBeforeTheRun: a run that does not start prints no JSON object,
// with the exit status it always had; a damaged collection refused by pack
// is described by one.
func TestJSONBeforeTheRun(t *testing.T) {
	site := jsonSite(t)
	dir := filepath.Join(t.TempDir(), "coll")
	for _, args := range [][]string{
		{"archive", "--json"},
		{"archive", "--json", "--concurrency", "0", site.URL + "/s.css"},
		{"archive", "--json", "--no-such-flag", site.URL + "/s.css"},
		{"pack", "--json", filepath.Join(dir, "nosuch")},
	} {
		code, stdout, stderr := amberJSON(t, args...)
		if code != exitUsage || len(stdout) != 0 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, nothing, one line", args, code, stdout, stderr, exitUsage)
		}
	}

	if code, _, stderr := amberJSON(t, "archive", "-q", "-o", dir, site.URL+"/s.css"); code != 0 {
		t.Fatalf("archive: exit %d: %s", code, stderr)
	}
	lock, err := lockCollection(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := amberJSON(t, "archive", "--json", "-o", dir, site.URL+"/s.css")
	lock.release()
	if code != exitLocked || len(stdout) != 0 || !strings.Contains(stderr, fmt.Sprintf("PID %d", os.Getpid())) {
		t.Errorf("collection in use: exit %d, stdout %q, stderr %q; want %d, nothing, the holder", code, stdout, stderr, exitLocked)
	}

	if err := os.WriteFile(filepath.Join(dir, warc.IndexPath), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = amberJSON(t, "pack", "--json", dir)
	var got jsonPack
	decodeOne(t, stdout, &got)
	if code != exitDamage || got.Exit != code || got.ExitName != "failed" || got.Output != "" || got.Errors == 0 || got.Dir != dir ||
		!strings.Contains(got.Error, "not packing") || !strings.Contains(stderr, "amber: "+got.Error) {
		t.Errorf("damaged collection: exit %d, %+v, stderr %q", code, got, stderr)
	}
	if _, err := os.Stat(dir + ".wacz"); err == nil {
		t.Errorf("a damaged collection was packed")
	}
}
