package warc

import (
	"bytes"
	"crypto/sha1"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestSURT(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.Example.com:443/a/b?b=2&a=1", "com,example)/a/b?a=1&b=2"},
		{"http://example.com", "com,example)/"},
		{"http://example.com/", "com,example)/"},
		{"http://www.example.com", "com,example)/"},
		{"http://example.com:80/", "com,example)/"},
		{"https://example.com:80/", "com,example:80)/"},
		{"http://example.com:8080/foo/", "com,example:8080)/foo"},
		{"http://www34.archive.org/index.html?b=a&b=b&a=b", "org,archive)/index.html?a=b&b=a&b=b"},
		{"http://archive.org/index.html?", "org,archive)/index.html"},
		{"http://httpbin.org/post?foo=bar", "org,httpbin)/post?foo=bar"},
		{"https://example.com/A/B#frag", "com,example)/a/b"},
		{"http://user:pw@Sub.Example.com./", "com,example,sub)/"},
		{"http://127.0.0.1:8080/x", "1,0,0,127:8080)/x"},
		{"http://example.com/a%20b", "com,example)/a%20b"},
		{"http://example.com/%7Euser/%2541", "com,example)/~user/a"},
		{"http://example.com/a/./b/../c", "com,example)/a/c"},
		{"http://example.com/?a=2&a=1&a", "com,example)/?a&a=1&a=2"},
		{"urn:pageinfo:http://example.com/", "urn:pageinfo:http://example.com/"},
	}
	for _, tt := range tests {
		if got := SURT(tt.in); got != tt.want {
			t.Errorf("SURT(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCDXJLineString(t *testing.T) {
	// The line pywb's cdxj-indexer writes for its example.warc.gz.
	l := CDXJLine{Key: "com,example)/", Timestamp: "20170306040206", URL: "http://example.com/", Mime: "text/html",
		Status: "200", Digest: "G7HRM7BGOKSKMSXZAHMUQTTV53QOFSMK", Length: 1228, Offset: 784, Filename: "example.warc.gz"}
	want := `com,example)/ 20170306040206 {"url": "http://example.com/", "mime": "text/html", "status": "200", "digest": "G7HRM7BGOKSKMSXZAHMUQTTV53QOFSMK", "length": "1228", "offset": "784", "filename": "example.warc.gz"}`
	if got := l.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseCDXJLine(want)
	if err != nil || back != l {
		t.Errorf("ParseCDXJLine = %+v, %v; want %+v", back, err, l)
	}
	odd := CDXJLine{Key: "k", Timestamp: "1", URL: "http://é.example/\"<&>\U0001F600", Offset: 0}
	if got, want := odd.String(), `k 1 {"url": "http://\u00e9.example/\"<&>\ud83d\ude00", "length": "0", "offset": "0"}`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if back, err := ParseCDXJLine(odd.String()); err != nil || back != odd {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if _, err := ParseCDXJLine("com,example)/ 2017"); err == nil {
		t.Error("ParseCDXJLine accepted a line without JSON")
	}
	if l, err := ParseCDXJLine(`a 1 {"length": 12, "offset": "3"}`); err != nil || l.Length != 12 || l.Offset != 3 {
		t.Errorf("numeric length: %+v, %v", l, err)
	}
}

func TestSortCDXJ(t *testing.T) {
	lines := []CDXJLine{{Key: "com,example)/b", Timestamp: "2"}, {Key: "com,example)/", Timestamp: "3"}, {Key: "com,example)/", Timestamp: "1"}, {Key: "com,example)/a", Timestamp: "1"}}
	SortCDXJ(lines)
	var got []string
	for _, l := range lines {
		got = append(got, l.Key+" "+l.Timestamp)
	}
	if want := "com,example)/ 1|com,example)/ 3|com,example)/a 1|com,example)/b 2"; strings.Join(got, "|") != want {
		t.Errorf("sorted = %q", got)
	}
}

func sha1Digest(s string) string {
	sum := sha1.Sum([]byte(s))
	return FormatDigest("sha1", sum[:])
}

// testWARC builds a small plain WARC with one record of each kind the
// indexer must handle or skip.
func testWARC() []byte {
	page := "<html>hi</html>"
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 15\r\n\r\n" + page
	req := "GET /page?b=1&a=2 HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
	rev := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
	redirect := "HTTP/1.1 301 Moved Permanently\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"
	return bytes.Join([][]byte{
		rawRecord("0", "warcinfo", "software: amber\r\n", "Content-Type", "application/warc-fields"),
		rawRecord("1", "request", req, "WARC-Target-URI", "https://www.example.com/page?b=1&a=2", "Content-Type", "application/http; msgtype=request"),
		rawRecord("2", "response", resp, "WARC-Target-URI", "https://www.example.com/page?b=1&a=2", "Content-Type", "application/http; msgtype=response", "WARC-Payload-Digest", sha1Digest(page)),
		rawRecord("3", "revisit", rev, "WARC-Target-URI", "https://www.example.com/page?b=1&a=2", "Content-Type", "application/http; msgtype=response", "WARC-Payload-Digest", sha1Digest(page),
			"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
		rawRecord("4", "response", redirect, "WARC-Target-URI", "http://example.com/old", "Content-Type", "application/http;msgtype=response", "WARC-Payload-Digest", sha1Digest("")),
		rawRecord("5", "resource", "body{}", "WARC-Target-URI", "http://example.com/s.css", "Content-Type", "text/css", "WARC-Payload-Digest", sha1Digest("body{}")),
		rawRecord("6", "metadata", "via: x\r\n", "WARC-Target-URI", "http://example.com/s.css", "Content-Type", "application/warc-fields"),
	}, nil)
}

func TestIndexWARCGolden(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "example.warc")
	if err := os.WriteFile(plain, testWARC(), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := IndexWARC(plain)
	if err != nil {
		t.Fatal(err)
	}
	SortCDXJ(lines)
	var got bytes.Buffer
	for _, l := range lines {
		got.WriteString(l.String() + "\n")
	}
	golden := filepath.Join("..", "testdata", "cdxj", "example.cdxj")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("index differs from %s:\ngot:\n%s\nwant:\n%s", golden, got.Bytes(), want)
	}
}

// TestIndexWARCGzipOffsets checks offsets and lengths against the members
// written: each line must address exactly its member.
func TestIndexWARCGzipOffsets(t *testing.T) {
	r, err := NewReader(bytes.NewReader(testWARC()))
	if err != nil {
		t.Fatal(err)
	}
	var file []byte
	starts := map[int64]int{}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		// Re-render the record from its parts into its own member.
		var b bytes.Buffer
		b.WriteString(rec.Version + "\r\n")
		for _, f := range rec.Header {
			b.WriteString(f.Name + ": " + f.Value + "\r\n")
		}
		b.WriteString("\r\n")
		b.ReadFrom(rec.Body)
		b.WriteString("\r\n\r\n")
		m := gzipMember(t, b.Bytes())
		starts[int64(len(file))] = len(m)
		file = append(file, m...)
	}
	path := filepath.Join(t.TempDir(), "example.warc.gz")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := IndexWARC(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4", len(lines))
	}
	for _, l := range lines {
		if n, ok := starts[l.Offset]; !ok || int64(n) != l.Length || l.Filename != "example.warc.gz" {
			t.Errorf("line %s does not address a member", l)
		}
	}
}
