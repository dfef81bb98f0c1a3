package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is the fetcher the tests hand the proxy: it sends requests
// with a plain http.Transport and keeps what it was asked and what failed.
type recorder struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	reqs []*http.Request
	errs []error
}

func (f *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	c := r.Clone(context.Background())
	f.mu.Lock()
	f.reqs = append(f.reqs, c)
	f.mu.Unlock()
	resp, err := f.rt.RoundTrip(r)
	if err != nil {
		f.mu.Lock()
		f.errs = append(f.errs, err)
		f.mu.Unlock()
	}
	return resp, err
}

func (f *recorder) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

// originTransport reaches the test origins, trusting the given TLS
// servers' certificates (nil: the system's roots only).
func originTransport(trust ...*httptest.Server) *http.Transport {
	pool := x509.NewCertPool()
	for _, s := range trust {
		pool.AddCert(s.Certificate())
	}
	return &http.Transport{
		Proxy:              nil,
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{RootCAs: pool},
	}
}

// client goes through p and trusts p's CA only.
func client(t *testing.T, p *Proxy) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(p.CA().Certificate())
	pu, _ := url.Parse(p.URL())
	tr := &http.Transport{
		Proxy:              http.ProxyURL(pu),
		TLSClientConfig:    &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2:  true, // offered; the proxy must pick http/1.1
		DisableCompression: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func startProxy(t *testing.T, rt http.RoundTripper, opts Options) *Proxy {
	t.Helper()
	p, err := Start(rt, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// site serves a fixed random body at /big, echoes the request at /echo,
// and answers Range requests at /media.
func site(big []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(big) // no Content-Length: chunked
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s %s\n%s", r.Method, r.URL.RequestURI(), r.Host, body)
	})
	mux.HandleFunc("/media", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "media.bin", time.Time{}, bytes.NewReader(big))
	})
	return mux
}

func TestProxyHTTPAndHTTPS(t *testing.T) {
	big := randomBytes(3<<20 + 17)
	plain := httptest.NewServer(site(big))
	defer plain.Close()
	secure := httptest.NewTLSServer(site(big))
	defer secure.Close()
	rec := &recorder{rt: originTransport(secure)}
	p := startProxy(t, rec, Options{})
	c := client(t, p)

	for _, base := range []string{plain.URL, secure.URL} {
		resp, err := c.Get(base + "/big")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("%s/big: %d bytes (err %v), want the origin's %d", base, len(got), err, len(big))
		}
		if resp.TLS != nil {
			if resp.TLS.NegotiatedProtocol == "h2" {
				t.Errorf("%s: negotiated h2 with the proxy", base)
			}
			if got := resp.TLS.PeerCertificates[0].IPAddresses; len(got) != 1 || got[0].String() != "127.0.0.1" {
				t.Errorf("leaf IP SANs %v, want 127.0.0.1", got)
			}
		}

		req, _ := http.NewRequest("GET", base+"/media", nil)
		req.Header.Set("Range", "bytes=100-199")
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, big[100:200]) {
			t.Errorf("%s/media range: %d, %d bytes", base, resp.StatusCode, len(got))
		}

		resp, err = c.Post(base+"/echo?q=1", "text/plain", strings.NewReader("posted body"))
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
		if want := "POST /echo?q=1 " + host + "\nposted body"; string(got) != want {
			t.Errorf("echo: %q, want %q", got, want)
		}
	}

	reqs := rec.requests()
	var seen []string
	for _, r := range reqs {
		seen = append(seen, r.Method+" "+r.URL.String())
	}
	want := []string{
		"GET " + plain.URL + "/big", "GET " + plain.URL + "/media", "POST " + plain.URL + "/echo?q=1",
		"GET " + secure.URL + "/big", "GET " + secure.URL + "/media", "POST " + secure.URL + "/echo?q=1",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fetcher saw\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	if got := reqs[4].Header.Get("Range"); got != "bytes=100-199" {
		t.Errorf("fetcher saw Range %q", got)
	}
	if reqs[5].GetBody == nil || reqs[5].ContentLength != int64(len("posted body")) {
		t.Errorf("POST handed on without GetBody or length (%d)", reqs[5].ContentLength)
	}
}

