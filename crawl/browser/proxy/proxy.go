package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// Options configure a Proxy. Zero means default.
type Options struct {
	// Addr is the address to listen on; default "127.0.0.1:0" (a free
	// port on the loopback interface: the proxy is for one local browser).
	Addr string
	// MaxConns bounds the client connections open at once, tunnels
	// included; more wait to be accepted. Default 256 (Chromium's
	// own limit of sockets per profile).
	MaxConns int
	// MaxHeaderBytes bounds a request's line and header fields; a longer
	// head is answered 431. Default 256 KiB.
	MaxHeaderBytes int
	// MaxRequestBody bounds a request body, which is read whole before
	// the request is sent on (the fetcher may need to send it again, and
	// a recording transport digests it); a larger one is answered 413.
	// Default 32 MiB.
	MaxRequestBody int64
	// HeaderTimeout bounds reading a request head. Default 30 s.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection, and any single write to the client that makes no
	// progress (a client that stops reading). Default 60 s.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake in a CONNECT tunnel.
	// Default 10 s.
	HandshakeTimeout time.Duration
	// ErrorLog receives what net/http reports about broken client
	// connections; default: discarded.
	ErrorLog *log.Logger
}

// Defaults of Options.
const (
	DefaultMaxConns         = 256
	DefaultMaxHeaderBytes   = 256 << 10
	DefaultMaxRequestBody   = 32 << 20
	DefaultHeaderTimeout    = 30 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
)

// Errors, for errors.Is.
var (
	// ErrBadHost: a CONNECT authority or TLS server name that is not a
	// host name or IP address.
	ErrBadHost = errors.New("proxy: bad host")
	// ErrClosed: the proxy was closed.
	ErrClosed = errors.New("proxy: closed")
)

// Proxy is an HTTP/1.1 forward proxy for one browser. Every request it
// receives — plain-HTTP proxy requests, and the requests inside CONNECT
// tunnels, TLS-terminated with certificates of its CA — is sent on with
// the RoundTripper it was made with, and the response is streamed back as
// that RoundTripper gave it.
//
// The proxy changes only what forwarding needs: the hop-by-hop fields of
// RFC 9110 section 7.6.1 are dropped both ways, and the target is sent on
// as a URL (the RoundTripper writes it in origin form). Header names
// reach the RoundTripper in Go's canonical case (net/http parses them);
// HTTP/1.1 field names are case-insensitive. WebSocket and other
// protocol upgrades are answered 501: the recording transport carries
// one request and one response per exchange.
type Proxy struct {
	rt   http.RoundTripper
	ca   *CA
	opts Options
	ln   net.Listener

	outer   *http.Server // proxy requests and CONNECT, on ln
	inner   *http.Server // requests inside tunnels
	tunnels *connQueue

	mu       sync.Mutex
	closed   bool
	pending  map[net.Conn]struct{} // tunnels between CONNECT and the inner server
	wg       sync.WaitGroup
	serveErr error
}

// Start listens on opts.Addr and serves in the background until Close.
// Every request is sent with rt (the crawl's recording transport); the
// certificates come from a new in-memory CA.
func Start(rt http.RoundTripper, opts Options) (*Proxy, error) {
	if rt == nil {
		return nil, errors.New("proxy: no RoundTripper")
	}
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{rt: rt, ca: ca, opts: opts, pending: map[net.Conn]struct{}{}}
	p.ln = netutil.LimitListener(ln, opts.MaxConns)
	p.tunnels = newConnQueue(ln.Addr())
	p.outer = p.server(http.HandlerFunc(p.serveProxy))
	p.inner = p.server(http.HandlerFunc(p.serveTunnelled))
	p.inner.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*tunnelConn); ok {
			return context.WithValue(ctx, tunnelKey{}, tc.origin)
		}
		return ctx
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		p.inner.Serve(p.tunnels)
	}()
	go func() {
		defer p.wg.Done()
		if err := p.outer.Serve(p.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.mu.Lock()
			p.serveErr = err
			p.mu.Unlock()
		}
	}()
	return p, nil
}

