package crawl_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/warc"
)

// rawRecord is a WARC record as read back by the test's own minimal
// parser, independent of amber's reader.
type rawRecord struct {
	File   string
	Offset int64
	Header map[string][]string
	Block  []byte
}

func (r rawRecord) get(name string) string {
	if v := r.Header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type countingByteReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingByteReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingByteReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// readWARC reads every gzip member of path and parses exactly one record
// from each, failing the test on any framing error.
func readWARC(t *testing.T, path string) []rawRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := &countingByteReader{r: bufio.NewReader(f)}
	var out []rawRecord
	for {
		off := cr.n
		if _, err := cr.r.Peek(1); err == io.EOF {
			return out
		}
		zr, err := gzip.NewReader(cr)
		if err != nil {
			t.Fatalf("%s@%d: %v", path, off, err)
		}
		zr.Multistream(false)
		member, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s@%d: %v", path, off, err)
		}
		rec := rawRecord{File: filepath.Base(path), Offset: off, Header: map[string][]string{}}
		head, rest, ok := bytes.Cut(member, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("%s@%d: no end of header", path, off)
		}
		lines := strings.Split(string(head), "\r\n")
		if lines[0] != "WARC/1.1" {
			t.Fatalf("%s@%d: version line %q", path, off, lines[0])
		}
		for _, l := range lines[1:] {
			name, value, _ := strings.Cut(l, ": ")
			rec.Header[name] = append(rec.Header[name], value)
		}
		n, err := strconv.Atoi(rec.get("Content-Length"))
		if err != nil || n+4 != len(rest) || !bytes.HasSuffix(rest, []byte("\r\n\r\n")) {
			t.Fatalf("%s@%d: Content-Length %q does not frame a block of %d bytes", path, off, rec.get("Content-Length"), len(rest)-4)
		}
		rec.Block = rest[:n]
		out = append(out, rec)
	}
}

func sha1b32(b []byte) string {
	s := sha1.Sum(b)
	return "sha1:" + base32.StdEncoding.EncodeToString(s[:])
}

// archiveSite crawls the test site's article into a fresh directory.
func archiveSite(t *testing.T, site *testsite.Site, opts crawl.Options) (*crawl.Result, []rawRecord, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Seeds == nil {
		opts.Seeds = []string{site.URL(testsite.Article)}
	}
	if opts.Frontier == nil {
		opts.Frontier, opts.Crawl = newMemory(t)
	}
	res, recs := runAndRead(t, context.Background(), opts, w, dir)
	return res, recs, dir
}

