package warc

import (
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// indexBytes indexes a WARC file held in b.
func indexBytes(t *testing.T, b []byte) []CDXJLine {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.warc")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := IndexWARC(p)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestIndexPOST: a response and the POST request it answers, in either
// order, are keyed with the request body folded in, and the line carries
// method and requestBody, as warcio.js writes them; a GET pair and a
// request of another URL leave the key alone.
func TestIndexPOST(t *testing.T) {
	const u = "https://example.com/api?x=1"
	resp := rawRecord("r", "response", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}",
		"WARC-Target-URI", u, "Content-Type", "application/http; msgtype=response")
	post := rawRecord("q", "request", "POST /api?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nb=2&a=1",
		"WARC-Target-URI", u, "Content-Type", "application/http; msgtype=request")
	get := rawRecord("g", "request", "GET /api?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"WARC-Target-URI", u, "Content-Type", "application/http; msgtype=request")
	other := rawRecord("o", "request", "POST /other HTTP/1.1\r\nContent-Type: text/plain\r\n\r\nhi",
		"WARC-Target-URI", "https://example.com/other", "Content-Type", "application/http; msgtype=request")
	const postKey = "com,example)/api?__wb_method=post&a=1&b=2&x=1"
	for _, tt := range []struct {
		name    string
		records [][]byte
		key     string
		method  string
	}{
		{"response then request", [][]byte{resp, post}, postKey, "POST"},
		{"request then response", [][]byte{post, resp}, postKey, "POST"},
		{"GET", [][]byte{get, resp}, "com,example)/api?x=1", ""},
		{"request of another URL", [][]byte{other, resp}, "com,example)/api?x=1", ""},
		{"alone", [][]byte{resp}, "com,example)/api?x=1", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lines := indexBytes(t, bytes.Join(tt.records, nil))
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1: %v", len(lines), lines)
			}
			l := lines[0]
			if l.Key != tt.key || l.Method != tt.method || SURT(l.LookupURL()) != tt.key {
				t.Errorf("line %s: key %s method %q, want %s %q", l, l.Key, l.Method, tt.key, tt.method)
			}
			if tt.method != "" && !strings.HasSuffix(l.String(), `"filename": "t.warc", "method": "POST", "requestBody": "b=2&a=1"}`) {
				t.Errorf("line %s lacks method and requestBody after filename", l)
			}
			back, err := ParseCDXJLine(l.String())
			if err != nil || back.Method != l.Method || back.RequestBody != l.RequestBody {
				t.Errorf("parsed back: %+v, %v", back, err)
			}
		})
	}
}

// TestIndexSelection: records without a target URI get no line (they
// have no key); a resource without a payload digest is indexed with its
// block digest, or the SHA-1 of its block if it has none; sha1 digests
// are written bare in upper-case base32 whatever their encoding, others
// keep their label.
func TestIndexSelection(t *testing.T) {
	body := "some bytes"
	sum := sha1.Sum([]byte(body))
	b32 := base32.StdEncoding.EncodeToString(sum[:])
	lines := indexBytes(t, bytes.Join([][]byte{
		rawRecord("1", "resource", body, "Content-Type", "text/plain"),
		rawRecord("2", "resource", body, "WARC-Target-URI", "urn:test:computed", "Content-Type", "text/plain"),
		rawRecord("3", "resource", body, "WARC-Target-URI", "urn:test:block", "Content-Type", "text/plain", "WARC-Block-Digest", "sha1:"+b32),
		rawRecord("4", "resource", body, "WARC-Target-URI", "urn:test:base64", "Content-Type", "text/plain",
			"WARC-Payload-Digest", "sha1:"+base64.StdEncoding.EncodeToString(sum[:])),
		rawRecord("5", "resource", body, "WARC-Target-URI", "urn:test:sha256", "Content-Type", "text/plain",
			"WARC-Payload-Digest", "sha256:0000000000000000000000000000000000000000000000000000000000000000"),
		rawRecord("6", "response", "HTTP/1.1 200 OK\r\n\r\n", "Content-Type", "application/http; msgtype=response"),
	}, nil))
	want := map[string]string{
		"urn:test:computed": b32,
		"urn:test:block":    b32,
		"urn:test:base64":   b32,
		"urn:test:sha256":   "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %v", len(lines), len(want), lines)
	}
	for _, l := range lines {
		if l.Digest != want[l.URL] {
			t.Errorf("%s: digest %q, want %q", l.URL, l.Digest, want[l.URL])
		}
	}
}

// TestSURTOtherSchemes: keys of other schemes as Python's surt makes them
// for pywb, and never a space or control character in any key.
func TestSURTOtherSchemes(t *testing.T) {
	for in, want := range map[string]string{
		"dns:Example.com":                     "dns:example.com",
		"file:///tmp/a b.html":                "file:/tmp/a%20b.html",
		"file:///C:/Docs/Report%201.PDF":      "file:/c:/docs/report%201.pdf",
		"urn:uuid:AbC-1":                      "urn:uuid:abc-1",
		"urn:pageinfo:http://example.com/":    "urn:pageinfo:http://example.com/",
		"mailto:Bot@Example.org":              "mailto:bot@example.org",
		"whois://whois.isoc.org.il/shaveh.il": "il,org,isoc,whois)/shaveh.il",
		"metadata://gnu.org/software/x.txt":   "org,gnu)/software/x.txt",
		"warcinfo:foo.warc.gz":                "warcinfo:foo.warc.gz",
		"no scheme at all\x01":                "no%20scheme%20at%20all%01",
		"http://example.com:80 80/":           "com,example:80%2080)/",
	} {
		if got := SURT(in); got != want {
			t.Errorf("SURT(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSURTKey(f *testing.F) {
	for _, s := range []string{"http://a b/c d?e f", "file:///x y", "dns:a\tb", "x\ny", "https://h:1 2/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		k := SURT(u)
		for i := 0; i < len(k); i++ {
			if k[i] <= 0x20 || k[i] == 0x7f {
				t.Fatalf("SURT(%q) = %q holds byte %#x", u, k, k[i])
			}
		}
		l := CDXJLine{Key: k, Timestamp: "20240506070809", URL: u, Filename: "f"}
		if _, err := ParseCDXJLine(l.String()); err != nil {
			t.Fatalf("line of %q does not parse: %v", u, err)
		}
	})
}

// TestIndexerSkipsDamagedMember: the Indexer reports a damaged gzip member
// as a SkippedError and gives the lines after it.
func TestIndexerSkipsDamagedMember(t *testing.T) {
	rec := func(id, u string) []byte {
		return gzipMember(t, rawRecord(id, "resource", "x", "WARC-Target-URI", u, "Content-Type", "text/plain"))
	}
	bad := rec("2", "urn:b")
	bad[len(bad)-5] ^= 0xff // the CRC
	r, err := OpenRecords(bytes.NewReader(bytes.Join([][]byte{rec("1", "urn:a"), bad, rec("3", "urn:c")}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndexer(r, "t.warc.gz")
	var got []string
	skipped := 0
	for {
		l, err := ix.Next()
		if err == io.EOF {
			break
		}
		var se *SkippedError
		switch {
		case err == nil:
			got = append(got, l.URL)
		case errors.As(err, &se):
			skipped++
		default:
			t.Fatal(err)
		}
	}
	if strings.Join(got, " ") != "urn:a urn:c" || skipped != 1 {
		t.Errorf("lines %v, %d skipped; want urn:a urn:c, 1 skipped", got, skipped)
	}
}
