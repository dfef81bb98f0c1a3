package warc

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWriterLayout writes two records and reads the file back with the
// standard library alone: one gzip member per record, warcinfo first, the
// offsets Write reported, the .open suffix gone after Close.
func TestWriterLayout(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, Info: []Field{{"software", "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	body := "hello, archive"
	b := w.NewRecord(TypeResource, date)
	b.AddField("WARC-Target-URI", "http://example.com/")
	b.AddField("Content-Type", "text/plain")
	io.WriteString(b, body)
	res, err := w.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.open")); len(matches) != 1 {
		t.Fatalf("want one .open file while writing, got %v", matches)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) != 1 || files[0] != res[0].File || !strings.HasSuffix(files[0], ".warc.gz") || !strings.HasPrefix(files[0], "amber-") {
		t.Fatalf("files %v, written %+v", files, res)
	}
	raw, err := os.ReadFile(filepath.Join(dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	// The record's member starts at the reported offset and decodes alone.
	zr, err := gzip.NewReader(bytes.NewReader(raw[res[0].Offset:]))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	rec, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	text := string(rec)
	sum := sha1.Sum([]byte(body))
	for _, want := range []string{
		"WARC/1.1\r\n", "WARC-Type: resource\r\n", "WARC-Date: 2026-11-25T18:00:00Z\r\n",
		"WARC-Block-Digest: sha1:" + base32.StdEncoding.EncodeToString(sum[:]) + "\r\n",
		"Content-Length: 14\r\n", "\r\n\r\n" + body + "\r\n\r\n", "WARC-Warcinfo-ID: <urn:uuid:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("record lacks %q:\n%s", want, text)
		}
	}
	// The warcinfo record comes first, at offset 0.
	zr, _ = gzip.NewReader(bytes.NewReader(raw))
	zr.Multistream(false)
	first, _ := io.ReadAll(zr)
	if !strings.Contains(string(first), "WARC-Type: warcinfo\r\n") || !strings.Contains(string(first), "software: amber-test\r\n") {
		t.Errorf("first record is not the warcinfo:\n%s", first)
	}
	t.Logf("%s\n%s", first, text)
}

// TestWriterIndexMatchesReader: the CDXJ lines the writer produces while
// writing are exactly those IndexWARC reads back from the closed file.
func TestWriterIndexMatchesReader(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, MemoryLimit: 64})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for i, body := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat("x", 500), // spooled
	} {
		resp := w.NewRecord(TypeResponse, date)
		resp.AddField("WARC-Target-URI", "http://example.com/"+string(rune('a'+i)))
		resp.AddField("Content-Type", "application/http;msgtype=response")
		resp.SetPayloadDigest([]byte("01234567890123456789"))
		io.WriteString(resp, body)
		req := w.NewRecord(TypeRequest, date)
		req.AddField("WARC-Target-URI", "http://example.com/")
		req.AddField("Content-Type", "application/http;msgtype=request")
		io.WriteString(req, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
		if _, err := w.Write(resp, req); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	read, err := IndexWARC(filepath.Join(dir, w.Files()[0]))
	if err != nil {
		t.Fatal(err)
	}
	written := w.Index()
	if len(read) != 2 || len(written) != 2 {
		t.Fatalf("read %d lines, written %d", len(read), len(written))
	}
	for i := range read {
		if read[i].String() != written[i] {
			t.Errorf("line %d:\nread    %s\nwritten %s", i, read[i], written[i])
		}
	}
}

// TestWriterIndexKeysPosts: a response written with the POST it answers
// (as the recording transport writes a browser's XHR: response, then
// request) is keyed by the request body in the lines the writer makes, as
// IndexWARC keys it reading the file back; a PUT written before its
// response too, with a body past the memory limit (spooled); a GET pair
// and a response next to another URL's POST are keyed by their URL.
func TestWriterIndexKeysPosts(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, MemoryLimit: 64})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	record := func(typ, uri, block string) *Builder {
		b := w.NewRecord(typ, date)
		b.AddField("WARC-Target-URI", uri)
		b.AddField("Content-Type", "application/http;msgtype="+typ)
		if typ == TypeResponse {
			b.SetPayloadDigest([]byte("01234567890123456789"))
		}
		io.WriteString(b, block)
		return b
	}
	resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	post := func(method, path, ctype, body string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: example.com\r\nContent-Type: " + ctype + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	big := strings.Repeat("x", 300)
	for _, pair := range [][]*Builder{
		{record(TypeResponse, "http://example.com/api/search", resp), record(TypeRequest, "http://example.com/api/search", post("POST", "/api/search", "application/json", `{"q":"amber"}`))},
		{record(TypeRequest, "http://example.com/api/put", post("PUT", "/api/put", "application/x-www-form-urlencoded", "a=1&b="+big)), record(TypeResponse, "http://example.com/api/put", resp)},
		{record(TypeResponse, "http://example.com/get", resp), record(TypeRequest, "http://example.com/get", "GET /get HTTP/1.1\r\nHost: example.com\r\n\r\n")},
		{record(TypeResponse, "http://example.com/other", resp), record(TypeRequest, "http://example.com/api/search", post("POST", "/api/search", "application/json", `{"q":"x"}`))},
	} {
		if _, err := w.Write(pair...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	written := w.Index()
	read, err := IndexWARC(filepath.Join(dir, w.Files()[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(read) != 4 || len(written) != 4 {
		t.Fatalf("read %d lines, written %d", len(read), len(written))
	}
	for i := range read {
		if read[i].String() != written[i] {
			t.Errorf("line %d:\nread    %s\nwritten %s", i, read[i], written[i])
		}
	}
	for i, want := range []string{
		"com,example)/api/search?__wb_method=post&q=amber",
		"com,example)/api/put?__wb_method=put&a=1&b=" + big,
		"com,example)/get",
		"com,example)/other",
	} {
		l, err := ParseCDXJLine(written[i])
		if err != nil {
			t.Fatal(err)
		}
		if l.Key != want {
			t.Errorf("line %d: key %s, want %s", i, l.Key, want)
		}
	}
}

// TestStoredMember: a member of stored blocks decodes with the standard
// library to the same bytes, at every size around the 64 KiB block limit.
func TestStoredMember(t *testing.T) {
	for _, n := range []int{0, 1, 65534, 65535, 65536, 3*65535 + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i>>8)
		}
		var member bytes.Buffer
		if err := writeStoredMember(&member, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(&member)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr) // checks the CRC and size
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: %v, got %d bytes back", n, err, len(got))
		}
	}
}

// BenchmarkSmallRecords writes request-sized records, the one record per
// URL that is deflated (responses are mostly already compressed).
func BenchmarkSmallRecords(b *testing.B) {
	w, err := NewWriter(WriterOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	req := []byte("GET /img/00999/photo-2.jpg HTTP/1.1\r\nHost: 127.0.0.1:44885\r\nUser-Agent: amber/0.1 (web archiver; +https://github.com/amber-archiver/amber)\r\nReferer: http://127.0.0.1:44885/2025/04/29/taxes-satellite-witnesses-week-as-00999.html\r\nAccept-Encoding: gzip\r\n\r\n")
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		r := w.NewRecord(TypeRequest, time.Now())
		r.Write(req)
		r.AddField("WARC-Target-URI", "http://127.0.0.1:44885/img/00999/photo-2.jpg")
		if _, err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

// The block digest is the same whether the block stays in memory (hashed
// when written out) or spills to a file part way (hashed as it streams).
func TestBlockDigestAcrossSpill(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	want := FormatDigest("sha1", sha1Sum(data))
	for _, limit := range []int{1 << 20, 100, 10000, len(data) - 1, len(data)} {
		w, err := NewWriter(WriterOptions{Dir: t.TempDir(), MemoryLimit: limit})
		if err != nil {
			t.Fatal(err)
		}
		r := w.NewRecord(TypeResource, time.Now())
		for p := data; len(p) > 0; {
			n := min(len(p), 3000)
			r.Write(p[:n])
			p = p[n:]
		}
		h := r.header("").String()
		if !strings.Contains(h, "WARC-Block-Digest: "+want+"\r\n") {
			t.Errorf("memory limit %d: header\n%s\nwant digest %s", limit, h, want)
		}
		r.Discard()
		w.Close()
	}
}

func sha1Sum(b []byte) []byte { s := sha1.Sum(b); return s[:] }
