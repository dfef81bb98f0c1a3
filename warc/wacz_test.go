package warc

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testCollection writes a small collection: one WARC file of two runs'
// worth of records from seeds, its index, pages, a log, the datapackage,
// and the state/ files a crawl leaves, which a WACZ must not contain.
func testCollection(t *testing.T, dir string, seeds ...string) {
	t.Helper()
	testCollectionOf(t, dir, "", seeds...)
}

// testCollectionOf is testCollection written by worker (default: the
// host name) and, for worker "late", an hour later.
func testCollectionOf(t *testing.T, dir, worker string, seeds ...string) {
	t.Helper()
	c, err := OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	if worker == "late" {
		date = date.Add(time.Hour)
	}
	w, err := NewWriter(WriterOptions{Dir: c.ArchivePath(), Worker: worker, Now: func() time.Time { return date },
		Info: []Field{{"software", "amber-test"}, {"amber-seeds", strings.Join(seeds, " ")}}})
	if err != nil {
		t.Fatal(err)
	}
	var pages []PageEntry
	for i, u := range append(seeds, "https://example.org/img/a.png") {
		b := w.NewRecord(TypeResponse, date.Add(time.Duration(i)*time.Second))
		b.AddField("WARC-Target-URI", u)
		b.AddField("Content-Type", "application/http;msgtype=response")
		ct := "text/html"
		if strings.HasSuffix(u, ".png") {
			ct = "image/png"
		} else {
			pages = append(pages, PageEntry{ID: "p" + string(rune('0'+i)), URL: u, TS: date.Add(time.Duration(i) * time.Second).Format(time.RFC3339), Title: "Page"})
		}
		io.WriteString(b, "HTTP/1.1 200 OK\r\nContent-Type: "+ct+"\r\nContent-Length: 5\r\n\r\nhello")
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex(w.Index()); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPages(pages); err != nil {
		t.Fatal(err)
	}
	lf, err := c.CreateLog("crawl-1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(lf, `{"url":"https://example.org/"}`+"\n")
	lf.Close()
	if err := c.WriteDatapackage("amber/test", date, w.FileHashes()); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	os.MkdirAll(state, 0o755)
	os.WriteFile(filepath.Join(state, "crawl.db"), []byte("bolt"), 0o644)
	os.WriteFile(filepath.Join(state, "lock"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "indexes", ".index.cdxj.tmp123"), []byte("half"), 0o644) // an interrupted atomic write
}

// readWACZ checks a WACZ with archive/zip and crypto/sha256 alone, as an
// independent reader would, and returns its datapackage.
func readWACZ(t *testing.T, path string, collection string) map[string]any {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc) // checks the CRC-32 at EOF
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		entries[f.Name] = b
		if strings.HasPrefix(f.Name, "archive/") {
			// WARC files are stored, so a viewer can read a record at its
			// offset straight out of the zip.
			if f.Method != zip.Store {
				t.Errorf("%s: method %d, want stored (0)", f.Name, f.Method)
			}
			off, err := f.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw[off:off+int64(len(b))], b) {
				t.Errorf("%s: bytes at the data offset differ from the entry", f.Name)
			}
		}
		if want, err := os.ReadFile(filepath.Join(collection, filepath.FromSlash(f.Name))); err == nil {
			if !bytes.Equal(b, want) && f.Name != DatapackagePath {
				t.Errorf("%s: differs from the collection's file", f.Name)
			}
		}
		if strings.HasPrefix(f.Name, "state/") || strings.Contains(f.Name, "/.") {
			t.Errorf("WACZ holds %s", f.Name)
		}
	}

	var dp map[string]any
	if err := json.Unmarshal(entries["datapackage.json"], &dp); err != nil {
		t.Fatalf("datapackage.json: %v", err)
	}
	var digest struct{ Path, Hash string }
	if err := json.Unmarshal(entries["datapackage-digest.json"], &digest); err != nil {
		t.Fatalf("datapackage-digest.json: %v", err)
	}
	sum := sha256.Sum256(entries["datapackage.json"])
	if digest.Path != "datapackage.json" || digest.Hash != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("datapackage-digest.json = %+v, want the sha256 of datapackage.json %x", digest, sum)
	}
	if dp["profile"] != "data-package" || dp["wacz_version"] != "1.1.1" {
		t.Errorf("profile %v, wacz_version %v", dp["profile"], dp["wacz_version"])
	}
	listed := map[string]bool{}
	for _, r := range dp["resources"].([]any) {
		res := r.(map[string]any)
		p := res["path"].(string)
		listed[p] = true
		b, ok := entries[p]
		if !ok {
			t.Errorf("datapackage lists %s, the zip has no such entry", p)
			continue
		}
		sum := sha256.Sum256(b)
		if res["hash"] != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("%s: hash %v, entry's sha256 is %x", p, res["hash"], sum)
		}
		if int(res["bytes"].(float64)) != len(b) {
			t.Errorf("%s: bytes %v, entry has %d", p, res["bytes"], len(b))
		}
		if res["name"] != filepath.Base(p) {
			t.Errorf("%s: name %v", p, res["name"])
		}
	}
	for _, n := range names {
		if !listed[n] && n != "datapackage.json" && n != "datapackage-digest.json" {
			t.Errorf("zip entry %s is not listed in datapackage.json", n)
		}
	}
	for _, must := range []string{"indexes/index.cdxj", "pages/pages.jsonl"} {
		if !listed[must] {
			t.Errorf("WACZ lacks %s", must)
		}
	}
	return dp
}