func withDefaults(o Options) Options {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxRequestBody <= 0 {
		o.MaxRequestBody = DefaultMaxRequestBody
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.ErrorLog == nil {
		o.ErrorLog = log.New(io.Discard, "", 0)
	}
	return o
}

func (p *Proxy) server(h http.Handler) *http.Server {
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: p.opts.HeaderTimeout,
		IdleTimeout:       p.opts.IdleTimeout,
		MaxHeaderBytes:    p.opts.MaxHeaderBytes,
		ErrorLog:          p.opts.ErrorLog,
		Protocols:         new(http.Protocols),
	}
	s.Protocols.SetHTTP1(true) // no h2, no h2c: what is recorded is HTTP/1.1
	return s
}

// Addr is the proxy's listening address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's address as a URL, for Chromium's --proxy-server.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// CA is the authority whose certificates the proxy presents in tunnels.
func (p *Proxy) CA() *CA { return p.ca }

// Close stops the proxy: it closes the listener and every client
// connection (requests in progress are cut), and waits for its servers.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for c := range pending {
		c.Close()
	}
	err := p.outer.Close()
	p.tunnels.close()
	if ierr := p.inner.Close(); err == nil {
		err = ierr
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		err = p.serveErr
	}
	return err
}

// serveProxy answers what the browser sends the proxy itself: CONNECT,
// or a request in absolute form.
func (p *Proxy) serveProxy(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if !r.URL.IsAbs() || r.URL.Host == "" || (r.URL.Scheme != "http" && r.URL.Scheme != "https") {
		fail(w, http.StatusBadRequest, "not a proxy request: the target must be an absolute http URL")
		return
	}
	u := *r.URL
	p.forward(w, r, &u)
}

type tunnelKey struct{}

// origin is where a tunnel leads: the scheme spoken inside it and the
// CONNECT authority.
type origin struct {
	scheme, authority string
}

// serveTunnelled answers a request that came through a CONNECT tunnel.
func (p *Proxy) serveTunnelled(w http.ResponseWriter, r *http.Request) {
	o, ok := r.Context().Value(tunnelKey{}).(origin)
	if !ok {
		fail(w, http.StatusInternalServerError, "request outside a tunnel")
		return
	}
	if r.Method == http.MethodConnect {
		fail(w, http.StatusBadRequest, "CONNECT inside a tunnel")
		return
	}
	// The tunnel says where the request goes; an absolute-form target
	// inside it gives only its path and query.
	u := &url.URL{Scheme: o.scheme, Host: o.authority, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery, ForceQuery: r.URL.ForceQuery}
	if r.URL.Opaque != "" {
		u = &url.URL{Scheme: o.scheme, Host: o.authority, Opaque: r.URL.Opaque, RawQuery: r.URL.RawQuery}
	}
	p.forward(w, r, u)
}

// connect answers CONNECT: it takes over the connection, says 200, and
// hands what the client then sends to the inner server, through TLS with
// a certificate for the host when the client starts a TLS handshake, as
// it is otherwise (ws:// and plain HTTP tunnels).
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || host == "" || port == "" {
		fail(w, http.StatusBadRequest, fmt.Sprintf("CONNECT target %q is not host:port", r.Host))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		fail(w, http.StatusBadRequest, fmt.Sprintf("CONNECT target %q has a bad port", r.Host))
		return
	}
	if _, err := p.ca.Leaf(host); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		fail(w, http.StatusInternalServerError, "cannot take over the connection")
		return
	}
	if !p.track(conn) {
		conn.Close()
		return
	}
	defer p.untrack(conn)
	conn.SetDeadline(time.Now().Add(p.opts.HandshakeTimeout))
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	// Bytes the client sent after the CONNECT head are in brw already.
	bc := &bufferedConn{Conn: conn, r: brw.Reader}
	first, err := bc.r.Peek(1)
	if err != nil {
		conn.Close()
		return
	}
	var c net.Conn = bc
	scheme := "http"
	if first[0] == 0x16 { // a TLS handshake record
		scheme = "https"
		tc := tls.Server(bc, &tls.Config{
			NextProtos: []string{"http/1.1"},
			MinVersion: tls.VersionTLS12,
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				name := hello.ServerName
				if name == "" {
					name = host // an IP address: no SNI
				}
				return p.ca.Leaf(name)
			},
		})
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return
		}
		c = tc
	}
	conn.SetDeadline(time.Time{})
	p.tunnels.put(&tunnelConn{Conn: c, origin: origin{scheme: scheme, authority: stripDefaultPort(scheme, r.Host)}})
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.pending[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.pending, c)
	p.mu.Unlock()
}

