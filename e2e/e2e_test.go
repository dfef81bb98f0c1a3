package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/internal/testworkers"
	"github.com/amber-archiver/amber/warc"
)

// prerequisites returns the Chromium binary, or skips the test saying what
// is missing and how to install it. With AMBER_E2E_REQUIRED set (in CI) a
// missing prerequisite fails the test instead.
func prerequisites(t *testing.T, browser bool) string {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (Node.js 20 or later)")
	}
	pkgs := []string{"warcio"}
	if browser {
		pkgs = append(pkgs, "playwright-core", "replaywebpage")
	}
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join("node_modules", p, "package.json")); err != nil {
			missing = append(missing, "node_modules/"+p+" (npm ci --prefix e2e)")
		}
	}
	chromium := os.Getenv("AMBER_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if browser {
		if _, err := os.Stat(chromium); err != nil {
			missing = append(missing, chromium+" (apt-get install -y chromium, or set AMBER_CHROMIUM)")
		}
	}
	if len(missing) > 0 {
		if os.Getenv("AMBER_E2E_REQUIRED") != "" {
			t.Fatalf("end-to-end test cannot run (AMBER_E2E_REQUIRED is set): missing %s", strings.Join(missing, ", "))
		}
		t.Skipf("end-to-end test skipped: missing %s", strings.Join(missing, ", "))
	}
	return chromium
}

// buildAmber builds the amber binary into dir.
func buildAmber(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "amber")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(gobin, "build", "-o", bin, "../cmd/amber")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func amber(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("amber %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// site is the test news site behind a front that serves real image files
// (the test site's images are placeholder text, which no browser can
// decode) and counts the requests that reach it.
type site struct {
	*testsite.Site
	front *httptest.Server
	hits  atomic.Int64
	// hold, if set, hears of each request the front answers, before it
	// answers: it may hold the answer back.
	hold atomic.Pointer[func(r *http.Request)]
}

func newSite(t *testing.T) *site {
	s := &site{Site: testsite.New()}
	images := map[string][]byte{}
	for p, status := range testsite.Requisites {
		if status != http.StatusOK {
			continue
		}
		switch filepath.Ext(p) {
		case ".jpg":
			images[p] = encodeImage(t, p, jpeg.Encode)
		case ".png":
			images[p] = encodeImage(t, p, func(w io.Writer, m image.Image, _ *jpeg.Options) error { return png.Encode(w, m) })
		case ".webp":
			images[p] = webp1x1
		}
	}
	main := s.Main.Config.Handler
	s.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if hold := s.hold.Load(); hold != nil {
			(*hold)(r)
		}
		if img, ok := images[r.URL.Path]; ok {
			w.Header().Set("Content-Type", http.DetectContentType(img))
			if strings.HasSuffix(r.URL.Path, ".webp") {
				w.Header().Set("Content-Type", "image/webp")
			}
			w.Write(img)
			return
		}
		main.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		s.front.Close()
		s.Close()
	})
	return s
}