// runAndRead runs the crawl into w, whose files are in dir, closes w and
// reads back every record.
func runAndRead(t *testing.T, ctx context.Context, opts crawl.Options, w *warc.Writer, dir string) (*crawl.Result, []rawRecord) {
	t.Helper()
	res, err := crawl.Run(ctx, opts, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var recs []rawRecord
	for _, f := range w.Files() {
		recs = append(recs, readWARC(t, filepath.Join(dir, f))...)
	}
	return res, recs
}

func TestArchiveArticle(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	st, n := newMemory(t)
	res, recs, _ := archiveSite(t, site, crawl.Options{Frontier: st, Crawl: n})

	if len(res.Failures) > 0 {
		t.Fatalf("failures: %+v", res.Failures)
	}
	pages, _ := st.Pages(context.Background(), "local")
	if res.Pages != 1 || len(pages) != 1 || pages[0].Title != testsite.Headline || !pages[0].Seed {
		t.Errorf("pages = %d %+v", res.Pages, pages)
	}
	if recs[0].get("WARC-Type") != "warcinfo" {
		t.Fatalf("first record is %q", recs[0].get("WARC-Type"))
	}

	responses := map[string]rawRecord{}
	requests := map[string]rawRecord{}
	byID := map[string]rawRecord{}
	for _, r := range recs {
		byID[r.get("WARC-Record-ID")] = r
		switch r.get("WARC-Type") {
		case "response":
			if _, dup := responses[r.get("WARC-Target-URI")]; dup {
				t.Errorf("%s archived twice", r.get("WARC-Target-URI"))
			}
			responses[r.get("WARC-Target-URI")] = r
		case "request":
			requests[r.get("WARC-Target-URI")] = r
		}
		for _, f := range []string{"WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length", "WARC-Block-Digest"} {
			if r.get(f) == "" {
				t.Errorf("%s@%d lacks %s", r.File, r.Offset, f)
			}
		}
		if !strings.HasSuffix(r.get("WARC-Date"), "Z") {
			t.Errorf("WARC-Date %q is not UTC", r.get("WARC-Date"))
		}
		if got := sha1b32(r.Block); got != r.get("WARC-Block-Digest") {
			t.Errorf("%s %s: block digest %s, computed %s", r.get("WARC-Type"), r.get("WARC-Target-URI"), r.get("WARC-Block-Digest"), got)
		}
	}

	want := map[string]int{site.URL(testsite.Article): 200, site.URL("/robots.txt"): 404}
	for p, st := range testsite.Requisites {
		want[site.URL(p)] = st
	}
	for p, st := range testsite.CDNRequisites {
		want[site.CDNURL(p)] = st
	}
	for u, status := range want {
		r, ok := responses[u]
		if !ok {
			t.Errorf("no response record for %s", u)
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(r.Block)), nil)
		if err != nil {
			t.Errorf("%s: block is not an HTTP response: %v", u, err)
			continue
		}
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", u, resp.StatusCode, status)
		}
		// net/http removes the chunked transfer coding and leaves gzip
		// alone: exactly the payload the WARC standard digests.
		payload, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Errorf("%s: %v", u, err)
		}
		if got := sha1b32(payload); got != r.get("WARC-Payload-Digest") {
			t.Errorf("%s: payload digest %s, computed %s", u, r.get("WARC-Payload-Digest"), got)
		}
		if !site.OnWire(r.Block) {
			t.Errorf("%s: response block is not the bytes the server wrote", u)
		}
		if r.get("WARC-IP-Address") != "127.0.0.1" {
			t.Errorf("%s: WARC-IP-Address %q", u, r.get("WARC-IP-Address"))
		}
		req, ok := requests[u]
		if !ok {
			t.Errorf("%s: no request record", u)
			continue
		}
		if req.get("WARC-Concurrent-To") != r.get("WARC-Record-ID") || r.get("WARC-Concurrent-To") != req.get("WARC-Record-ID") {
			t.Errorf("%s: request and response are not linked with WARC-Concurrent-To", u)
		}
		if req.get("WARC-Date") != r.get("WARC-Date") {
			t.Errorf("%s: request dated %s, response %s", u, req.get("WARC-Date"), r.get("WARC-Date"))
		}
		if _, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req.Block))); err != nil {
			t.Errorf("%s: request block: %v", u, err)
		}
		if _, ok := byID[r.get("WARC-Warcinfo-ID")]; !ok {
			t.Errorf("%s: WARC-Warcinfo-ID points nowhere", u)
		}
	}
	if t.Failed() {
		return
	}
	// Transfer and content encodings are kept as received.
	chunked := responses[site.URL("/static/app.js")].Block
	if !bytes.Contains(chunked, []byte("Transfer-Encoding: chunked\r\n")) || !bytes.Contains(chunked, []byte("\r\n0\r\n\r\n")) {
		t.Errorf("chunk framing not archived:\n%q", chunked)
	}
	gz := responses[site.URL("/static/main.css")].Block
	_, body, _ := bytes.Cut(gz, []byte("\r\n\r\n"))
	if !bytes.Contains(gz, []byte("Content-Encoding: gzip\r\n")) || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Errorf("gzip body not archived as sent:\n%q", gz)
	}
	if n := len(responses); n != len(want) {
		for u := range responses {
			if _, ok := want[u]; !ok {
				t.Errorf("unexpected capture %s", u)
			}
		}
	}
}

