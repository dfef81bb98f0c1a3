package warc

import (
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// SkippedError reports a record the Indexer left out because damage
// confined to its gzip member made it unreadable; the records after it
// are read as usual.
type SkippedError struct {
	Err error // a *FormatError
}

func (e *SkippedError) Error() string { return fmt.Sprintf("%v (record skipped)", e.Err) }
func (e *SkippedError) Unwrap() error { return e.Err }

// Indexer reads the records of one WARC or ARC file and gives their CDXJ
// lines one at a time, in file order, as pywb and warcio.js index them:
// responses, revisits, and resources and metadata other than
// application/warc-fields, each with a target URI. A response next to the
// request it answers (before or after it, the same target URI) is keyed,
// when the request is not a GET, by the URL with the request body folded
// in (PostKeyURL), and its line carries the method and requestBody.
//
// Memory is bounded: the HTTP head of a record streams past in a fixed
// buffer, and at most maxPostBody bytes of a request body are kept.
type Indexer struct {
	r    RecordReader
	name string
	buf  []byte
	// held is the record before the current one, kept until the next
	// record tells whether the two are a request and its response.
	held *indexed
	out  []indexItem // lines and errors ready to hand out
	done bool
}

type indexItem struct {
	line CDXJLine
	err  error
}

// indexed is what the Indexer keeps of a record while it waits for its
// neighbour.
type indexed struct {
	uri     string
	typ     string
	line    *CDXJLine // nil for records that get no line
	method  string    // of a request record
	ctype   string    // of a request's body
	reqBody []byte
}

// NewIndexer indexes the records r reads; filename is the base name the
// lines name.
func NewIndexer(r RecordReader, filename string) *Indexer {
	return &Indexer{r: r, name: filename, buf: make([]byte, httpHeadLimit)}
}

// Next returns the next line, or io.EOF after the last. A record lost to
// damage confined to its gzip member is a *SkippedError, after which Next
// goes on with the records that follow; any other error ends the file and
// is returned again by every later call.
func (ix *Indexer) Next() (CDXJLine, error) {
	for len(ix.out) == 0 {
		if ix.done {
			return CDXJLine{}, io.EOF
		}
		ix.step()
	}
	it := ix.out[0]
	ix.out = ix.out[1:]
	if len(ix.out) == 0 {
		ix.out = nil
	}
	return it.line, it.err
}

// step reads one record and queues what it settles.
func (ix *Indexer) step() {
	cur, err := ix.read()
	if err != nil {
		ix.flush(nil)
		ix.held = nil
		var fe *FormatError
		switch {
		case err == io.EOF:
			ix.done = true
		case errors.As(err, &fe) && !fe.Fatal:
			ix.out = append(ix.out, indexItem{err: &SkippedError{Err: err}})
		default:
			ix.out = append(ix.out, indexItem{err: err})
			ix.done = true
		}
		return
	}
	prev := ix.held
	switch {
	case prev == nil:
		ix.held = cur
	case prev.uri != cur.uri || prev.uri == "":
		ix.flush(nil)
		ix.held = cur
	case cur.typ == TypeRequest && (prev.typ == TypeResponse || prev.typ == TypeRevisit):
		ix.flush(cur)
		ix.held = nil
	case (cur.typ == TypeResponse || cur.typ == TypeRevisit) && prev.typ == TypeRequest:
		ix.held = cur
		ix.flush(prev)
		ix.held = nil
	default:
		ix.flush(nil)
		ix.held = cur
	}
}

// flush queues the line of the held record, keyed with req if that is
// the request it answers.
func (ix *Indexer) flush(req *indexed) {
	h := ix.held
	if h == nil || h.line == nil {
		return
	}
	l := *h.line
	if req != nil {
		keyByRequest(&l, req.method, req.ctype, req.reqBody)
	}
	ix.out = append(ix.out, indexItem{line: l})
}

// read reads the next record and what its line, or its pairing, needs.
func (ix *Indexer) read() (*indexed, error) {
	rec, err := ix.r.Next()
	if err != nil {
		return nil, err
	}
	h := rec.Header
	cur := &indexed{uri: targetURI(h), typ: h.Get("WARC-Type")}
	switch {
	case Indexed(h):
		// ARC records carry no digest, and a resource record may lack a
		// payload digest (its block is its payload): the line then gets
		// the SHA-1 of the payload, bare base32, as pywb's indexer gives
		// ARC records.
		var payload hash.Hash
		if rec.Version == ARCVersion || (cur.typ == TypeResource && h.Get("WARC-Payload-Digest") == "" && h.Get("WARC-Block-Digest") == "") {
			payload = sha1.New()
		}
		hh, hashed, err := readRecordHead(rec, ix.buf, payload)
		if err != nil {
			return nil, err
		}
		l := indexLine(h, hh, ix.name)
		if hashed {
			l.Digest = base32.StdEncoding.EncodeToString(payload.Sum(nil))
		}
		l.Offset = rec.Offset
		cur.line = &l
	case cur.typ == TypeRequest && strings.HasPrefix(mediaType(h.Get("Content-Type")), "application/http"):
		if err := ix.readRequest(rec, cur); err != nil {
			return nil, err
		}
	}
	if err := ix.r.Finish(); err != nil {
		return nil, err
	}
	if cur.line != nil {
		cur.line.Length = rec.Length
	}
	return cur, nil
}

// readRequest keeps the method, Content-Type and the first maxPostBody
// bytes of the body of a request record that is not a GET.
func (ix *Indexer) readRequest(rec *Record, cur *indexed) error {
	var err error
	cur.method, cur.ctype, cur.reqBody, err = readRequestHead(rec.Body, ix.buf)
	return err
}

// readRequestHead reads a request record's block from r, with buf as
// scratch space, and returns the request's method and Content-Type and,
// for a method other than GET, the first maxPostBody bytes of its body.
// A block that does not start with a request head gives method "".
func readRequestHead(r io.Reader, buf []byte) (method, ctype string, body []byte, err error) {
	var s headScanner
	var rest []byte
	for !s.done && s.err == nil {
		n, err := r.Read(buf)
		rest = s.write(buf[:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return "", "", nil, err
		}
	}
	if !s.done || s.status != 0 {
		return "", "", nil, nil // no request head: nothing to key by
	}
	method, _, _ = strings.Cut(s.startLine, " ")
	if method == "GET" {
		return method, s.ctype, nil, nil
	}
	body = append([]byte(nil), rest[:min(len(rest), maxPostBody)]...)
	if room := maxPostBody - len(body); room > 0 {
		b, err := io.ReadAll(io.LimitReader(r, int64(room)))
		if err != nil {
			return "", "", nil, err
		}
		body = append(body, b...)
	}
	return method, s.ctype, body, nil
}

// keyByRequest keys the line of a response by the request it answers:
// for a method other than GET, by the URL with the request body folded in
// (PostKeyURL), with the method and requestBody fields set.
func keyByRequest(l *CDXJLine, method, ctype string, body []byte) {
	if method == "" || method == "GET" {
		return
	}
	q, _ := PostQuery(method, ctype, body)
	l.Method, l.RequestBody = method, q
	l.Key = SURT(PostKeyURL(l.URL, l.Method, l.RequestBody))
}

// targetURI is the WARC-Target-URI of h, without the angle brackets
// WARC/1.1's grammar (and some writers) put around it.
func targetURI(h Header) string {
	u := strings.TrimSpace(h.Get("WARC-Target-URI"))
	if strings.HasPrefix(u, "<") && strings.HasSuffix(u, ">") {
		u = u[1 : len(u)-1]
	}
	return u
}
