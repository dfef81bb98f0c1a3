package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/browser"
	"github.com/amber-archiver/amber/crawl/browser/proxy"
	"github.com/amber-archiver/amber/internal/otherreaders"
	"github.com/amber-archiver/amber/warc"
)

// wireListener records, for every connection it accepts, the bytes the
// server wrote on it (the plaintext, when it wraps a TLS listener).
type wireListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*bytes.Buffer
}

func (l *wireListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	b := new(bytes.Buffer)
	l.mu.Lock()
	l.conns = append(l.conns, b)
	l.mu.Unlock()
	return &wireConn{Conn: c, l: l, b: b}, nil
}

// wrote reports whether b was written, contiguously, on one connection.
func (l *wireListener) wrote(b []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if bytes.Contains(c.Bytes(), b) {
			return true
		}
	}
	return false
}

type wireConn struct {
	net.Conn
	l *wireListener
	b *bytes.Buffer
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.mu.Lock()
	c.b.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}

// liveServer is one origin of the live site: on 127.0.0.1, reached by
// the host name host ("127.0.0.1" or "localhost"), over HTTP or, with a
// certificate of ca, HTTPS (HTTP/1.1). It listens at once (so its URL is
// known) and serves h from start on.
type liveServer struct {
	url  string
	wire *wireListener
	srv  *http.Server
}

func (s *liveServer) start() { go s.srv.Serve(s.wire) }

