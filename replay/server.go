package replay

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// ContentSecurityPolicy is sent with every replayed response: the page may
// load from the replay server and from data: and blob: URLs, and from
// nowhere else, so nothing it does reaches the live web.
const ContentSecurityPolicy = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; " +
	"img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; " +
	"connect-src 'self' data: blob:; frame-src 'self' data: blob:; worker-src 'self' blob:; " +
	"form-action 'self'"

// pageCSP is the policy of a replayed page (and any document) in its
// frame: the sandbox of the frame repeated, so that it holds for the
// frames the page makes too.
const pageCSP = ContentSecurityPolicy + "; frame-ancestors 'self'; sandbox " + frameSandbox

// identityCSP is the policy of a payload served as archived (id_):
// its links are not rewritten, so nothing in it runs.
const identityCSP = ContentSecurityPolicy + "; sandbox"

// Rewriting happens in memory: the body as archived, decoded, and the
// rewritten copy. maxRewrite bounds one document (decoded); rewriteBudget
// bounds the bytes held for rewriting by all requests at once, so that
// concurrent requests for gzip bombs cannot add up. A document past
// either is served as archived (its URLs not rewritten: the CSP and the
// frame still keep it inside the archive), and the log says so.
const (
	maxRewrite    = 8 << 20
	rewriteBudget = 32 << 20
)

// budget is a count of bytes shared by concurrent requests.
type budget struct {
	mu         sync.Mutex
	used, size int64
}

// take reserves n bytes, or reports false when they are not free.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.size {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// reservation is what one request holds of a budget.
type reservation struct {
	b    *budget
	held int64
}

func (r *reservation) take(n int64) bool {
	if !r.b.take(n) {
		return false
	}
	r.held += n
	return true
}

func (r *reservation) release() {
	r.b.give(r.held)
	r.held = 0
}

// errTooLarge says why a document is served as archived.
var (
	errTooLarge = fmt.Errorf("larger than %d MiB decoded", maxRewrite>>20)
	errBusy     = fmt.Errorf("the rewriting budget (%d MiB, shared by all requests) is in use", rewriteBudget>>20)
)

// readBounded reads r to its end into memory, reserving what it holds
// from res as it goes. It stops with errTooLarge past limit bytes and
// with errBusy when the budget runs out; what it read is returned either
// way.
func readBounded(r io.Reader, limit int64, res *reservation) ([]byte, error) {
	var buf []byte
	const chunk = 64 << 10
	for {
		if int64(len(buf)) > limit {
			return buf, errTooLarge
		}
		if cap(buf)-len(buf) < chunk {
			grow := max(int64(cap(buf)), chunk) // what append would allocate
			if !res.take(grow) {
				return buf, errBusy
			}
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Handler serves an Archive over HTTP: the index page at /, captures at
// their archival URLs /TIMESTAMP[MOD]/URL.
type Handler struct {
	a      *Archive
	budget *budget // of memory for rewriting, shared by all requests
	// Log receives read errors of captures; nil discards them.
	Log *log.Logger
	// Hosts are the host names (without port) answered besides
	// 127.0.0.1, localhost and [::1]. A request naming any other host in
	// its Host header gets 403: after DNS rebinding, a web page the user
	// visits reaches the replay server under the attacker's host name, and
	// must not read the archive.
	Hosts []string
}

// NewHandler returns a handler for a.
func NewHandler(a *Archive) *Handler {
	return &Handler{a: a, budget: &budget{size: rewriteBudget}}
}

func (h *Handler) logf(format string, args ...any) {
	if h.Log != nil {
		h.Log.Printf(format, args...)
	}
}

// allowedHost reports whether the host name of a Host header (with or
// without its port) is one the server is serving on. The port is not
// checked: a rebinding attacker controls the name, not the port.
func (h *Handler) allowedHost(hostport string) bool {
	name := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		name = host
	} else if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	switch name {
	case "127.0.0.1", "localhost", "::1":
		return true
	case "":
		return false
	}
	for _, a := range h.Hosts {
		a = strings.TrimSuffix(strings.ToLower(strings.Trim(a, "[]")), ".")
		if a == name {
			return true
		}
	}
	return false
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.allowedHost(r.Host) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "amber replay: this host name is not served here (amber replay --host NAME allows one)\n")
		return
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	switch r.URL.Path {
	case injectPath:
		serveScript(w, r, injectJS)
		return
	case topPath:
		serveScript(w, r, topJS)
		return
	}
	if uri == "/" || uri == "/index.html" {
		h.serveIndex(w, r)
		return
	}
	if ts, mod, target, ok := parseArchival(uri); ok {
		h.serveCapture(w, r, ts, mod, target)
		return
	}
	// A root-relative URL that left the archive (a script fetching
	// /api/x): send it back in relative to the page that asked for it.
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		if ts, _, target, ok := parseArchival(ref.RequestURI()); ok {
			if t, err := url.Parse(target); err == nil && t.Host != "" {
				abs := t.Scheme + "://" + t.Host + uri
				mod := modEmbed
				if r.Header.Get("Sec-Fetch-Dest") == "document" {
					mod = modPage
				}
				redirect(w, archival(ts, mod, abs), http.StatusTemporaryRedirect)
				return
			}
		}
	}
	h.notFound(w, r, "", "")
}

