package replay

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRangeRequests asks amber replay for ranges of archived media:
// the bytes and headers of 206 and 416 answers, the whole payload where a
// range is not served (content-encoded, rewritten, several ranges,
// malformed, If-Range not holding), and a 206 the crawler archived,
// replayed as archived.
func TestRangeRequests(t *testing.T) {
	payload := make([]byte, 1000)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(payload)
	zw.Close()
	var chunked bytes.Buffer
	for i := 0; i < len(payload); i += 300 {
		part := payload[i:min(i+300, len(payload))]
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", len(part), part)
	}
	chunked.WriteString("0\r\n\r\n")
	const lastMod = "Tue, 24 Nov 2026 10:00:00 GMT"
	head := func(extra string, n int) string {
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: video/webm\r\n%sContent-Length: %d\r\n\r\n", extra, n)
	}
	const page = `<!doctype html><img src="/i.png">`
	const site = "http://media.example/"
	t0 := time.Date(2026, 11, 25, 18, 43, 29, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "coll")
	writeCollection(t, dir, t0, map[string][]byte{
		site + "clip.webm":    []byte(head("ETag: \"v1\"\r\nLast-Modified: "+lastMod+"\r\n", len(payload)) + string(payload)),
		site + "chunked.webm": []byte("HTTP/1.1 200 OK\r\nContent-Type: video/webm\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked.String()),
		site + "gz.webm":      []byte(head("Content-Encoding: gzip\r\n", gz.Len()) + gz.String()),
		site + "part.webm":    []byte("HTTP/1.1 206 Partial Content\r\nContent-Type: video/webm\r\nContent-Range: bytes 0-99/1000\r\nContent-Length: 100\r\n\r\n" + string(payload[:100])),
		site + "empty.webm":   []byte(head("", 0)),
		site + "page.html":    []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(page), page)),
	})
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(NewHandler(a))
	defer srv.Close()
	// No transparent gzip: the bytes as served.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	ts := t0.Format(tsLayout)

	for _, tt := range []struct {
		name, method, path string
		hdr                []string
		status             int
		contentRange       string
		body               string
		acceptRanges       string
	}{
		{"a-b", "GET", "clip.webm", []string{"Range", "bytes=0-9"}, 206, "bytes 0-9/1000", string(payload[:10]), "bytes"},
		{"a-b in the middle", "GET", "clip.webm", []string{"Range", "bytes=500-503"}, 206, "bytes 500-503/1000", string(payload[500:504]), "bytes"},
		{"a-", "GET", "clip.webm", []string{"Range", "bytes=990-"}, 206, "bytes 990-999/1000", string(payload[990:]), "bytes"},
		{"-n", "GET", "clip.webm", []string{"Range", "bytes=-5"}, 206, "bytes 995-999/1000", string(payload[995:]), "bytes"},
		{"-n past the start", "GET", "clip.webm", []string{"Range", "bytes=-5000"}, 206, "bytes 0-999/1000", string(payload), "bytes"},
		{"b past the end", "GET", "clip.webm", []string{"Range", "bytes=998-5000"}, 206, "bytes 998-999/1000", string(payload[998:]), "bytes"},
		{"last byte", "GET", "clip.webm", []string{"Range", "bytes=999-999"}, 206, "bytes 999-999/1000", string(payload[999:]), "bytes"},
		{"id_", "GET", "clip.webm#id", []string{"Range", "bytes=1-2"}, 206, "bytes 1-2/1000", string(payload[1:3]), "bytes"},
		{"HEAD", "HEAD", "clip.webm", []string{"Range", "bytes=0-9"}, 206, "bytes 0-9/1000", "", "bytes"},
		{"a past the end", "GET", "clip.webm", []string{"Range", "bytes=1000-"}, 416, "bytes */1000", "", "bytes"},
		{"-0", "GET", "clip.webm", []string{"Range", "bytes=-0"}, 416, "bytes */1000", "", "bytes"},
		{"empty payload", "GET", "empty.webm", []string{"Range", "bytes=0-"}, 416, "bytes */0", "", "bytes"},
		{"no range", "GET", "clip.webm", nil, 200, "", string(payload), "bytes"},
		{"several ranges", "GET", "clip.webm", []string{"Range", "bytes=0-1,5-6"}, 200, "", string(payload), "bytes"},
		{"malformed", "GET", "clip.webm", []string{"Range", "bytes=abc"}, 200, "", string(payload), "bytes"},
		{"b before a", "GET", "clip.webm", []string{"Range", "bytes=5-2"}, 200, "", string(payload), "bytes"},
		{"another unit", "GET", "clip.webm", []string{"Range", "items=0-5"}, 200, "", string(payload), "bytes"},
		{"If-Range ETag holds", "GET", "clip.webm", []string{"Range", "bytes=0-1", "If-Range", `"v1"`}, 206, "bytes 0-1/1000", string(payload[:2]), "bytes"},
		{"If-Range ETag changed", "GET", "clip.webm", []string{"Range", "bytes=0-1", "If-Range", `"v2"`}, 200, "", string(payload), "bytes"},
		{"If-Range date holds", "GET", "clip.webm", []string{"Range", "bytes=0-1", "If-Range", lastMod}, 206, "bytes 0-1/1000", string(payload[:2]), "bytes"},
		{"If-Range date changed", "GET", "clip.webm", []string{"Range", "bytes=0-1", "If-Range", "Wed, 25 Nov 2026 10:00:00 GMT"}, 200, "", string(payload), "bytes"},
		{"chunked", "GET", "chunked.webm", []string{"Range", "bytes=295-304"}, 206, "bytes 295-304/1000", string(payload[295:305]), "bytes"},
		{"chunked -n", "GET", "chunked.webm", []string{"Range", "bytes=-3"}, 206, "bytes 997-999/1000", string(payload[997:]), "bytes"},
		{"content-encoded: whole", "GET", "gz.webm", []string{"Range", "bytes=0-9"}, 200, "", gz.String(), ""},
		{"archived 206: as archived", "GET", "part.webm", []string{"Range", "bytes=500-"}, 206, "bytes 0-99/1000", string(payload[:100]), ""},
		{"archived 206 without Range", "GET", "part.webm", nil, 206, "bytes 0-99/1000", string(payload[:100]), ""},
		{"rewritten page: whole", "GET", "page.html", []string{"Range", "bytes=0-3"}, 200, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mod := "mp_"
			p := tt.path
			if strings.HasSuffix(p, "#id") {
				mod, p = "id_", strings.TrimSuffix(p, "#id")
			}
			req, _ := http.NewRequest(tt.method, srv.URL+"/"+ts+mod+"/"+site+p, nil)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (%q)", resp.StatusCode, tt.status, b)
			}
			if got := resp.Header.Get("Content-Range"); got != tt.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tt.contentRange)
			}
			if got := resp.Header.Get("Accept-Ranges"); got != tt.acceptRanges {
				t.Errorf("Accept-Ranges %q, want %q", got, tt.acceptRanges)
			}
			switch {
			case tt.name == "rewritten page: whole":
				if !strings.Contains(string(b), "/"+ts+"mp_/"+site+"i.png") {
					t.Errorf("page not rewritten: %q", b)
				}
			case tt.status == 416:
				if resp.Header.Get("Memento-Datetime") == "" {
					t.Errorf("416 without Memento-Datetime")
				}
			default:
				if string(b) != tt.body {
					t.Errorf("body %q, want %q", clip(string(b)), clip(tt.body))
				}
				if tt.method == "GET" && resp.ContentLength != int64(len(tt.body)) {
					t.Errorf("Content-Length %d, want %d", resp.ContentLength, len(tt.body))
				}
			}
			if tt.method == "HEAD" && resp.Header.Get("Content-Length") != "10" {
				t.Errorf("HEAD: Content-Length %q, want 10", resp.Header.Get("Content-Length"))
			}
			if tt.name == "content-encoded: whole" && resp.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("Content-Encoding %q, want gzip as archived", resp.Header.Get("Content-Encoding"))
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		h          string
		size       int64
		start, end int64
		ok, unsat  bool
	}{
		{"bytes=0-0", 10, 0, 1, true, false},
		{"bytes = 2 - 4", 10, 2, 5, true, false},
		{"BYTES=3-", 10, 3, 10, true, false},
		{"bytes=-3", 10, 7, 10, true, false},
		{"bytes=10-", 10, 0, 0, true, true},
		{"bytes=-0", 10, 0, 0, true, true},
		{"bytes=0-", 0, 0, 0, true, true},
		{"bytes=-1", 0, 0, 0, true, true},
		{"bytes=+1-2", 10, 0, 0, false, false},
		{"bytes=1--2", 10, 0, 0, false, false},
		{"bytes=-", 10, 0, 0, false, false},
		{"bytes=99999999999999999999-", 10, 0, 0, false, false},
		{"bytes", 10, 0, 0, false, false},
		{"", 10, 0, 0, false, false},
	} {
		r, ok, err := parseRange(tt.h, tt.size)
		if ok != tt.ok || (err != nil) != tt.unsat || ok && !tt.unsat && (r.start != tt.start || r.end != tt.end) {
			t.Errorf("parseRange(%q, %d) = %v %t %v, want [%d,%d) %t unsatisfiable %t", tt.h, tt.size, r, ok, err, tt.start, tt.end, tt.ok, tt.unsat)
		}
	}
}
