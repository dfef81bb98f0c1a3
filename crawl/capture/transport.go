package capture

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/semaphore"

	"github.com/amber-archiver/amber/warc"
)

// Exchange is one HTTP request and its response as they crossed the wire.
// The request and response blocks hold the exact bytes written to and read
// from the connection: chunk framing and content encoding intact.
type Exchange struct {
	URL      string
	Method   string
	Started  time.Time // when the request was sent (the WARC-Date of both records)
	RemoteIP string

	Request []byte // the request message as sent

	// Response receives the response message as read from the connection.
	// It is created by the sink's NewBlock and handed back in Record.
	Response Block
	// PayloadDigest is the digest of the entity body with transfer encoding
	// removed and content encoding kept (WARC 1.1, section 5.9).
	PayloadDigest []byte
	PayloadSize   int64 // entity body bytes, transfer encoding removed
	// RequestPayloadDigest is the digest of the request body (empty for GET).
	RequestPayloadDigest []byte
	StatusCode           int
	// The entity body kept for the crawler to parse (HTML, CSS, sitemaps;
	// up to Options.ParseLimit), as received; Content decodes it.
	kept            *[]byte // pooled
	keptEnc         string  // its content coding, if Content decodes it: gzip, br, zstd
	parseLimit      int64
	decoded         *[]byte // pooled; Content's result for a gzip body
	budget          *semaphore.Weighted
	held            int64 // of budget, until ReleaseContent
	ContentType     string
	ContentEncoding string
	// Truncated is set when the body ended early (the connection broke):
	// the WARC-Truncated reason, e.g. "disconnect".
	Truncated string
}

// Block is where a response message streams to: a WARC record under
// construction that hashes and spools what it receives.
type Block interface {
	io.Writer
	Size() int64
	Discard() error
}

// BlockMaker makes the blocks responses stream into and names the digest
// algorithm for payload digests.
type BlockMaker interface {
	NewBlock(started time.Time) Block
	HashAlgorithm() string
}

// Options configure the recording transport. Zero means default.
type Options struct {
	ConnectTimeout        time.Duration // default 10 s
	ResponseHeaderTimeout time.Duration // default 30 s
	IdleReadTimeout       time.Duration // longest silence while reading; default 60 s
	InsecureSkipVerify    bool          // archive sites with broken certificates
	// RootCAs are the certificates origins are checked against; nil: the
	// system's.
	RootCAs *x509.CertPool
	// ParseLimit is the most body bytes handed on to the crawler for link
	// extraction (HTML and CSS only); the archive is never limited by it.
	ParseLimit int64 // default 32 MiB
	// InflateBudget bounds the bytes that decoding gzip bodies for parsing
	// (Exchange.Content) holds at once, in all: each decode takes what the
	// body's gzip trailer says it inflates to (at most ParseLimit) until
	// ReleaseContent, so many small pages decode side by side and large
	// ones (gzip bombs) take turns. Default 48 MiB; at least ParseLimit.
	InflateBudget int64
	// MaxSize caps the bytes of one response message (status line, headers
	// and body as received); a longer response is archived up to the cap
	// with WARC-Truncated: length. Default DefaultMaxSize (4 GiB);
	// negative means no cap.
	MaxSize int64
	// ResponseTimeout bounds the time of one response from the moment
	// the request is sent until its last byte; a response still coming
	// then is archived as far as it came with WARC-Truncated: time (one
	// whose head had not come is a failed fetch). It catches a body that
	// drips too slowly for the idle timeout. Default
	// DefaultResponseTimeout (5 min); negative means none.
	ResponseTimeout time.Duration
	// Resolve maps host names to IP addresses ahead of DNS, like curl's
	// --resolve (tests use it to give 127.0.0.1 several names).
	Resolve map[string]string
}

type parseKey struct{}

// WithParse asks Transport to keep the entity body of the request's
// response for the caller whatever its type (a robots.txt is text/plain,
// which is not kept otherwise).
func WithParse(ctx context.Context) context.Context {
	return context.WithValue(ctx, parseKey{}, true)
}

// Defaults of Options.
const (
	DefaultMaxSize         = 4 << 30
	DefaultResponseTimeout = 5 * time.Minute
)

