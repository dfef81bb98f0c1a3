package warc

import (
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SURT returns the sort-friendly URI reordering transform of rawURL, the key
// of a CDXJ line, as the Python surt package computes it for pywb and wabac
// with its default IA canonicalization: scheme, user info, fragment and a
// leading "www." (or "www2." ...) dropped, default ports dropped, everything
// lower-cased, percent escapes decoded down to the minimal set, dot segments
// resolved, a trailing slash dropped unless the path is "/", and query
// arguments sorted:
//
//	https://www.Example.com:443/a/b?b=2&a=1 → com,example)/a/b?a=1&b=2
//
// It does not strip session ids from paths and queries as the IA
// canonicalizer also does. URLs of other schemes get keys as otherKey
// makes them.
func SURT(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "-" // as Python's surt: a key is never empty
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https" && scheme != "ftp") {
		return otherKey(s)
	}
	authority, pathQuery := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, pathQuery = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			host, port = host[:i+1], strings.TrimPrefix(host[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	host = strings.Trim(strings.ToLower(minimalEscape(host)), ".")
	host = stripWWW(host)
	if port == defaultPorts[scheme] {
		port = ""
	}

	p, query, hasQuery := strings.Cut(pathQuery, "?")
	p = strings.ToLower(minimalEscape(p))
	if p == "" {
		p = "/"
	}
	p = path.Clean(p) // resolves . and .., drops empty segments and the trailing slash
	var b strings.Builder
	b.WriteString(reverseHost(host))
	if port != "" {
		b.WriteString(":" + minimalEscape(port))
	}
	b.WriteString(")")
	b.WriteString(p)
	if hasQuery {
		if q := sortQuery(strings.ToLower(minimalEscape(query))); q != "" {
			b.WriteString("?" + q)
		}
	}
	return b.String()
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "ftp": "21"}

// otherKey is the key of a URL of another scheme, as Python's surt makes
// it for pywb: "dns:example.org", "urn:uuid:...", "mailto:..." and a
// "file:///path" keep their scheme and path ("file:/path"); a URL with a
// host ("whois://host/x", "file://server/share") gets the host form
// without its scheme. Whatever the input, the key holds no space or
// control character (they are percent-encoded), so a CDXJ line always
// splits into its three parts.
func otherKey(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !isScheme(scheme) {
		return strings.ToLower(minimalEscape(s))
	}
	scheme = strings.ToLower(scheme)
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		authority, p := after, ""
		if i := strings.IndexAny(after, "/?"); i >= 0 {
			authority, p = after[:i], after[i:]
		}
		if i := strings.LastIndexByte(authority, '@'); i >= 0 {
			authority = authority[i+1:]
		}
		if authority == "" {
			return scheme + ":" + strings.ToLower(minimalEscape(p))
		}
		if p == "" {
			p = "/"
		}
		return reverseHost(strings.ToLower(minimalEscape(authority))) + ")" + strings.ToLower(minimalEscape(p))
	}
	return scheme + ":" + strings.ToLower(minimalEscape(rest))
}

// isScheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'.
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// stripWWW drops a leading "www." or "www<digits>.", as surt's host massage does.
func stripWWW(host string) string {
	if !strings.HasPrefix(host, "www") {
		return host
	}
	i := 3
	for i < len(host) && host[i] >= '0' && host[i] <= '9' {
		i++
	}
	if i < len(host) && host[i] == '.' && i+1 < len(host) {
		return host[i+1:]
	}
	return host
}

func reverseHost(host string) string {
	// IPv4 addresses are reversed like names, as Python's surt (pywb) and
	// warcio do: 127.0.0.1 → 1,0,0,127.
	if host == "" || strings.HasPrefix(host, "[") {
		return host
	}
	parts := strings.Split(host, ".")
	slices.Reverse(parts)
	return strings.Join(parts, ",")
}

// minimalEscape decodes percent escapes until none is left, then escapes only
// what must be: controls, space, non-ASCII bytes, '#' and '%' (Google's URL
// canonicalization, which surt applies).
func minimalEscape(s string) string {
	for range 10 {
		u := unescapeOnce(s)
		if u == s {
			break
		}
		s = u
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '#' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unescapeOnce(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// sortQuery orders query arguments by name, then value, an argument without
// "=" before one with it: the order Python gives the split pairs.
func sortQuery(q string) string {
	if q == "" {
		return ""
	}
	args := strings.Split(q, "&")
	slices.SortStableFunc(args, func(a, b string) int {
		ak, av, aok := strings.Cut(a, "=")
		bk, bv, bok := strings.Cut(b, "=")
		if c := strings.Compare(ak, bk); c != 0 {
			return c
		}
		switch {
		case aok == bok:
			return strings.Compare(av, bv)
		case !aok:
			return -1
		}
		return 1
	})
	return strings.Join(args, "&")
}

// CDXJLine is one line of a CDXJ index.
type CDXJLine struct {
	Key       string // SURT of URL
	Timestamp string // 14 digits, from WARC-Date
	URL       string
	Mime      string // media type without parameters; "warc/revisit" for revisits
	Status    string // HTTP status code; "" when the record has none
	Digest    string // payload digest as pywb writes it: bare base32 for sha1, "sha256:..." for the others
	Length    int64  // bytes the record occupies in the file
	Offset    int64  // offset of the record in the file
	Filename  string // base name of the WARC file
	// Method and RequestBody are set for the response to a request other
	// than a GET: its method and the query its body became (PostQuery),
	// as warcio.js writes them. Key is then the SURT of PostKeyURL.
	Method      string
	RequestBody string

	// Not part of the line: what amber's own bookkeeping needs.
	RecordID      string // WARC-Record-ID
	Date          string // WARC-Date as recorded
	Type          string // WARC-Type
	PayloadDigest string // WARC-Payload-Digest as recorded
	// HTTPMime is the media type of the record's HTTP Content-Type, for
	// revisits too (whose Mime is "warc/revisit"); "" when there is none.
	HTTPMime string
}

// LookupURL is the URL whose SURT keys l: its url, with the request body
// folded in for a request other than GET.
func (l CDXJLine) LookupURL() string { return PostKeyURL(l.URL, l.Method, l.RequestBody) }

// IndexDigest renders a WARC-Payload-Digest value as the digest field of
// a CDXJ line, as pywb's indexer writes it: a sha1 digest bare, in
// upper-case base32 (whatever encoding the record used), any other
// digest as recorded, label kept. warcio.js, ReplayWeb.page's indexer,
// drops every label; a sha1 line of either tool is the same.
func IndexDigest(recorded string) string {
	recorded = strings.TrimSpace(recorded)
	if recorded == "" {
		return ""
	}
	d, err := ParseDigest(recorded)
	if err != nil {
		return recorded
	}
	if d.Algorithm == "sha1" {
		return base32.StdEncoding.EncodeToString(d.Sum)
	}
	return recorded
}

// String renders l as pywb's indexer writes it: key, timestamp and a JSON
// object with string values, in the order url, mime, status, digest, length,
// offset, filename (then method and requestBody, for a request other
// than GET, as warcio.js adds them), empty fields left out.
func (l CDXJLine) String() string {
	var b strings.Builder
	b.WriteString(l.Key)
	b.WriteByte(' ')
	b.WriteString(l.Timestamp)
	b.WriteString(" {")
	first := true
	field := func(name, value string) {
		if value == "" {
			return
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		writePyJSONString(&b, name)
		b.WriteString(": ")
		writePyJSONString(&b, value)
	}
	field("url", l.URL)
	field("mime", l.Mime)
	field("status", l.Status)
	field("digest", l.Digest)
	field("length", strconv.FormatInt(l.Length, 10))
	field("offset", strconv.FormatInt(l.Offset, 10))
	field("filename", l.Filename)
	field("method", l.Method)
	field("requestBody", l.RequestBody)
	b.WriteString("}")
	return b.String()
}

// writePyJSONString writes s as Python's json.dumps does by default: only
// '"', '\\' and control characters escaped, non-ASCII as \uXXXX (surrogate
// pairs beyond the BMP). Go's encoding/json would also escape <, > and &.
func writePyJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			if r >= 0x7f && r < 0x80 {
				b.WriteRune(r) // Python leaves DEL as is
				continue
			}
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// ParseCDXJLine parses a line written by CDXJLine.String or by pywb. Length,
// offset and status may be JSON strings or numbers.
func ParseCDXJLine(s string) (CDXJLine, error) {
	s = strings.TrimRight(s, "\r\n")
	key, rest, ok1 := strings.Cut(s, " ")
	ts, obj, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || key == "" || ts == "" || !strings.HasPrefix(obj, "{") {
		return CDXJLine{}, fmt.Errorf("warc: CDXJ line %q: want \"KEY TIMESTAMP {JSON}\"", clip(s))
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(obj))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return CDXJLine{}, fmt.Errorf("warc: CDXJ line %q: %v", clip(s), err)
	}
	str := func(name string) string {
		switch v := m[name].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		}
		return ""
	}
	l := CDXJLine{Key: key, Timestamp: ts, URL: str("url"), Mime: str("mime"), Status: str("status"),
		Digest: str("digest"), Filename: str("filename"), Method: str("method"), RequestBody: str("requestBody")}
	var err error
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"length", &l.Length}, {"offset", &l.Offset}} {
		if v := str(f.name); v != "" {
			if *f.dst, err = strconv.ParseInt(v, 10, 64); err != nil {
				return CDXJLine{}, fmt.Errorf("warc: CDXJ line %q: %s %q is not a number", clip(s), f.name, v)
			}
		}
	}
	return l, nil
}

// SortCDXJ sorts lines by their rendered bytes, the order pywb's binary
// search expects (LC_ALL=C sort).
func SortCDXJ(lines []CDXJLine) {
	keyed := make([]struct {
		s string
		l CDXJLine
	}, len(lines))
	for i, l := range lines {
		keyed[i].s, keyed[i].l = l.String(), l
	}
	slices.SortStableFunc(keyed, func(a, b struct {
		s string
		l CDXJLine
	}) int {
		return strings.Compare(a.s, b.s)
	})
	for i := range keyed {
		lines[i] = keyed[i].l
	}
}

// HTTPHeader is the head of an HTTP/1.x message at the start of a WARC block.
type HTTPHeader struct {
	StartLine  string // "HTTP/1.1 200 OK" or "GET / HTTP/1.1"
	StatusCode int    // responses only; 0 for requests
	Fields     Header
}

// ParseHTTPHeader parses an HTTP message head: the bytes before the blank
// line. Lines may end in CRLF or LF; folded lines are joined.
func ParseHTTPHeader(head []byte) (HTTPHeader, error) {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return HTTPHeader{}, errors.New("warc: HTTP message has no start line")
	}
	h := HTTPHeader{StartLine: lines[0]}
	if strings.HasPrefix(lines[0], "HTTP/") {
		_, rest, _ := strings.Cut(lines[0], " ")
		code, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		n, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 {
			return h, fmt.Errorf("warc: HTTP status line %q has no status code", clip(lines[0]))
		}
		h.StatusCode = n
	}
	for _, line := range lines[1:] {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h.Fields) > 0 {
			h.Fields[len(h.Fields)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return h, fmt.Errorf("warc: malformed HTTP header line %q", clip(line))
		}
		h.Fields = append(h.Fields, Field{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	return h, nil
}

// HTTPHeadEnd returns the length of the HTTP head at the start of b and the
// offset where the body starts (after the blank line, CRLF CRLF or LF LF),
// or -1, -1 if b holds no complete head. It looks no further than the head.
func HTTPHeadEnd(b []byte) (headLen, bodyStart int) {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, -1
		}
		i += j + 1 // just after a LF: a blank line follows?
		switch {
		case i < len(b) && b[i] == '\n':
			end := i - 1
			if end > 0 && b[end-1] == '\r' {
				end-- // CRLF LF
			}
			return end, i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			end := i - 1
			if end > 0 && b[end-1] == '\r' {
				end--
			}
			return end, i + 2
		}
	}
	return -1, -1
}

// mediaType cuts parameters and whitespace off a Content-Type, as pywb does.
func mediaType(ct string) string {
	ct = strings.TrimSpace(ct)
	if i := strings.IndexAny(ct, "; \t\r\n"); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

// CDXJTimestamp turns a WARC-Date into the 14 digits of a CDXJ timestamp.
func CDXJTimestamp(date string) string { return timestamp14(date) }

func timestamp14(date string) string {
	var b []byte
	for i := 0; i < len(date) && len(b) < 14; i++ {
		if c := date[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	for len(b) < 14 {
		b = append(b, '0')
	}
	return string(b)
}

// httpHeadLimit bounds how much of a block IndexWARC reads to find the HTTP
// head.
const httpHeadLimit = 64 << 10

// IndexWARC reads the WARC (or ARC) file at path and returns the CDXJ
// lines an Indexer gives its records, in file order. A record whose gzip
// member is damaged is skipped and the next member read, so one bad record
// never hides the others; a damaged stream the reader cannot get past ends
// the file. The error joins one error per record skipped and the one that
// ended the file, if any.
func IndexWARC(path string) ([]CDXJLine, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return IndexRecords(f, path, filepath.Base(path))
}

// IndexRecords indexes the WARC (or ARC) file read from in as IndexWARC
// does: path names it in errors, name is the filename of its lines.
func IndexRecords(in io.Reader, path, name string) ([]CDXJLine, error) {
	r, err := OpenRecords(in)
	if err != nil {
		return nil, fmt.Errorf("warc: %s: %w", path, err)
	}
	ix := NewIndexer(r, name)
	var lines []CDXJLine
	var errs []error
	for {
		l, err := ix.Next()
		var skipped *SkippedError
		switch {
		case err == io.EOF:
			return lines, errors.Join(errs...)
		case errors.As(err, &skipped):
			errs = append(errs, fmt.Errorf("warc: %s: %w", path, err))
		case err != nil:
			errs = append(errs, fmt.Errorf("warc: %s: %w", path, err))
			return lines, errors.Join(errs...)
		default:
			lines = append(lines, l)
		}
	}
}

// readRecordHead streams the HTTP head of rec's block, if it is an HTTP
// message, through a headScanner with buf: however long the head, its
// status and Content-Type are found in bounded memory. With payload, it
// also hashes the payload (the bytes after the head; the whole block of a
// record that is no HTTP message) and reports whether it did: a head that
// does not end leaves no payload to hash.
func readRecordHead(rec *Record, buf []byte, payload hash.Hash) (hh *HTTPHeader, hashed bool, err error) {
	if strings.HasPrefix(mediaType(rec.Header.Get("Content-Type")), "application/http") {
		var s headScanner
		for !s.done && s.err == nil {
			n, err := rec.Body.Read(buf)
			rest := s.writeFinal(buf[:n])
			if payload != nil && s.done {
				payload.Write(rest)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return nil, false, err
			}
		}
		if !s.done {
			return nil, false, nil
		}
		hh = &HTTPHeader{StartLine: s.startLine, StatusCode: s.status}
		if s.ctype != "" {
			hh.Fields = Header{{Name: "Content-Type", Value: s.ctype}}
		}
	}
	if payload == nil {
		return hh, false, nil
	}
	if _, err := io.Copy(payload, rec.Body); err != nil {
		return nil, false, err
	}
	return hh, true, nil
}

// ARCPayloadDigest reads the block of rec, an ARC record (which carries
// no digest), and returns the SHA-1 of its payload, as IndexWARC indexes
// it; ok is false for a response whose HTTP head does not end.
func ARCPayloadDigest(rec *Record) (d Digest, ok bool, err error) {
	h := sha1.New()
	_, ok, err = readRecordHead(rec, make([]byte, 32<<10), h)
	if !ok || err != nil {
		return Digest{}, false, err
	}
	return Digest{Algorithm: "sha1", Sum: h.Sum(nil)}, true, nil
}

// Indexed reports whether a record with header h gets a CDXJ line:
// responses, revisits, and resources and metadata other than
// application/warc-fields, as pywb indexes them; a record without a
// WARC-Target-URI has no key, and gets none.
func Indexed(h Header) bool {
	if targetURI(h) == "" {
		return false
	}
	switch typ := h.Get("WARC-Type"); typ {
	case "response", "revisit":
		return true
	case "resource", "metadata":
		return mediaType(h.Get("Content-Type")) != "application/warc-fields"
	}
	return false
}

// IndexLine builds the CDXJ line of a record from its header and the first
// bytes of its block (enough to hold the HTTP header, for responses and
// revisits). Offset and Length are left for the caller.
//
// A head longer than the bytes given (a response with thousands of header
// lines) still gives its status, and its Content-Type if that comes within
// them.
func IndexLine(h Header, head []byte, filename string) CDXJLine {
	var hh *HTTPHeader
	if strings.HasPrefix(mediaType(h.Get("Content-Type")), "application/http") {
		var s headScanner
		s.writeFinal(head)
		if s.err == nil && s.lines >= 1 {
			hh = &HTTPHeader{StartLine: s.startLine, StatusCode: s.status}
			if s.ctype != "" {
				hh.Fields = Header{{Name: "Content-Type", Value: s.ctype}}
			}
		}
	}
	return indexLine(h, hh, filename)
}

// indexLine builds the CDXJ line of a record from its header and its HTTP
// head, if it has one that parses (nil otherwise).
func indexLine(h Header, hh *HTTPHeader, filename string) CDXJLine {
	typ, ct := h.Get("WARC-Type"), h.Get("Content-Type")
	url := targetURI(h)
	l := CDXJLine{
		RecordID:      h.Get("WARC-Record-ID"),
		Date:          h.Get("WARC-Date"),
		Type:          typ,
		Key:           SURT(url),
		Timestamp:     timestamp14(h.Get("WARC-Date")),
		URL:           url,
		Mime:          mediaType(ct),
		Digest:        IndexDigest(h.Get("WARC-Payload-Digest")),
		Filename:      filename,
		PayloadDigest: h.Get("WARC-Payload-Digest"),
	}
	if typ == TypeResource && l.Digest == "" {
		// A resource record's block is its payload.
		l.Digest = IndexDigest(h.Get("WARC-Block-Digest"))
	}
	if typ == "response" || typ == "revisit" {
		l.Mime = ""
		if hh != nil && strings.HasPrefix(mediaType(ct), "application/http") {
			if hh.StatusCode != 0 {
				l.Status = strconv.Itoa(hh.StatusCode)
			}
			l.Mime = mediaType(hh.Fields.Get("Content-Type"))
			l.HTTPMime = l.Mime
		}
		if typ == "revisit" {
			l.Mime = "warc/revisit"
		}
	}
	return l
}

// maxHeadLine is how much of one HTTP head line headScanner keeps: enough
// for any field name and any sane value of the fields it reads.
const maxHeadLine = 64 << 10

// headScanner reads an HTTP/1.x message head as it streams past, line by
// line, however long it is, in bounded memory: it keeps the start line and
// the few fields a reader of the record needs (Transfer-Encoding,
// Content-Length, Content-Type), not the head. Heads with 100,000 lines or
// megabytes of cookies are odd, but they are what some servers send and
// what amber then archived; a reader must find the body after them.
type headScanner struct {
	line      []byte // the current line so far, at most maxHeadLine bytes
	lineLen   int    // its full length
	lines     int    // lines of the head seen, the start line included
	size      int64  // bytes of the head seen, the blank line included
	done      bool
	err       error
	startLine string
	status    int    // of a response; 0 for a request
	last      string // the name of the last field, for folded lines
	te        string // the last Transfer-Encoding value
	cl        string // the first Content-Length value
	clCount   int
	ctype     string // the first Content-Type value
}

// write consumes the head bytes at the start of p and returns the bytes
// after the head once its blank line is seen, else nil. Lines may end in
// CRLF or LF.
func (s *headScanner) write(p []byte) []byte {
	for len(p) > 0 && !s.done && s.err == nil {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		s.lineLen += len(seg)
		if room := maxHeadLine - len(s.line); room > 0 {
			s.line = append(s.line, seg[:min(len(seg), room)]...)
		}
		if i < 0 {
			s.size += int64(len(p))
			return nil
		}
		s.size += int64(i + 1)
		p = p[i+1:]
		line := s.line
		if s.lineLen <= maxHeadLine {
			line = bytes.TrimSuffix(line, []byte("\r"))
		}
		s.endLine(line)
		s.line, s.lineLen = s.line[:0], 0
	}
	if s.done {
		return p
	}
	return nil
}

func (s *headScanner) endLine(line []byte) {
	if s.lines == 0 {
		s.lines++
		if len(line) == 0 {
			s.err = errors.New("warc: HTTP message has no start line")
			return
		}
		s.startLine = string(line)
		if bytes.HasPrefix(line, []byte("HTTP/")) {
			_, rest, _ := strings.Cut(s.startLine, " ")
			code, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
			n, err := strconv.Atoi(code)
			if err != nil || len(code) != 3 {
				s.err = fmt.Errorf("warc: HTTP status line %q has no status code", clip(s.startLine))
				return
			}
			s.status = n
		}
		return
	}
	if len(line) == 0 {
		s.done = true
		return
	}
	s.lines++
	if (line[0] == ' ' || line[0] == '\t') && s.lines > 2 {
		// A folded line continues the field before it.
		v := " " + strings.TrimSpace(string(line))
		switch s.last {
		case "transfer-encoding":
			s.te += v
		case "content-length":
			if s.clCount == 1 {
				s.cl += v
			}
		case "content-type":
			s.ctype += v
		}
		return
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		s.err = fmt.Errorf("warc: malformed HTTP header line %q", clip(string(line)))
		return
	}
	s.last = ""
	switch n := strings.ToLower(string(bytes.TrimSpace(name))); n {
	case "transfer-encoding":
		s.last, s.te = n, string(bytes.TrimSpace(value))
	case "content-length":
		s.last = n
		if s.clCount++; s.clCount == 1 {
			s.cl = string(bytes.TrimSpace(value))
		}
	case "content-type":
		if s.ctype == "" {
			s.last, s.ctype = n, string(bytes.TrimSpace(value))
		}
	}
}

// writeFinal is write for a response whose block may hold interim
// responses (100 Continue, 103 Early Hints) before the final one: their
// heads are passed over, and s ends with the final head, whose status an
// index gives the record.
func (s *headScanner) writeFinal(p []byte) []byte {
	rest := s.write(p)
	for s.done && s.status >= 100 && s.status < 200 && s.status != 101 {
		s.reset()
		rest = s.write(rest)
	}
	return rest
}

// reset readies s for the next head of the same message (after an interim
// response), keeping its buffer.
func (s *headScanner) reset() {
	*s = headScanner{line: s.line[:0]}
}
