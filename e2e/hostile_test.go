package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// hostilePages are archived pages that try to reach the live web the ways
// a page's scripts do; each calls done() once it has tried. LIVE is the
// live server's origin, STUN the port of a UDP listener on 127.0.0.1.
var hostilePages = map[string]string{
	"href":     `location.href = LIVE + "/href"; done();`,
	"top":      `top.location.href = LIVE + "/top"; done();`,
	"open":     `window.open(LIVE + "/open"); done();`,
	"refresh":  `var m = document.createElement("meta"); m.httpEquiv = "refresh"; m.content = "0; url=" + LIVE + "/refresh"; document.head.appendChild(m); done();`,
	"write":    `document.write('<meta http-equiv="refresh" content="0; url=' + LIVE + '/write">'); done();`,
	"form":     `var f = document.createElement("form"); f.method = "get"; f.action = LIVE + "/form"; document.body.appendChild(f); f.submit(); done();`,
	"form-top": `var f = document.createElement("form"); f.method = "get"; f.action = LIVE + "/form-top"; f.target = "_top"; document.body.appendChild(f); f.submit(); done();`,
	"link-top": `var a = document.createElement("a"); a.href = LIVE + "/link-top"; a.target = "_top"; document.body.appendChild(a); a.click(); done();`,
	"link-new": `var a = document.createElement("a"); a.href = LIVE + "/link-new"; a.target = "_blank"; document.body.appendChild(a); a.click(); done();`,
	// WebRTC from the page, and from about:blank and srcdoc frames it
	// makes (reached through contentWindow, window[i], an insertion of
	// markup): one page, done once every attempt has ended.
	"webrtc": `var n = 6, d = done; done = function () { if (--n === 0) d(); };
stun(window.RTCPeerConnection);
var f = document.createElement("iframe"); document.body.appendChild(f); stun(f.contentWindow.RTCPeerConnection);
var g = document.createElement("iframe"); document.body.appendChild(g); stun(window[1].RTCPeerConnection);
document.body.insertAdjacentHTML("beforeend", "<iframe></iframe>"); stun(window[window.length - 1].RTCPeerConnection);
var h = document.createElement("iframe"); h.srcdoc = "<script>parent.stun(RTCPeerConnection)<\/script>"; document.body.appendChild(h);
document.body.insertAdjacentHTML("beforeend", "<iframe srcdoc='<script>parent.stun(RTCPeerConnection)<\/script>'></iframe>");`,
}

const hostileTemplate = `<!doctype html>
<html><head><meta charset="utf-8"><title>%[1]s</title>
<link rel="dns-prefetch" href="//dns-prefetch.invalid"><link rel="preconnect" href="http://preconnect.invalid">
</head><body><h1>%[1]s</h1>
<script>
var LIVE = %[2]q;
function done() { console.log("amber-attempted %[1]s"); }
function stun(P) {
  try {
    var pc = new P({iceServers: [{urls: "stun:127.0.0.1:%[3]d"}]});
    pc.createDataChannel("x");
    pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(done, function (e) { console.log("amber-error " + e); done(); });
  } catch (e) { console.log("amber-error %[1]s " + e); done(); }
}
try { %[4]s } catch (e) { console.log("amber-error %[1]s " + e); done(); }
</script></body></html>
`

// counter counts the requests a live server gets, by path.
type counter struct {
	mu   sync.Mutex
	hits map[string]int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.hits[r.URL.Path]++
	c.mu.Unlock()
	io.WriteString(w, "<!doctype html><title>live</title><h1>the live web</h1>")
}

func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hits
	c.hits = map[string]int{}
	return h
}

