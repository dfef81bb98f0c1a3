package verify

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/amber-archiver/amber/warc"
)

// spec describes one test record. Digests are computed unless overridden.
type spec struct {
	typ, uri, ct string
	block        string
	payload      *string  // entity body the payload digest is over; nil: no payload digest
	extra        []string // more fields: name, value, ...

	version       string   // default WARC/1.1
	omit          []string // fields left out
	lf            bool     // header lines end in LF
	rawLines      []string // lines added to the header as they are
	noBlockDigest bool
	blockDigest   string // override
	payloadDigest string // override
	contentLength int    // override when > 0
	afterDigest   func(block string) string
	stored        bool   // its gzip member stores the record uncompressed
	trailer       string // after the block; default CRLF CRLF
}

func sha1B32(s string) string {
	sum := sha1.Sum([]byte(s))
	return warc.FormatDigest("sha1", sum[:])
}

func (s spec) render(i int) []byte {
	var b bytes.Buffer
	eol := "\r\n"
	if s.lf {
		eol = "\n"
	}
	omitted := func(name string) bool {
		for _, o := range s.omit {
			if o == name {
				return true
			}
		}
		return false
	}
	field := func(name, value string) {
		if !omitted(name) {
			fmt.Fprintf(&b, "%s: %s%s", name, value, eol)
		}
	}
	version := s.version
	if version == "" {
		version = "WARC/1.1"
	}
	b.WriteString(version + eol)
	field("WARC-Type", s.typ)
	field("WARC-Record-ID", recordID(i))
	field("WARC-Date", "2024-05-06T07:08:09Z")
	if s.uri != "" {
		field("WARC-Target-URI", s.uri)
	}
	if s.ct != "" {
		field("Content-Type", s.ct)
	}
	for j := 0; j+1 < len(s.extra); j += 2 {
		field(s.extra[j], s.extra[j+1])
	}
	for _, l := range s.rawLines {
		b.WriteString(l + eol)
	}
	bd := sha1B32(s.block)
	if s.blockDigest != "" {
		bd = s.blockDigest
	}
	if !s.noBlockDigest {
		field("WARC-Block-Digest", bd)
	}
	if s.payloadDigest != "" {
		field("WARC-Payload-Digest", s.payloadDigest)
	} else if s.payload != nil {
		field("WARC-Payload-Digest", sha1B32(*s.payload))
	}
	block := s.block
	if s.afterDigest != nil {
		block = s.afterDigest(block)
	}
	cl := len(block)
	if s.contentLength > 0 {
		cl = s.contentLength
	}
	trailer := "\r\n\r\n"
	if s.trailer != "" {
		trailer = s.trailer
	}
	fmt.Fprintf(&b, "Content-Length: %d%s%s%s%s", cl, eol, eol, block, trailer)
	return b.Bytes()
}

func recordID(i int) string { return fmt.Sprintf("<urn:uuid:00000000-0000-0000-0000-%012d>", i) }

func ptr(s string) *string { return &s }

func gzipBytes(t testing.TB, b []byte) []byte { return gzipLevel(t, b, gzip.DefaultCompression) }

func gzipLevel(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

const (
	httpResp = "application/http; msgtype=response"
	httpReq  = "application/http; msgtype=request"
	html     = "<html><img src=a.png></html>"
	chunked  = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
)

func htmlResponse(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// goodSpecs is a small capture: warcinfo, request, a plain response, a
// chunked response, a gzip-encoded response, a revisit, a resource.
func goodSpecs(t testing.TB) []spec {
	gz := string(gzipBytes(t, []byte("body { color: red }")))
	return []spec{
		{typ: "warcinfo", ct: "application/warc-fields", block: "software: amber\r\nformat: WARC File Format 1.1\r\n"},
		{typ: "request", uri: "http://example.com/", ct: httpReq, block: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", payload: ptr("")},
		{typ: "response", uri: "http://example.com/", ct: httpResp, block: htmlResponse(html), payload: ptr(html)},
		{typ: "response", uri: "http://example.com/t.txt", ct: httpResp, block: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n" + chunked, payload: ptr("hello world")},
		{typ: "response", uri: "http://example.com/s.css", ct: httpResp, block: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz), payload: ptr(gz), stored: true},
		{typ: "revisit", uri: "http://example.com/", ct: httpResp, block: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", payload: ptr(html),
			extra: []string{"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest", "WARC-Refers-To", recordID(2),
				"WARC-Refers-To-Target-URI", "http://example.com/", "WARC-Refers-To-Date", "2024-05-06T07:08:09Z"}},
		{typ: "resource", uri: "http://example.com/r.txt", ct: "text/plain", block: "resource body", payload: ptr("resource body")},
	}
}

// build renders specs into a WARC file, one gzip member per record unless
// join[i] puts record i in the member of record i-1. It returns each record's
// offset.
func build(t testing.TB, specs []spec, join map[int]bool) ([]byte, []int64) {
	var file []byte
	var offsets []int64
	var member []byte
	stored := false
	flush := func() {
		if member != nil {
			level := gzip.DefaultCompression
			if stored {
				level = gzip.NoCompression
			}
			file = append(file, gzipLevel(t, member, level)...)
			member = nil
		}
	}
	for i, s := range specs {
		if !join[i] {
			flush()
			stored = s.stored
		}
		offsets = append(offsets, int64(len(file)))
		member = append(member, s.render(i)...)
	}
	flush()
	return file, offsets
}

// plain renders specs as an uncompressed WARC file.
func plain(specs []spec) ([]byte, []int64) {
	var file []byte
	var offsets []int64
	for i, s := range specs {
		offsets = append(offsets, int64(len(file)))
		file = append(file, s.render(i)...)
	}
	return file, offsets
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type want struct {
	sev    Severity
	record int // index of the record: its offset and id; -1: no record (offset given)
	offset int64
	msg    string
	noID   bool   // at the record's offset, but naming no record
	id     string // the record id, when not the one of recordID
}

// endOfFile in a want stands for the length of the undamaged file.
const endOfFile = -2

func checkFindings(t *testing.T, got []Finding, wants []want, offsets []int64) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(wants), dump(got))
	}
	for i, w := range wants {
		g := got[i]
		off, id := w.offset, w.id
		if w.record >= 0 {
			if offsets != nil {
				off = offsets[w.record]
			}
			if id == "" && !w.noID {
				id = recordID(w.record)
			}
		}
		if g.Severity != w.sev || (offsets != nil && g.Offset != off) || g.RecordID != id || !strings.Contains(g.Message, w.msg) {
			t.Errorf("finding %d = %+v\nwant severity %v offset %d id %q message containing %q", i, g, w.sev, off, id, w.msg)
		}
	}
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %v %s@%d %s %s: %s\n", f.Severity, filepath.Base(f.File), f.Offset, f.RecordID, f.TargetURI, f.Message)
	}
	return b.String()
}

