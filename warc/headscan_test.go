package warc

import "testing"

// scanHead feeds b to a headScanner in pieces of n bytes.
func scanHead(b []byte, n int) (*headScanner, []byte) {
	var s headScanner
	for len(b) > 0 && !s.done && s.err == nil {
		k := min(n, len(b))
		if rest := s.write(b[:k]); s.done {
			return &s, append(rest, b[k:]...)
		}
		b = b[k:]
	}
	return &s, nil
}

// FuzzHeadScanner: the streaming head reader finds what HTTPHeadEnd and
// ParseHTTPHeader find on the whole head, however the bytes are split.
func FuzzHeadScanner(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"), 3)
	f.Add([]byte("HTTP/1.1 200 OK\nTransfer-Encoding: gzip,\n chunked\n\n3\r\nabc\r\n0\r\n\r\n"), 1)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=b\r\n\r\n"), 7)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), 2)
	f.Add([]byte("HTTP/1.1 200 OK\r\n folded\r\nbad line\r\n\r\n"), 5)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n <= 0 || n > len(b)+1 {
			n = len(b) + 1
		}
		s, rest := scanHead(b, n)
		headLen, bodyStart := HTTPHeadEnd(b)
		if headLen < 0 {
			if s.done {
				t.Fatalf("scanner found a head end, HTTPHeadEnd none")
			}
			return
		}
		want, err := ParseHTTPHeader(b[:headLen])
		if err != nil {
			if s.err == nil {
				t.Fatalf("ParseHTTPHeader: %v; the scanner found no error", err)
			}
			return
		}
		if s.err != nil || !s.done {
			t.Fatalf("scanner: done %t, err %v; ParseHTTPHeader succeeded", s.done, s.err)
		}
		if string(rest) != string(b[bodyStart:]) {
			t.Fatalf("body %q, want %q", rest, b[bodyStart:])
		}
		if s.startLine != want.StartLine || s.status != want.StatusCode {
			t.Fatalf("start %q %d, want %q %d", s.startLine, s.status, want.StartLine, want.StatusCode)
		}
		if got := want.Fields.Get("Content-Type"); s.ctype != got {
			t.Fatalf("Content-Type %q, want %q", s.ctype, got)
		}
		tes := want.Fields.Values("Transfer-Encoding")
		if te := ""; len(tes) > 0 && s.te != tes[len(tes)-1] || len(tes) == 0 && s.te != te {
			t.Fatalf("Transfer-Encoding %q, want the last of %q", s.te, tes)
		}
		cls := want.Fields.Values("Content-Length")
		if s.clCount != len(cls) || len(cls) == 1 && s.cl != cls[0] {
			t.Fatalf("Content-Length %q ×%d, want %q", s.cl, s.clCount, cls)
		}
	})
}

// TestIndexLineLongHead: a head longer than the bytes IndexLine is given
// still gives the status, and the Content-Type when it comes early.
func TestIndexLineLongHead(t *testing.T) {
	h := Header{{"WARC-Type", "response"}, {"WARC-Target-URI", "http://example.com/"}, {"Content-Type", "application/http;msgtype=response"}}
	head := []byte("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n")
	for range 10000 {
		head = append(head, "X-Filler: 1\r\n"...)
	}
	l := IndexLine(h, head[:httpHeadLimit], "f.warc.gz")
	if l.Status != "404" || l.Mime != "text/plain" {
		t.Errorf("status %q, mime %q; want 404, text/plain", l.Status, l.Mime)
	}
	if l := IndexLine(h, []byte("HTTP/1.1 200"), "f.warc.gz"); l.Status != "" {
		t.Errorf("a start line cut short gave status %q", l.Status)
	}
}