// TestBrowserReplayHostile opens pages that try to leave the archive
// (navigating the top window, window.open, a meta refresh written by
// script, forms and links aimed at the live site, a WebRTC STUN request)
// first as plain pages, which must reach the live server and the STUN
// listener (so each attempt is shown to work), then through amber replay,
// where nothing may arrive. It also follows links inside the frame of an
// archived page, which must keep the address bar and banner in step.
func TestBrowserReplayHostile(t *testing.T) {
	chromium := prerequisites(t, true)
	start := time.Now()
	dir := t.TempDir()
	bin := buildAmber(t, dir)
	t.Logf("built amber in %s", time.Since(start).Round(time.Millisecond))

	live := &counter{hits: map[string]int{}}
	liveSrv := httptest.NewServer(live)
	defer liveSrv.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	var packets atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := udp.ReadFrom(buf); err != nil {
				return
			}
			packets.Add(1)
		}
	}()
	stunPort := udp.LocalAddr().(*net.UDPAddr).Port

	const site = "http://hostile.example/"
	pages := map[string][]byte{}
	var names []string
	for name, js := range hostilePages {
		names = append(names, name)
		pages[name+".html"] = []byte(fmt.Sprintf(hostileTemplate, name, liveSrv.URL, stunPort, js))
	}
	sort.Strings(names)
	pages["links.html"] = []byte(`<!doctype html><title>Links</title><h1>Links</h1><a id="plain" href="other.html">other</a> <a id="top" target="_top" href="/other.html">other, target _top</a> <a id="frag" href="#end">end</a><div style="height:3000px"></div><p id="end">end</p>`)
	pages["other.html"] = []byte(`<!doctype html><title>Other</title><h1>Other page</h1>`)

	// The plain run: each attempt reaches the live web.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := pages[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	defer plain.Close()
	var plainRuns []map[string]string
	for _, n := range names {
		plainRuns = append(plainRuns, map[string]string{"name": n, "url": plain.URL + "/" + n + ".html"})
	}
	results := runHostile(t, dir, "plain", map[string]any{"chromium": chromium, "settleMs": 1000, "pages": plainRuns})
	plainHits, plainPackets := live.take(), packets.Swap(0)
	for _, n := range names {
		if !results[n].Attempted {
			t.Errorf("plain %s: the page never made its attempt: %v", n, results[n].Console)
		}
		if strings.HasPrefix(n, "webrtc") {
			continue
		}
		if plainHits["/"+n] == 0 {
			t.Errorf("plain %s: the live server got no request: the attempt does not work, so it proves nothing under replay (hits %v)", n, plainHits)
		}
	}
	if plainPackets == 0 {
		t.Errorf("plain webrtc: no STUN packet arrived: the attempt does not work, so it proves nothing under replay")
	}
	t.Logf("plain pages: live server hits %v, %d STUN packets (%s)", plainHits, plainPackets, time.Since(start).Round(time.Millisecond))

	// The same pages archived and replayed.
	t0 := time.Date(2026, 11, 25, 18, 43, 29, 0, time.UTC)
	coll := filepath.Join(dir, "hostile")
	responses := map[string][]byte{}
	for name, b := range pages {
		responses[site+name] = append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", len(b))), b...)
	}
	writeCollection(t, coll, t0, responses)
	replayURL := startReplay(t, bin, coll)
	ts := t0.Format("20060102150405")
	var replayRuns []map[string]string
	for _, n := range names {
		replayRuns = append(replayRuns, map[string]string{"name": n, "url": replayURL + ts + "/" + site + n + ".html"})
	}
	results = runHostile(t, dir, "replay", map[string]any{"chromium": chromium, "settleMs": 1000, "pages": replayRuns,
		"links": map[string]string{"url": replayURL + ts + "/" + site + "links.html", "next": site + "other.html"}})
	replayHits, replayPackets := live.take(), packets.Load()
	for _, n := range names {
		r := results[n]
		if !r.Attempted {
			t.Errorf("replay %s: the page never made its attempt: %v", n, r.Console)
		}
		if hits := replayHits["/"+n]; hits != 0 {
			t.Errorf("replay %s: the live server got %d requests", n, hits)
		}
		if !strings.HasPrefix(r.TopURL, replayURL) {
			t.Errorf("replay %s: the top window left the replay server for %s", n, r.TopURL)
		}
		if r.Popups != 0 {
			t.Errorf("replay %s: %d popups opened", n, r.Popups)
		}
	}
	if len(replayHits) != 0 {
		t.Errorf("replay: the live server got requests: %v", replayHits)
	}
	if replayPackets != 0 {
		t.Errorf("replay: %d STUN packets reached 127.0.0.1:%d", replayPackets, stunPort)
	}
	t.Logf("replayed pages: live server hits %v, %d STUN packets (%s)", replayHits, replayPackets, time.Since(start).Round(time.Millisecond))
	for _, n := range names {
		if strings.HasPrefix(n, "webrtc") && replayPackets != 0 {
			t.Logf("replay %s: console %q", n, results[n].Console)
		}
	}

	// Links in the frame navigate the frame; the top follows.
	l := results["links"]
	if l.Error != "" || len(l.Steps) != 2 {
		t.Fatalf("links: %s (%d steps)", l.Error, len(l.Steps))
	}
	if l.FragmentReloaded || l.FrameHash != "#end" {
		t.Errorf("a link to a fragment of the page: top frame reloaded %t, the page's own fragment %q; want the page scrolled to #end", l.FragmentReloaded, l.FrameHash)
	}
	if want := replayURL + ts + "/" + site + "links.html#end"; l.Fragment != want {
		t.Errorf("a link to a fragment of the page: top URL %s, want %s (the page scrolled, not reloaded)", l.Fragment, want)
	}
	for _, s := range l.Steps {
		want := replayURL + ts + "/" + site + "other.html"
		if s.TopURL != want || s.Banner != site+"other.html" {
			t.Errorf("link %s: top URL %s, banner %q; want %s and %s (frames %v)", s.Link, s.TopURL, s.Banner, want, site+"other.html", s.Frames)
		}
	}
}

