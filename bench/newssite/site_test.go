package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
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