func verifyFile(t *testing.T, path string) *Report {
	t.Helper()
	rep, err := Paths(context.Background(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// damage is one file of the damaged corpus: testdata/damaged/NAME, named
// after what is wrong with it, and the findings verify must report.
type damage struct {
	name  string // file name in testdata/damaged
	specs []spec
	join  map[int]bool
	plain bool                                      // an uncompressed WARC
	edit  func(file []byte, offsets []int64) []byte // damage done after rendering
	want  []want
}

func (d damage) render(t testing.TB) ([]byte, []int64) {
	var file []byte
	var offsets []int64
	if d.plain {
		file, offsets = plain(d.specs)
	} else {
		file, offsets = build(t, d.specs, d.join)
	}
	if d.edit != nil {
		file = d.edit(bytes.Clone(file), offsets)
	}
	return file, offsets
}

// corpus is the damaged corpus, one file per kind of damage.
func corpus(t testing.TB) []damage {
	specs := goodSpecs(t)
	last := len(specs) - 1
	mod := func(f func(s []spec)) []spec {
		s := append([]spec(nil), specs...)
		f(s)
		return s
	}
	with := func(extra ...spec) []spec { return append(append([]spec(nil), specs...), extra...) }
	sha256Hex := func(s string) string { sum := sha256.Sum256([]byte(s)); return "sha256:" + hex.EncodeToString(sum[:]) }
	flipInBlock := func(b string) string { return strings.Replace(b, "img", "imf", 1) }
	segBody := strings.Repeat("segmented payload ", 20)
	segMsg := htmlResponse(segBody)
	half := len(segMsg) / 2
	segment := func(payload string) []spec {
		return with(
			spec{typ: "response", uri: "http://example.com/big", ct: httpResp, block: segMsg[:half], payload: ptr(payload),
				extra: []string{"WARC-Segment-Number", "1"}},
			spec{typ: "continuation", uri: "http://example.com/big", block: segMsg[half:],
				extra: []string{"WARC-Segment-Origin-ID", recordID(7), "WARC-Segment-Number", "2", "WARC-Segment-Total-Length", fmt.Sprint(len(segMsg))}},
		)
	}
	truncatedBody := strings.Repeat("x", 40)
	return []damage{
		{name: "good.warc.gz", specs: specs},
		{name: "good-plain.warc", specs: specs, plain: true},
		{name: "digest-forms.warc.gz", specs: mod(func(s []spec) {
			s[0].blockDigest = sha256Hex(s[0].block)
			sum := sha1.Sum([]byte(s[1].block))
			s[1].blockDigest = "SHA-1:" + strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(sum[:]), "="))
			s[2].blockDigest = "Sha1:" + hexSum(sha1.New(), s[2].block)
			m := md5.Sum([]byte(s[3].block))
			s[3].blockDigest = "MD5:" + base32.StdEncoding.EncodeToString(m[:])
			s[4].blockDigest = "sha-512:" + strings.ToUpper(hexSum(sha512.New(), s[4].block))
			s[6].payloadDigest = "sha-256:" + strings.ToLower(base32.StdEncoding.EncodeToString(sha256Sum(s[6].block)))
		})},
		{name: "block-digest.warc.gz", specs: mod(func(s []spec) { s[2].afterDigest = flipInBlock }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "block digest mismatch"}, {sev: Error, record: 2, offset: 0, msg: "payload digest mismatch"}}},
		{name: "payload-digest.warc.gz", specs: mod(func(s []spec) { s[2].payload = ptr("<html>something else</html>") }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "payload digest mismatch"}}},
		{name: "chunked-payload-digest.warc.gz", specs: mod(func(s []spec) {
			_, body, _ := strings.Cut(s[3].block, "\r\n\r\n")
			s[3].payload = ptr(body)
		}), want: []want{{sev: Warning, record: 3, offset: 0, msg: "chunk framing included"}}},
		{name: "chunked-wrong-payload-digest.warc.gz", specs: mod(func(s []spec) { s[3].payload = ptr("hello") }),
			want: []want{{sev: Error, record: 3, offset: 0, msg: "payload digest mismatch"}}},
		{name: "malformed-chunks.warc.gz", specs: mod(func(s []spec) {
			s[3].block = strings.Replace(s[3].block, "6;ext=1", "zz", 1)
		}), want: []want{{sev: Error, record: 3, offset: 0, msg: "chunked body is malformed"}}},
		{name: "payload-over-extra-bytes.warc.gz", specs: mod(func(s []spec) {
			s[2].block += "JUNK"
			s[2].payload = ptr(html + "JUNK")
		}), want: []want{{sev: Warning, record: 2, offset: 0, msg: "4 more than its Content-Length"}}},
		{name: "truncated-response.warc.gz", specs: with(
			// amber cuts a response at --max-size: the payload digest is
			// over the de-chunked body as far as the chunks go.
			spec{typ: "response", uri: "http://example.com/big.txt", ct: httpResp, extra: []string{"WARC-Truncated", "length"},
				block:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + truncatedBody + "\r\n28\r\n" + truncatedBody[:17],
				payload: ptr(truncatedBody + truncatedBody[:17])},
			spec{typ: "response", uri: "http://example.com/big.bin", ct: httpResp, extra: []string{"WARC-Truncated", "length"},
				block: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + truncatedBody, payload: ptr(truncatedBody)},
		)},
		{name: "interim-response.warc.gz", specs: with(
			spec{typ: "response", uri: "http://example.com/upload", ct: httpResp,
				block: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + htmlResponse(html), payload: ptr(html)})},
		{name: "malformed-block-digest.warc.gz", specs: mod(func(s []spec) { s[2].blockDigest = "sha1:NOTBASE32!" }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "WARC-Block-Digest \"sha1:NOTBASE32!\" is malformed"}}},
		{name: "short-digest.warc.gz", specs: mod(func(s []spec) { s[2].blockDigest = "sha256:abcdef" }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "is malformed"}}},
		{name: "unknown-digest-algorithm.warc.gz", specs: mod(func(s []spec) { s[last].payloadDigest = "blake9:abcd" }),
			want: []want{{sev: Warning, record: last, offset: 0, msg: "unknown algorithm"}}},
		{name: "no-block-digest.warc.gz", specs: mod(func(s []spec) { s[0].noBlockDigest, s[last].noBlockDigest = true, true }),
			want: []want{{sev: Warning, record: 0, noID: true, msg: "2 records have no WARC-Block-Digest"}}},
		{name: "truncated.warc.gz", specs: specs, edit: func(f []byte, _ []int64) []byte { return f[:len(f)-10] },
			want: []want{{sev: Error, record: last, offset: 0, msg: "gzip member truncated"}}},
		{name: "truncated-gzip-header.warc.gz", specs: specs, edit: func(f []byte, o []int64) []byte { return f[:o[last]+5] },
			want: []want{{sev: Error, record: last, noID: true, msg: "truncated inside its header"}}},
		{name: "gzip-crc.warc.gz", specs: specs, edit: func(f []byte, o []int64) []byte {
			f[o[3]-8] ^= 1 // the CRC-32 of the member of record 2
			return f
		}, want: []want{{sev: Error, record: 2, offset: 0, msg: "CRC-32"}}},
		{name: "stored-byte-flipped.warc.gz", specs: specs, edit: func(f []byte, o []int64) []byte {
			// A byte of a stored (uncompressed) member: the block digest
			// and the CRC both catch it.
			f[o[5]-20] ^= 0x20
			return f
		}, want: []want{{sev: Error, record: 4, offset: 0, msg: "block digest mismatch"}, {sev: Error, record: 4, offset: 0, msg: "payload digest mismatch"}, {sev: Error, record: 4, offset: 0, msg: "CRC-32"}}},
		{name: "corrupt-gzip.warc.gz", specs: specs, edit: func(f []byte, o []int64) []byte {
			f[o[3]+10] |= 0x06 // deflate block type 3: reserved
			return f
		}, want: []want{{sev: Error, record: 3, noID: true, msg: "corrupt gzip data"}}},
		{name: "content-length-short.warc.gz", specs: mod(func(s []spec) { s[2].contentLength = len(s[2].block) - 1 }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "not CRLF CRLF"}}},
		{name: "content-length-long.warc.gz", specs: mod(func(s []spec) { s[2].contentLength = len(s[2].block) + 10 }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "the gzip member ends first"}}},
		{name: "missing-crlf.warc.gz", specs: mod(func(s []spec) { s[2].trailer = "\r\n" }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "without the CRLF CRLF"}}},
		{name: "trailing-garbage.warc.gz", specs: specs, edit: func(f []byte, _ []int64) []byte { return append(f, "garbage\n"...) },
			want: []want{{sev: Error, record: -1, offset: endOfFile, msg: "8 bytes that are not a gzip member"}}},
		{name: "zero-padding.warc.gz", specs: specs, edit: func(f []byte, _ []int64) []byte { return append(f, make([]byte, 100)...) },
			want: []want{{sev: Error, record: -1, offset: endOfFile, msg: "100 bytes of zero padding"}}},
		{name: "shared-member.warc.gz", specs: specs, join: map[int]bool{6: true},
			want: []want{{sev: Warning, record: 5, offset: 0, msg: "share the gzip member"}}},
		{name: "bad-version.warc.gz", specs: mod(func(s []spec) { s[2].version = "WARC/2.0" }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "WARC/2.0"}}},
		{name: "not-a-warc-member.warc.gz", specs: specs, edit: func(f []byte, o []int64) []byte {
			return bytes.Join([][]byte{f[:o[2]], gzipBytes(t, []byte("<html>not a WARC record</html>\r\n")), f[o[2]:]}, nil)
		}, want: []want{{sev: Error, record: 2, noID: true, msg: "expected a WARC version line"}}},
		{name: "missing-date.warc.gz", specs: mod(func(s []spec) { s[2].omit = []string{"WARC-Date"} }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "missing mandatory field WARC-Date"}}},
		{name: "missing-target-uri.warc.gz", specs: mod(func(s []spec) { s[3].uri = "" }),
			want: []want{{sev: Error, record: 3, offset: 0, msg: "a response record must have WARC-Target-URI"}}},
		{name: "missing-content-length.warc.gz", specs: specs, edit: func(f []byte, o []int64) []byte {
			rec := bytes.Replace(specs[3].render(3), []byte("Content-Length"), []byte("Content-Lenght"), 1)
			return bytes.Join([][]byte{f[:o[3]], gzipBytes(t, rec), f[o[4]:]}, nil)
		}, want: []want{{sev: Error, record: 3, noID: true, msg: "missing Content-Length"}}},
		{name: "malformed-field.warc.gz", specs: mod(func(s []spec) { s[2].rawLines = []string{"this line has no colon"} }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "header line 7: malformed header field"}}},
		{name: "control-character.warc.gz", specs: mod(func(s []spec) { s[2].rawLines = []string{"X-Note: bell\a"} }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "control characters"}}},
		{name: "duplicate-field.warc.gz", specs: mod(func(s []spec) { s[2].rawLines = []string{"WARC-Date: 2024-05-06T07:08:10Z"} }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "WARC-Date occurs more than once"}}},
		{name: "bad-record-id.warc.gz", specs: mod(func(s []spec) {
			s[2].omit = []string{"WARC-Record-ID"}
			s[2].rawLines = []string{"WARC-Record-ID: urn:uuid:no-brackets"}
		}), want: []want{{sev: Error, record: 2, id: "urn:uuid:no-brackets", msg: "not a URI in angle brackets"}}},
		{name: "bad-date.warc.gz", specs: mod(func(s []spec) {
			s[2].omit = []string{"WARC-Date"}
			s[2].rawLines = []string{"WARC-Date: 2024-05-06 07:08:09"}
		}), want: []want{{sev: Error, record: 2, offset: 0, msg: "is not a UTC date"}}},
		{name: "bad-ip-address.warc.gz", specs: mod(func(s []spec) { s[2].extra = []string{"WARC-IP-Address", "300.1.2.3"} }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "WARC-IP-Address"}}},
		{name: "lf-line-ends.warc.gz", specs: mod(func(s []spec) { s[last].lf = true }),
			want: []want{{sev: Warning, record: last, offset: 0, msg: "bare LF"}}},
		{name: "unknown-type.warc.gz", specs: with(spec{typ: "snapshot", uri: "http://example.com/", ct: "text/plain", block: "x"}),
			want: []want{{sev: Warning, record: 7, offset: 0, msg: "unknown record type"}}},
		{name: "first-not-warcinfo.warc.gz", specs: specs[1:],
			want: []want{{sev: Warning, record: 0, msg: "first record is \"request\""}}},
		{name: "revisit-not-found.warc.gz", specs: mod(func(s []spec) {
			s[5].extra = append([]string(nil), s[5].extra...)
			s[5].extra[5] = "http://example.com/gone"
		}), want: []want{{sev: Warning, record: 5, offset: 0, msg: "not found in the checked files"}}},
		{name: "revisit-other-digest.warc.gz", specs: mod(func(s []spec) { s[5].payload = ptr("another payload") }),
			want: []want{{sev: Warning, record: 5, offset: 0, msg: "not found in the checked files"}}},
		{name: "segmented.warc.gz", specs: segment(segBody)},
		{name: "segmented-payload-digest.warc.gz", specs: segment("wrong"),
			want: []want{{sev: Error, record: 8, offset: 0, msg: "payload digest mismatch"}}},
		{name: "continuation-without-origin.warc.gz", specs: segment(segBody)[:7:7], edit: func(f []byte, _ []int64) []byte {
			cont := segment(segBody)[8]
			return append(f, gzipBytes(t, cont.render(8))...)
		}, want: []want{{sev: Warning, record: -1, offset: endOfFile, id: recordID(8), msg: "earlier segments are not before it"}}},
		{name: "empty.warc.gz", specs: nil, want: []want{{sev: Error, record: -1, offset: -1, msg: "empty file"}}},
		{name: "not-a-warc.warc", plain: true, specs: nil, edit: func([]byte, []int64) []byte { return []byte("hello, world\n") },
			want: []want{{sev: Error, record: -1, offset: -1, msg: `not a WARC, ARC or WACZ file (starts with "hello, world")`}}},
		{name: "plain-truncated.warc", plain: true, specs: specs, edit: func(f []byte, _ []int64) []byte { return f[:len(f)-20] },
			want: []want{{sev: Error, record: last, noID: true, msg: "file ends inside the WARC header"}}},
		{name: "plain-content-length.warc", plain: true, specs: mod(func(s []spec) { s[2].contentLength = len(s[2].block) - 3 }),
			want: []want{{sev: Error, record: 2, offset: 0, msg: "not CRLF CRLF"}}},
		// One bad record never hides the others: a record cut short in
		// the middle of a plain file (its Content-Length runs over the
		// next record), and garbage between two records; verify goes on
		// at the next version line.
		{name: "plain-cut-in-the-middle.warc", plain: true, specs: specs, edit: func(f []byte, o []int64) []byte {
			cut := o[3] + int64(bytes.Index(f[o[3]:], []byte("\r\n\r\n"))) + 4 + 10 // 10 bytes into the block
			return append(f[:cut:cut], f[o[4]:]...)
		}, want: []want{{sev: Error, record: 3, offset: 0, msg: "not CRLF CRLF (wrong Content-Length?); the next record found at offset"}}},
		{name: "plain-garbage-between.warc", plain: true, specs: specs, edit: func(f []byte, o []int64) []byte {
			return bytes.Join([][]byte{f[:o[4]], []byte("<html>garbage\r\nWARC/1.0\r\nnot a header\r\n\r\n"), f[o[4]:]}, nil)
		}, want: []want{{sev: Error, record: 4, noID: true, msg: "expected a WARC version line, found \"<html>garbage\"; the next record found at offset"}}},
	}
}