// Transport is an http.RoundTripper that records every exchange at the
// net.Conn, below HTTP parsing. It speaks HTTP/1.1 only and never
// decompresses: what is archived is what arrived.
//
// The response it returns has a *RecordedBody: the entity body (transfer
// encoding removed, content encoding kept) only for the types the crawler
// parses (HTML, CSS, sitemaps), and the recorded Exchange, which the caller
// must write or discard. Keeping the write out of RoundTrip lets the caller
// release its per-host slot first and record the links a page leads to
// before the page itself.
type Transport struct {
	opts   Options
	sink   BlockMaker
	budget *semaphore.Weighted // InflateBudget
	dialer *resolvingDialer
	pool   connPool
	active activeConns
}

// NewTransport returns a recording transport whose blocks sink makes.
func NewTransport(sink BlockMaker, opts Options) *Transport {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.ResponseHeaderTimeout <= 0 {
		opts.ResponseHeaderTimeout = 30 * time.Second
	}
	if opts.IdleReadTimeout <= 0 {
		opts.IdleReadTimeout = 60 * time.Second
	}
	if opts.ParseLimit <= 0 {
		opts.ParseLimit = 32 << 20
	}
	if opts.InflateBudget <= 0 {
		opts.InflateBudget = 48 << 20
	}
	opts.InflateBudget = max(opts.InflateBudget, opts.ParseLimit)
	switch {
	case opts.MaxSize == 0:
		opts.MaxSize = DefaultMaxSize
	case opts.MaxSize < 0:
		opts.MaxSize = 0
	}
	switch {
	case opts.ResponseTimeout == 0:
		opts.ResponseTimeout = DefaultResponseTimeout
	case opts.ResponseTimeout < 0:
		opts.ResponseTimeout = 0
	}
	return &Transport{
		opts:   opts,
		sink:   sink,
		budget: semaphore.NewWeighted(opts.InflateBudget),
		dialer: &resolvingDialer{d: &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}, hosts: opts.Resolve},
	}
}

// resolvingDialer dials through a fixed host table first.
type resolvingDialer struct {
	d     *net.Dialer
	hosts map[string]string
}

func (r *resolvingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip, ok := r.hosts[strings.ToLower(host)]; ok {
			addr = net.JoinHostPort(ip, port)
		}
	}
	return r.d.DialContext(ctx, network, addr)
}

// CloseIdleConnections closes kept-alive connections.
func (t *Transport) CloseIdleConnections() { t.pool.closeAll() }

// Cut ends every fetch in progress and refuses new ones with ErrCut;
// nothing of a cut fetch is archived. It is how a draining crawl ends
// the fetches its grace period did not see finish.
func (t *Transport) Cut() { t.active.cutAll() }

// RoundTrip sends req, records the exchange and returns the response.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("%w %q", ErrUnsupportedScheme, req.URL.Scheme)
	}
	started := time.Now()
	ex := &exchange{sink: t.sink, started: started, limit: t.opts.MaxSize, limitTime: t.opts.ResponseTimeout}
	out := req
	if req.Header.Get("Accept-Encoding") == "" {
		// Ask for what a browser gets, but only encodings the crawler can
		// decode for parsing; the bytes are archived as they come.
		out = new(http.Request)
		*out = *req
		out.Header = req.Header.Clone()
		if out.Header == nil {
			out.Header = http.Header{}
		}
		out.Header.Set("Accept-Encoding", "gzip")
	}
	resp, conn, stop, err := t.send(out, ex)
	if err != nil {
		return nil, err
	}

	hasher := newHash(t.sink.HashAlgorithm())
	parse := req.Context().Value(parseKey{}) != nil || wantsParse(req.URL.Path, resp.Header.Get("Content-Type"))
	var keep *limitedBuffer
	var sink io.Writer = hasher
	if parse {
		keep = &limitedBuffer{buf: (*getBuffer())[:0], limit: t.opts.ParseLimit}
		sink = io.MultiWriter(hasher, keep)
	}
	buf := copyBuffers.Get().(*[]byte)
	payloadSize, copyErr := io.CopyBuffer(sink, resp.Body, *buf)
	copyBuffers.Put(buf)
	if copyErr != nil {
		conn.Close() // nothing more is read from it; Close must not wait for the rest
	}
	resp.Body.Close()
	truncated := ex.overLimit()
	if copyErr != nil && conn.stopErr != nil {
		copyErr = conn.stopErr // the HTTP body reader may have wrapped it
	}
	timedOut := errors.Is(copyErr, errTimeLimit)
	block, err := ex.detach(conn)
	t.active.remove(conn)
	// The connection is kept for the next request only if this response
	// was read whole, as framed, with nothing after it, and the request
	// was not cancelled.
	if stop() && copyErr == nil && !truncated && !resp.Close && conn.br.Buffered() == 0 {
		t.pool.put(conn)
	} else {
		conn.Close()
	}
	if truncated || timedOut {
		copyErr = nil // a cap was reached: an intended truncation
	}
	if errors.Is(copyErr, ErrCut) || copyErr != nil && req.Context().Err() != nil {
		if block != nil {
			block.Discard()
		}
		if errors.Is(copyErr, ErrCut) {
			return nil, ErrCut
		}
		return nil, req.Context().Err()
	}
	if err != nil {
		block.Discard()
		return nil, fmt.Errorf("spooling response: %w", err)
	}
	if block == nil {
		return nil, errors.New("no response bytes recorded")
	}

	rec := &Exchange{
		URL:             req.URL.String(),
		Method:          req.Method,
		Started:         started,
		Request:         ex.request(),
		Response:        block,
		PayloadDigest:   hasher.Sum(nil),
		PayloadSize:     payloadSize,
		StatusCode:      resp.StatusCode,
		ContentType:     resp.Header.Get("Content-Type"),
		ContentEncoding: resp.Header.Get("Content-Encoding"),
	}
	if addr, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		rec.RemoteIP = addr.IP.String()
	}
	rh := newHash(t.sink.HashAlgorithm())
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			io.Copy(rh, body)
			body.Close()
		}
	}
	rec.RequestPayloadDigest = rh.Sum(nil)
	if truncated {
		rec.Truncated = "length"
	} else if timedOut {
		rec.Truncated = "time"
	} else if copyErr != nil {
		rec.Truncated = "disconnect"
	}
	if keep != nil {
		// Decoding is left to Content, which the crawler calls after it
		// has let the host's slot go.
		rec.kept, rec.parseLimit, rec.budget = &keep.buf, t.opts.ParseLimit, t.budget
		rec.keptEnc = decodable(resp.Header.Get("Content-Encoding"))
	}
	resp.Body = &RecordedBody{Exchange: rec}
	resp.ContentLength = -1
	// What the body reads is decoded already (colly would otherwise try).
	resp.Uncompressed = true
	return resp, nil
}

