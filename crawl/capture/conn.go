package capture

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The transport speaks HTTP/1.1 itself, on connections it dials and keeps
// alive: the request is written and the response read by the goroutine
// that asked for it, with no connection goroutines to hand off to (as
// net/http.Transport has). The framing of responses — Content-Length,
// chunked, until close, 1xx interim responses — is net/http's own
// (http.ReadResponse).

const (
	maxIdlePerHost  = 8
	idleConnTimeout = 30 * time.Second
	readBufferSize  = 128 << 10 // fewer read syscalls on big bodies
	writeBufferSize = 4 << 10

	// MaxResponseHead bounds the response head: the status lines and
	// header fields of the final response and of the interim (1xx)
	// responses before it, together, as Chromium bounds them (256 KiB).
	// A longer head is a failed fetch (ErrHeadTooLarge) and nothing of it
	// is archived: it is far under the 1 MiB head that verify accepts.
	MaxResponseHead = 256 << 10
	// MaxInterimResponses is the most 1xx responses read before the final
	// one; more is a failed fetch (ErrHeadTooLarge).
	MaxInterimResponses = 10
)

// Errors of a response head, for errors.Is.
var (
	// ErrHeadTooLarge: the status line and headers (with interim
	// responses) exceed MaxResponseHead, or there are more than
	// MaxInterimResponses interim responses.
	ErrHeadTooLarge = errors.New("capture: response head too large")
	// ErrHeaderTimeout: the response head did not arrive whole within
	// Options.ResponseHeaderTimeout.
	ErrHeaderTimeout = errors.New("capture: timeout awaiting response headers")
)

// errHeadLimit ends a read that would go past MaxResponseHead.
var errHeadLimit = errors.New("response head limit reached")

// connPool holds kept-alive connections by scheme and address.
type connPool struct {
	mu   sync.Mutex
	idle map[string][]*recConn
}

func connKey(scheme, addr string) string { return scheme + "://" + addr }

// get returns an idle connection to key, or nil.
func (p *connPool) get(key string) *recConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for conns := p.idle[key]; len(conns) > 0; conns = p.idle[key] {
		c := conns[len(conns)-1]
		p.idle[key] = conns[:len(conns)-1]
		if time.Since(c.idleSince) < idleConnTimeout {
			return c
		}
		c.Close()
	}
	return nil
}

