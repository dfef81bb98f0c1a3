package e2e

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// scriptRes is one resource of the script-built site: what the live
// server answers, and what the archive holds.
type scriptRes struct {
	method, url, ctype string
	reqBody, body      []byte
}

// The script-built article. {{CDN}} is the second host's origin.
const (
	storyHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Script-built story</title>
<script src="js/app.js"></script>
<style>#bg{width:64px;height:40px} .story{font-family:StoryFont,serif}</style>
</head><body>
<h1 data-amber="headline">Loading…</h1>
<img id="static" src="img/static.png" alt="">
<div id="body" data-amber="body"></div>
<p data-amber="search"></p><p data-amber="location"></p><p data-amber="comments"></p><p data-amber="more"></p>
<div id="bg"></div>
<div style="height:3000px"></div>
<img id="lazy" data-src="img/lazy.png" width="64" height="40" alt="">
<script>document.write('<img id="written" src="' + CDN + '/img/written.png" alt="">');</script>
</body></html>
`
	appJS = `"use strict";
var CDN = "{{CDN}}";
document.addEventListener("DOMContentLoaded", async function () {
  var text = function (name, v) { document.querySelector("[data-amber=" + name + "]").textContent = v; };
  // A lazy image far below the fold, loaded when scrolled into view.
  new IntersectionObserver(function (entries, o) {
    entries.forEach(function (e) { if (e.isIntersecting) { e.target.src = e.target.dataset.src; o.disconnect(); } });
  }).observe(document.getElementById("lazy"));
  try {
    // The body from a JSON API, by a root-relative URL with a query.
    var a = await (await fetch("/api/article.json?id=42&lang=en")).json();
    text("headline", a.headline);
    document.getElementById("body").innerHTML = a.html; // an image on the second host
    // An image inserted by script, a background set from script.
    var img = new Image(); img.id = "script"; img.src = CDN + "/img/script.png"; document.body.appendChild(img);
    document.getElementById("bg").style.backgroundImage = "url(" + CDN + "/img/bg.png)";
    // A POST with a JSON body.
    var s = await (await fetch("/api/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ q: "amber" }) })).json();
    text("search", s.results);
    // A FontFace font.
    var font = new FontFace("StoryFont", "url(" + CDN + "/fonts/story.woff2) format('woff2')");
    try { await font.load(); document.fonts.add(font); document.body.dataset.amberFont = font.status; }
    catch (e) { document.body.dataset.amberFont = "error: " + e; }
    // Audio from the second host.
    var au = document.createElement("audio"); au.id = "audio"; au.preload = "auto"; au.src = CDN + "/media/tone.wav"; document.body.appendChild(au);
    // A script that loads another script, an iframe made by script.
    await new Promise(function (ok, fail) {
      var sc = document.createElement("script"); sc.src = CDN + "/js/more.js"; sc.onload = ok; sc.onerror = function () { fail(new Error("more.js did not load")); };
      document.head.appendChild(sc);
    });
    await window.moreDone;
    var f = document.createElement("iframe"); f.src = CDN + "/embed.html"; f.width = 200; f.height = 100;
    await new Promise(function (ok) { f.onload = ok; document.body.appendChild(f); });
    // A route of a single-page app: the page stays in the archive.
    history.replaceState(null, "", "/news/story.html?read=1");
    text("location", location.pathname + location.search);
    document.body.dataset.amberDone = "1";
  } catch (e) {
    document.body.dataset.amberDone = "error: " + e;
  }
});
`
	moreJS = `"use strict";
window.moreDone = new Promise(function (done) {
  var x = new XMLHttpRequest();
  x.open("GET", CDN + "/api/comments.json");
  x.onload = function () {
    document.querySelector("[data-amber=more]").textContent = "more.js ran";
    document.querySelector("[data-amber=comments]").textContent = JSON.parse(x.responseText).comments;
    var i = document.createElement("img"); i.id = "srcset"; i.srcset = CDN + "/img/srcset.png 1x"; document.body.appendChild(i);
    done();
  };
  x.onerror = function () { done(); };
  x.send();
});
`
	embedHTML = `<!doctype html><html><head><meta charset="utf-8"><title>Embed</title></head><body>
<p>Embedded map</p><img id="embed" src="/img/embed.png" alt="">
<script>
var i = document.createElement("img"); i.id = "embed-script"; i.setAttribute("src", "/img/embed-script.png");
i.onload = i.onerror = function () { document.body.dataset.amberDone = "1"; };
document.body.appendChild(i);
</script></body></html>
`
)

// wav returns a mono 16-bit PCM WAV file of a tone, seconds long.
func wav(seconds int) []byte {
	const rate = 8000
	n := rate * seconds
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	for i := 0; i < n; i++ {
		le(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

// TestBrowserReplayScriptBuilt archives an article that scripts assemble
// (its body from a JSON API by a root-relative fetch, a POST, an image in
// markup from the API and one made by script, a background set from
// script, a FontFace font, audio, a script that loads another script
// which makes an XHR, an iframe made by script with images of its own,
// most of it on a second host by absolute URLs) and opens it first live,
// to show the page works, then in amber replay: the script-built text is
// there, every image loaded, the font, the audio seeks (Range requests),
// no archived URL answers 404, every request goes to the replay server,
// and neither live server gets a request.
func TestBrowserReplayScriptBuilt(t *testing.T) {
	chromium := prerequisites(t, true)
	dir := t.TempDir()
	bin := buildAmber(t, dir)

	var mu sync.Mutex
	hits := map[string]int{}
	var res []scriptRes
	live := scriptHandler(&res, func(r *http.Request) {
		mu.Lock()
		hits[r.Method+" "+r.Host+r.URL.Path]++
		mu.Unlock()
	})
	siteSrv := httptest.NewServer(live)
	defer siteSrv.Close()
	cdnSrv := httptest.NewServer(live)
	defer cdnSrv.Close()
	site := siteSrv.URL
	cdn := strings.Replace(cdnSrv.URL, "127.0.0.1", "localhost", 1) // a second host name
	res = scriptBuiltSite(t, site, cdn)
	storyURL := site + "/news/story.html"

	// The archive: each exchange as a request and a response record, as
	// the recording transport writes them, and the index amber index
	// makes of them (the POST keyed by its body).
	t0 := time.Date(2026, 11, 25, 18, 43, 29, 0, time.UTC)
	coll := filepath.Join(dir, "scriptbuilt")
	writeExchanges(t, coll, t0, res)

	run := func(name string, runs []map[string]any) []scriptResult {
		t.Helper()
		var results []scriptResult
		for _, line := range runNode(t, "scriptbuilt.mjs", dir, name, map[string]any{"chromium": chromium, "timeoutMs": 30000, "runs": runs}) {
			var r scriptResult
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("scriptbuilt.mjs output %q: %v", line, err)
			}
			results = append(results, r)
		}
		if len(results) != len(runs) {
			t.Fatalf("scriptbuilt.mjs reported %d runs of %d", len(results), len(runs))
		}
		return results
	}

	// Live: the page does all it should, so the replay below proves
	// something.
	liveRes := run("live", []map[string]any{{"name": "live", "url": storyURL}})[0]
	checkScriptBuilt(t, liveRes, liveLocation)
	mu.Lock()
	liveHits := len(hits)
	hits = map[string]int{}
	mu.Unlock()
	if liveHits < len(res) {
		t.Errorf("live: the servers got %d distinct requests, want %d", liveHits, len(res))
	}

	replayURL := startReplay(t, bin, coll)
	replayOrigin := strings.TrimSuffix(replayURL, "/")
	ts := t0.Format("20060102150405")
	r := run("replay", []map[string]any{{"name": "amber", "url": replayURL + ts + "/" + storyURL, "framed": true}})[0]
	checkScriptBuilt(t, r, amberLocation(storyURL))
	mu.Lock()
	if len(hits) != 0 {
		t.Errorf("replay: the live servers got requests: %v", hits)
	}
	mu.Unlock()

	// Every request went to the replay server, at an archival URL; every
	// archived URL was asked for and none answered 404; the audio was
	// answered a Range request.
	archived := map[string]int{}
	for _, x := range res {
		archived[x.url] = http.StatusOK
	}
	checkReplayRequests(t, r, replayOrigin, amberArchival, res, archived)
	var audio []int
	for _, resp := range r.Responses {
		if m := amberArchival.FindStringSubmatch(strings.TrimPrefix(resp.URL, replayOrigin)); m != nil && m[2] == cdn+"/media/tone.wav" {
			audio = append(audio, resp.Status)
		}
	}
	if !containsInt(audio, http.StatusPartialContent) {
		t.Errorf("replay: the audio was answered %v, want a 206 (a Range request)", audio)
	}
}

// containsInt reports whether v is in s.
func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

type scriptResult struct {
	Name     string `json:"name"`
	Error    string `json:"error"`
	FrameURL string `json:"frameURL"`
	Page     struct {
		Texts      map[string]string `json:"texts"`
		Done       string            `json:"done"`
		Font       string            `json:"font"`
		FontCheck  bool              `json:"fontCheck"`
		Background string            `json:"background"`
	} `json:"page"`
	Images []struct {
		Frame        string `json:"frame"`
		ID           string `json:"id"`
		Src          string `json:"src"`
		NaturalWidth int    `json:"naturalWidth"`
	} `json:"images"`
	Embed *struct {
		URL  string `json:"url"`
		Done string `json:"done"`
		Text string `json:"text"`
	} `json:"embed"`
	Audio struct {
		Error       string  `json:"error"`
		Duration    float64 `json:"duration"`
		Target      float64 `json:"target"`
		CurrentTime float64 `json:"currentTime"`
	} `json:"audio"`
	Responses []struct {
		URL    string `json:"url"`
		Status int    `json:"status"`
	} `json:"responses"`
	Failed []struct {
		URL   string `json:"url"`
		Error string `json:"error"`
	} `json:"failed"`
	ConsoleErrors []string `json:"consoleErrors"`
}

// scriptBuiltSite returns the resources of the script-built article at
// site + "/news/story.html", most of them on the second host cdn.
func scriptBuiltSite(t *testing.T, site, cdn string) []scriptRes {
	t.Helper()
	font, err := os.ReadFile(filepath.Join("node_modules", "@fortawesome", "fontawesome-free", "webfonts", "fa-regular-400.woff2"))
	if err != nil {
		t.Fatalf("a woff2 font for the test: %v", err)
	}
	pngOf := func(name string) []byte {
		return encodeImage(t, name, func(w io.Writer, m image.Image, _ *jpeg.Options) error { return png.Encode(w, m) })
	}
	article, _ := json.Marshal(map[string]string{
		"headline": "Council approves the river park",
		"html":     `<p class="story">The vote was 7 to 2.</p><img id="inline" src="` + cdn + `/img/inline.png" alt="">`,
	})
	return []scriptRes{
		{"GET", site + "/news/story.html", "text/html; charset=utf-8", nil, []byte(storyHTML)},
		{"GET", site + "/news/js/app.js", "text/javascript", nil, []byte(strings.ReplaceAll(appJS, "{{CDN}}", cdn))},
		{"GET", site + "/news/img/static.png", "image/png", nil, pngOf("static")},
		{"GET", site + "/news/img/lazy.png", "image/png", nil, pngOf("lazy")},
		{"GET", site + "/api/article.json?id=42&lang=en", "application/json", nil, article},
		{"POST", site + "/api/search", "application/json", []byte(`{"q":"amber"}`), []byte(`{"results":"3 results for amber"}`)},
		{"GET", cdn + "/img/inline.png", "image/png", nil, pngOf("inline")},
		{"GET", cdn + "/img/script.png", "image/png", nil, pngOf("script")},
		{"GET", cdn + "/img/bg.png", "image/png", nil, pngOf("bg")},
		{"GET", cdn + "/img/srcset.png", "image/png", nil, pngOf("srcset")},
		{"GET", cdn + "/img/written.png", "image/png", nil, pngOf("written")},
		{"GET", cdn + "/fonts/story.woff2", "font/woff2", nil, font},
		{"GET", cdn + "/media/tone.wav", "audio/wav", nil, wav(30)},
		{"GET", cdn + "/js/more.js", "text/javascript", nil, []byte(moreJS)},
		{"GET", cdn + "/api/comments.json", "application/json", nil, []byte(`{"comments":"2 comments"}`)},
		{"GET", cdn + "/embed.html", "text/html; charset=utf-8", nil, []byte(embedHTML)},
		{"GET", cdn + "/img/embed.png", "image/png", nil, pngOf("embed")},
		{"GET", cdn + "/img/embed-script.png", "image/png", nil, pngOf("embed-script")},
	}
}

// scriptHandler serves the resources *res (by method, host and path, with
// Range requests answered), calling hit first for every request.
func scriptHandler(res *[]scriptRes, hit func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit(r)
		for _, x := range *res {
			u, _ := url.Parse(x.url)
			if x.method == r.Method && u.Path == r.URL.Path && u.Host == r.Host {
				w.Header().Set("Content-Type", x.ctype)
				w.Header().Set("Access-Control-Allow-Origin", "*") // the second host's font and XHR
				http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(x.body))
				return
			}
		}
		http.NotFound(w, r)
	})
}

// Where the article says it is after its history.replaceState: live and
// in ReplayWeb.page (whose wombat shows the page its original location),
// and in amber replay (the archival URL of its frame).
var liveLocation = regexp.MustCompile(`^/news/story\.html\?read=1$`)

func amberLocation(story string) *regexp.Regexp {
	return regexp.MustCompile(`^/\d{14}mp_/` + regexp.QuoteMeta(story) + `\?read=1$`)
}

// checkScriptBuilt checks what a reader sees of the script-built article;
// wantLoc is where the page should say it is after history.replaceState.
func checkScriptBuilt(t *testing.T, r scriptResult, wantLoc *regexp.Regexp) {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("%s: %s (console %q)", r.Name, r.Error, r.ConsoleErrors)
	}
	if r.Page.Done != "1" {
		t.Errorf("%s: the page's scripts ended with %q (console %q)", r.Name, r.Page.Done, r.ConsoleErrors)
	}
	for k, want := range map[string]string{
		"headline": "Council approves the river park",
		"body":     "The vote was 7 to 2.",
		"search":   "3 results for amber",
		"comments": "2 comments",
		"more":     "more.js ran",
	} {
		if got := r.Page.Texts[k]; got != want {
			t.Errorf("%s: %s text %q, want %q", r.Name, k, got, want)
		}
	}
	loc := r.Page.Texts["location"]
	if !wantLoc.MatchString(loc) {
		t.Errorf("%s: after history.replaceState the page is at %q", r.Name, loc)
	}
	if r.Page.Font != "loaded" || !r.Page.FontCheck {
		t.Errorf("%s: FontFace %q (document.fonts.check %t), want loaded", r.Name, r.Page.Font, r.Page.FontCheck)
	}
	if !strings.Contains(r.Page.Background, "/img/bg.png") {
		t.Errorf("%s: background %q", r.Name, r.Page.Background)
	}
	want := map[string]bool{"static": true, "inline": true, "script": true, "srcset": true, "embed": true, "embed-script": true, "written": true, "lazy": true}
	var ids []string
	for _, img := range r.Images {
		ids = append(ids, img.ID)
		if img.NaturalWidth <= 0 {
			t.Errorf("%s: image %s (%s) did not load", r.Name, img.ID, img.Src)
		}
		delete(want, img.ID)
	}
	if len(want) > 0 {
		sort.Strings(ids)
		t.Errorf("%s: images missing: %v (the page has %v)", r.Name, want, ids)
	}
	if r.Embed == nil || r.Embed.Done != "1" || !strings.Contains(r.Embed.Text, "Embedded map") {
		t.Errorf("%s: the iframe made by script: %+v", r.Name, r.Embed)
	}
	if r.Audio.Error != "" || r.Audio.Duration < 29 || math.Abs(r.Audio.CurrentTime-r.Audio.Target) > 0.5 {
		t.Errorf("%s: audio %+v, want a 30 s tone seeked to its middle", r.Name, r.Audio)
	}
}

// writeExchanges writes each resource as a request record and a
// response record (200 with Content-Length) captured at t0, and the
// collection's index built from the WARC file.
func writeExchanges(t *testing.T, dir string, t0 time.Time, res []scriptRes) {
	t.Helper()
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath()})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		u, err := url.Parse(x.url)
		if err != nil {
			t.Fatal(err)
		}
		var req bytes.Buffer
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", x.method, u.RequestURI(), u.Host)
		if x.reqBody != nil {
			fmt.Fprintf(&req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(x.reqBody))
		}
		req.WriteString("\r\n")
		req.Write(x.reqBody)
		rb := w.NewRecord(warc.TypeRequest, t0)
		rb.AddField("WARC-Target-URI", x.url)
		rb.AddField("Content-Type", "application/http;msgtype=request")
		rb.Write(req.Bytes())

		raw := append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: %d\r\n\r\n", x.ctype, len(x.body))), x.body...)
		sum := sha1.Sum(x.body)
		b := w.NewRecord(warc.TypeResponse, t0)
		b.AddField("WARC-Target-URI", x.url)
		b.AddField("Content-Type", "application/http;msgtype=response")
		b.SetPayloadDigest(sum[:])
		b.Write(raw)
		if _, err := w.Write(b, rb); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(c.ArchivePath(), "*.warc.gz"))
	var lines []string
	for _, f := range files {
		ls, err := warc.IndexWARC(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			lines = append(lines, l.String())
		}
	}
	if err := c.AddIndex(lines); err != nil {
		t.Fatal(err)
	}
}
