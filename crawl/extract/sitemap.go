package extract

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"strings"
)

// maxSitemap bounds what a gzipped sitemap inflates to (the sitemaps
// protocol allows 50 MB).
const maxSitemap = 64 << 20

// Sitemap returns the page URLs and the further sitemaps a sitemap (or a
// sitemap index) lists, gzipped or not, as written (a page's URL is not
// resolved: the protocol wants them absolute). ok is false for a body that
// is not a sitemap.
func Sitemap(body []byte) (pages, sitemaps []string, ok bool) {
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil, false
		}
		if body, err = io.ReadAll(io.LimitReader(zr, maxSitemap)); err != nil {
			return nil, nil, false
		}
	}
	var doc struct {
		XMLName xml.Name
		URLs    []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
		Sitemaps []struct {
			Loc string `xml:"loc"`
		} `xml:"sitemap"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return nil, nil, false
	}
	for _, s := range doc.Sitemaps {
		sitemaps = append(sitemaps, strings.TrimSpace(s.Loc))
	}
	for _, p := range doc.URLs {
		pages = append(pages, strings.TrimSpace(p.Loc))
	}
	return pages, sitemaps, true
}