func newLive(t *testing.T, h http.Handler, host string, ca *proxy.CA) *liveServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if ca != nil {
		scheme = "https"
		ln = tls.NewListener(ln, &tls.Config{
			NextProtos: []string{"http/1.1"},
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if hello.ServerName == "" { // a client asking for an IP address sends no name
					return ca.Leaf("127.0.0.1")
				}
				return ca.Leaf(hello.ServerName)
			},
		})
	}
	s := &liveServer{wire: &wireListener{Listener: ln}, srv: &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.url = scheme + "://" + host + ":" + port
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// TestBrowserCaptureReplay archives the script-built article (its body
// from a JSON API, a POST, images inserted by script, a background set
// from script, a FontFace font, audio, a script that loads another, an
// iframe made by script, a lazy image far below the fold behind an
// IntersectionObserver, most of it on a second host name) over HTTP and
// over HTTPS with the amber binary in browser mode, then checks what it
// wrote: every resource archived, each response block byte for byte what
// the server wrote, a 1280×800 PNG screenshot of each page, verify
// --strict clean, warcio and two independent Go readers (the Internet
// Archive's gowarc, slyrz/warc) read every record. It then replays both
// captures, with no request reaching the live servers, in ReplayWeb.page
// from the WACZ amber pack makes and in amber replay: the script-built
// text is visible, every image loaded (the lazy one once scrolled to),
// the font loaded, the audio seeks, no archived URL answers 404, and no
// request leaves the replay origin.
func TestBrowserCaptureReplay(t *testing.T) {
	chromium := prerequisites(t, true)
	start := time.Now()
	dir := t.TempDir()
	bin := buildAmber(t, dir)
	ca, err := proxy.NewCA() // the HTTPS servers' root
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	// The live site, over HTTP and over HTTPS, each on two host names.
	// After the capture the servers stay up to count what still reaches
	// them (a closed port would only make such a request fail), and answer
	// 410 to it.
	var (
		captured, captureHits = atomic.Bool{}, atomic.Int64{}
		mu                    sync.Mutex
		late                  = map[string]int{}
		res                   []scriptRes
	)
	handler := scriptHandler(&res, func(*http.Request) { captureHits.Add(1) })
	live := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if captured.Load() {
			mu.Lock()
			late[r.Method+" "+r.Host+r.URL.String()]++
			mu.Unlock()
			http.Error(w, "the live site is gone", http.StatusGone)
			return
		}
		handler.ServeHTTP(w, r)
	})
	type scheme struct {
		name      string
		site, cdn *liveServer
		res       []scriptRes
	}
	var schemes []*scheme
	for _, tls := range []bool{false, true} {
		var c *proxy.CA
		name := "http"
		if tls {
			c, name = ca, "https"
		}
		s := &scheme{name: name, site: newLive(t, live, "127.0.0.1", c), cdn: newLive(t, live, "localhost", c)}
		s.res = scriptBuiltSite(t, s.site.url, s.cdn.url)
		res = append(res, s.res...)
		schemes = append(schemes, s)
	}
	for _, s := range schemes {
		s.site.start()
		s.cdn.start()
	}
	story := func(s *scheme) string { return s.site.url + "/news/story.html" }

	// The capture, with the real binary.
	coll := filepath.Join(dir, "coll")
	captureStart := time.Now()
	amber(t, bin, "archive", "-q", "--browser", "--chromium", chromium, "--ca-cert", caFile, "-o", coll, story(schemes[0]), story(schemes[1]))
	captureTime := time.Since(captureStart)
	captured.Store(true)
	t.Logf("capture of 2 pages with --browser: %s, %d requests reached the live servers", captureTime.Round(time.Millisecond), captureHits.Load())

	warcs, _ := filepath.Glob(filepath.Join(coll, warc.ArchiveDir, "*.warc.gz"))
	sort.Strings(warcs)
	if len(warcs) == 0 {
		t.Fatal("no WARC files")
	}
	recs := readRecords(t, warcs)
	dates := map[string]string{} // the story's capture time, for replay
	for _, s := range schemes {
		checkBrowserCapture(t, s.name, recs, s.res, s.site, s.cdn)
		for _, r := range recs {
			if r.get("WARC-Type") == "response" && r.get("WARC-Target-URI") == story(s) {
				d, err := time.Parse(time.RFC3339Nano, r.get("WARC-Date"))
				if err != nil {
					t.Fatalf("WARC-Date of %s: %v", story(s), err)
				}
				dates[s.name] = d.UTC().Format("20060102150405")
			}
		}
	}
	// Nothing of Chromium's own traffic is archived: every exchange is
	// with one of the servers.
	origins := map[string]bool{}
	for _, s := range schemes {
		origins[s.site.url], origins[s.cdn.url] = true, true
	}
	for _, r := range recs {
		if typ := r.get("WARC-Type"); typ == "request" || typ == "response" {
			u, err := url.Parse(r.get("WARC-Target-URI"))
			if err != nil || !origins[u.Scheme+"://"+u.Host] {
				t.Errorf("a %s record for %s", typ, r.get("WARC-Target-URI"))
			}
		}
	}
	amber(t, bin, "verify", "--strict", "-q", coll)
	readIndependently(t, warcs, recs)
	warcioChecks(t, warcs)

	// Replay, with the live site gone.
	wacz := filepath.Join(dir, "coll.wacz")
	amber(t, bin, "pack", "-q", "-o", wacz, coll)
	amber(t, bin, "verify", "--strict", "-q", wacz)
	archived := archivedStatus(t, coll)
	viewer := serveViewer(t, story(schemes[0]), wacz, "")
	replayURL := startReplay(t, bin, coll)
	var runs []map[string]any
	for _, s := range schemes {
		runs = append(runs,
			map[string]any{"name": "amber-replay-" + s.name, "url": replayURL + dates[s.name] + "/" + story(s), "framed": true},
			map[string]any{"name": "replaywebpage-wacz-" + s.name, "url": viewer.URL + "/wacz.html?url=" + url.QueryEscape(story(s)), "framed": true, "frame": "mp_/" + story(s)})
	}
	replayStart := time.Now()
	var results []scriptResult
	for _, line := range runNode(t, "scriptbuilt.mjs", dir, "capture-replay", map[string]any{"chromium": chromium, "timeoutMs": 30000, "runs": runs}) {
		var r scriptResult
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("scriptbuilt.mjs output %q: %v", line, err)
		}
		results = append(results, r)
	}
	if len(results) != len(runs) {
		t.Fatalf("scriptbuilt.mjs reported %d runs of %d", len(results), len(runs))
	}
	replayTime := time.Since(replayStart)
	for i, r := range results {
		s := schemes[i/2]
		if strings.HasPrefix(r.Name, "amber-replay") {
			checkScriptBuilt(t, r, amberLocation(story(s)))
			checkReplayRequests(t, r, strings.TrimSuffix(replayURL, "/"), amberArchival, s.res, archived)
		} else {
			checkScriptBuilt(t, r, liveLocation)
			checkReplayRequests(t, r, viewer.URL, replayWebPageArchival, s.res, archived)
		}
	}
	mu.Lock()
	if len(late) > 0 {
		t.Errorf("the live servers got requests after the capture: %v", late)
	}
	mu.Unlock()
	t.Logf("replay of 2 pages in amber replay and ReplayWeb.page: %s; whole test %s", replayTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// warcRecord is one record of a collection's WARC files, as amber's
// reader reads it.
type warcRecord struct {
	file   string
	offset int64
	header warc.Header
	block  []byte
}

func (r warcRecord) get(name string) string { return r.header.Get(name) }

// readRecords reads every record of the files, in order, with amber's
// reader.
func readRecords(t *testing.T, files []string) []warcRecord {
	t.Helper()
	var out []warcRecord
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := warc.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			block, err := io.ReadAll(rec.Body)
			if err != nil {
				t.Fatalf("%s@%d: %v", f, rec.Offset, err)
			}
			out = append(out, warcRecord{file: f, offset: rec.Offset, header: rec.Header, block: block})
		}
		fh.Close()
	}
	return out
}