func newHash(alg string) hash.Hash {
	if h, err := warc.NewHash(alg); err == nil {
		return h
	}
	return sha1.New()
}

// copyBuffers saves io.Copy a 32 KiB allocation per response.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// RecordedBody is the body of a response returned by Transport: reading
// it gives the entity body, decoded, if the crawler parses this type, and
// nothing otherwise; Exchange is the recorded exchange, for the caller to
// write or discard.
type RecordedBody struct {
	Exchange *Exchange
	r        *bytes.Reader
	empty    bool
}

// Withhold makes the body read as empty, for a caller that takes it from
// the Exchange (Content) and hands the response on to a reader that would
// only copy it.
func (b *RecordedBody) Withhold() { b.empty = true }

// Read implements io.Reader.
func (b *RecordedBody) Read(p []byte) (int, error) {
	if b.empty {
		return 0, io.EOF
	}
	if b.r == nil {
		b.r = bytes.NewReader(b.Exchange.Content())
	}
	return b.r.Read(p)
}

// Close implements io.Closer. A body that was read is done with: its
// memory (and its share of the inflate budget) is given back.
func (b *RecordedBody) Close() error {
	if b.r != nil {
		b.Exchange.ReleaseContent()
	}
	return nil
}

// Content returns the entity body kept for parsing, with a gzip, br or
// zstd content encoding removed (up to the parse limit), or nil if the
// crawler does not parse this type. A body in another coding (deflate,
// or several codings) is returned as kept.
func (e *Exchange) Content() []byte {
	switch {
	case e.kept == nil:
		return nil
	case e.keptEnc == "":
		return *e.kept
	case e.decoded == nil:
		e.decoded = getBuffer()
		*e.decoded = e.inflate()
	}
	return *e.decoded
}

// inflate decodes the kept body within the inflate budget: it takes the
// size the body says it decodes to (a gzip trailer's ISIZE, a zstd frame's
// content size; for brotli, which does not say, a guess from the encoded
// size), and if the stream decodes to more (a lying trailer, a cut or
// multi-member stream, a guess too small) it lets that go, drops what it
// decoded and starts again with the parse limit taken. It never waits
// while holding part of the budget, so decodes cannot block each other
// for good.
func (e *Exchange) inflate() []byte {
	dst, b := (*e.decoded)[:0], *e.kept
	if e.budget == nil {
		return decodeLimited(e.keptEnc, dst, b, e.parseLimit)
	}
	est := min(decodedSize(e.keptEnc, b, e.parseLimit), e.parseLimit)
	e.take(max(est, 1))
	if est == e.parseLimit {
		return decodeLimited(e.keptEnc, dst, b, e.parseLimit)
	}
	out := decodeLimited(e.keptEnc, dst, b, est+1)
	if int64(len(out)) <= est {
		return out
	}
	// Not kept while waiting: uncounted, it is what the budget bounds.
	out, dst, *e.decoded = nil, nil, nil
	e.releaseBudget()
	e.take(e.parseLimit)
	return decodeLimited(e.keptEnc, dst, b, e.parseLimit)
}

