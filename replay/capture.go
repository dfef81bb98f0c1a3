package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// candidates returns the captures of u in the order they should be tried
// for a request at t: captures that are not errors (status below 400)
// first, then by distance in time, the earlier of two equally close
// first. An archive that captured a page once as 200 and once as 503 thus
// shows the 200, as a reader would want.
func (a *Archive) candidates(u string, t time.Time) []*Capture {
	cs := slices.Clone(a.captures[key(u)])
	dist := func(c *Capture) time.Duration {
		d := c.Time.Sub(t)
		if d < 0 {
			d = -d
		}
		return d
	}
	bad := func(c *Capture) int {
		if c.Status >= 400 {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(cs, func(x, y *Capture) int {
		if d := bad(x) - bad(y); d != 0 {
			return d
		}
		if dx, dy := dist(x), dist(y); dx != dy {
			if dx < dy {
				return -1
			}
			return 1
		}
		return x.Time.Compare(y.Time)
	})
	return cs
}

// response is a capture read back: its HTTP status and headers, and the
// payload with transfer encoding removed and content encoding kept.
type response struct {
	capture *Capture
	status  int
	header  http.Header
	body    io.Reader
	length  int64 // of body; -1 if unknown
	closers []io.Closer
}

func (r *response) Close() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// load reads the record of c. For a revisit it takes the status and
// headers from the revisit record (when it has them) and the payload from
// the capture it revisits: the closest earlier capture with the same
// payload digest, of the same URL if there is one.
func (a *Archive) load(c *Capture) (*response, error) {
	resp, err := a.read(c)
	if err != nil || !c.Revisit() {
		return resp, err
	}
	orig := a.original(c)
	if orig == nil {
		resp.Close()
		return nil, fmt.Errorf("replay: %s@%d (revisit of %s): no capture with payload digest %s", c.Filename, c.Offset, c.URL, c.Digest)
	}
	full, err := a.read(orig)
	if err != nil {
		resp.Close()
		return nil, err
	}
	if resp.status == 0 || resp.header == nil || resp.status == http.StatusNotModified {
		// A 304 revisit (server-not-modified) replays as the capture it
		// confirms, which is what the browser asked for.
		resp.status, resp.header = full.status, full.header
	}
	resp.body, resp.length = full.body, full.length
	resp.closers = append(resp.closers, full.closers...)
	return resp, nil
}

func (a *Archive) original(c *Capture) *Capture {
	var best *Capture
	score := func(o *Capture) (int, time.Duration) {
		same := 1
		if key(o.URL) == key(c.URL) {
			same = 0
		}
		d := c.Time.Sub(o.Time)
		if d < 0 {
			d = -d + time.Hour*24*365*100 // later captures only if nothing earlier
		}
		return same, d
	}
	pool := a.byDigest[c.Digest]
	if c.Digest == "" {
		// A server-not-modified revisit names no digest: it stands for
		// the closest earlier capture of its URL.
		for _, o := range a.captures[key(c.URL)] {
			if !o.Revisit() && o.Status < 300 {
				pool = append(pool, o)
			}
		}
	}
	for _, o := range pool {
		if best == nil {
			best = o
			continue
		}
		s1, d1 := score(o)
		s2, d2 := score(best)
		if s1 < s2 || s1 == s2 && d1 < d2 {
			best = o
		}
	}
	return best
}

// read reads one record and parses the HTTP message in its block.
func (a *Archive) read(c *Capture) (*response, error) {
	src, closer, err := a.open(c.Filename)
	if err != nil {
		return nil, err
	}
	length := c.Length
	if length <= 0 {
		length = 1 << 62 // records sharing a gzip member have no length of their own
	}
	// The index may point into an ARC file: the bytes at the offset say.
	wr, err := warc.OpenRecordAt(io.NewSectionReader(src, c.Offset, length), c.Offset)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("replay: %s@%d: %w", c.Filename, c.Offset, err)
	}
	rec, err := wr.Next()
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("replay: %s@%d: %w", c.Filename, c.Offset, err)
	}
	resp := &response{capture: c, length: -1, closers: []io.Closer{closer}}
	ct := rec.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/http") {
		// A resource or metadata record: the block is the payload.
		resp.status = http.StatusOK
		resp.header = http.Header{}
		if ct != "" {
			resp.header.Set("Content-Type", ct)
		}
		resp.body, resp.length = rec.Body, rec.ContentLength
		return resp, nil
	}
	// The head was written by whatever tool made the archive, and may not
	// parse, or not match its body: keep what was read, to parse it again
	// leniently.
	var seen headBuffer
	br := bufio.NewReader(io.TeeReader(rec.Body, &seen))
	hr, err := http.ReadResponse(br, nil)
	for err == nil && hr.StatusCode >= 100 && hr.StatusCode < 200 && hr.StatusCode != http.StatusSwitchingProtocols {
		// An interim response (100 Continue, 103 Early Hints) recorded
		// before the final one, which is what is replayed.
		hr, err = http.ReadResponse(br, nil)
	}
	seen.done = true // the body is not kept
	if err != nil {
		if c.Revisit() {
			return resp, nil // a revisit without HTTP headers: all from the original
		}
		if seen.full {
			resp.Close()
			return nil, fmt.Errorf("replay: %s@%d: %s: %w", c.Filename, c.Offset, c.URL, err)
		}
		lr := bufio.NewReader(io.MultiReader(bytes.NewReader(seen.b), rec.Body))
		status, header, lerr := readHeadLenient(lr, maxLenientHead)
		if lerr != nil {
			resp.Close()
			return nil, fmt.Errorf("replay: %s@%d: %s: %w", c.Filename, c.Offset, c.URL, err)
		}
		// The framing the head claims cannot be trusted: the body is what
		// the record holds after the head.
		header.Del("Content-Length")
		header.Del("Transfer-Encoding")
		resp.status, resp.header, resp.body = status, header, lr
		return resp, nil
	}
	resp.status, resp.header, resp.body, resp.length = hr.StatusCode, hr.Header, hr.Body, hr.ContentLength
	if slices.Contains(hr.TransferEncoding, "chunked") && !startsChunked(br) {
		// A chunked head over a body stored de-chunked (older crawlers
		// did this): serve the stored bytes as they are (ReadResponse
		// has taken Transfer-Encoding out of the header already).
		resp.body, resp.length = br, -1
	}
	if rec.Header.Get("WARC-Truncated") != "" {
		resp.length = -1 // the body falls short of its Content-Length
	}
	return resp, nil
}