// put keeps c for the next request to its address, or closes it if
// enough are kept.
func (p *connPool) put(c *recConn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	if p.idle == nil {
		p.idle = map[string][]*recConn{}
	}
	if len(p.idle[c.key]) < maxIdlePerHost {
		p.idle[c.key] = append(p.idle[c.key], c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// closeAll closes every idle connection.
func (p *connPool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			c.Close()
		}
	}
}

// activeConns are the connections carrying a request, for Cut.
type activeConns struct {
	mu    sync.Mutex
	conns map[*recConn]struct{}
	cut   bool
}

// add tracks c, or reports false once the transport was cut.
func (a *activeConns) add(c *recConn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cut {
		return false
	}
	if a.conns == nil {
		a.conns = map[*recConn]struct{}{}
	}
	a.conns[c] = struct{}{}
	return true
}

func (a *activeConns) remove(c *recConn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
}

// cutAll cuts every tracked connection and refuses new ones.
func (a *activeConns) cutAll() {
	a.mu.Lock()
	a.cut = true
	conns := a.conns
	a.conns = nil
	a.mu.Unlock()
	for c := range conns {
		c.cutNow()
	}
}

// dial opens a recording connection to u's host; for https the TLS
// handshake is made here, so the recorder sits above TLS and sees
// plaintext, and ALPN offers only http/1.1.
func (t *Transport) dial(ctx context.Context, scheme, addr string) (*recConn, error) {
	c, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if scheme == "https" {
		host, _, _ := net.SplitHostPort(addr)
		tc := tls.Client(c, &tls.Config{
			ServerName:         host,
			NextProtos:         []string{"http/1.1"},
			InsecureSkipVerify: t.opts.InsecureSkipVerify,
			RootCAs:            t.opts.RootCAs,
		})
		hctx, cancel := context.WithTimeout(ctx, t.opts.ConnectTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	rc := &recConn{Conn: c, idle: t.opts.IdleReadTimeout, key: connKey(scheme, addr)}
	rc.br = bufio.NewReaderSize(rc, readBufferSize)
	rc.bw = bufio.NewWriterSize(rc, writeBufferSize)
	return rc, nil
}

// hostPort is the address to dial for u, with the scheme's default port.
func hostPort(scheme, host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

// send writes req on a connection and reads the response header, the
// body left to read from resp.Body. A kept-alive connection the server
// closed meanwhile is replaced once by a fresh one, as long as nothing
// of a response was received on it. The returned stop ends the watch on
// req's context; the caller calls it when done with the connection.
func (t *Transport) send(req *http.Request, ex *exchange) (*http.Response, *recConn, func() bool, error) {
	ctx := req.Context()
	addr := hostPort(req.URL.Scheme, req.URL.Host)
	key := connKey(req.URL.Scheme, addr)
	for try := 0; ; try++ {
		var c *recConn
		if try == 0 {
			// The retry dials: another idle connection may be just as
			// dead as the first.
			c = t.pool.get(key)
		}
		reused := c != nil
		if c == nil {
			var err error
			if c, err = t.dial(ctx, req.URL.Scheme, addr); err != nil {
				return nil, nil, nil, err
			}
		}
		c.stopErr = nil
		if ex.limitTime > 0 {
			c.totalBy = ex.started.Add(ex.limitTime)
		} else {
			c.totalBy = time.Time{}
		}
		if !t.active.add(c) {
			c.Close()
			return nil, nil, nil, ErrCut
		}
		ex.attach(c)
		// Cancelling the request closes the connection, which ends any
		// read or write in progress.
		stop := context.AfterFunc(ctx, func() { c.Conn.Close() })
		resp, err := c.roundTrip(req, t.opts.ResponseHeaderTimeout)
		if err == nil {
			return resp, c, stop, nil
		}
		stop()
		c.Close()
		t.active.remove(c)
		got := ex.received()
		if reused && try == 0 && got == 0 && ctx.Err() == nil {
			ex.reset(c)
			continue // the server had closed the idle connection
		}
		// Nothing is archived of a failed fetch: its spool goes at once.
		if b, _ := ex.detach(c); b != nil {
			b.Discard()
		}
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
		if c.cut.Load() {
			return nil, nil, nil, ErrCut // whatever the cut did to the write or read
		}
		return nil, nil, nil, err
	}
}

// roundTrip writes req and reads the response up to its body, skipping
// interim (1xx) responses as a browser does; their bytes stay recorded
// in front of the final response, as they were received. The heads
// together are bounded by MaxResponseHead.
func (c *recConn) roundTrip(req *http.Request, headerTimeout time.Duration) (*http.Response, error) {
	if err := req.Write(c.bw); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	c.setHeaderDeadline(time.Now().Add(headerTimeout))
	c.inHead, c.headRoom, c.headErr = true, MaxResponseHead, nil
	defer func() {
		c.inHead = false
		c.setHeaderDeadline(time.Time{})
	}()
	for interim := 0; ; {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return nil, c.headError(err, headerTimeout)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			if interim++; interim > MaxInterimResponses {
				return nil, fmt.Errorf("%w: more than %d interim (1xx) responses", ErrHeadTooLarge, MaxInterimResponses)
			}
			continue
		}
		return resp, nil
	}
}

// headError names why a response head could not be read. What the
// connection said (a limit, a timeout, a reset) comes first: the HTTP
// parser sees a line cut by a timeout as a whole, malformed one.
func (c *recConn) headError(err error, headerTimeout time.Duration) error {
	var ne net.Error
	switch herr := c.headErr; {
	case errors.Is(herr, errHeadLimit):
		return fmt.Errorf("%w: more than %d bytes of status line and headers", ErrHeadTooLarge, MaxResponseHead)
	case errors.Is(herr, ErrCut):
		return herr
	case errors.Is(herr, errTimeLimit):
		return fmt.Errorf("%w (the response timeout ran out first)", ErrHeaderTimeout)
	case errors.As(herr, &ne) && ne.Timeout(), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w (%s)", ErrHeaderTimeout, headerTimeout)
	case herr != nil && !errors.Is(herr, io.EOF):
		return herr
	case errors.Is(err, io.EOF), errors.Is(herr, io.EOF):
		return io.ErrUnexpectedEOF
	}
	return err
}
