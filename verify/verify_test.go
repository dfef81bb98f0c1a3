package verify

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/warc"
	"github.com/klauspost/compress/gzip"
)

// spec describes one test record. Digests are computed unless overridden.
type spec struct {
	typ, uri, ct string
	block        string
	payload      *string // entity body the payload digest is over; nil: no payload digest
	extra        []string

	blockDigest   string // override
	payloadDigest string // override
	contentLength int    // override when > 0
	afterDigest   func(block string) string
}

func sha1B32(s string) string {
	sum := sha1.Sum([]byte(s))
	return warc.FormatDigest("sha1", sum[:])
}

func (s spec) render(i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: %s\r\nWARC-Date: 2024-05-06T07:08:09Z\r\n", s.typ, recordID(i))
	if s.uri != "" {
		fmt.Fprintf(&b, "WARC-Target-URI: %s\r\n", s.uri)
	}
	if s.ct != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", s.ct)
	}
	for j := 0; j+1 < len(s.extra); j += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", s.extra[j], s.extra[j+1])
	}
	bd := sha1B32(s.block)
	if s.blockDigest != "" {
		bd = s.blockDigest
	}
	fmt.Fprintf(&b, "WARC-Block-Digest: %s\r\n", bd)
	if s.payloadDigest != "" {
		fmt.Fprintf(&b, "WARC-Payload-Digest: %s\r\n", s.payloadDigest)
	} else if s.payload != nil {
		fmt.Fprintf(&b, "WARC-Payload-Digest: %s\r\n", sha1B32(*s.payload))
	}
	block := s.block
	if s.afterDigest != nil {
		block = s.afterDigest(block)
	}
	cl := len(block)
	if s.contentLength > 0 {
		cl = s.contentLength
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s\r\n\r\n", cl, block)
	return b.Bytes()
}

// endOfFile in a want stands for the length of the undamaged file.
const endOfFile = -2

func recordID(i int) string { return fmt.Sprintf("<urn:uuid:00000000-0000-0000-0000-%012d>", i) }

func ptr(s string) *string { return &s }

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// goodSpecs is a small capture: warcinfo, request, a plain response, a
// chunked response, a gzip-encoded response, a revisit, a resource.
func goodSpecs(t testing.TB) []spec {
	html := "<html><img src=a.png></html>"
	gz := string(gzipBytes(t, []byte("body { color: red }")))
	chunked := "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
	httpResp := "application/http; msgtype=response"
	return []spec{
		{typ: "warcinfo", ct: "application/warc-fields", block: "software: amber\r\nformat: WARC File Format 1.1\r\n"},
		{typ: "request", uri: "http://example.com/", ct: "application/http; msgtype=request", block: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", payload: ptr("")},
		{typ: "response", uri: "http://example.com/", ct: httpResp, block: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(html), html), payload: ptr(html)},
		{typ: "response", uri: "http://example.com/t.txt", ct: httpResp, block: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n" + chunked, payload: ptr("hello world")},
		{typ: "response", uri: "http://example.com/s.css", ct: httpResp, block: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz), payload: ptr(gz)},
		{typ: "revisit", uri: "http://example.com/", ct: httpResp, block: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", payload: ptr(html),
			extra: []string{"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest", "WARC-Refers-To", recordID(2)}},
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
	flush := func() {
		if member != nil {
			file = append(file, gzipBytes(t, member)...)
			member = nil
		}
	}
	for i, s := range specs {
		if !join[i] {
			flush()
		}
		offsets = append(offsets, int64(len(file)))
		member = append(member, s.render(i)...)
	}
	flush()
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
}

func checkFindings(t *testing.T, got []Finding, wants []want, offsets []int64) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(wants), dump(got))
	}
	for i, w := range wants {
		g := got[i]
		off, id := w.offset, ""
		if w.record >= 0 {
			off, id = offsets[w.record], recordID(w.record)
		}
		if g.Severity != w.sev || g.Offset != off || g.RecordID != id || !strings.Contains(g.Message, w.msg) {
			t.Errorf("finding %d = %+v\nwant severity %v offset %d id %q message containing %q", i, g, w.sev, off, id, w.msg)
		}
	}
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %v %s@%d %s: %s\n", f.Severity, filepath.Base(f.File), f.Offset, f.RecordID, f.Message)
	}
	return b.String()
}