// maxLenientHead bounds the head kept for a second, lenient parse.
const maxLenientHead = 1 << 20

// headBuffer keeps the first maxLenientHead bytes written to it, until
// done.
type headBuffer struct {
	b    []byte
	full bool
	done bool
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if h.done {
		return len(p), nil
	}
	if room := maxLenientHead - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(len(p), room)]...)
	}
	if len(h.b) >= maxLenientHead {
		h.full = true
	}
	return len(p), nil
}

// readHeadLenient reads an HTTP response head as browsers and pywb read
// archived ones: a status line "HTTP/x.y CODE [text]", header lines
// with any line ends, folded lines joined to the one before, lines that
// are not fields skipped, up to the first empty line.
func readHeadLenient(r *bufio.Reader, limit int) (int, http.Header, error) {
	// readLine reads a line within what is left of limit: a record whose
	// "head" never ends is not read into memory.
	readLine := func() (string, error) {
		var line []byte
		for {
			frag, err := r.ReadSlice('\n')
			if len(line)+len(frag) > limit {
				return "", errors.New("HTTP head too long")
			}
			line = append(line, frag...)
			if err != bufio.ErrBufferFull {
				limit -= len(line)
				return string(line), err
			}
		}
	}
	line, err := readLine()
	if err != nil && line == "" {
		return 0, nil, err
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0, nil, fmt.Errorf("not an HTTP status line: %q", clip(line))
	}
	status, err := strconv.Atoi(f[1])
	if err != nil || status < 100 || status > 999 {
		return 0, nil, fmt.Errorf("bad status code in %q", clip(line))
	}
	h := http.Header{}
	last := ""
	for {
		line, err := readLine()
		if err != nil && line == "" {
			return status, h, nil // the end of the record, or past the limit: the head so far
		}
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			return status, h, nil // the end of the head (or of the record)
		}
		if (trimmed[0] == ' ' || trimmed[0] == '\t') && last != "" {
			vs := h[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(trimmed)
		} else if name, value, ok := strings.Cut(trimmed, ":"); ok && strings.TrimSpace(name) != "" && !strings.ContainsAny(name, " \t") {
			last = http.CanonicalHeaderKey(name)
			h.Add(last, strings.TrimSpace(value))
		}
		if err != nil {
			return status, h, nil
		}
	}
}

// startsChunked reports whether what r holds next looks like chunked
// transfer coding (warc.LooksChunked), without consuming it.
func startsChunked(r *bufio.Reader) bool {
	b, _ := r.Peek(64)
	return warc.LooksChunked(b)
}

func clip(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// lookup finds the capture to replay for u at t and reads it. It skips a
// redirect to the URL itself (http → https, or a trailing slash, which
// share a key) that would make the browser loop.
func (a *Archive) lookup(u string, t time.Time) (*response, error) {
	var firstErr error
	for _, c := range a.candidates(u, t) {
		resp, err := a.load(c)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if resp.status >= 300 && resp.status < 400 {
			if loc := resp.header.Get("Location"); loc != "" {
				if target, err := resolve(c.URL, loc); err == nil && key(target) == key(u) {
					resp.Close()
					continue
				}
			}
		}
		return resp, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, errNotArchived
}

var errNotArchived = errors.New("not in the archive")

// lookupRequest is lookup for a browser's request: a POST (or any method
// but GET and HEAD) is looked up by its body too, under the key pywb and
// warcio.js give it (warc.PostKeyURL), and else as a GET of its URL, so
// a page that posts the same form as when it was captured gets the answer
// it got then.
func (a *Archive) lookupRequest(r *http.Request, target string, t time.Time) (*response, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil {
		return a.lookup(target, t)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err == nil {
		if q, ok := warc.PostQuery(r.Method, r.Header.Get("Content-Type"), body); ok {
			resp, err := a.lookup(warc.PostKeyURL(target, r.Method, q), t)
			if !errors.Is(err, errNotArchived) {
				return resp, err
			}
		}
	}
	return a.lookup(target, t)
}

// maxRequestBody bounds the request body read to find a POST's capture.
const maxRequestBody = 256 << 10

// resolve resolves ref against base.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}
