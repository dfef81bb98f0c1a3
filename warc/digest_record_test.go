package warc

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseDigestForms(t *testing.T) {
	data := []byte("hello")
	s1, s256, s512, m5 := sha1.Sum(data), sha256.Sum256(data), sha512.Sum512(data), md5.Sum(data)
	b32 := func(b []byte) string { return base32.StdEncoding.EncodeToString(b) }
	tests := []struct {
		in  string
		alg string
		sum []byte
		err error
	}{
		{"sha1:" + b32(s1[:]), "sha1", s1[:], nil},
		{"SHA1:" + strings.ToLower(b32(s1[:])), "sha1", s1[:], nil},
		{"SHA-1:" + b32(s1[:]), "sha1", s1[:], nil},
		{"sha-1:" + hex.EncodeToString(s1[:]), "sha1", s1[:], nil},
		{"Sha1:" + strings.ToUpper(hex.EncodeToString(s1[:])), "sha1", s1[:], nil},
		{" sha1:" + b32(s1[:]) + " ", "sha1", s1[:], nil},
		{"sha256:" + hex.EncodeToString(s256[:]), "sha256", s256[:], nil},
		{"SHA-256:" + b32(s256[:]), "sha256", s256[:], nil},
		{"sha256:" + strings.TrimRight(b32(s256[:]), "="), "sha256", s256[:], nil},
		{"sha512:" + hex.EncodeToString(s512[:]), "sha512", s512[:], nil},
		{"SHA-512:" + strings.ToLower(strings.TrimRight(b32(s512[:]), "=")), "sha512", s512[:], nil},
		{"md5:" + hex.EncodeToString(m5[:]), "md5", m5[:], nil},
		{"MD5:" + b32(m5[:]), "md5", m5[:], nil},
		{"md5:" + strings.TrimRight(b32(m5[:]), "="), "md5", m5[:], nil},
		{"sha1:NOTBASE32", "", nil, ErrMalformedDigest},
		{"sha1:" + b32(s1[:])[:31], "", nil, ErrMalformedDigest},
		{"sha1:" + hex.EncodeToString(s256[:]), "", nil, ErrMalformedDigest},
		{"sha256:abcdef", "", nil, ErrMalformedDigest},
		{"sha1:", "", nil, ErrMalformedDigest},
		{"nocolon", "", nil, ErrMalformedDigest},
		{"blake9:abcd", "", nil, ErrUnknownAlgorithm},
		{"sha3-256:abcd", "", nil, ErrUnknownAlgorithm},
	}
	for _, tt := range tests {
		d, err := ParseDigest(tt.in)
		if !errors.Is(err, tt.err) || err == nil && (d.Algorithm != tt.alg || string(d.Sum) != string(tt.sum)) {
			t.Errorf("ParseDigest(%q) = %v, %v; want %s, %v", tt.in, d, err, tt.alg, tt.err)
		}
	}
}

// digestOf renders sum the way amber writes digests.
func digestOf(alg, s string) string {
	h, _ := NewHash(alg)
	h.Write([]byte(s))
	return FormatDigest(alg, h.Sum(nil))
}

func httpHeader(typ, block, payload string, extra ...string) Header {
	h := Header{{"WARC-Type", typ}, {"Content-Type", "application/http; msgtype=response"},
		{"WARC-Block-Digest", digestOf("sha1", block)}, {"WARC-Payload-Digest", digestOf("sha1", payload)}}
	for i := 0; i+1 < len(extra); i += 2 {
		h = append(h, Field{extra[i], extra[i+1]})
	}
	return h
}