func TestPackWACZ(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "harbour")
	testCollection(t, dir, "https://example.org/news/story")
	out := filepath.Join(t.TempDir(), "harbour.wacz")
	h := sha256.New()
	got, err := PackWACZ(dir, out, WACZOptions{Software: "amber/test", Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	dp := readWACZ(t, out, dir)
	if b, err := os.ReadFile(out); err != nil || sha256.Sum256(b) != [32]byte(h.Sum(nil)) {
		t.Errorf("WACZOptions.Hash: %x, the file's sha256 is %x (%v)", h.Sum(nil), sha256.Sum256(b), err)
	}
	for k, want := range map[string]string{
		"title":        "harbour",
		"created":      "2026-11-25T18:00:00Z",
		"software":     "amber/test",
		"mainPageUrl":  "https://example.org/news/story",
		"mainPageDate": "2026-11-25T18:00:00Z",
	} {
		if dp[k] != want {
			t.Errorf("datapackage %s = %v, want %q", k, dp[k], want)
		}
	}
	if len(got.Resources) != 4 {
		t.Errorf("resources %+v, want archive, index, log, pages", got.Resources)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: modified %v, want the collection's creation time", f.Name, f.Modified)
		}
	}
	zr.Close()
	want := regexp.MustCompile(`^archive/amber-\S+\.warc\.gz indexes/index\.cdxj logs/crawl-1\.jsonl pages/pages\.jsonl datapackage\.json datapackage-digest\.json$`)
	if s := strings.Join(names, " "); !want.MatchString(s) {
		t.Errorf("entries %s, want data files sorted, then the manifest and its digest", s)
	}
}

// TestPackWACZDeterministic packs the same collection twice, from two
// copies at different paths and with different file times, and wants the
// same bytes.
func TestPackWACZDeterministic(t *testing.T) {
	a := filepath.Join(t.TempDir(), "coll")
	testCollection(t, a, "https://example.org/")
	b := filepath.Join(t.TempDir(), "coll")
	if err := os.CopyFS(b, os.DirFS(a)); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	filepath.Walk(b, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, later, later) })

	var packs [][]byte
	for _, dir := range []string{a, a, b} {
		var buf bytes.Buffer
		if _, err := WriteWACZ(&buf, dir, WACZOptions{Software: "amber/test"}); err != nil {
			t.Fatal(err)
		}
		packs = append(packs, buf.Bytes())
	}
	for i := 1; i < len(packs); i++ {
		if !bytes.Equal(packs[0], packs[i]) {
			t.Errorf("pack %d differs from pack 0 (%d and %d bytes)", i, len(packs[i]), len(packs[0]))
		}
	}
}