func (e *Exchange) take(n int64) {
	e.budget.Acquire(context.Background(), n) // fails only with a done context
	e.held = n
}

// releaseBudget gives back what decoding took of the inflate budget.
func (e *Exchange) releaseBudget() {
	if e.held > 0 {
		e.budget.Release(e.held)
		e.held = 0
	}
}

// wantsParse reports whether the crawler needs the body: HTML, CSS and
// sitemaps.
func wantsParse(path, contentType string) bool {
	ct := strings.ToLower(contentType)
	p := strings.ToLower(path)
	return ct == "" || strings.Contains(ct, "html") || strings.Contains(ct, "css") || strings.Contains(ct, "xml") ||
		strings.HasSuffix(p, ".xml") || strings.HasSuffix(p, ".xml.gz")
}

// gunzipLimited appends to dst up to limit bytes decoded from the gzip
// body b; a damaged or cut stream yields what could be decoded. The
// readers are reused: pages are decoded by the thousand.
func gunzipLimited(dst, b []byte, limit int64) []byte {
	zr, _ := gunzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return dst
	}
	defer gunzipReaders.Put(zr)
	if len(b) >= 4 {
		size := int64(binary.LittleEndian.Uint32(b[len(b)-4:])) // ISIZE: the size mod 2^32
		dst = slices.Grow(dst, int(min(size, limit))+bytes.MinRead)
	}
	out := bytes.NewBuffer(dst)
	out.ReadFrom(io.LimitReader(zr, limit))
	return out.Bytes()
}

// Buffers for bodies the crawler parses, recycled once parsed.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 4 << 20

func getBuffer() *[]byte { return bodyBuffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if b != nil && cap(*b) <= maxPooledBody {
		*b = (*b)[:0]
		bodyBuffers.Put(b)
	}
}

// ReleaseContent recycles the memory of Content, which must not be used
// afterwards.
func (e *Exchange) ReleaseContent() {
	e.releaseBudget()
	putBuffer(e.kept)
	putBuffer(e.decoded)
	e.kept, e.decoded = nil, nil
}

var gunzipReaders sync.Pool