func TestProxyUntrustedOrigin(t *testing.T) {
	secure := httptest.NewTLSServer(site(nil))
	defer secure.Close()
	rec := &recorder{rt: originTransport()} // does not trust secure's certificate
	p := startProxy(t, rec, Options{})
	resp, err := client(t, p).Get(secure.URL + "/echo")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(rec.errs) != 1 {
		t.Fatalf("fetcher errors %v, want one", rec.errs)
	}
	var uerr x509.UnknownAuthorityError
	if !errors.As(rec.errs[0], &uerr) {
		t.Errorf("fetcher error %v, want an unknown authority", rec.errs[0])
	}
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), rec.errs[0].Error()) {
		t.Errorf("client got %d %q, want 502 naming %q", resp.StatusCode, body, rec.errs[0])
	}
}

// hopper answers with hop-by-hop fields that must not reach the client,
// and keeps the request it got.
type hopper struct {
	mu  sync.Mutex
	got http.Header
}

func (h *hopper) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.got = r.Header.Clone()
	h.mu.Unlock()
	return &http.Response{
		StatusCode: 200,
		Header: http.Header{
			"Connection":   {"X-Private"},
			"X-Private":    {"1"},
			"Keep-Alive":   {"timeout=5"},
			"X-Kept":       {"yes"},
			"Content-Type": {"text/plain"},
		},
		Body:          io.NopCloser(strings.NewReader("ok")),
		ContentLength: 2,
	}, nil
}

func TestProxyHopByHop(t *testing.T) {
	h := &hopper{}
	p := startProxy(t, h, Options{})
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET http://example.test/x HTTP/1.1\r\nHost: example.test\r\n"+
		"Connection: keep-alive, X-Conn-Only\r\nX-Conn-Only: 1\r\nProxy-Connection: keep-alive\r\n"+
		"Keep-Alive: 300\r\nTE: trailers\r\nProxy-Authorization: Basic eDp5\r\nX-End: kept\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, f := range []string{"Connection", "X-Conn-Only", "Proxy-Connection", "Keep-Alive", "Te", "Proxy-Authorization"} {
		if _, ok := h.got[f]; ok {
			t.Errorf("request field %s reached the fetcher", f)
		}
	}
	if h.got.Get("X-End") != "kept" {
		t.Errorf("end-to-end request field lost: %v", h.got)
	}
	if v, ok := h.got["User-Agent"]; !ok || len(v) != 0 {
		t.Errorf("User-Agent %q: a request without one must not get Go's", v)
	}
	for _, f := range []string{"X-Private", "Keep-Alive"} {
		if _, ok := resp.Header[f]; ok {
			t.Errorf("response field %s reached the client", f)
		}
	}
	if resp.Header.Get("X-Kept") != "yes" {
		t.Errorf("end-to-end response field lost: %v", resp.Header)
	}
	if _, ok := resp.Header["Date"]; ok {
		t.Errorf("the proxy added a Date the origin did not send")
	}
}

// errFetcher fails every request with err.
type errFetcher struct{ err error }