func verifyBytes(t *testing.T, data []byte) *Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.warc.gz")
	writeFile(t, path, data)
	rep, err := Paths(context.Background(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || rep.Files[0].Bytes != int64(len(data)) {
		t.Fatalf("report files = %+v, want one of %d bytes", rep.Files, len(data))
	}
	return rep
}

func TestVerifyWARC(t *testing.T) {
	specs := goodSpecs(t)
	last := len(specs) - 1
	mod := func(i int, f func(*spec)) []spec {
		s := append([]spec(nil), specs...)
		f(&s[i])
		return s
	}
	type damage struct {
		name  string
		specs []spec
		join  map[int]bool
		edit  func(file []byte, offsets []int64) []byte
		want  []want
	}
	tests := []damage{
		{name: "clean", specs: specs},
		{name: "plain WARC", specs: specs, edit: func([]byte, []int64) []byte {
			var b []byte
			for i, s := range specs {
				b = append(b, s.render(i)...)
			}
			return b
		}, want: []want{{Warning, -1, -1, "not gzip-compressed"}}},
		{name: "flipped payload byte", specs: mod(2, func(s *spec) {
			s.afterDigest = func(b string) string { return strings.Replace(b, "img", "imf", 1) }
		}), want: []want{{Error, 2, 0, "block digest mismatch"}, {Error, 2, 0, "payload digest mismatch"}}},
		{name: "truncated last member", specs: specs, edit: func(f []byte, _ []int64) []byte { return f[:len(f)-10] },
			want: []want{{Error, last, 0, "gzip member truncated"}}},
		{name: "wrong Content-Length", specs: mod(2, func(s *spec) { s.contentLength = len(s.block) - 1 }),
			want: []want{{Error, 2, 0, "not CRLF CRLF"}}},
		{name: "garbage after last record", specs: specs, edit: func(f []byte, _ []int64) []byte { return append(f, "garbage\n"...) },
			want: []want{{Error, -1, endOfFile, "8 bytes that are not a gzip member"}}},
		{name: "zero padding", specs: specs, edit: func(f []byte, _ []int64) []byte { return append(f, make([]byte, 100)...) },
			want: []want{{Error, -1, endOfFile, "zero padding"}}},
		{name: "CRC error", specs: specs, edit: func(f []byte, o []int64) []byte {
			f = bytes.Clone(f)
			f[o[3]-8] ^= 1 // the CRC-32 of the member of record 2
			return f
		}, want: []want{{Error, 2, 0, "CRC-32"}}},
		{name: "shared member", specs: specs, join: map[int]bool{6: true},
			want: []want{{Warning, 5, 0, "share the gzip member"}}},
		{name: "payload digest over chunked bytes", specs: mod(3, func(s *spec) {
			_, body, _ := strings.Cut(s.block, "\r\n\r\n")
			s.payload = ptr(body)
		}), want: []want{{Warning, 3, 0, "chunk framing included"}}},
		{name: "malformed block digest", specs: mod(2, func(s *spec) { s.blockDigest = "sha1:NOTBASE32!" }),
			want: []want{{Error, 2, 0, "WARC-Block-Digest \"sha1:NOTBASE32!\" is malformed"}}},
		{name: "unknown algorithm", specs: mod(last, func(s *spec) { s.payloadDigest = "blake9:abcd" }),
			want: []want{{Warning, last, 0, "unknown algorithm"}}},
		{name: "sha256 hex digests", specs: mod(4, func(s *spec) {
			sum := sha256.Sum256([]byte(s.block))
			s.blockDigest = "sha256:" + hex.EncodeToString(sum[:])
		})},
		{name: "wrong payload digest on chunked body", specs: mod(3, func(s *spec) { s.payload = ptr("hello") }),
			want: []want{{Error, 3, 0, "payload digest mismatch"}}},
		{name: "missing WARC-Date and bad version", specs: specs, edit: func(f []byte, o []int64) []byte {
			b := specs[2].render(2)
			b = bytes.Replace(b, []byte("WARC/1.1"), []byte("WARC/2.0"), 1)
			b = bytes.Replace(b, []byte("WARC-Date: 2024-05-06T07:08:09Z\r\n"), nil, 1)
			return bytes.Join([][]byte{f[:o[2]], gzipBytes(t, b), f[o[3]:]}, nil)
		}, want: []want{{Error, 2, 0, "WARC/2.0"}, {Error, 2, 0, "missing mandatory field WARC-Date"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, offsets := build(t, tt.specs, tt.join)
			for i := range tt.want {
				if tt.want[i].offset == endOfFile {
					tt.want[i].offset = int64(len(file))
				}
			}
			if tt.edit != nil {
				file = tt.edit(file, offsets)
			}
			if tt.name == "plain WARC" {
				var plain int64
				for i := range offsets {
					offsets[i] = plain
					plain += int64(len(tt.specs[i].render(i)))
				}
			}
			rep := verifyBytes(t, file)
			checkFindings(t, rep.Files[0].Findings, tt.want, offsets)
			if rep.Records == 0 {
				t.Error("no records counted")
			}
		})
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
	var paths []string
	for _, name := range []string{"c.warc.gz", "a.warc.gz", "b.warc", "notes.txt"} {
		writeFile(t, filepath.Join(dir, name), good)
	}
	paths = append(paths, filepath.Join(dir, "c.warc.gz"), dir)
	rep, err := Paths(context.Background(), paths, Options{Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rep.Files {
		names = append(names, filepath.Base(f.File))
	}
	if got := strings.Join(names, " "); got != "c.warc.gz a.warc.gz b.warc c.warc.gz" {
		t.Errorf("order = %s", got)
	}
	if rep.Records != 4*7 || rep.Errors != 0 || rep.Warnings != 0 { // b.warc is gzip data named .warc: fine
		t.Errorf("report = %+v", rep)
	}
}

// collection writes a collection directory with a manifest and returns it.
func collection(t *testing.T) (dir string, pkg map[string]any) {
	dir = t.TempDir()
	good, _ := build(t, goodSpecs(t), nil)
	files := map[string][]byte{
		"archive/amber-20240506070809-00000-host.warc.gz": good,
		"indexes/index.cdxj":                              []byte("com,example)/ 20240506070809 {\"url\": \"http://example.com/\"}\n"),
		"pages/pages.jsonl":                               []byte("{\"format\": \"json-pages-1.0\"}\n"),
	}
	var resources []any
	for _, name := range []string{"archive/amber-20240506070809-00000-host.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl"} {
		writeFile(t, filepath.Join(dir, name), files[name])
		sum := sha256.Sum256(files[name])
		resources = append(resources, map[string]any{"name": filepath.Base(name), "path": name, "hash": "sha256:" + hex.EncodeToString(sum[:]), "bytes": len(files[name])})
	}
	pkg = map[string]any{"profile": "data-package", "wacz_version": "1.1.1", "resources": resources}
	writeManifest(t, dir, pkg)
	return dir, pkg
}

func writeManifest(t *testing.T, dir string, pkg map[string]any) {
	b, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "datapackage.json"), b)
}

func TestVerifyCollection(t *testing.T) {
	res := func(pkg map[string]any, i int) map[string]any { return pkg["resources"].([]any)[i].(map[string]any) }
	type fileWant struct {
		file string
		sev  Severity
		msg  string
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string, pkg map[string]any)
		want  []fileWant
	}{
		{"clean", func(*testing.T, string, map[string]any) {}, nil},
		{"size mismatch", func(t *testing.T, dir string, pkg map[string]any) {
			res(pkg, 0)["bytes"] = 5
			writeManifest(t, dir, pkg)
		}, []fileWant{{"archive/amber-20240506070809-00000-host.warc.gz", Error, "datapackage.json says 5"}}},
		{"hash mismatch", func(t *testing.T, dir string, pkg map[string]any) {
			res(pkg, 1)["hash"] = "sha256:" + strings.Repeat("0", 64)
			writeManifest(t, dir, pkg)
		}, []fileWant{{"indexes/index.cdxj", Error, "the file changed"}}},
		{"unlisted file", func(t *testing.T, dir string, pkg map[string]any) {
			writeFile(t, filepath.Join(dir, "indexes", "extra.cdxj"), []byte("x"))
		}, []fileWant{{"indexes/extra.cdxj", Error, "not listed"}}},
		{"missing file", func(t *testing.T, dir string, pkg map[string]any) {
			os.Remove(filepath.Join(dir, "pages", "pages.jsonl"))
		}, []fileWant{{"pages/pages.jsonl", Error, "missing"}}},
		{"leftover open file", func(t *testing.T, dir string, pkg map[string]any) {
			writeFile(t, filepath.Join(dir, "archive", "amber-20240507000000-00001-host.warc.gz.open"), []byte("partial"))
		}, []fileWant{{"archive/amber-20240507000000-00001-host.warc.gz.open", Warning, "leftover open WARC file"}}},
		{"damaged WARC changes its hash too", func(t *testing.T, dir string, pkg map[string]any) {
			p := filepath.Join(dir, "archive", "amber-20240506070809-00000-host.warc.gz")
			b, _ := os.ReadFile(p)
			writeFile(t, p, append(b, 0))
		}, []fileWant{
			{"archive/amber-20240506070809-00000-host.warc.gz", Error, "zero padding"},
			{"archive/amber-20240506070809-00000-host.warc.gz", Error, "datapackage.json says"},
			{"archive/amber-20240506070809-00000-host.warc.gz", Error, "the file changed"},
		}},
		{"bad manifest", func(t *testing.T, dir string, pkg map[string]any) {
			writeFile(t, filepath.Join(dir, "datapackage.json"), []byte("{"))
		}, []fileWant{{"datapackage.json", Error, "not valid JSON"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, pkg := collection(t)
			tt.setup(t, dir, pkg)
			rep, err := Paths(context.Background(), []string{dir}, Options{Jobs: 2})
			if err != nil {
				t.Fatal(err)
			}
			var got []Finding
			for _, f := range rep.Files {
				got = append(got, f.Findings...)
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
	rep := &Report{Files: []FileSummary{{File: "a", Findings: []Finding{{Severity: Warning, File: "a", Offset: 3, Message: "m"}}}}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"severity":"warning"`)) || !bytes.Contains(b, []byte(`"mbPerSecond"`)) {
		t.Errorf("JSON = %s", b)
	}
}

var fixtures = flag.Bool("fixtures", false, "rewrite the WARC files in testdata/damaged")

// TestWriteFixtures writes small good and damaged WARC files for the CLI
// script tests: go test ./verify -run Fixtures -fixtures.
func TestWriteFixtures(t *testing.T) {
	if !*fixtures {
		t.Skip("run with -fixtures to rewrite testdata/damaged")
	}
	specs := goodSpecs(t)
	good, offsets := build(t, specs, nil)
	flipped := append([]spec(nil), specs...)
	flipped[2].afterDigest = func(b string) string { return strings.Replace(b, "img", "imf", 1) }
	flippedFile, _ := build(t, flipped, nil)
	chunked := append([]spec(nil), specs...)
	_, body, _ := strings.Cut(chunked[3].block, "\r\n\r\n")
	chunked[3].payload = ptr(body)
	chunkedFile, _ := build(t, chunked, nil)
	shared, _ := build(t, specs, map[int]bool{6: true})
	wrongLength := append([]spec(nil), specs...)
	wrongLength[2].contentLength = len(wrongLength[2].block) - 1
	wrongLengthFile, _ := build(t, wrongLength, nil)
	dir := filepath.Join("..", "testdata", "damaged")
	for name, data := range map[string][]byte{
		"good.warc.gz":                   good,
		"block-digest.warc.gz":           flippedFile,
		"truncated.warc.gz":              good[:len(good)-10],
		"trailing-garbage.warc.gz":       append(bytes.Clone(good), "garbage\n"...),
		"chunked-payload-digest.warc.gz": chunkedFile,
		"shared-member.warc.gz":          shared,
		"content-length.warc.gz":         wrongLengthFile,
	} {
		writeFile(t, filepath.Join(dir, name), data)
	}
	t.Logf("record offsets in good.warc.gz: %v", offsets)
}