// limitedBuffer keeps the first limit bytes written and drops the rest.
type limitedBuffer struct {
	buf   []byte
	limit int64
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.limit - int64(len(b.buf))
	if room > 0 {
		q := p
		if int64(len(q)) > room {
			q = q[:room]
		}
		b.buf = append(b.buf, q...)
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte { return b.buf }

// exchange is the recording state of one RoundTrip, attached to the
// connection that carries it.
type exchange struct {
	sink    BlockMaker
	started time.Time
	limit   int64 // most response bytes to record; 0: no limit
	// limitTime bounds the whole response from started; 0: no limit.
	limitTime time.Duration
	mu        sync.Mutex
	req       []byte
	resp      Block
	err       error // first error writing the response block (disk full)
	over      bool  // the limit was reached
}

func (ex *exchange) overLimit() bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.over
}

func (ex *exchange) attach(c *recConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// http.Transport retries a request on a fresh connection when a reused
	// one turned out dead; only the last attempt's bytes count.
	ex.mu.Lock()
	ex.req = ex.req[:0]
	ex.mu.Unlock()
	c.cur = ex
}

// detach stops recording and returns the response block and the first
// error met while writing it.
func (ex *exchange) detach(c *recConn) (Block, error) {
	if c != nil {
		c.mu.Lock()
		if c.cur == ex {
			c.cur = nil
		}
		c.mu.Unlock()
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.resp, ex.err
}

// received is how many response bytes were recorded.
func (ex *exchange) received() int64 {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.resp == nil {
		return 0
	}
	return ex.resp.Size()
}

// reset detaches from c and drops what was recorded, for another try.
func (ex *exchange) reset(c *recConn) {
	if b, _ := ex.detach(c); b != nil {
		b.Discard()
	}
	ex.mu.Lock()
	ex.resp, ex.err, ex.over = nil, nil, false
	ex.mu.Unlock()
}

func (ex *exchange) request() []byte {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.req
}

func (ex *exchange) wrote(p []byte) {
	ex.mu.Lock()
	ex.req = append(ex.req, p...)
	ex.mu.Unlock()
}

// read records p and returns how much of it may be passed on: with a size
// cap, the bytes beyond it are neither recorded nor seen by HTTP parsing,
// so the archived block and the payload digest describe the same bytes.
func (ex *exchange) read(p []byte) int {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.resp == nil {
		ex.resp = ex.sink.NewBlock(ex.started)
	}
	if ex.limit > 0 {
		room := ex.limit - ex.resp.Size()
		if room <= 0 {
			ex.over = true
			return 0
		}
		if int64(len(p)) > room {
			p = p[:room]
			ex.over = true
		}
	}
	if _, err := ex.resp.Write(p); err != nil && ex.err == nil {
		ex.err = err
	}
	return len(p)
}

// errSizeCap ends a response that reached Options.MaxSize.
var errSizeCap = errors.New("response larger than the size cap")

// errTimeLimit ends a response that reached Options.ResponseTimeout.
var errTimeLimit = errors.New("response took longer than the response timeout")

// ErrUnsupportedScheme: a URL (or a redirect's target) that is not http
// or https.
var ErrUnsupportedScheme = errors.New("capture: unsupported scheme")

// ErrCut is the error of a fetch that Transport.Cut stopped: nothing of it
// is archived, so it can be fetched whole later.
var ErrCut = errors.New("capture: fetch cut short: the caller is stopping")

// recConn tees every byte crossing the connection into the exchange
// currently attached to it.
type recConn struct {
	net.Conn
	idle time.Duration
	mu   sync.Mutex
	cur  *exchange
	cut  atomic.Bool // Transport.Cut: no more reads

	key string // scheme://host:port, its place in the idle pool

	// Used by the one goroutine that has the connection.
	br        *bufio.Reader
	bw        *bufio.Writer
	headerBy  time.Time // while reading a response header: its deadline
	totalBy   time.Time // the deadline of the whole response (ResponseTimeout)
	idleSince time.Time // when it was put in the idle pool
	inHead    bool      // reading a response head: reads are bounded by headRoom
	headRoom  int64
	headErr   error // the first read error while reading the head
	stopErr   error // errTimeLimit or ErrCut, once a read was ended by one
}

func (c *recConn) setHeaderDeadline(t time.Time) { c.headerBy = t }

func (c *recConn) Read(p []byte) (int, error) {
	if c.inHead {
		if c.headRoom <= 0 {
			c.headErr = errHeadLimit
			return 0, errHeadLimit
		}
		if int64(len(p)) > c.headRoom {
			p = p[:c.headRoom]
		}
	}
	var d time.Time
	if c.idle > 0 {
		d = time.Now().Add(c.idle)
	}
	if !c.headerBy.IsZero() && (d.IsZero() || c.headerBy.Before(d)) {
		d = c.headerBy
	}
	if !c.totalBy.IsZero() && (d.IsZero() || c.totalBy.Before(d)) {
		d = c.totalBy
	}
	if !d.IsZero() {
		c.Conn.SetReadDeadline(d)
	}
	// Checked after the deadline is set: Cut sets its own deadline after
	// raising the flag, so a read cannot miss both.
	if c.cut.Load() {
		return 0, c.stop(ErrCut)
	}
	n, err := c.Conn.Read(p)
	if err != nil {
		var ne net.Error
		switch {
		case c.cut.Load():
			err = c.stop(ErrCut)
		case !c.totalBy.IsZero() && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(c.totalBy):
			err = c.stop(errTimeLimit)
		}
	}
	if c.inHead {
		c.headRoom -= int64(n)
		if err != nil && c.headErr == nil {
			c.headErr = err
		}
	}
	if n > 0 {
		c.mu.Lock()
		if c.cur != nil {
			if kept := c.cur.read(p[:n]); kept < n {
				n, err = kept, errSizeCap
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recConn) stop(err error) error {
	if c.stopErr == nil {
		c.stopErr = err
	}
	if c.inHead && c.headErr == nil {
		c.headErr = err
	}
	return err
}

// cutNow ends the reads and writes in progress on c.
func (c *recConn) cutNow() {
	c.cut.Store(true)
	c.Conn.SetDeadline(time.Now())
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.mu.Lock()
		if c.cur != nil {
			c.cur.wrote(p[:n])
		}
		c.mu.Unlock()
	}
	return n, err
}