func (f errFetcher) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// rawExchange sends raw on a fresh connection to p and reads one response.
func rawExchange(t *testing.T, p *Proxy, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go io.WriteString(conn, raw) // the proxy may answer before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", raw[:min(len(raw), 60)], err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestProxyBadInput(t *testing.T) {
	p := startProxy(t, errFetcher{context.DeadlineExceeded}, Options{MaxHeaderBytes: 4 << 10, MaxRequestBody: 10})
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"origin form", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"ftp", "GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"connect without port", "CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"connect bad port", "CONNECT a:99999 HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400},
		{"connect bad host", "CONNECT a*b:443 HTTP/1.1\r\nHost: a*b:443\r\n\r\n", 400},
		{"huge head", "GET http://a/ HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 8<<10) + "\r\n\r\n", 431},
		{"garbage", "\x00\x01\x02 nonsense\r\n\r\n", 400},
		{"websocket", "GET http://a/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 501},
		{"large body", "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", 413},
		{"fetch timeout", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 504},
	} {
		resp, _ := rawExchange(t, p, tc.raw)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}

// TestProxyTunnelPlain: a CONNECT tunnel that carries plain HTTP (as for
// ws://) is served like a TLS one, and one that carries neither TLS nor
// HTTP gets a 400 inside the tunnel.
func TestProxyTunnelPlain(t *testing.T) {
	plain := httptest.NewServer(site(nil))
	defer plain.Close()
	p := startProxy(t, &recorder{rt: originTransport()}, Options{})
	host := strings.TrimPrefix(plain.URL, "http://")
	for _, tc := range []struct {
		inner  string
		status int
		body   string
	}{
		{"GET /echo HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 200, "GET /echo " + host + "\n"},
		{"\x00\x01 nonsense\r\n\r\n", 400, ""},
	} {
		conn, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n%s", host, host, tc.inner)
		resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("CONNECT: %v %v", resp, err)
		}
		resp, err = http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != tc.status || tc.body != "" && string(got) != tc.body {
			t.Errorf("in tunnel %q: %d %q, want %d %q", tc.inner, resp.StatusCode, got, tc.status, tc.body)
		}
	}
}

// TestProxyConcurrent: many clients at once over HTTP and HTTPS, with
// keep-alive, all get what the origins sent and the fetcher sees each
// request.
func TestProxyConcurrent(t *testing.T) {
	big := randomBytes(64<<10 + 3)
	plain := httptest.NewServer(site(big))
	defer plain.Close()
	secure := httptest.NewTLSServer(site(big))
	defer secure.Close()
	rec := &recorder{rt: originTransport(secure)}
	p := startProxy(t, rec, Options{MaxConns: 8})
	c := client(t, p)
	const workers, each = 12, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := plain.URL
			if i%2 == 1 {
				base = secure.URL
			}
			for range each {
				resp, err := c.Get(base + "/big")
				if err != nil {
					errs <- err
					continue
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(got, big) {
					errs <- fmt.Errorf("%s: %d bytes, %v", base, len(got), err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(rec.requests()); n != workers*each {
		t.Errorf("fetcher saw %d requests, want %d", n, workers*each)
	}
}

// TestProxyStreams: the client gets the first part of a body before the
// origin has sent the rest.
func TestProxyStreams(t *testing.T) {
	firstSeen := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part;")
		w.(http.Flusher).Flush()
		select {
		case <-firstSeen:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "second part")
	}))
	defer origin.Close()
	p := startProxy(t, &recorder{rt: originTransport()}, Options{})
	resp, err := client(t, p).Get(origin.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, len("first part;"))
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	close(firstSeen)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(buf)+string(rest) != "first part;second part" {
		t.Fatalf("got %q%q, %v", buf, rest, err)
	}
}

// cutBody fails after some bytes, as a connection to the origin that
// breaks mid-body.
type cutBody struct{ n int }

func (b *cutBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := min(len(p), b.n)
	b.n -= n
	return n, nil
}

func (b *cutBody) Close() error { return nil }

type cutFetcher struct{ length int64 }

func (f cutFetcher) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: &cutBody{n: 1000}, ContentLength: f.length}, nil
}

// TestProxyCutBody: a body that breaks off at the origin reaches the
// client cut, whether its length was known (Content-Length) or not
// (chunked): never as a complete shorter body.
func TestProxyCutBody(t *testing.T) {
	for _, length := range []int64{5000, -1} {
		p := startProxy(t, cutFetcher{length}, Options{})
		resp, err := client(t, p).Get("http://example.test/cut")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("length %d: read %d bytes and a clean end", length, len(got))
		}
	}
}

func TestProxyClose(t *testing.T) {
	p, err := Start(errFetcher{errors.New("x")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A tunnel waiting in its handshake is closed too.
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n")
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("tunnel still open after Close")
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Error("still listening after Close")
	}
}

func TestCALeaves(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	for _, host := range []string{"example.org", "EXAMPLE.org.", "127.0.0.1", "[::1]"} {
		c, err := ca.Leaf(host)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.ToLower(strings.Trim(strings.TrimSuffix(host, "."), "[]"))
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	a, _ := ca.Leaf("example.org")
	b, _ := ca.Leaf("Example.ORG")
	if a != b {
		t.Error("leaf not cached per host")
	}
	if got := spkiHash(a.Leaf.RawSubjectPublicKeyInfo); got != ca.LeafSPKIHash() {
		t.Errorf("leaf SPKI hash %s, LeafSPKIHash %s", got, ca.LeafSPKIHash())
	}
	if ca.SPKIHash() == ca.LeafSPKIHash() || len(ca.SPKIHash()) != 44 {
		t.Errorf("SPKI hashes %q %q", ca.SPKIHash(), ca.LeafSPKIHash())
	}
	for _, bad := range []string{"", "a b", "a/b", strings.Repeat("a", 300)} {
		if _, err := ca.Leaf(bad); !errors.Is(err, ErrBadHost) {
			t.Errorf("Leaf(%q): %v, want ErrBadHost", bad, err)
		}
	}
}
