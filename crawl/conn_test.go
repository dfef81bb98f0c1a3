package crawl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
)

// rawServer answers GET requests on 127.0.0.1 with respond(path),
// written as they are, and closes each connection after perConn
// responses without saying so: the next request sent on it finds it
// closed, as with a server whose keep-alive timeout just expired.
type rawServer struct {
	ln      net.Listener
	perConn int
	conns   atomic.Int32
	mu      sync.Mutex
	sent    map[string]string // path → the response bytes written
	respond func(path string) string
}

func startRawServer(t *testing.T, perConn int, respond func(string) string) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, perConn: perConn, sent: map[string]string{}, respond: respond}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *rawServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for n := 0; n < s.perConn; n++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		resp := s.respond(req.URL.Path)
		s.mu.Lock()
		s.sent[req.URL.Path] = resp
		s.mu.Unlock()
		if _, err := c.Write([]byte(resp)); err != nil {
			return
		}
	}
}

func (s *rawServer) url(path string) string { return "http://" + s.ln.Addr().String() + path }

// Connections are kept alive and reused; one the server dropped is
// replaced without losing or doubling a capture; interim 1xx responses
// are recorded in front of the final one, as received.
func TestConnectionReuse(t *testing.T) {
	const images = 40
	var srv *rawServer
	srv = startRawServer(t, 3, func(path string) string {
		switch {
		case path == "/":
			var b strings.Builder
			b.WriteString(`<html><head><title>reuse</title><link rel="icon" href="/img/0.png"></head><body>`) // an icon: no /favicon.ico
			for i := range images {
				fmt.Fprintf(&b, `<img src="/img/%d.png">`, i)
			}
			b.WriteString("</body></html>")
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", b.Len(), b.String())
		case path == "/img/7.png":
			body := "interim first"
			return "HTTP/1.1 103 Early Hints\r\nLink: </img/8.png>; rel=preload\r\n\r\n" +
				fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		case path == "/img/9.png":
			return "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nPNG!\r\n3\r\n...\r\n0\r\n\r\n"
		default:
			body := strings.Repeat(path, 50)
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
	})
	res, recs, _ := archiveSite(t, nil, crawl.Options{Seeds: []string{srv.url("/")}, PerHost: 1, Concurrency: 1})
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	if res.Requests != images+2 {
		t.Errorf("%d requests for %d URLs: a dropped connection cost a retry", res.Requests, images+2)
	}
	responses := map[string]int{}
	for _, r := range recs {
		if r.get("WARC-Type") != "response" {
			continue
		}
		path := strings.TrimPrefix(r.get("WARC-Target-URI"), srv.url(""))
		responses[path]++
		srv.mu.Lock()
		want := srv.sent[path]
		srv.mu.Unlock()
		if string(r.Block) != want {
			t.Errorf("%s: block is not the bytes sent:\n%q\nwant\n%q", path, r.Block, want)
		}
	}
	if len(responses) != images+2 { // the page, its images and robots.txt
		t.Errorf("%d URLs archived, want %d", len(responses), images+2)
	}
	for p, n := range responses {
		if n != 1 {
			t.Errorf("%s archived %d times", p, n)
		}
	}
	// 42 requests, 3 per connection: at least 14 connections, and no more
	// than one per request (they were reused).
	if n := srv.conns.Load(); n < 14 || n > 2*14 {
		t.Errorf("%d connections for %d requests", n, images+2)
	}
}

// A page in another charset than UTF-8 is read as a browser reads it: its
// title and the non-ASCII URL it names come out right.
func TestLatin1Page(t *testing.T) {
	var srv *rawServer
	srv = startRawServer(t, 100, func(path string) string {
		switch path {
		case "/":
			body := "<html><head><title>Caf\xe9 cr\xe8me</title></head><body><img src=\"/caf\xe9.png\"></body></html>"
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		case "/café.png":
			return "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 3\r\n\r\nPNG"
		}
		return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	})
	st, n := newMemory(t)
	_, recs, _ := archiveSite(t, nil, crawl.Options{Seeds: []string{srv.url("/")}, Frontier: st, Crawl: n})
	pages, _ := st.Pages(context.Background(), "local")
	if len(pages) != 1 || pages[0].Title != "Café crème" {
		t.Errorf("pages %+v, want one titled %q", pages, "Café crème")
	}
	var found bool
	for _, r := range recs {
		if r.get("WARC-Type") == "response" && r.get("WARC-Target-URI") == srv.url("/caf%C3%A9.png") {
			found = bytes.HasSuffix(r.Block, []byte("\r\n\r\nPNG"))
		}
	}
	if !found {
		t.Error("the image named in Latin-1 was not archived as /caf%C3%A9.png")
	}
}

// Requests to one host never exceed PerHost at a time, and reach it when
// there is enough to fetch; with a Delay, one slot's requests are spaced
// by it. Another host is not held up by the first one's limit.
func TestPerHostLimitAndDelay(t *testing.T) {
	type hostStats struct {
		mu       sync.Mutex
		inflight int
		max      int
		starts   []time.Time
	}
	serve := func(st *hostStats, imgs int, other string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st.mu.Lock()
			st.inflight++
			st.max = max(st.max, st.inflight)
			st.starts = append(st.starts, time.Now())
			st.mu.Unlock()
			defer func() {
				st.mu.Lock()
				st.inflight--
				st.mu.Unlock()
			}()
			if r.URL.Path == "/" {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>")
				for i := range imgs {
					fmt.Fprintf(w, `<img src="/%d.png"><img src="%s/%d.png">`, i, other, i)
				}
				fmt.Fprint(w, "</body></html>")
				return
			}
			time.Sleep(5 * time.Millisecond)
			w.Header().Set("Content-Type", "image/png")
			fmt.Fprint(w, "png")
		}))
	}
	for _, tc := range []struct {
		perHost int
		delay   time.Duration
	}{{2, 0}, {3, 0}, {1, 30 * time.Millisecond}} {
		var a, b hostStats
		other := serve(&b, 0, "")
		site := serve(&a, 12, other.URL)
		res, _, _ := archiveSite(t, nil, crawl.Options{
			Seeds: []string{site.URL + "/"}, PerHost: tc.perHost, Delay: tc.delay, Concurrency: 8, IgnoreRobots: true,
		})
		site.Close()
		other.Close()
		if len(res.Failures) > 0 {
			t.Fatalf("failures: %v", res.Failures)
		}
		for name, st := range map[string]*hostStats{"site": &a, "other host": &b} {
			if st.max > tc.perHost {
				t.Errorf("PerHost %d: %s had %d requests in flight", tc.perHost, name, st.max)
			}
			if tc.delay == 0 && st.max < tc.perHost {
				t.Errorf("PerHost %d: %s never had more than %d requests in flight", tc.perHost, name, st.max)
			}
			if tc.delay > 0 {
				for i := 1; i < len(st.starts); i++ {
					if gap := st.starts[i].Sub(st.starts[i-1]); gap < tc.delay {
						t.Errorf("Delay %v: %s requests %d and %d started %v apart", tc.delay, name, i-1, i, gap)
					}
				}
			}
		}
	}
}