// webp1x1 is a 1×1 lossless WebP image.
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\r\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func encodeImage(t *testing.T, name string, enc func(io.Writer, image.Image, *jpeg.Options) error) []byte {
	m := image.NewRGBA(image.Rect(0, 0, 64, 40))
	var h byte
	for _, c := range name {
		h = h*31 + byte(c)
	}
	for y := 0; y < 40; y++ {
		for x := 0; x < 64; x++ {
			m.Set(x, y, color.RGBA{h, byte(x * 4), byte(y * 6), 255})
		}
	}
	var b bytes.Buffer
	if err := enc(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// archiveSite archives the article twice (the second run stores the
// unchanged article as a revisit), packs the collection and returns its
// directory and the WACZ.
func archiveSite(t *testing.T, bin, dir string, s *site) (coll, wacz string) {
	coll = filepath.Join(dir, "coll")
	article := s.front.URL + testsite.Article
	amber(t, bin, "archive", "-q", "-o", coll, article)
	time.Sleep(1100 * time.Millisecond) // a second capture one second later
	amber(t, bin, "archive", "-q", "--recrawl", "-o", coll, article)
	wacz = filepath.Join(dir, "coll.wacz")
	t.Log(strings.TrimSpace(amber(t, bin, "pack", "-o", wacz, coll)))
	return coll, wacz
}

// archivedStatus maps every URL in the collection's index to its HTTP
// status; a revisit counts as 200.
func archivedStatus(t *testing.T, coll string) map[string]int {
	f, err := os.Open(filepath.Join(coll, "indexes", "index.cdxj"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l, err := warc.ParseCDXJLine(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		status := 200
		fmt.Sscan(l.Status, &status)
		if old, ok := out[l.URL]; !ok || status < old {
			out[l.URL] = status
		}
	}
	return out
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("AMBER_E2E_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	dir, _ = filepath.Abs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserReplay archives the test site, packs it, and replays the
// article in headless Chromium three ways: ReplayWeb.page loading the
// WACZ, ReplayWeb.page loading the WARC file, and amber replay. Each must
// show the headline and every image, answer no archived URL with 404, and
// never reach the live site.
func TestBrowserReplay(t *testing.T) {
	chromium := prerequisites(t, true)
	start := time.Now()
	dir := t.TempDir()
	bin := buildAmber(t, dir)
	s := newSite(t)
	coll, wacz := archiveSite(t, bin, dir, s)
	s.CDN.Close() // anything still asking the CDN now fails loudly
	warcs, _ := filepath.Glob(filepath.Join(coll, "archive", "*.warc.gz"))
	sort.Strings(warcs)
	if len(warcs) == 0 {
		t.Fatal("no WARC files")
	}
	viewer := serveViewer(t, s.front.URL+testsite.Article, wacz, warcs[0])
	replayURL := startReplay(t, bin, coll)
	browserChecks(t, chromium, s, archivedStatus(t, coll), []map[string]string{
		{"name": "replaywebpage-wacz", "url": viewer.URL + "/wacz.html", "viewer": "replaywebpage"},
		{"name": "replaywebpage-warc", "url": viewer.URL + "/warc.html", "viewer": "replaywebpage"},
		{"name": "amber-replay", "url": replayURL, "viewer": "amber"},
	})
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserReplayWorkers replays an article whose resources came from
// the collections of two workers of one crawl: worker A archived the
// article; worker B archived another page, then captured the article, its
// style sheet and its hero image again an hour later, finding their
// payloads in the digest index the workers share, so its WARC file holds
// revisits of A's records. ReplayWeb.page opens the one WACZ amber pack
// makes of both and amber replay serves both directories: the article's
// latest capture is B's revisit, replayed with A's payload, beside A's
// other requisites.
func TestBrowserReplayWorkers(t *testing.T) {
	chromium := prerequisites(t, true)
	dir := t.TempDir()
	bin := buildAmber(t, dir)
	s := newSite(t)
	article := s.front.URL + testsite.Article
	a, b := filepath.Join(dir, "A"), filepath.Join(dir, "B")
	amber(t, bin, "archive", "-q", "--worker-id", "worker-a", "-o", a, article)
	amber(t, bin, "archive", "-q", "--worker-id", "worker-b", "-o", b, s.front.URL+"/news/2026/11/other.html")
	dates, err := testworkers.AddRevisits(a, b, "worker-b", time.Hour,
		testworkers.Capture{URL: article, Title: testsite.Headline},
		testworkers.Capture{URL: s.front.URL + "/static/main.css"},
		testworkers.Capture{URL: s.front.URL + "/news/2026/11/img/hero.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	wacz := filepath.Join(dir, "crawl.wacz")
	t.Log(strings.TrimSpace(amber(t, bin, "pack", "-o", wacz, a, b)))
	amber(t, bin, "verify", "--strict", "-q", wacz)
	s.CDN.Close()

	archived := archivedStatus(t, a)
	for u, status := range archivedStatus(t, b) {
		if old, ok := archived[u]; !ok || status < old {
			archived[u] = status
		}
	}
	viewer := serveViewer(t, article, wacz, "")
	ts := dates[article].UTC().Format("20060102150405")
	replayURL := startReplay(t, bin, a, b)
	results := browserChecks(t, chromium, s, archived, []map[string]string{
		{"name": "replaywebpage-workers-wacz", "url": viewer.URL + "/wacz.html", "viewer": "replaywebpage"},
		{"name": "amber-replay-workers", "url": replayURL + ts + "/" + article, "viewer": "amber", "direct": "yes"},
	})
	for _, res := range results {
		if !strings.Contains(res.FrameURL, "/"+ts) {
			t.Errorf("%s showed %s, want B's capture of %s", res.Name, res.FrameURL, ts)
		}
	}
}

// serveViewer serves ReplayWeb.page from 127.0.0.1, as a site would embed
// it, with /wacz.html opening the package wacz and /warc.html the WARC
// file warcFile (if not "") at the article (or at the URL of the query's
// url parameter).
func serveViewer(t *testing.T, article, wacz, warcFile string) *httptest.Server {
	rwp := filepath.Join("node_modules", "replaywebpage")
	files := http.FileServer(http.Dir(rwp))
	viewer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		article := article
		if u := r.URL.Query().Get("url"); u != "" {
			article = u
		}
		switch p := r.URL.Path; {
		case p == "/wacz.html":
			embedPage(w, "/archive/"+filepath.Base(wacz), article)
		case p == "/warc.html" && warcFile != "":
			embedPage(w, "/archive/"+filepath.Base(warcFile), article)
		case p == "/archive/"+filepath.Base(wacz):
			http.ServeFile(w, r, wacz)
		case warcFile != "" && p == "/archive/"+filepath.Base(warcFile):
			http.ServeFile(w, r, warcFile)
		case strings.HasPrefix(p, "/replay/"):
			// The service worker and the app it loads, under its scope.
			http.StripPrefix("/replay", files).ServeHTTP(w, r)
		default:
			files.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(viewer.Close)
	return viewer
}

// browserResult is what browser.mjs found in one run.
type browserResult struct {
	Name            string   `json:"name"`
	FrameURL        string   `json:"frameURL"`
	HeadlineVisible bool     `json:"headlineVisible"`
	Failures        []string `json:"failures"`
	Requests        int      `json:"requests"`
	Replayed        int      `json:"replayed"`
	NotArchived     []string `json:"notArchived"`
	Offsite         []string `json:"offsite"`
	Banner          string   `json:"banner"`
	Screenshot      string   `json:"screenshot"`
	Images          []struct {
		CurrentSrc   string `json:"currentSrc"`
		NaturalWidth int    `json:"naturalWidth"`
		Skipped      string `json:"skipped"`
		Original     string `json:"original"`
	} `json:"images"`
}

// browserChecks runs browser.mjs over the runs (each a name, a URL and a
// viewer) against the archive whose URLs and statuses are archived, checks
// each run showed the headline and its images and that the live site got
// no request meanwhile, and returns the results in the order of runs.
func browserChecks(t *testing.T, chromium string, s *site, archived map[string]int, runs []map[string]string) []browserResult {
	dir := t.TempDir()
	config := map[string]any{
		"chromium":    chromium,
		"headline":    testsite.Headline,
		"article":     s.front.URL + testsite.Article,
		"archived":    archived,
		"screenshots": artifactsDir(t),
		"timeoutMs":   30000,
		"runs":        runs,
	}
	cfgFile := filepath.Join(dir, "browser.json")
	b, _ := json.Marshal(config)
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		t.Fatal(err)
	}

	hitsBefore := s.hits.Load()
	browserStart := time.Now()
	node := exec.Command("node", "browser.mjs", cfgFile)
	var out, errOut bytes.Buffer
	node.Stdout, node.Stderr = &out, &errOut
	runErr := node.Run()
	if errOut.Len() > 0 {
		t.Logf("browser.mjs stderr:\n%s", errOut.String())
	}
	if live := s.hits.Load() - hitsBefore; live != 0 {
		t.Errorf("the live site got %d requests during replay, want none", live)
	}

	var results []browserResult
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var res browserResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("browser.mjs output %q: %v", sc.Text(), err)
		}
		results = append(results, res)
		loaded, skipped := 0, 0
		for _, img := range res.Images {
			switch {
			case img.Skipped != "":
				skipped++
			case img.NaturalWidth > 0:
				loaded++
			}
		}
		t.Logf("%s: headline visible %t, %d of %d images loaded (%d exempt: lazy, data: or archived as an error), %d requests, %d archival, not archived: %v, screenshot %s",
			res.Name, res.HeadlineVisible, loaded, len(res.Images), skipped, res.Requests, res.Replayed, res.NotArchived, res.Screenshot)
		if res.Banner != "" {
			t.Logf("%s: banner %q", res.Name, res.Banner)
		}
		if !res.HeadlineVisible {
			t.Errorf("%s: headline %q not visible", res.Name, testsite.Headline)
		}
		if loaded == 0 {
			t.Errorf("%s: no image loaded", res.Name)
		}
		for _, f := range res.Failures {
			t.Errorf("%s: %s", res.Name, f)
		}
	}
	if len(results) != len(runs) {
		t.Errorf("browser.mjs reported %d runs, want %d (exit: %v)", len(results), len(runs), runErr)
	} else if runErr != nil && !t.Failed() {
		t.Errorf("browser.mjs: %v", runErr)
	}
	t.Logf("browser phase %s", time.Since(browserStart).Round(time.Millisecond))
	return results
}

// embedPage writes the page that embeds ReplayWeb.page with an archive.
func embedPage(w http.ResponseWriter, source, article string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>amber e2e</title><script src="/ui.js"></script></head>
<body style="margin:0">
<replay-web-page style="display:block;width:100vw;height:100vh" source="%s" url="%s" replaybase="/replay/" embed="replayonly"></replay-web-page>
</body></html>
`, source, article)
}

// TestWarcio reads every WARC file amber writes for the test site with
// warcio: it must read each without error, find every response record
// amber's own reader finds, and index each record at the offset and
// length amber's CDXJ gives it.
func TestWarcio(t *testing.T) {
	prerequisites(t, false)
	dir := t.TempDir()
	bin := buildAmber(t, dir)
	s := newSite(t)
	coll := filepath.Join(dir, "coll")
	article := s.front.URL + testsite.Article
	amber(t, bin, "archive", "-q", "--outlinks", "-o", coll, article)
	amber(t, bin, "archive", "-q", "--recrawl", "-o", coll, article) // revisits
	amber(t, bin, "archive", "-q", "--digest", "sha256", "-o", filepath.Join(dir, "sha256"), article)
	warcs, _ := filepath.Glob(filepath.Join(coll, "archive", "*.warc.gz"))
	more, _ := filepath.Glob(filepath.Join(dir, "sha256", "archive", "*.warc.gz"))
	warcs = append(warcs, more...)
	if len(warcs) < 3 {
		t.Fatalf("want at least 3 WARC files, got %v", warcs)
	}

	warcioChecks(t, warcs)
}

// warcioChecks reads the WARC files with warcio: it must read each
// without error, find every response record amber's own reader finds, and
// index each record at the offset and length amber's CDXJ gives it.
func warcioChecks(t *testing.T, warcs []string) {
	t.Helper()
	cmd := exec.Command("node", append([]string{"warcio-index.mjs"}, warcs...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runErr := cmd.Run()
	if errOut.Len() > 0 {
		t.Logf("warcio-index.mjs stderr:\n%s", errOut.String())
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	seen := 0
	for sc.Scan() {
		var res struct {
			File      string           `json:"file"`
			Records   int              `json:"records"`
			Types     map[string]int   `json:"types"`
			Responses []string         `json:"responses"`
			CDX       []map[string]any `json:"cdx"`
			Error     string           `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("warcio-index.mjs output: %v", err)
		}
		seen++
		name := filepath.Base(res.File)
		if res.Error != "" {
			t.Errorf("%s: warcio: %s", name, res.Error)
			continue
		}
		records, responses := readWARC(t, res.File)
		if res.Records != records {
			t.Errorf("%s: warcio read %d records, amber's reader %d", name, res.Records, records)
		}
		sort.Strings(res.Responses)
		if strings.Join(res.Responses, "\n") != strings.Join(responses, "\n") {
			t.Errorf("%s: warcio found responses\n%v\namber's reader\n%v", name, res.Responses, responses)
		}
		compareIndex(t, res.File, res.CDX)
		t.Logf("%s: warcio read %d records %v, %d responses, %d index lines", name, res.Records, res.Types, len(res.Responses), len(res.CDX))
	}
	if seen != len(warcs) {
		t.Errorf("warcio-index.mjs reported %d files of %d (exit: %v)", seen, len(warcs), runErr)
	}
}

// readWARC counts the records of a WARC file with amber's reader and lists
// the target URIs of its responses, sorted.
func readWARC(t *testing.T, path string) (records int, responses []string) {
	recs := readRecords(t, []string{path})
	for _, r := range recs {
		if r.get("WARC-Type") == "response" {
			responses = append(responses, r.get("WARC-Target-URI"))
		}
	}
	sort.Strings(responses)
	return len(recs), responses
}

// compareIndex checks warcio's index of a file against amber's
// (warc.IndexWARC, the lines amber index writes): the same records at the
// same offsets and lengths, with the same URL, digest, status and mime.
// The SURT keys must match too: warcio's are those pywb looks up.
func compareIndex(t *testing.T, path string, cdx []map[string]any) {
	lines, err := warc.IndexWARC(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	byOffset := map[int64]warc.CDXJLine{}
	for _, l := range lines {
		byOffset[l.Offset] = l
	}
	str := func(v any) string {
		switch v := v.(type) {
		case nil:
			return ""
		case float64:
			return fmt.Sprintf("%.0f", v)
		}
		return fmt.Sprint(v)
	}
	for _, c := range cdx {
		var off int64
		fmt.Sscan(str(c["offset"]), &off)
		l, ok := byOffset[off]
		if !ok {
			t.Errorf("%s: warcio indexes a record at %d (%s), amber does not", filepath.Base(path), off, str(c["url"]))
			continue
		}
		delete(byOffset, off)
		digest := l.Digest
		if i := strings.IndexByte(digest, ':'); i >= 0 {
			digest = digest[i+1:] // warcio drops the algorithm label
		}
		for _, f := range []struct{ name, amber, warcio string }{
			{"url", l.URL, str(c["url"])},
			{"length", fmt.Sprint(l.Length), str(c["length"])},
			{"timestamp", l.Timestamp, str(c["timestamp"])},
			{"digest", digest, str(c["digest"])},
			{"mime", l.Mime, str(c["mime"])},
		} {
			if f.amber != f.warcio {
				t.Errorf("%s@%d %s: amber %s %q, warcio %q", filepath.Base(path), off, l.URL, f.name, f.amber, f.warcio)
			}
		}
		if want := str(c["status"]); l.Status != want {
			t.Errorf("%s@%d %s: amber status %q, warcio %q", filepath.Base(path), off, l.URL, l.Status, want)
		}
		if l.Key != str(c["urlkey"]) {
			t.Errorf("%s@%d: amber SURT key %q, warcio %q", filepath.Base(path), off, l.Key, str(c["urlkey"]))
		}
	}
	for off, l := range byOffset {
		t.Errorf("%s: amber indexes a record at %d (%s), warcio does not", filepath.Base(path), off, l.URL)
	}
}

// TestWarcioReadsIndexLines: the lines `amber index` writes for every WARC
// file of testdata (amber's own, other tools', the damaged ones) are read
// by warcio as a replay tool reads them: each splits into key, timestamp
// and JSON, and its offset and length cut out the record of its url.
// (warcio reads no ARC files; the Go corpus test checks those.)
func TestWarcioReadsIndexLines(t *testing.T) {
	prerequisites(t, false)
	var files []string
	for _, dir := range []string{"cdxj", "others", "damaged"} {
		for _, pat := range []string{"*.warc", "*.warc.gz"} {
			m, _ := filepath.Glob(filepath.Join("..", "testdata", dir, pat))
			files = append(files, m...)
		}
	}
	type fileLines struct {
		File  string   `json:"file"`
		Lines []string `json:"lines"`
	}
	var in []fileLines
	want := 0
	for _, f := range files {
		lines, _ := warc.IndexWARC(f) // damage is named; what could be read is indexed
		fl := fileLines{File: f}
		for _, l := range lines {
			if l.Length > 0 { // records sharing a gzip member have no length of their own
				fl.Lines = append(fl.Lines, l.String())
			}
		}
		want += len(fl.Lines)
		in = append(in, fl)
	}
	if want < 100 {
		t.Fatalf("only %d lines from %d files", want, len(files))
	}
	b, _ := json.Marshal(in)
	p := filepath.Join(t.TempDir(), "lines.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "warcio-lines.mjs", p)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("warcio-lines.mjs: %v\n%s%s", err, out, errOut.String())
	}
	checked := -1
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Checked *int   `json:"checked"`
			File    string `json:"file"`
			Line    string `json:"line"`
			Error   string `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("warcio-lines.mjs output %q: %v", line, err)
		}
		if r.Checked != nil {
			checked = *r.Checked
			continue
		}
		t.Errorf("%s: %s\n  %s", r.File, r.Error, r.Line)
	}
	t.Logf("warcio read %d index lines of %d files", checked, len(files))
	if checked != want {
		t.Errorf("warcio checked %d lines of %d", checked, want)
	}
}