func stripDefaultPort(scheme, authority string) string {
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		return authority
	}
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return authority
}

// hopByHop are the fields that concern one connection only (RFC 9110
// section 7.6.1, with the proxy's own authentication fields); the fields
// that Connection names are dropped too.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, f := range hopByHop {
		h.Del(f)
	}
}

// forward sends r on to u with the RoundTripper and streams the response
// back.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, u *url.URL) {
	if r.Header.Get("Upgrade") != "" {
		fail(w, http.StatusNotImplemented, "protocol upgrades (WebSocket) are not supported")
		return
	}
	h := r.Header.Clone()
	removeHopByHop(h)
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = nil // Go would otherwise send its own
	}
	out := (&http.Request{
		Method:     r.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       r.Host,
	}).WithContext(r.Context())
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, p.opts.MaxRequestBody+1))
		if err != nil {
			return // the client went away
		}
		if int64(len(body)) > p.opts.MaxRequestBody {
			w.Header().Set("Connection", "close")
			fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", p.opts.MaxRequestBody))
			return
		}
		out.ContentLength = int64(len(body))
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := p.rt.RoundTrip(out)
	if err != nil {
		if r.Context().Err() != nil {
			return // nobody to tell
		}
		status := http.StatusBadGateway
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			status = http.StatusGatewayTimeout
		}
		fail(w, status, err.Error())
		return
	}
	defer resp.Body.Close()
	wh := w.Header()
	for k, v := range resp.Header {
		wh[k] = v
	}
	removeHopByHop(wh)
	// net/http would add these when missing; the browser gets what the
	// origin sent.
	if _, ok := wh["Date"]; !ok {
		wh["Date"] = nil
	}
	if _, ok := wh["Content-Type"]; !ok {
		wh["Content-Type"] = nil
	}
	wh.Del("Content-Length")
	if resp.ContentLength >= 0 {
		wh.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
	if err := p.stream(w, resp.Body); err != nil {
		// The body ended early: end the connection too, so the client
		// sees a cut response rather than a complete shorter one.
		panic(http.ErrAbortHandler)
	}
}

// stream copies body to w as it arrives, each write bounded by the idle
// timeout.
func (p *Proxy) stream(w http.ResponseWriter, body io.Reader) error {
	rc := http.NewResponseController(w)
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			rc.SetWriteDeadline(time.Now().Add(p.opts.IdleTimeout))
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if err := rc.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			rc.SetWriteDeadline(time.Time{})
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// fail answers with status and a one-line reason. The proxy's own
// answers are never cached.
func fail(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Amber-Proxy", "error")
	w.WriteHeader(status)
	fmt.Fprintf(w, "amber proxy: %s\n", strings.ReplaceAll(msg, "\n", " "))
}

// bufferedConn reads through the bufio.Reader that holds what the client
// sent after its CONNECT head.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// tunnelConn is a connection out of a CONNECT tunnel, with where it leads.
type tunnelConn struct {
	net.Conn
	origin origin
}

// connQueue is a net.Listener whose connections are handed to it.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) put(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.done:
		c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) close() { q.once.Do(func() { close(q.done) }) }

func (q *connQueue) Close() error { q.close(); return nil }

func (q *connQueue) Addr() net.Addr { return q.addr }