// checkBrowserCapture checks what the browser-mode capture of one scheme's
// site holds: a response record for every resource, each response block
// what one of the servers wrote on one connection, the POST's request
// record with its body, one screenshot of the article (a PNG of the
// viewport's size).
func checkBrowserCapture(t *testing.T, name string, recs []warcRecord, res []scriptRes, servers ...*liveServer) {
	t.Helper()
	story := res[0].url
	search := strings.TrimSuffix(story, "/news/story.html") + "/api/search"
	hosts := map[string]bool{}
	for _, x := range res {
		u, _ := url.Parse(x.url)
		hosts[u.Scheme+"://"+u.Host] = true
	}
	ours := func(target string) bool {
		u, err := url.Parse(target)
		return err == nil && hosts[u.Scheme+"://"+u.Host]
	}
	responses := map[string][]string{} // target URI: the statuses archived
	shots := 0
	for _, r := range recs {
		target := r.get("WARC-Target-URI")
		typ := r.get("WARC-Type")
		switch typ {
		case "response", "revisit": // a revisit's block is the head the server wrote
			if !ours(target) {
				continue
			}
			status, _, _ := strings.Cut(strings.TrimPrefix(string(r.block[:min(len(r.block), 64)]), "HTTP/1.1 "), " ")
			responses[target] = append(responses[target], status)
			onWire := false
			for _, srv := range servers {
				onWire = onWire || srv.wire.wrote(r.block)
			}
			if !onWire {
				t.Errorf("%s: %s@%d, the response for %s: the block (%d bytes) is not what the server wrote", name, filepath.Base(r.file), r.offset, target, len(r.block))
			}
		case "request":
			if target == search && (!bytes.HasPrefix(r.block, []byte("POST ")) || !bytes.HasSuffix(r.block, []byte(`{"q":"amber"}`))) {
				t.Errorf("%s: the request record for %s: %q", name, target, r.block)
			}
		case "resource":
			if target != crawl.ScreenshotPrefix+story {
				continue
			}
			shots++
			cfg, err := png.DecodeConfig(bytes.NewReader(r.block))
			if err != nil || cfg.Width != browser.DefaultWidth || cfg.Height != browser.DefaultHeight || r.get("Content-Type") != "image/png" {
				t.Errorf("%s: screenshot: %v, %d×%d, %s; want a %d×%d image/png", name, err, cfg.Width, cfg.Height, r.get("Content-Type"), browser.DefaultWidth, browser.DefaultHeight)
			}
		}
	}
	for _, x := range res {
		if len(responses[x.url]) == 0 {
			t.Errorf("%s: %s %s not archived", name, x.method, x.url)
		}
	}
	if shots != 1 {
		t.Errorf("%s: %d screenshots of %s, want 1", name, shots, story)
	}
	var list []string
	for u, st := range responses {
		list = append(list, fmt.Sprintf("%s %v", strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://"), st))
	}
	sort.Strings(list)
	t.Logf("%s: %d URLs archived: %s", name, len(list), strings.Join(list, ", "))
}

// readIndependently reads the files with two readers that share no code
// with amber: the Internet Archive's gowarc and slyrz/warc. Each must
// find every record amber's reader found, in order, with the same type,
// target, ID, digests and block.
func readIndependently(t *testing.T, files []string, ours []warcRecord) {
	t.Helper()
	for _, reader := range []struct {
		name string
		read func(string) ([]otherreaders.Record, error)
	}{{"gowarc", otherreaders.Gowarc}, {"slyrz/warc", otherreaders.Slyrz}} {
		var theirs []otherreaders.Record
		for _, f := range files {
			recs, err := reader.read(f)
			if err != nil {
				t.Fatal(err)
			}
			theirs = append(theirs, recs...)
		}
		if len(theirs) != len(ours) {
			t.Errorf("%s read %d records, amber's reader %d", reader.name, len(theirs), len(ours))
			continue
		}
		for i, r := range theirs {
			for _, f := range []string{"WARC-Type", "WARC-Target-URI", "WARC-Record-ID", "WARC-Date", "WARC-Block-Digest", "WARC-Payload-Digest", "Content-Type"} {
				if got, want := r.Header(f), ours[i].get(f); got != want {
					t.Errorf("%s: record %d %s: %q, amber's reader %q", reader.name, i, f, got, want)
				}
			}
			if !bytes.Equal(r.Block, ours[i].block) {
				t.Errorf("%s: record %d (%s): the block differs (%d bytes, amber's reader %d)", reader.name, i, ours[i].get("WARC-Target-URI"), len(r.Block), len(ours[i].block))
			}
		}
		t.Logf("%s read %d records of %d files", reader.name, len(theirs), len(files))
	}
}

// The archival URLs of amber replay (/TIMESTAMP[mod_]/URL) and of
// ReplayWeb.page (/w/COLL/[TIMESTAMP][mod_]/URL).
var (
	amberArchival         = regexp.MustCompile(`^/(\d{14})(?:[a-z]{2}_)?/(https?://.*)$`)
	replayWebPageArchival = regexp.MustCompile(`^/replay/w/[^/]+/(?::[0-9a-f]+/)?(\d{0,14})(?:[a-z]{2}_)?/(https?://.*)$`)
)

// checkReplayRequests checks the requests a replay made: every one to
// origin (a path at origin that is not archival is the viewer's own:
// amber replay's /_amber/ files, ReplayWeb.page's app and the WACZ);
// every archival one for a URL in the archive (archived: URL to status)
// and not answered 404 unless archived so; every resource of res asked
// for; no request failed (but the viewer's own, and those a media element
// drops when it seeks).
func checkReplayRequests(t *testing.T, r scriptResult, origin string, archival *regexp.Regexp, res []scriptRes, archived map[string]int) {
	t.Helper()
	answered := map[string][]int{}
	viewer := 0
	outside := func(u string) bool {
		return !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "about:")
	}
	for _, resp := range r.Responses {
		if outside(resp.URL) {
			t.Errorf("%s: a request left the replay origin %s: %s (%d)", r.Name, origin, resp.URL, resp.Status)
			continue
		}
		if !strings.HasPrefix(resp.URL, origin+"/") {
			continue
		}
		path := strings.TrimPrefix(resp.URL, origin)
		m := archival.FindStringSubmatch(path)
		if m == nil {
			if archival == amberArchival && !strings.HasPrefix(path, "/_amber/") {
				t.Errorf("%s: a request outside the archive: %s (%d)", r.Name, resp.URL, resp.Status)
			}
			viewer++
			continue
		}
		orig := m[2]
		answered[orig] = append(answered[orig], resp.Status)
		status, ok := archived[orig]
		if !ok {
			t.Errorf("%s: the page asked for %s, which is not in the archive (answered %d)", r.Name, orig, resp.Status)
		}
		if resp.Status == http.StatusNotFound && status != http.StatusNotFound {
			t.Errorf("%s: %s answered 404 (archived with status %d)", r.Name, resp.URL, status)
		}
	}
	for _, x := range res {
		if len(answered[x.url]) == 0 {
			t.Errorf("%s: %s %s was never asked for", r.Name, x.method, x.url)
		}
	}
	for _, f := range r.Failed {
		if outside(f.URL) {
			t.Errorf("%s: a request left the replay origin %s: %s (%s)", r.Name, origin, f.URL, f.Error)
			continue
		}
		if strings.Contains(f.Error, "ERR_ABORTED") && strings.Contains(f.URL, "tone.wav") {
			continue // the media element drops a request when it seeks
		}
		if archival == replayWebPageArchival && !archival.MatchString(strings.TrimPrefix(f.URL, origin)) {
			continue // the viewer's own (it drops a read of the WACZ it no longer needs)
		}
		t.Errorf("%s: request failed: %s: %s", r.Name, f.URL, f.Error)
	}
	if t.Failed() {
		for _, resp := range r.Responses {
			t.Logf("%s: %d %s", r.Name, resp.Status, resp.URL)
		}
	}
	t.Logf("%s: %d responses (%d of the viewer's own), %d archived URLs asked for, audio %+v, console errors %q", r.Name, len(r.Responses), viewer, len(answered), r.Audio, r.ConsoleErrors)
}