type hostileResult struct {
	Name      string   `json:"name"`
	Attempted bool     `json:"attempted"`
	Console   []string `json:"console"`
	Popups    int      `json:"popups"`
	TopURL    string   `json:"topURL"`
	Error     string   `json:"error"`
	Fragment  string   `json:"fragment"`
	// FragmentReloaded: the top window was reloaded by the fragment link.
	FragmentReloaded bool   `json:"fragmentReloaded"`
	FrameHash        string `json:"frameHash"`
	Steps            []struct {
		Link   string   `json:"link"`
		TopURL string   `json:"topURL"`
		Banner string   `json:"banner"`
		Frames []string `json:"frames"`
	} `json:"steps"`
}

// runNode runs a script of this folder with config (written to
// dir/name.json) and returns the lines it prints on stdout.
func runNode(t *testing.T, script, dir, name string, config any) [][]byte {
	t.Helper()
	cfg := filepath.Join(dir, name+".json")
	b, _ := json.Marshal(config)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, cfg)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s (%s): %v\n%s", script, name, err, errOut.String())
	}
	var lines [][]byte
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines
}

// runHostile runs hostile.mjs with config and returns its results by name.
func runHostile(t *testing.T, dir, name string, config map[string]any) map[string]hostileResult {
	t.Helper()
	res := map[string]hostileResult{}
	for _, line := range runNode(t, "hostile.mjs", dir, name, config) {
		var r hostileResult
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("hostile.mjs output %q: %v", line, err)
		}
		if r.Error != "" {
			t.Errorf("%s %s: %s", name, r.Name, r.Error)
		}
		res[r.Name] = r
	}
	return res
}

// startReplay runs amber replay on paths (a collection, or several as
// one) until the test ends and returns its base URL.
func startReplay(t *testing.T, bin string, paths ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"replay", "--port", "0"}, paths...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if stderr.Len() > 0 {
			t.Logf("amber replay stderr:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("amber replay: %v", err)
	}
	i := strings.Index(line, "http://127.0.0.1:")
	if i < 0 {
		t.Fatalf("amber replay printed %q, want its URL", line)
	}
	go io.Copy(io.Discard, stdout)
	return strings.TrimSpace(line[i:])
}

// writeCollection writes a collection of response records, one for each
// URL, whose blocks are the raw HTTP responses given, captured at t0.
func writeCollection(t *testing.T, dir string, t0 time.Time, responses map[string][]byte) {
	t.Helper()
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath()})
	if err != nil {
		t.Fatal(err)
	}
	urls := make([]string, 0, len(responses))
	for u := range responses {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		raw := responses[u]
		_, bodyStart := warc.HTTPHeadEnd(raw)
		sum := sha1.Sum(raw[bodyStart:])
		b := w.NewRecord(warc.TypeResponse, t0)
		b.AddField("WARC-Target-URI", u)
		b.AddField("Content-Type", "application/http;msgtype=response")
		b.SetPayloadDigest(sum[:])
		b.Write(raw)
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
}
