package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func testSite() *site {
	return buildSite(config{base: "http://127.0.0.1:1/", cdn: "http://127.0.0.1:2/", ext: "http://127.0.0.1:3/", articles: 12, seed: 1})
}

func body(r *resource) []byte { return bytes.Join(r.parts, nil) }

func TestDeterministicAndComplete(t *testing.T) {
	a, b := testSite(), testSite()
	ma, mb := a.manifest(), b.manifest()
	if strings.Join(ma, "\n") != strings.Join(mb, "\n") {
		t.Fatal("manifests differ between two builds")
	}
	for _, u := range ma {
		h, hb := a.site, b.site
		if strings.HasPrefix(u, a.cdn) {
			h, hb = a.cdnHost, b.cdnHost
		}
		path := "/" + strings.TrimPrefix(strings.TrimPrefix(u, a.cdn), a.base)
		ra, rb := h.res[path], hb.res[path]
		if ra == nil || rb == nil {
			t.Fatalf("%s in the manifest but not served", u)
		}
		if !bytes.Equal(body(ra), body(rb)) {
			t.Fatalf("%s differs between two builds", u)
		}
		if len(body(ra)) != ra.length {
			t.Fatalf("%s: length %d, body %d bytes", u, ra.length, len(body(ra)))
		}
	}
	if len(ma) != 12*len(articleImages)+12+1+8+11+5 { // images, articles, home, sections, static, CDN
		t.Errorf("manifest has %d URLs", len(ma))
	}
	for _, art := range a.arts {
		n := a.site.res[art.path].length
		if n < 30<<10 || n > 80<<10 {
			t.Errorf("%s: %d bytes of HTML", art.path, n)
		}
	}
}

func TestServeGzip(t *testing.T) {
	s := testSite()
	srv := httptest.NewServer(s.site)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+s.arts[0].path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != int64(len(raw)) || !bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		t.Fatalf("gzip: %v %d %d", resp.Header, resp.ContentLength, len(raw))
	}
	resp, err = http.Get(srv.URL + "/img/00003/hero-800.webp")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/webp" || len(raw) < 10<<10 || len(raw) > 60<<10 || !bytes.HasPrefix(raw, []byte("RIFF")) {
		t.Fatalf("image: %v, %d bytes", resp.Header, len(raw))
	}
}

// The raw server answers what net/http answers: same status, headers
// (Date aside) and body, over one kept-alive connection.
func TestRawServerMatchesStdlib(t *testing.T) {
	s := testSite()
	std := httptest.NewServer(s.site)
	defer std.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go s.site.serveRaw(ln)
	rawURL := "http://" + ln.Addr().String()

	tr := &http.Transport{DisableCompression: true, MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	cases := []struct{ method, path, ae string }{
		{"GET", s.arts[0].path, "gzip"},
		{"GET", s.arts[0].path, ""},
		{"GET", s.arts[1].path + "?q=1", "gzip, deflate"},
		{"GET", "/img/00003/hero-800.webp", "gzip"},
		{"HEAD", "/static/site.css", "gzip"},
		{"GET", "/no/such/page", ""},
		{"POST", "/", ""},
	}
	for _, c := range cases {
		var got [2]*http.Response
		var bodies [2][]byte
		for i, base := range []string{std.URL, rawURL} {
			req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(""))
			if c.ae != "" {
				req.Header.Set("Accept-Encoding", c.ae)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, c.path, err)
			}
			bodies[i], _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Header.Del("Date")
			if resp.Header.Get("X-Content-Type-Options") != "" {
				resp.Header.Del("X-Content-Type-Options") // http.Error's addition
			}
			got[i] = resp
		}
		if got[0].StatusCode != got[1].StatusCode || !reflect.DeepEqual(got[0].Header, got[1].Header) || !bytes.Equal(bodies[0], bodies[1]) {
			t.Errorf("%s %s (Accept-Encoding %q):\nstdlib %d %v %d bytes\nraw    %d %v %d bytes", c.method, c.path, c.ae,
				got[0].StatusCode, got[0].Header, len(bodies[0]), got[1].StatusCode, got[1].Header, len(bodies[1]))
		}
	}
}