// redirect answers with a redirect to an archival URL. http.Redirect would
// clean the path, turning the "http://" inside it into "http:/".
func redirect(w http.ResponseWriter, location string, code int) {
	guard(w.Header())
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<a href=\"%s\">%s</a>\n", html.EscapeString(location), http.StatusText(code))
}

// parseArchival splits an archival request URI, /TIMESTAMP[MOD]/URL, into
// its parts. A URI with no timestamp (/https://example.org/) asks for the
// latest capture.
func parseArchival(uri string) (ts, mod, target string, ok bool) {
	rest := strings.TrimPrefix(uri, "/")
	if hasScheme(rest) {
		return "", "", fixTarget(rest), true
	}
	first, target, found := strings.Cut(rest, "/")
	if !found || target == "" {
		return "", "", "", false
	}
	i := 0
	for i < len(first) && first[i] >= '0' && first[i] <= '9' {
		i++
	}
	ts, mod = first[:i], first[i:]
	if len(ts) < 4 || len(ts) > 14 {
		return "", "", "", false
	}
	if mod != "" && !(len(mod) == 3 && mod[2] == '_' && isLower(mod[0]) && isLower(mod[1])) {
		return "", "", "", false
	}
	if !hasScheme(target) {
		if strings.Contains(target, ":") && !strings.Contains(strings.SplitN(target, "/", 2)[0], ".") {
			return "", "", "", false // some other scheme
		}
		target = "http://" + target
	}
	return ts, mod, fixTarget(target), true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func hasScheme(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http:/") || strings.HasPrefix(l, "https:/")
}

// fixTarget restores the second slash of "http:/host" that some clients
// merge.
func fixTarget(t string) string {
	scheme, rest, _ := strings.Cut(t, ":/")
	if !strings.HasPrefix(rest, "/") {
		return scheme + "://" + rest
	}
	return t
}

func (h *Handler) serveCapture(w http.ResponseWriter, r *http.Request, ts, mod, target string) {
	when := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) // no timestamp: the latest
	if ts != "" {
		t, err := time.Parse(tsLayout, padTimestamp(ts))
		if err != nil {
			http.Error(w, "bad timestamp "+ts, http.StatusBadRequest)
			return
		}
		when = t
	}
	resp, err := h.a.lookupRequest(r, target, when)
	if errors.Is(err, errNotArchived) {
		h.notFound(w, r, ts, target)
		return
	}
	if err != nil {
		h.logf("replay: %s: %v", target, err)
		http.Error(w, "amber replay: cannot read the capture of "+target+": "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Close()
	c := resp.capture
	dest := r.Header.Get("Sec-Fetch-Dest")
	isRedirect := resp.status >= 300 && resp.status < 400 && resp.header.Get("Location") != ""
	// Only a document that can run script needs the frame; a PDF could
	// not show in it (Chromium shows no PDF in a sandboxed frame), nor
	// an image need it.
	framed := scriptable(resp.header.Get("Content-Type")) || isRedirect
	switch {
	case mod == modPage && dest == "iframe":
		// A frame asking for a top frame (a URL a script built): the page
		// itself, not a second banner.
		redirect(w, archival(c.Timestamp(), modEmbed, c.URL), http.StatusFound)
		return
	case mod == modPage && (ts != c.Timestamp() || target != c.URL):
		// Pages are shown at the URL of the capture itself, so the address
		// bar and the banner agree.
		redirect(w, archival(c.Timestamp(), modPage, c.URL), http.StatusFound)
		return
	case mod == modPage && !isRedirect && framed:
		h.serveTopFrame(w, r, c)
		return
	case mod == modEmbed && dest == "document" && framed:
		// A page opened outside its frame (a link opened in a new tab)
		// would be free to navigate the top window: frame it.
		redirect(w, archival(c.Timestamp(), modPage, c.URL), http.StatusFound)
		return
	case mod == modEmbed && dest == "iframe" && isHTMLMime(c.Mime) && (ts != c.Timestamp() || target != c.URL):
		// A page in its frame is at the URL of its capture, which the
		// top frame shows in the banner.
		redirect(w, archival(c.Timestamp(), modEmbed, c.URL), http.StatusFound)
		return
	}
	if ts == "" {
		ts = c.Timestamp()
	}
	base, err := url.Parse(c.URL)
	if err != nil {
		base, _ = url.Parse(target)
	}

	hdr := w.Header()
	guard(hdr)
	hdr.Set("Memento-Datetime", c.Time.UTC().Format(http.TimeFormat))
	switch {
	case mod == modIdentity:
		hdr.Set("Content-Security-Policy", identityCSP)
	case !framed:
		// Served as the top window (a PDF, an image): nothing in it runs
		// script, and a sandbox would stop the PDF viewer.
		hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	default:
		hdr.Set("Content-Security-Policy", pageCSP)
	}
	hdr.Set("Cache-Control", "no-cache")
	for _, name := range []string{"Content-Type", "Content-Disposition", "Content-Language", "Last-Modified"} {
		if v := resp.header.Values(name); len(v) > 0 {
			hdr[name] = v
		}
	}
	if hdr.Get("Content-Type") == "" {
		hdr["Content-Type"] = nil // no sniffing of what may be compressed bytes
	}
	status := resp.status
	if status < 200 || status > 999 {
		status = http.StatusOK
	}
	if loc := resp.header.Get("Location"); loc != "" && status >= 300 && status < 400 {
		rw := urlRewriter{base: base, ts: ts}
		hdr.Set("Location", rw.rewrite(loc, mod))
	}

	mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type"))
	kind := ""
	switch {
	case mod == modIdentity:
	case mt == "text/html" || mt == "application/xhtml+xml":
		kind = "html"
	case mt == "text/css":
		kind = "css"
	}
	noBody := r.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified
	if kind != "" && !noBody {
		res := &reservation{b: h.budget}
		defer res.release()
		body, raw, err := decodeBody(resp.body, resp.header.Values("Content-Encoding"), res)
		// The rewritten copy is about the size of the body, a quarter more
		// for the longer URLs.
		if err == nil && !res.take(int64(len(body))+int64(len(body))/4) {
			err = errBusy
		}
		if err == nil {
			rw := urlRewriter{base: base, ts: ts}
			var out []byte
			if kind == "css" {
				out = rewriteCSS(body, &rw)
			} else {
				hr := &htmlRewriter{urlRewriter: rw, inject: []byte(injectTag)}
				out = hr.rewriteHTML(body)
			}
			hdr.Set("Content-Length", strconv.Itoa(len(out)))
			w.WriteHeader(status)
			w.Write(out)
			return
		}
		if !errors.Is(err, errUndecodable) {
			h.logf("replay: %s: served as archived, not rewritten: %v", target, err)
		}
		body = nil
		if raw != nil {
			resp.body = io.MultiReader(bytes.NewReader(raw), resp.body)
			resp.length = -1 // what was read may fall short of it
		}
	}
	// Served as archived: transfer encoding removed by the HTTP parser,
	// content encoding passed on for the browser to decode.
	if ce := resp.header.Values("Content-Encoding"); len(ce) > 0 {
		hdr["Content-Encoding"] = ce
	}
	if status == http.StatusPartialContent {
		// A range response the crawler archived: replayed as it is.
		if cr := resp.header.Get("Content-Range"); cr != "" {
			hdr.Set("Content-Range", cr)
		}
	}
	if kind == "" && rangeable(status, resp.header) {
		hdr.Set("Accept-Ranges", "bytes")
		if etag := resp.header.Get("Etag"); etag != "" {
			hdr.Set("Etag", etag)
		}
		if r.Header.Get("Range") != "" {
			size := resp.length
			if size < 0 {
				size = h.payloadSize(c)
			}
			if h.serveRange(w, r, resp, size, noBody) {
				return
			}
		}
	}
	if n := resp.length; n >= 0 {
		hdr.Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(status)
	if noBody {
		return
	}
	if _, err := io.Copy(w, resp.body); err != nil {
		h.logf("replay: %s: %v", target, err)
	}
}

// errUndecodable: a content encoding that is unknown or broken.
var errUndecodable = errors.New("content encoding unknown or broken")

// decodeBody reads a body to rewrite, undoing its content encodings,
// within maxRewrite and the reservation. On an error it returns what it
// read of the body as archived (raw), to be served before the rest.
func decodeBody(body io.Reader, encodings []string, res *reservation) (data, raw []byte, err error) {
	raw, err = readBounded(body, maxRewrite, res)
	if err != nil {
		return nil, raw, err
	}
	var codings []string
	for _, v := range encodings {
		for _, c := range strings.Split(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	data = raw
	for i := len(codings) - 1; i >= 0; i-- {
		var r io.Reader
		src := bytes.NewReader(data)
		switch codings[i] {
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(src)
			if err != nil {
				return nil, raw, errUndecodable
			}
			r = zr
		case "deflate":
			// Servers send zlib (the standard) or raw deflate (common).
			if zr, err := zlib.NewReader(src); err == nil {
				r = zr
			} else {
				r = flate.NewReader(bytes.NewReader(data))
			}
		case "br":
			r = brotli.NewReader(src)
		case "zstd":
			zr, err := zstd.NewReader(src, zstd.WithDecoderMaxMemory(maxRewrite+1<<20), zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, raw, errUndecodable
			}
			defer zr.Close()
			r = zr
		default:
			return nil, raw, errUndecodable
		}
		dec, err := readBounded(r, maxRewrite, res)
		switch {
		case errors.Is(err, errTooLarge) || errors.Is(err, errBusy):
			return nil, raw, err
		case err != nil:
			return nil, raw, errUndecodable
		}
		data = dec
	}
	return data, raw, nil
}

// banner is the bar at the top of a replayed page: when it was captured,
// from where, and the way back to the list of pages.
func banner(c *Capture) []byte {
	when := c.Time.UTC().Format("2 January 2006, 15:04:05 UTC")
	var b strings.Builder
	b.WriteString(`<div id="amber-replay-banner" role="banner" style="all:initial;display:block;box-sizing:border-box;width:100%;margin:0;padding:6px 12px;background:#fff8e1;border-bottom:1px solid #d8c27a;color:#3a3000;font:13px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;text-align:left">`)
	b.WriteString(`<strong style="font:inherit;font-weight:600;color:inherit">Archived page</strong> &middot; captured <time id="amber-replay-time" style="font:inherit;color:inherit" datetime="`)
	b.WriteString(c.Time.UTC().Format(time.RFC3339))
	b.WriteString(`">`)
	b.WriteString(when)
	b.WriteString(`</time> &middot; original URL <code id="amber-replay-url" style="font:12px ui-monospace,monospace;color:inherit;word-break:break-all">`)
	b.WriteString(escapeText(c.URL))
	b.WriteString(`</code> &middot; <a href="/" style="font:inherit;color:#0645ad;text-decoration:underline">all archived pages</a></div>`)
	return []byte(b.String())
}

// scriptable reports whether a response of this Content-Type can run
// script as a document: HTML, SVG, XML, or anything a browser would sniff
// (no type, or one it does not parse).
func scriptable(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "" {
		return true
	}
	switch {
	case mt == "text/html", mt == "application/xhtml+xml", mt == "image/svg+xml",
		mt == "text/xml", mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/octet-stream", mt == "unknown/unknown":
		return true
	}
	return false
}

// isHTMLMime reports whether an index mime type is that of an HTML page.
func isHTMLMime(m string) bool {
	m, _, _ = strings.Cut(m, ";")
	m = strings.ToLower(strings.TrimSpace(m))
	return m == "text/html" || m == "application/xhtml+xml"
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, ts, target string) {
	guard(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	w.WriteHeader(http.StatusNotFound)
	msg := "Not an archival URL."
	if target != "" {
		msg = "Not in the archive: " + html.EscapeString(target)
	} else if r.URL != nil {
		msg = "Not an archival URL: " + html.EscapeString(r.URL.Path)
	}
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>Not archived</title></head><body style="font:15px/1.5 system-ui,sans-serif;margin:2em"><h1 style="font-size:1.3em">Not archived</h1><p>%s</p><p><a href="/">All archived pages</a></p></body></html>`, msg)
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	guard(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	var b strings.Builder
	title := html.EscapeString(h.a.Title)
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s — amber replay</title>
<style>body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%%}th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}
td.url{font:13px ui-monospace,monospace;word-break:break-all;color:#555}time{white-space:nowrap}</style></head>
<body><h1>%s</h1>
<p>%d archived pages, %d captures. Pages open as they were captured; nothing is fetched from the live web.</p>
<table><thead><tr><th>Page</th><th>Captured (UTC)</th><th>Original URL</th></tr></thead><tbody>
`, title, title, len(h.a.pages), h.a.Len())
	for _, p := range h.a.pages {
		name := p.Title
		if name == "" {
			name = p.URL
		}
		ts := p.Time.UTC().Format(tsLayout)
		fmt.Fprintf(&b, "<tr><td><a href=\"%s\">%s</a></td><td><time datetime=\"%s\">%s</time></td><td class=\"url\">%s</td></tr>\n",
			html.EscapeString(archival(ts, modPage, p.URL)), html.EscapeString(name),
			p.Time.UTC().Format(time.RFC3339), p.Time.UTC().Format("2006-01-02 15:04:05"), html.EscapeString(p.URL))
	}
	b.WriteString("</tbody></table>\n</body></html>\n")
	if r.Method != http.MethodHead {
		io.WriteString(w, b.String())
	}
}