// TestBadInput: seeds that cannot be captured fail with a clear error while
// the rest of the crawl is archived and the files stay valid.
func TestBadInput(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	hang := testsite.Hang()
	defer hang.Close()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler()) // self-signed
	defer tlsSrv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + closed.Addr().String() + "/"
	closed.Close()

	seeds := []string{
		site.URL(testsite.Article),
		"http://[::1", // malformed
		"ftp://127.0.0.1/file",
		refused,
		tlsSrv.URL + "/",
		hang.URL + "/slow",
	}
	res, recs, _ := archiveSite(t, site, crawl.Options{
		Seeds:     seeds,
		Transport: capture.Options{ResponseHeaderTimeout: 300 * time.Millisecond, ConnectTimeout: time.Second},
		RetryBase: time.Millisecond,
	})
	failed := map[string]error{}
	for _, f := range res.Failures {
		if !f.Seed {
			t.Errorf("non-seed failure %s: %v", f.URL, f.Err)
		}
		failed[f.URL] = f.Err
	}
	for _, s := range seeds[1:] {
		err, ok := failed[s]
		if !ok {
			t.Errorf("%s: no failure reported (failures: %v)", s, failed)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || msg == "" {
			t.Errorf("%s: error is not one line: %q", s, msg)
		}
	}
	if !res.SeedFailed() {
		t.Error("SeedFailed() = false")
	}
	var article bool
	for _, r := range recs {
		if r.get("WARC-Type") == "response" && r.get("WARC-Target-URI") == site.URL(testsite.Article) {
			article = true
		}
	}
	if !article {
		t.Error("the good seed was not archived")
	}
	var urlErr interface{ Timeout() bool }
	if err := failed[hang.URL+"/slow"]; err != nil && !(errors.As(err, &urlErr) && urlErr.Timeout()) && !strings.Contains(err.Error(), "timeout") {
		t.Errorf("hanging server: %v, want a timeout", err)
	}
}

// TestLargePageNotTruncated: colly truncates bodies at 10 MB by default;
// the archive must hold the whole response whatever colly keeps.
func TestLargePageNotTruncated(t *testing.T) {
	body := "<html><head><title>big</title></head><body>" + strings.Repeat("<p>lorem ipsum dolor</p>\n", 500000) + "<img src=/tail.png></body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tail.png" {
			io.WriteString(w, "png")
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	res, err := crawl.Run(context.Background(), crawl.Options{Seeds: []string{srv.URL + "/"}, IgnoreRobots: true}, w)
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("%v %v", err, res.Failures)
	}
	w.Close()
	var page *rawRecord
	var tail bool
	for _, f := range w.Files() {
		for _, r := range readWARC(t, filepath.Join(dir, f)) {
			if r.get("WARC-Type") == "response" && r.get("WARC-Target-URI") == srv.URL+"/" {
				page = &r
			}
			tail = tail || r.get("WARC-Target-URI") == srv.URL+"/tail.png"
		}
	}
	if page == nil {
		t.Fatal("page not archived")
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(page.Block)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body) // de-chunked
	if err != nil || len(body) < 10<<20 || string(got) != body {
		t.Errorf("archived body %d bytes, sent %d", len(got), len(body))
	}
	if !tail {
		t.Error("the image at the end of the 12 MB page was not found: the parser saw a truncated page")
	}
}

// TestRevisitAfterCheckpoint: a payload archived before a checkpoint is
// found through the state afterwards (the run's own digest cache is
// emptied at each checkpoint), so the repeat is still a revisit.
func TestRevisitAfterCheckpoint(t *testing.T) {
	body := strings.Repeat("same bytes ", 300)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond) // several checkpoints pass between the two
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	res, err := crawl.Run(context.Background(), crawl.Options{
		Seeds:        []string{srv.URL + "/x.bin", srv.URL + "/y.bin"},
		Concurrency:  1,
		IgnoreRobots: true,
		// Checkpoints every millisecond: x.bin's digest is committed
		// before y.bin arrives.
		CheckpointInterval: time.Millisecond,
	}, w)
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("%v %v", err, res.Failures)
	}
	w.Close()
	// One request at a time, but either may go first: the first is a
	// response, the second a revisit that refers to it.
	types, ids, refersTo := map[string]string{}, map[string]string{}, map[string]string{}
	for _, f := range w.Files() {
		for _, r := range readWARC(t, filepath.Join(dir, f)) {
			if typ := r.get("WARC-Type"); typ == "response" || typ == "revisit" {
				u := strings.TrimPrefix(r.get("WARC-Target-URI"), srv.URL)
				types[u], ids[u], refersTo[u] = typ, r.get("WARC-Record-ID"), r.get("WARC-Refers-To")
			}
		}
	}
	first, second := "/x.bin", "/y.bin"
	if types[first] == "revisit" {
		first, second = second, first
	}
	if types[first] != "response" || types[second] != "revisit" || refersTo[second] != ids[first] {
		t.Errorf("archived as %v (refers to %v), want one response and a revisit of it", types, refersTo)
	}
}

// newMemory returns a begun in-memory frontier and its crawl number.
func newMemory(t *testing.T) (*frontier.Memory, uint64) {
	t.Helper()
	m := frontier.NewMemory(nil)
	info, err := m.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	return m, info.Crawl
}
