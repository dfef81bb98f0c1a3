package extract

import (
	"bytes"
	"compress/gzip"
	"slices"
	"testing"
)

// A sitemap lists pages, an index lists sitemaps; either may come
// gzipped; what is not a sitemap is not ok.
func TestSitemap(t *testing.T) {
	urlset := []byte(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc> http://a/1 </loc></url><url><loc>http://a/2</loc></url></urlset>`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(urlset)
	zw.Close()
	for name, body := range map[string][]byte{"plain": urlset, "gzipped": gz.Bytes()} {
		pages, maps, ok := Sitemap(body)
		if !ok || !slices.Equal(pages, []string{"http://a/1", "http://a/2"}) || len(maps) != 0 {
			t.Errorf("%s: %q %q %v", name, pages, maps, ok)
		}
	}
	pages, maps, ok := Sitemap([]byte(`<sitemapindex><sitemap><loc>http://a/s1.xml.gz</loc></sitemap></sitemapindex>`))
	if !ok || len(pages) != 0 || !slices.Equal(maps, []string{"http://a/s1.xml.gz"}) {
		t.Errorf("index: %q %q %v", pages, maps, ok)
	}
	for _, bad := range [][]byte{[]byte("<html><body>not a sitemap"), {0x1f, 0x8b, 1, 2}} {
		if _, _, ok := Sitemap(bad); ok {
			t.Errorf("%q: ok", bad)
		}
	}
}
