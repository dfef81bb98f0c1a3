package main

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
)

// resource is one response body, prepared before serving starts.
type resource struct {
	ctype string
	// parts are written one after another; together they are the body.
	// Images are a unique header plus a slice of the shared random pool, so
	// a gigabyte of distinct images costs a few megabytes of memory.
	parts  [][]byte
	length int
	gz     []byte // the body gzip-compressed, served when the client accepts it; nil: never compressed
	page   bool   // an HTML page of the site (as opposed to a requisite)
	inList bool   // listed in the manifest
}

// host is one listener's set of resources, keyed by URL path.
type host struct {
	base string
	res  map[string]*resource
}

var (
	lastModified = []string{"Sun, 01 Jun 2025 06:00:00 GMT"}
	cacheControl = []string{"public, max-age=300"}
	varyAE       = []string{"Accept-Encoding"}
	gzipCE       = []string{"gzip"}
)

func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	res := h.res[r.URL.Path]
	if res == nil {
		body := []byte("<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><h1>Not found</h1><p><a href=\"/\">Home</a></p></body></html>\n")
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/html; charset=utf-8"}
		hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{res.ctype}
	hdr["Last-Modified"] = lastModified
	hdr["Cache-Control"] = cacheControl
	parts, n := res.parts, res.length
	if res.gz != nil {
		hdr["Vary"] = varyAE
		if acceptsGzip(r) {
			hdr["Content-Encoding"] = gzipCE
			parts, n = [][]byte{res.gz}, len(res.gz)
		}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		if acceptsGzipValue(v) {
			return true
		}
	}
	return false
}

// acceptsGzipValue reports whether an Accept-Encoding value accepts gzip.
func acceptsGzipValue(v string) bool {
	for _, enc := range strings.Split(v, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(enc), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// add registers a body at path. compress says whether to keep a gzipped
// copy for clients that accept it.
func (h *host) add(path, ctype string, body []byte, compress bool) *resource {
	r := &resource{ctype: ctype, parts: [][]byte{body}, length: len(body)}
	if compress {
		r.gz = gzipBytes(body)
	}
	h.res[path] = r
	return r
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) / 3)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