func TestPackWACZRefuses(t *testing.T) {
	t.Run("open WARC", func(t *testing.T) {
		dir := t.TempDir()
		testCollection(t, dir, "https://example.org/")
		os.WriteFile(filepath.Join(dir, "archive", "amber-x.warc.gz.open"), []byte("x"), 0o644)
		out := filepath.Join(t.TempDir(), "x.wacz")
		if _, err := PackWACZ(dir, out, WACZOptions{}); !errors.Is(err, ErrOpenWARC) {
			t.Errorf("err = %v, want ErrOpenWARC", err)
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("a WACZ was written")
		}
	})
	t.Run("changed file", func(t *testing.T) {
		dir := t.TempDir()
		testCollection(t, dir, "https://example.org/")
		f, _ := os.OpenFile(filepath.Join(dir, "pages", "pages.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(`{"url":"https://example.org/x","ts":"2026-11-25T18:00:00Z"}` + "\n")
		f.Close()
		_, err := WriteWACZ(io.Discard, dir, WACZOptions{})
		if err == nil || !strings.Contains(err.Error(), "pages/pages.jsonl changed") {
			t.Errorf("err = %v, want pages/pages.jsonl changed", err)
		}
	})
	t.Run("no WARC files", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := OpenCollection(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteWACZ(io.Discard, dir, WACZOptions{}); err == nil {
			t.Error("packed a collection without WARC files")
		}
	})
}

func TestWACZMainPage(t *testing.T) {
	for _, tt := range []struct {
		name  string
		seeds []string
		want  string
	}{
		{"one seed", []string{"https://example.org/a"}, "https://example.org/a"},
		{"two seeds", []string{"https://example.org/a", "https://example.org/b"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testCollection(t, dir, tt.seeds...)
			var buf bytes.Buffer
			dp, err := WriteWACZ(&buf, dir, WACZOptions{Title: "T"})
			if err != nil {
				t.Fatal(err)
			}
			if dp.MainPageURL != tt.want || (tt.want != "") != (dp.MainPageDate != "") {
				t.Errorf("main page %q at %q, want %q", dp.MainPageURL, dp.MainPageDate, tt.want)
			}
			if dp.Title != "T" {
				t.Errorf("title %q", dp.Title)
			}
		})
	}
}

// TestIndexGolden indexes WARC files amber wrote from the test site (two
// runs, the second with a revisit of the article) and compares the result
// with testdata/cdxj/site.cdxj, which is byte for byte the index amber
// wrote while crawling. Run with -update to rewrite it.
func TestIndexGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "cdxj", "amber-*.warc.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var lines []CDXJLine
	for _, f := range files {
		ls, err := IndexWARC(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, ls...)
	}
	SortCDXJ(lines)
	var got bytes.Buffer
	for _, l := range lines {
		got.WriteString(l.String() + "\n")
	}
	golden := filepath.Join("..", "testdata", "cdxj", "site.cdxj")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("index of the fixtures differs from %s:\n%s", golden, firstDiff(got.String(), string(want)))
	}
}

// TestIndexAgainstWarcio compares amber's index of the fixtures with the
// one warcio (the reader ReplayWeb.page is built on) wrote for them,
// testdata/cdxj/site.warcio.cdxj: every record at the same offset and
// length, with the same URL, timestamp, mime, status and digest. Two known
// deviations are tolerated, and logged: warcio's SURT reverses an IP
// address host (1,0,0,127:PORT) as Python's surt does, amber's does not;
// and amber's revisit lines have no status (the revisit records lack the
// blank line after their HTTP headers).
func TestIndexAgainstWarcio(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "testdata", "cdxj", "site.warcio.cdxj"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ours := map[string]CDXJLine{}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "cdxj", "amber-*.warc.gz"))
	for _, p := range files {
		ls, err := IndexWARC(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			ours[l.Filename+"@"+strconv.FormatInt(l.Offset, 10)] = l
		}
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		w, err := ParseCDXJLine(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		n++
		id := w.Filename + "@" + strconv.FormatInt(w.Offset, 10)
		l, ok := ours[id]
		if !ok {
			t.Errorf("%s: warcio indexes %s, amber does not", id, w.URL)
			continue
		}
		delete(ours, id)
		digest := l.Digest[strings.IndexByte(l.Digest, ':')+1:]
		if l.URL != w.URL || l.Timestamp != w.Timestamp || l.Length != w.Length || l.Mime != w.Mime || digest != w.Digest {
			t.Errorf("%s:\namber  %s\nwarcio %s", id, l, w)
		}
		switch {
		case l.Status == w.Status:
		case l.Status == "" && l.Mime == "warc/revisit":
			t.Logf("%s %s: revisit without status, warcio says %s", id, l.URL, w.Status)
		default:
			t.Errorf("%s %s: status %q, warcio %q", id, l.URL, l.Status, w.Status)
		}
		if l.Key != w.Key && reverseIP(l.Key) != w.Key {
			t.Errorf("%s: key %s, warcio %s", id, l.Key, w.Key)
		}
	}
	for id, l := range ours {
		t.Errorf("%s: amber indexes %s, warcio does not", id, l.URL)
	}
	if n == 0 {
		t.Error("empty warcio index")
	}
}

// reverseIP turns a key "127.0.0.1:80)/x" into "1,0,0,127:80)/x", the key
// Python's surt and warcio give an IP address host.
func reverseIP(key string) string {
	host, rest, ok := strings.Cut(key, ")")
	if !ok {
		return key
	}
	h, port, _ := strings.Cut(host, ":")
	parts := strings.Split(h, ".")
	slices.Reverse(parts)
	host = strings.Join(parts, ",")
	if port != "" {
		host += ":" + port
	}
	return host + ")" + rest
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\ngot  " + a + "\nwant " + b
		}
	}
	return "(no line differs)"
}