// TestRecordDigester feeds blocks in every split: whole, byte by byte, and
// cut in two at every position (the HTTP head straddling two writes).
func TestRecordDigester(t *testing.T) {
	body := "<html>hello</html>"
	head := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n", len(body))
	chunkedHead := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	chunks := "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
	tests := []struct {
		name    string
		h       Header
		block   string
		block0  DigestStatus
		payload DigestStatus
	}{
		{"response", httpHeader("response", head+body, body), head + body, DigestMatch, DigestMatch},
		{"LF head", httpHeader("response", "HTTP/1.1 200 OK\nX: y\n\n"+body, body), "HTTP/1.1 200 OK\nX: y\n\n" + body, DigestMatch, DigestMatch},
		{"chunked", httpHeader("response", chunkedHead+chunks, "hello world"), chunkedHead + chunks, DigestMatch, DigestMatch},
		{"chunked as transmitted", httpHeader("response", chunkedHead+chunks, chunks), chunkedHead + chunks, DigestMatch, DigestDeviation},
		{"chunked cut short", httpHeader("response", chunkedHead+"5\r\nhello\r\n6\r\n wo", "hello wo", "WARC-Truncated", "length"),
			chunkedHead + "5\r\nhello\r\n6\r\n wo", DigestMatch, DigestMatch},
		{"Content-Length cut short", httpHeader("response", head+body[:5], body[:5], "WARC-Truncated", "length"), head + body[:5], DigestMatch, DigestMatch},
		{"bytes after Content-Length", httpHeader("response", head+body+"XX", body), head + body + "XX", DigestMatch, DigestMatch},
		{"digest over bytes after Content-Length", httpHeader("response", head+body+"XX", body+"XX"), head + body + "XX", DigestMatch, DigestDeviation},
		{"100 Continue", httpHeader("response", "HTTP/1.1 100 Continue\r\n\r\n"+head+body, body), "HTTP/1.1 100 Continue\r\n\r\n" + head + body, DigestMatch, DigestMatch},
		{"no body", httpHeader("response", "HTTP/1.1 304 Not Modified\r\n\r\n", ""), "HTTP/1.1 304 Not Modified\r\n\r\n", DigestMatch, DigestMatch},
		{"wrong payload", httpHeader("response", head+body, "other"), head + body, DigestMatch, DigestMismatch},
		// Old crawlers stored bodies de-chunked under the chunked head:
		// hashed as stored, a match is a deviation naming the mismatch.
		{"chunked head, de-chunked body", httpHeader("response", chunkedHead+body, body), chunkedHead + body, DigestMatch, DigestDeviation},
		{"chunked head, long de-chunked body", httpHeader("response", chunkedHead+strings.Repeat(body, 9), strings.Repeat(body, 9)),
			chunkedHead + strings.Repeat(body, 9), DigestMatch, DigestDeviation},
		{"chunked head, de-chunked body, wrong digest", httpHeader("response", chunkedHead+body, "other"), chunkedHead + body, DigestMatch, DigestMismatch},
		{"chunked head, empty body", httpHeader("response", chunkedHead, ""), chunkedHead, DigestMatch, DigestMatch},
		// An invalid Content-Length in the head bounds nothing: the
		// payload is every byte after the head.
		{"Content-Length -1", httpHeader("response", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"+body, body),
			"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n" + body, DigestMatch, DigestMatch},
		{"Content-Length garbage", httpHeader("response", "HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n"+body, body),
			"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n" + body, DigestMatch, DigestMatch},
		{"Content-Length +5", httpHeader("response", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"+body, body),
			"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n" + body, DigestMatch, DigestMatch},
		{"two Content-Lengths", httpHeader("response", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"+body, body),
			"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n" + body, DigestMatch, DigestMatch},
		{"wrong block", httpHeader("response", "other", body), head + body, DigestMismatch, DigestMatch},
		{"revisit", httpHeader("revisit", head, body), head, DigestMatch, DigestNotComputable},
		{"resource", Header{{"WARC-Type", "resource"}, {"WARC-Block-Digest", digestOf("sha1", body)}, {"WARC-Payload-Digest", digestOf("sha256", body)}},
			body, DigestMatch, DigestMatch},
		{"resource, same algorithm", Header{{"WARC-Type", "resource"}, {"WARC-Block-Digest", digestOf("sha1", body)}, {"WARC-Payload-Digest", digestOf("sha1", body)}},
			body, DigestMatch, DigestMatch},
		{"no digests", Header{{"WARC-Type", "resource"}}, body, DigestAbsent, DigestAbsent},
		{"malformed and unknown", Header{{"WARC-Type", "resource"}, {"WARC-Block-Digest", "sha1:xyz"}, {"WARC-Payload-Digest", "crc32:abcd"}},
			body, DigestMalformed, DigestUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			splits := [][]string{{tt.block}, strings.Split(tt.block, "")}
			for i := 1; i < len(tt.block); i++ {
				splits = append(splits, []string{tt.block[:i], tt.block[i:]})
			}
			for _, parts := range splits {
				d := NewRecordDigester(tt.h)
				for _, p := range parts {
					d.Write([]byte(p))
				}
				b, p := d.Block(), d.Payload()
				if b.Status != tt.block0 || p.Status != tt.payload {
					t.Fatalf("split %q: block %v, payload %v (%v, %s); want %v, %v", parts, b.Status, p.Status, p.Err, p.Computed, tt.block0, tt.payload)
				}
			}
		})
	}
}

// TestSegmentedPayload checks a payload digest over a record split in three
// segments, and a segment out of order.
func TestSegmentedPayload(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	msg := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	parts := []string{msg[:20], msg[20:70], msg[70:]}
	origin := Header{{"WARC-Type", "response"}, {"WARC-Record-ID", "<urn:x:1>"}, {"Content-Type", "application/http"},
		{"WARC-Segment-Number", "1"}, {"WARC-Block-Digest", digestOf("sha1", parts[0])}, {"WARC-Payload-Digest", digestOf("sha1", body)}}
	cont := func(n int, last bool) Header {
		h := Header{{"WARC-Type", "continuation"}, {"WARC-Segment-Origin-ID", "<urn:x:1>"}, {"WARC-Segment-Number", fmt.Sprint(n)},
			{"WARC-Block-Digest", digestOf("sha1", parts[n-1])}}
		if last {
			h = append(h, Field{"WARC-Segment-Total-Length", fmt.Sprint(len(msg))})
		}
		return h
	}
	d := NewRecordDigester(origin)
	d.Write([]byte(parts[0]))
	if p := d.Payload(); p.Status != DigestNotComputable || !d.Segmented() {
		t.Fatalf("origin payload %v, segmented %v", p.Status, d.Segmented())
	}
	if d.Continue(cont(3, true)) != nil {
		t.Fatal("segment 3 accepted after segment 1")
	}
	d2 := d.Continue(cont(2, false))
	d2.Write([]byte(parts[1]))
	if b := d2.Block(); b.Status != DigestMatch {
		t.Fatalf("segment 2 block %v", b.Status)
	}
	d3 := d2.Continue(cont(3, true))
	d3.Write([]byte(parts[2]))
	if b, p := d3.Block(), d3.Payload(); b.Status != DigestMatch || p.Status != DigestMatch || d3.Segmented() {
		t.Fatalf("last segment: block %v, payload %v (%s)", b.Status, p.Status, p.Computed)
	}
}

// TestEmptyBlockDigestOfRevisit: GNU Wget writes its revisit records with
// the block digest of an empty block, though the block holds the HTTP
// head. That is a deviation (the head cannot be checked, nothing is
// lost); on any other record, or over another block, it is a mismatch.
func TestEmptyBlockDigestOfRevisit(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n"
	empty := digestOf("sha1", "")
	tests := []struct {
		typ, block, digest string
		want               DigestStatus
	}{
		{TypeRevisit, head, empty, DigestDeviation},
		{TypeRevisit, head, digestOf("sha1", head), DigestMatch},
		{TypeRevisit, "", empty, DigestMatch},
		{TypeRevisit, head, digestOf("sha1", "other"), DigestMismatch},
		{TypeResponse, head, empty, DigestMismatch},
	}
	for _, tt := range tests {
		d := NewRecordDigester(Header{{Name: "WARC-Type", Value: tt.typ}, {Name: "Content-Type", Value: "application/http; msgtype=response"}, {Name: BlockDigestField, Value: tt.digest}})
		d.Write([]byte(tt.block))
		if c := d.Block(); c.Status != tt.want || tt.want == DigestDeviation && !strings.Contains(c.Note, "GNU Wget") {
			t.Errorf("%s of %d bytes with %s: %v (%q), want %v", tt.typ, len(tt.block), tt.digest, c.Status, c.Note, tt.want)
		}
	}
}