func hexSum(h hash.Hash, s string) string {
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Sum(s string) []byte { sum := sha256.Sum256([]byte(s)); return sum[:] }

// TestCorpus checks every file of the damaged corpus, rendered afresh with
// offsets, and as committed in testdata/damaged.
func TestCorpus(t *testing.T) {
	names := map[string]bool{}
	for _, d := range corpus(t) {
		names[d.name] = true
		t.Run(d.name, func(t *testing.T) {
			file, offsets := d.render(t)
			wants := append([]want(nil), d.want...)
			undamaged, _ := damage{specs: d.specs, join: d.join, plain: d.plain}.render(t)
			for i := range wants {
				if wants[i].offset == endOfFile {
					wants[i].offset = int64(len(undamaged))
				}
			}
			path := filepath.Join(t.TempDir(), d.name)
			writeFile(t, path, file)
			rep := verifyFile(t, path)
			if rep.Files[0].Bytes != int64(len(file)) {
				t.Errorf("read %d bytes of %d", rep.Files[0].Bytes, len(file))
			}
			checkFindings(t, rep.Files[0].Findings, wants, offsets)
			if want := len(d.specs); len(d.want) == 0 && rep.Records != want {
				t.Errorf("records = %d, want %d", rep.Records, want)
			}

			committed := filepath.Join("..", "testdata", "damaged", d.name)
			if _, err := os.Stat(committed); err != nil {
				t.Fatalf("%v (go test ./verify -run Fixtures -fixtures writes it)", err)
			}
			rep = verifyFile(t, committed)
			checkFindings(t, rep.Files[0].Findings, wants, nil)
		})
	}
	entries, _ := os.ReadDir(filepath.Join("..", "testdata", "damaged"))
	for _, e := range entries {
		if n := e.Name(); strings.Contains(n, ".warc") && !names[n] {
			t.Errorf("testdata/damaged/%s has no entry in the corpus table", n)
		}
	}
}

func TestPathsErrors(t *testing.T) {
	_, err := Paths(context.Background(), []string{filepath.Join(t.TempDir(), "nope.warc.gz")}, Options{})
	var pe *PathError
	if !errors.As(err, &pe) || !errors.Is(err, ErrNoSuchPath) {
		t.Errorf("missing path: err = %v, want a *PathError wrapping ErrNoSuchPath", err)
	}
	_, err = Paths(context.Background(), []string{t.TempDir()}, Options{})
	if !errors.Is(err, ErrNothingToVerify) {
		t.Errorf("empty dir: err = %v, want ErrNothingToVerify", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	file, _ := build(t, goodSpecs(t), nil)
	writeFile(t, filepath.Join(dir, "a.warc.gz"), file)
	if _, err := Paths(ctx, []string{dir}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

// TestOrder checks that results come in path order, names sorted, whatever
// the parallelism.
func TestOrder(t *testing.T) {
	dir := t.TempDir()
	good, _ := build(t, goodSpecs(t), nil)
	for _, name := range []string{"c.warc.gz", "a.warc.gz", "b.warc", "notes.txt"} {
		writeFile(t, filepath.Join(dir, name), good)
	}
	for _, jobs := range []int{1, 3} {
		rep, err := Paths(context.Background(), []string{filepath.Join(dir, "c.warc.gz"), dir}, Options{Jobs: jobs})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range rep.Files {
			names = append(names, filepath.Base(f.File))
		}
		if got := strings.Join(names, " "); got != "c.warc.gz a.warc.gz b.warc c.warc.gz" {
			t.Errorf("jobs %d: order = %s", jobs, got)
		}
		if rep.Records != 4*7 || rep.Errors != 0 || rep.Warnings != 0 { // b.warc is gzip data named .warc: fine
			t.Errorf("jobs %d: report = %+v", jobs, rep)
		}
	}
}

// TestRevisitAcrossFiles looks up a revisit's original in another file.
func TestRevisitAcrossFiles(t *testing.T) {
	specs := goodSpecs(t)
	dir := t.TempDir()
	first, _ := build(t, specs[:5], nil)
	second, _ := build(t, []spec{specs[0], specs[5]}, nil)
	writeFile(t, filepath.Join(dir, "1.warc.gz"), first)
	writeFile(t, filepath.Join(dir, "2.warc.gz"), second)
	rep, err := Paths(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Warnings != 0 || rep.Errors != 0 {
		t.Errorf("both files: %d errors, %d warnings:\n%s", rep.Errors, rep.Warnings, dump(rep.Files[1].Findings))
	}
	rep = verifyFile(t, filepath.Join(dir, "2.warc.gz"))
	checkFindings(t, rep.Files[0].Findings, []want{{sev: Warning, record: 1, msg: "the record it stands for is not found in the checked files"}},
		[]int64{0, int64(len(gzipBytes(t, specs[0].render(0))))})
}

// collectionFiles are the files of a test collection, as amber lays it out.
const (
	warcName = "archive/amber-20240506070809-00001-host.warc.gz"
	cdxjName = "indexes/index.cdxj"
)

// collection writes a collection like amber's: a WARC file, its CDXJ index
// (from warc.IndexWARC), pages, a log, the crawl state, and a
// datapackage.json listing them.
func collection(t *testing.T) (dir string, offsets []int64) {
	dir = t.TempDir()
	good, offsets := build(t, goodSpecs(t), nil)
	writeFile(t, filepath.Join(dir, warcName), good)
	lines, err := warc.IndexWARC(filepath.Join(dir, warcName))
	if err != nil {
		t.Fatal(err)
	}
	warc.SortCDXJ(lines)
	var index strings.Builder
	for _, l := range lines {
		index.WriteString(l.String() + "\n")
	}
	writeFile(t, filepath.Join(dir, cdxjName), []byte(index.String()))
	writeFile(t, filepath.Join(dir, "pages/pages.jsonl"), []byte("{\"format\": \"json-pages-1.0\"}\n"))
	writeFile(t, filepath.Join(dir, "logs/crawl-1.jsonl"), []byte("{}\n"))
	writeFile(t, filepath.Join(dir, "state/crawl.db"), []byte("never listed, never checked"))
	writeFile(t, filepath.Join(dir, "state/spool/block-1"), []byte("partial"))
	writeManifest(t, dir, warcName, cdxjName, "pages/pages.jsonl", "logs/crawl-1.jsonl")
	return dir, offsets
}

// writeManifest lists files in datapackage.json with their sizes and hashes
// as they are now.
func writeManifest(t *testing.T, dir string, files ...string) {
	var resources []any
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		resources = append(resources, map[string]any{"name": filepath.Base(name), "path": name, "hash": "sha256:" + hex.EncodeToString(sum[:]), "bytes": len(b)})
	}
	b, err := json.MarshalIndent(map[string]any{"profile": "data-package", "wacz_version": "1.1.1", "resources": resources}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "datapackage.json"), b)
}

var allListed = []string{warcName, cdxjName, "pages/pages.jsonl", "logs/crawl-1.jsonl"}

// editIndex rewrites the CDXJ index line by line, then the manifest, so
// only the index's content is wrong.
func editIndex(t *testing.T, dir string, edit func(lines []string) []string) {
	p := filepath.Join(dir, cdxjName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := edit(strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"))
	writeFile(t, p, []byte(strings.Join(lines, "\n")+"\n"))
	writeManifest(t, dir, allListed...)
}

func lineFor(t *testing.T, lines []string, url string) int {
	for i, l := range lines {
		if strings.Contains(l, `"url": "`+url+`"`) {
			return i
		}
	}
	t.Fatalf("no line for %s", url)
	return -1
}

func TestVerifyCollection(t *testing.T) {
	type fileWant struct {
		file string // relative to the collection
		sev  Severity
		msg  string
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string, offsets []int64)
		want  []fileWant
	}{
		{"clean", func(*testing.T, string, []int64) {}, nil},
		{"changed byte in a closed WARC", func(t *testing.T, dir string, o []int64) {
			p := filepath.Join(dir, warcName)
			b, _ := os.ReadFile(p)
			b[o[5]-20] ^= 0x20 // in the stored member of record 4
			writeFile(t, p, b)
		}, []fileWant{
			{warcName, Error, "block digest mismatch"},
			{warcName, Error, "payload digest mismatch"},
			{warcName, Error, "CRC-32"},
			{warcName, Error, "the file changed since it was packaged"},
		}},
		{"byte added to a WARC", func(t *testing.T, dir string, _ []int64) {
			p := filepath.Join(dir, warcName)
			b, _ := os.ReadFile(p)
			writeFile(t, p, append(b, 0))
		}, []fileWant{
			{warcName, Error, "zero padding"},
			{warcName, Error, "datapackage.json says"},
			{warcName, Error, "the file changed"},
		}},
		{"deleted WARC", func(t *testing.T, dir string, _ []int64) {
			os.Remove(filepath.Join(dir, warcName))
		}, []fileWant{
			{warcName, Error, "listed in datapackage.json but missing"},
			{"datapackage.json", Warning, "no WARC files in archive/"},
			{cdxjName, Error, "which is not a WARC file in archive/"},
			{cdxjName, Error, "which is not a WARC file in archive/"},
			{cdxjName, Error, "which is not a WARC file in archive/"},
			{cdxjName, Error, "which is not a WARC file in archive/"},
			{cdxjName, Error, "which is not a WARC file in archive/"},
		}},
		{"deleted pages", func(t *testing.T, dir string, _ []int64) {
			os.Remove(filepath.Join(dir, "pages", "pages.jsonl"))
		}, []fileWant{{"pages/pages.jsonl", Error, "missing"}}},
		{"extra WARC", func(t *testing.T, dir string, _ []int64) {
			b, _ := os.ReadFile(filepath.Join(dir, warcName))
			writeFile(t, filepath.Join(dir, "archive", "amber-20240507000000-00002-host.warc.gz"), b)
		}, []fileWant{
			{"archive/amber-20240507000000-00002-host.warc.gz", Error, "not listed in datapackage.json"},
			{"archive/amber-20240507000000-00002-host.warc.gz", Error, "no line in indexes/index.cdxj for this response record"},
			{"archive/amber-20240507000000-00002-host.warc.gz", Error, "no line in indexes/index.cdxj for this response record"},
			{"archive/amber-20240507000000-00002-host.warc.gz", Error, "no line in indexes/index.cdxj for this response record"},
			{"archive/amber-20240507000000-00002-host.warc.gz", Error, "no line in indexes/index.cdxj for this revisit record"},
		}},
		{"extra file in indexes", func(t *testing.T, dir string, _ []int64) {
			writeFile(t, filepath.Join(dir, "indexes", "notes.txt"), []byte("x"))
		}, []fileWant{{"indexes/notes.txt", Error, "not listed"}}},
		{"CDXJ line with a wrong offset", func(t *testing.T, dir string, o []int64) {
			editIndex(t, dir, func(lines []string) []string {
				i := lineFor(t, lines, "http://example.com/t.txt")
				lines[i] = strings.Replace(lines[i], fmt.Sprintf(`"offset": "%d"`, o[3]), fmt.Sprintf(`"offset": "%d"`, o[3]+7), 1)
				return lines
			})
		}, []fileWant{
			{cdxjName, Error, fmt.Sprintf("no response, revisit, resource or metadata record starts (wrong offset?); the nearest start at %d and %d", 0, 0)},
			{warcName, Error, "no line in indexes/index.cdxj for this response record"},
		}},
		{"CDXJ line with a wrong length", func(t *testing.T, dir string, _ []int64) {
			editIndex(t, dir, func(lines []string) []string {
				i := lineFor(t, lines, "http://example.com/r.txt")
				lines[i] = strings.Replace(lines[i], `"length": "`, `"length": "1`, 1)
				return lines
			})
		}, []fileWant{{cdxjName, Error, "but the record at offset"}}},
		{"CDXJ line with a wrong digest and date", func(t *testing.T, dir string, _ []int64) {
			editIndex(t, dir, func(lines []string) []string {
				i := lineFor(t, lines, "http://example.com/s.css")
				lines[i] = strings.Replace(lines[i], "20240506070809", "20240506070810", 1)
				lines[i] = strings.Replace(lines[i], `"digest": "`, `"digest": "A`, 1)
				return lines
			})
		}, []fileWant{{cdxjName, Error, "timestamp 20240506070810 where the record has WARC-Date 2024-05-06T07:08:09Z, digest A"}}},
		{"CDXJ lines out of order", func(t *testing.T, dir string, _ []int64) {
			editIndex(t, dir, func(lines []string) []string {
				lines[0], lines[len(lines)-1] = lines[len(lines)-1], lines[0]
				return lines
			})
		}, []fileWant{{cdxjName, Error, "line 2 sorts before the line above it (2 lines out of order)"}}},
		{"CDXJ line missing", func(t *testing.T, dir string, _ []int64) {
			editIndex(t, dir, func(lines []string) []string {
				i := lineFor(t, lines, "http://example.com/t.txt")
				return append(lines[:i], lines[i+1:]...)
			})
		}, []fileWant{{warcName, Error, "no line in indexes/index.cdxj for this response record"}}},
		{"CDXJ line for another file", func(t *testing.T, dir string, _ []int64) {
			editIndex(t, dir, func(lines []string) []string {
				return append(lines, strings.ReplaceAll(lines[len(lines)-1], "00001-host", "00009-host"))
			})
		}, []fileWant{{cdxjName, Error, "amber-20240506070809-00009-host.warc.gz, which is not a WARC file in archive/"}}},
		{"malformed CDXJ line", func(t *testing.T, dir string, _ []int64) {
			editIndex(t, dir, func(lines []string) []string { return append(lines, "zzz 2024 {not json") })
		}, []fileWant{{cdxjName, Error, "line 6 is malformed"}}},
		{"no index", func(t *testing.T, dir string, _ []int64) {
			os.Remove(filepath.Join(dir, cdxjName))
			writeManifest(t, dir, warcName, "pages/pages.jsonl", "logs/crawl-1.jsonl")
		}, []fileWant{{cdxjName, Error, "no CDXJ index in indexes/: a replay tool cannot find the 4 responses and revisits of 1 WARC files"}}},
		{"size mismatch", func(t *testing.T, dir string, _ []int64) {
			b, _ := os.ReadFile(filepath.Join(dir, "datapackage.json"))
			writeFile(t, filepath.Join(dir, "datapackage.json"), bytes.Replace(b, []byte(`"bytes": 3`), []byte(`"bytes": 5`), 1))
		}, []fileWant{{"logs/crawl-1.jsonl", Error, "size is 3 bytes, datapackage.json says 5"}}},
		{"hash mismatch", func(t *testing.T, dir string, _ []int64) {
			writeFile(t, filepath.Join(dir, "pages", "pages.jsonl"), []byte("{\"format\": \"json-pages-1.1\"}\n"))
		}, []fileWant{{"pages/pages.jsonl", Error, "the file changed"}}},
		{"leftover open file", func(t *testing.T, dir string, _ []int64) {
			writeFile(t, filepath.Join(dir, "archive", "amber-20240507000000-00002-host.warc.gz.open"), []byte("partial"))
		}, []fileWant{{"archive/amber-20240507000000-00002-host.warc.gz.open", Warning, "leftover open WARC file"}}},
		{"leftover temporary file", func(t *testing.T, dir string, _ []int64) {
			writeFile(t, filepath.Join(dir, "indexes", ".index.cdxj.tmp123"), []byte("partial"))
		}, []fileWant{{"indexes/.index.cdxj.tmp123", Warning, "leftover temporary file"}}},
		{"bad manifest", func(t *testing.T, dir string, _ []int64) {
			writeFile(t, filepath.Join(dir, "datapackage.json"), []byte("{"))
		}, []fileWant{{"datapackage.json", Error, "not valid JSON"}}},
		{"no manifest", func(t *testing.T, dir string, _ []int64) {
			os.Remove(filepath.Join(dir, "datapackage.json"))
		}, []fileWant{{"datapackage.json", Warning, "no datapackage.json"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, offsets := collection(t)
			for i := range tt.want {
				// The nearest records around offset 3 + 7: records 3 and 4.
				tt.want[i].msg = strings.Replace(tt.want[i].msg, "start at 0 and 0", fmt.Sprintf("start at %d and %d", offsets[3], offsets[4]), 1)
			}
			tt.setup(t, dir, offsets)
			rep, err := Paths(context.Background(), []string{dir}, Options{Jobs: 2})
			if err != nil {
				t.Fatal(err)
			}
			var got []Finding
			for _, f := range rep.Files {
				got = append(got, f.Findings...)
				if strings.Contains(f.File, "state") {
					t.Errorf("state/ checked: %s", f.File)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.File != filepath.Join(dir, filepath.FromSlash(w.file)) || g.Severity != w.sev || !strings.Contains(g.Message, w.msg) {
					t.Errorf("finding %d = %+v, want %+v", i, g, w)
				}
			}
			if len(tt.want) == 0 && rep.Records != 7 {
				t.Errorf("records = %d, want 7", rep.Records)
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	rep := &Report{Files: []FileSummary{{File: "a", Kind: "warc", Bytes: 2e6, Duration: 1e9,
		Findings: []Finding{{Severity: Warning, File: "a", Offset: 3, Message: "m"}}}}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"severity":"warning"`, `"mbPerSecond":2`, `"kind":"warc"`, `"mbPerSecond":0`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

var fixtures = flag.Bool("fixtures", false, "rewrite the WARC files in testdata/damaged")

// TestWriteFixtures writes the damaged corpus to testdata/damaged, for
// TestCorpus, the CLI script tests and the reader's fuzz test:
// go test ./verify -run Fixtures -fixtures.
func TestWriteFixtures(t *testing.T) {
	if !*fixtures {
		t.Skip("run with -fixtures to rewrite testdata/damaged")
	}
	dir := filepath.Join("..", "testdata", "damaged")
	old, _ := filepath.Glob(filepath.Join(dir, "*.warc*"))
	for _, f := range old {
		os.Remove(f)
	}
	var table strings.Builder
	for _, d := range corpus(t) {
		file, offsets := d.render(t)
		writeFile(t, filepath.Join(dir, d.name), file)
		expect := "no findings"
		if len(d.want) > 0 {
			var ws []string
			for _, w := range d.want {
				where := ""
				if w.record >= 0 && w.record < len(offsets) {
					where = fmt.Sprintf(" (offset %d)", offsets[w.record])
				}
				ws = append(ws, fmt.Sprintf("%s: %s%s", w.sev, w.msg, where))
			}
			expect = strings.Join(ws, "; ")
		}
		fmt.Fprintf(&table, "| %s | %s |\n", d.name, strings.ReplaceAll(expect, "|", "\\|"))
	}
	readme := "Small WARC files for `amber verify` tests, one per kind of damage, each\n" +
		"named after what is wrong with it. Written by\n" +
		"`go test ./verify -run Fixtures -fixtures` from the table in\n" +
		"verify/verify_test.go (func corpus), which also holds the findings each must\n" +
		"produce; TestCorpus checks them. The undamaged base is a small capture:\n" +
		"warcinfo, request, response, chunked response, gzip-encoded response (its\n" +
		"member stored, as amber stores incompressible bodies), revisit, resource;\n" +
		"one gzip member per record. Every file here also seeds `FuzzReader`.\n\n" +
		"| file | expected findings |\n|---|---|\n" + table.String()
	writeFile(t, filepath.Join(dir, "README.md"), []byte(readme))
}

// TestPayloadDigestsAsTransmitted checks a file whose writer took every
// chunked payload digest over the bytes as transmitted (wget): the first
// is found by reading the record again, the others by hashing them so from
// then on; each is one warning.
func TestPayloadDigestsAsTransmitted(t *testing.T) {
	specs := goodSpecs(t)
	chunkedResp := specs[3]
	_, body, _ := strings.Cut(chunkedResp.block, "\r\n\r\n")
	chunkedResp.payload = ptr(body)
	all := []spec{specs[0], chunkedResp, chunkedResp, specs[2], chunkedResp}
	all[2].uri, all[4].uri = "http://example.com/2.txt", "http://example.com/3.txt"
	for _, join := range []map[int]bool{nil, {2: true}} {
		file, offsets := build(t, all, join)
		path := filepath.Join(t.TempDir(), "wget.warc.gz")
		writeFile(t, path, file)
		rep := verifyFile(t, path)
		wants := []want{
			{sev: Warning, record: 1, msg: "chunk framing included"},
			{sev: Warning, record: 2, msg: "chunk framing included"},
			{sev: Warning, record: 4, msg: "chunk framing included"},
		}
		if join != nil {
			wants = append([]want{{sev: Warning, record: 1, msg: "share the gzip member"}}, wants...)
		}
		checkFindings(t, rep.Files[0].Findings, wants, offsets)
	}
}
