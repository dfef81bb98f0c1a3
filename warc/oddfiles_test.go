package warc

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteOddFixtures writes the hand-built files of testdata/others that
// show one way other tools write WARC records, each named after it:
//
//	AMBER_ODD_FIXTURES=$PWD/testdata go test -run WriteOdd ./warc
//
// testdata/script/others.txtar holds what amber makes of each.
func TestWriteOddFixtures(t *testing.T) {
	dir := os.Getenv("AMBER_ODD_FIXTURES")
	if dir == "" {
		t.Skip("AMBER_ODD_FIXTURES not set")
	}
	for name, b := range oddFixtures() {
		if err := os.WriteFile(filepath.Join(dir, "others", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// oddRecord is a WARC/1.0 record as older tools wrote them: fields in
// the order given, the block as it is.
func oddRecord(n int, fields [][2]string, block string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "WARC/1.0\r\nWARC-Record-ID: <urn:uuid:0dd0dd00-0000-4000-8000-%012d>\r\nWARC-Date: 2011-03-04T05:06:07Z\r\n", n)
	for _, f := range fields {
		fmt.Fprintf(&b, "%s: %s\r\n", f[0], f[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s\r\n\r\n", len(block), block)
	return b.Bytes()
}

func oddFixtures() map[string][]byte {
	// digests-encodings.warc: the same kind of response with its digests
	// in every encoding and label the annotated WARC specification asks
	// readers to accept. The bodies are picked so that their base64 holds
	// '+' or '/' (and base64url '-' or '_').
	var enc bytes.Buffer
	type form struct {
		name string
		f    func(alg string, sum []byte) string
	}
	forms := []form{
		{"base32", func(alg string, s []byte) string { return alg + ":" + base32.StdEncoding.EncodeToString(s) }},
		{"base32-lower", func(alg string, s []byte) string {
			return alg + ":" + strings.ToLower(base32.StdEncoding.EncodeToString(s))
		}},
		{"hex", func(alg string, s []byte) string { return alg + ":" + hex.EncodeToString(s) }},
		{"base64", func(alg string, s []byte) string { return alg + ":" + base64.StdEncoding.EncodeToString(s) }},
		{"base64url", func(alg string, s []byte) string { return alg + ":" + base64.RawURLEncoding.EncodeToString(s) }},
		{"label-SHA1", func(_ string, s []byte) string { return "SHA1:" + base32.StdEncoding.EncodeToString(s) }},
		{"label-sha-1", func(_ string, s []byte) string { return "sha-1:" + base32.StdEncoding.EncodeToString(s) }},
		{"sha256-base64", nil},
	}
	for i, fm := range forms {
		var body string
		for j := 0; ; j++ {
			body = fmt.Sprintf("<p>digest written as %s (%d)</p>", fm.name, j)
			s := sha1.Sum([]byte(body))
			if b := base64.StdEncoding.EncodeToString(s[:]); strings.ContainsAny(b, "+/") {
				break
			}
		}
		block := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
		var bd, pd string
		if fm.f == nil {
			bs, ps := sha256.Sum256([]byte(block)), sha256.Sum256([]byte(body))
			bd, pd = "sha256:"+base64.StdEncoding.EncodeToString(bs[:]), "sha256:"+base64.StdEncoding.EncodeToString(ps[:])
		} else {
			bs, ps := sha1.Sum([]byte(block)), sha1.Sum([]byte(body))
			bd, pd = fm.f("sha1", bs[:]), fm.f("sha1", ps[:])
		}
		enc.Write(oddRecord(i+1, [][2]string{{"WARC-Type", "response"}, {"WARC-Target-URI", "http://example.com/" + fm.name},
			{"Content-Type", "application/http; msgtype=response"}, {"WARC-Block-Digest", bd}, {"WARC-Payload-Digest", pd}}, block))
	}

	// metadata-no-target-uri.warc: a metadata record that names no URI (a
	// crawl log, as Heritrix and others write them) between two responses:
	// valid, but with no key it gets no index line.
	var meta bytes.Buffer
	page := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
	meta.Write(oddRecord(1, [][2]string{{"WARC-Type", "response"}, {"WARC-Target-URI", "http://example.com/before"}, {"Content-Type", "application/http; msgtype=response"}}, page))
	meta.Write(oddRecord(2, [][2]string{{"WARC-Type", "metadata"}, {"Content-Type", "text/plain"}}, "2011-03-04T05:06:07Z 200 2 http://example.com/before\n"))
	meta.Write(oddRecord(3, [][2]string{{"WARC-Type", "response"}, {"WARC-Target-URI", "http://example.com/after"}, {"Content-Type", "application/http; msgtype=response"}}, page))

	// file-url-space.warc: a resource with a file: URL holding spaces, as
	// tools archiving local files write it (unescaped): its key has them
	// percent-encoded, so the CDXJ line still splits in three.
	doc := "a local document\n"
	s := sha1.Sum([]byte(doc))
	file := oddRecord(1, [][2]string{{"WARC-Type", "resource"}, {"WARC-Target-URI", "file:///home/ana/My Documents/notes 2011.txt"},
		{"Content-Type", "text/plain"}, {"WARC-Block-Digest", "sha1:" + base32.StdEncoding.EncodeToString(s[:])}}, doc)

	return map[string][]byte{
		"digests-encodings.warc":      enc.Bytes(),
		"metadata-no-target-uri.warc": meta.Bytes(),
		"file-url-space.warc":         file,
	}
}
