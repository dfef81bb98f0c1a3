package warc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// rawRecord renders one WARC/1.1 record around block; extra fields come after
// the mandatory ones.
func rawRecord(id, typ, block string, extra ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%s>\r\nWARC-Date: 2024-05-06T07:08:09Z\r\n", typ, id)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", extra[i], extra[i+1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s\r\n\r\n", len(block), block)
	return b.Bytes()
}

func gzipMember(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

type readResult struct {
	offset, length int64
	id             string
	block          string
	shared         bool
	err            error
}

// readAll reads every record, collecting results; it stops at io.EOF or a
// fatal error.
func readAll(t *testing.T, data []byte) []readResult {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []readResult
	for range 100 {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			out = append(out, readResult{err: err})
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Fatal {
				return out
			}
			continue
		}
		body, berr := io.ReadAll(rec.Body)
		ferr := r.Finish()
		if berr != nil && ferr == nil {
			ferr = berr
		}
		out = append(out, readResult{rec.Offset, rec.Length, rec.Header.Get("warc-record-id"), string(body), rec.SharedMember, ferr})
		var fe *FormatError
		if ferr != nil && (!errors.As(ferr, &fe) || fe.Fatal) {
			return out
		}
	}
	t.Fatal("reader does not end")
	return nil
}

func TestReaderOffsetsAndLengths(t *testing.T) {
	recs := [][]byte{
		rawRecord("1", "warcinfo", "software: amber\r\n", "Content-Type", "application/warc-fields"),
		rawRecord("2", "response", "HTTP/1.1 200 OK\r\n\r\nhello", "WARC-Concurrent-To", "<urn:uuid:a>", "WARC-Concurrent-To", "<urn:uuid:b>"),
		rawRecord("3", "resource", ""),
	}
	for _, compressed := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", compressed), func(t *testing.T) {
			var file []byte
			var offsets, lengths []int64
			for _, rec := range recs {
				if compressed {
					rec = gzipMember(t, rec)
				}
				offsets = append(offsets, int64(len(file)))
				lengths = append(lengths, int64(len(rec)))
				file = append(file, rec...)
			}
			got := readAll(t, file)
			if len(got) != len(recs) {
				t.Fatalf("read %d records, want %d: %+v", len(got), len(recs), got)
			}
			for i, g := range got {
				if g.err != nil || g.offset != offsets[i] || g.length != lengths[i] || g.shared {
					t.Errorf("record %d: got %+v, want offset %d length %d", i, g, offsets[i], lengths[i])
				}
				if want := fmt.Sprintf("<urn:uuid:%d>", i+1); g.id != want {
					t.Errorf("record %d: id %q, want %q", i, g.id, want)
				}
			}
			if got[1].block != "HTTP/1.1 200 OK\r\n\r\nhello" {
				t.Errorf("block = %q", got[1].block)
			}
		})
	}
}

func TestHeaderLookup(t *testing.T) {
	data := rawRecord("1", "response", "x", "WARC-Concurrent-To", "<urn:uuid:a>", "warc-concurrent-to", "<urn:uuid:b>")
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Header.Values("WARC-CONCURRENT-TO"); len(got) != 2 || got[1] != "<urn:uuid:b>" {
		t.Errorf("Values = %q", got)
	}
	if rec.Header.Get("content-length") != "1" || rec.ContentLength != 1 || rec.Version != "WARC/1.1" {
		t.Errorf("record = %+v", rec)
	}
	if rec.Header[0].Name != "WARC-Type" {
		t.Errorf("fields out of order: %+v", rec.Header)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next at end = %v, want io.EOF", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after end = %v, want io.EOF again", err)
	}
}

func TestReaderDamage(t *testing.T) {
	good := func(id string) []byte { return rawRecord(id, "resource", "payload "+id) }
	gz := func(b []byte) []byte { return gzipMember(t, b) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	m1, m2 := gz(good("1")), gz(good("2"))
	badCRC := bytes.Clone(m2)
	badCRC[len(badCRC)-8] ^= 0xff
	wrongCL := bytes.Replace(good("2"), []byte("Content-Length: 9"), []byte("Content-Length: 7"), 1)
	longCL := bytes.Replace(good("2"), []byte("Content-Length: 9"), []byte("Content-Length: 99"), 1)
	empty := gz(nil)
	notWARC := gz([]byte("HTTP/1.1 200 OK\r\n\r\n"))

	type want struct {
		id     string // record id, "" for an error without record
		offset int64
		msg    string // substring of the error, "" for none
		fatal  bool
		shared bool
	}
	tests := []struct {
		name string
		data []byte
		want []want
		is   error // errors.Is target of the last error
	}{
		{"plain bad version", cat(good("1"), []byte("WARX/1.1\r\n")), []want{{id: "<urn:uuid:1>"}, {offset: int64(len(good("1"))), msg: "version line", fatal: true}}, nil},
		{"gzip bad version skips member", cat(m1, notWARC, m2), []want{{id: "<urn:uuid:1>"}, {offset: int64(len(m1)), msg: "version line"}, {id: "<urn:uuid:2>", offset: int64(len(m1) + len(notWARC))}}, nil},
		{"missing Content-Length", gz([]byte("WARC/1.1\r\nWARC-Type: resource\r\n\r\n\r\n\r\n")), []want{{msg: "missing Content-Length"}}, nil},
		{"invalid Content-Length", gz([]byte("WARC/1.1\r\nContent-Length: -1\r\n\r\n\r\n\r\n")), []want{{msg: "invalid Content-Length"}}, nil},
		{"gzip Content-Length too small", cat(m1, gz(wrongCL), m2), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(m1)), msg: "not CRLF CRLF"}, {id: "<urn:uuid:2>", offset: int64(len(m1) + len(gz(wrongCL)))}}, nil},
		{"gzip Content-Length too large", cat(m1, gz(longCL), m2), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(m1)), msg: "gzip member ends first"}, {id: "<urn:uuid:2>", offset: int64(len(m1) + len(gz(longCL)))}}, io.ErrUnexpectedEOF},
		{"plain Content-Length too small", cat(good("1"), wrongCL, good("3")), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(good("1"))), msg: "not CRLF CRLF", fatal: true}}, nil},
		{"plain truncated block", cat(good("1"), good("2")[:len(good("2"))-6]), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(good("1"))), msg: "file ends", fatal: true}}, io.ErrUnexpectedEOF},
		{"truncated gzip member", cat(m1, m2[:len(m2)-5]), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(m1)), msg: "truncated", fatal: true}}, io.ErrUnexpectedEOF},
		{"truncated inside deflate data", cat(m1, m2[:len(m2)-12]), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(m1)), msg: "truncated", fatal: true}}, io.ErrUnexpectedEOF},
		{"truncated inside gzip header", cat(m1, m2[:5]), []want{{id: "<urn:uuid:1>"}, {offset: int64(len(m1)), msg: "truncated inside its header", fatal: true}}, io.ErrUnexpectedEOF},
		{"gzip CRC error", cat(m1, badCRC, m2), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(m1)), msg: "CRC-32"}, {id: "<urn:uuid:2>", offset: int64(2 * len(m1))}}, gzip.ErrChecksum},
		{"trailing garbage", cat(m1, []byte("garbage")), []want{{id: "<urn:uuid:1>"}, {offset: int64(len(m1)), msg: "7 bytes that are not a gzip member", fatal: true}}, nil},
		{"zero padding", cat(m1, make([]byte, 512)), []want{{id: "<urn:uuid:1>"}, {offset: int64(len(m1)), msg: "512 bytes of zero padding", fatal: true}}, nil},
		{"plain trailing garbage", cat(good("1"), []byte("\x00\x00")), []want{{id: "<urn:uuid:1>"}, {offset: int64(len(good("1"))), msg: "version line", fatal: true}}, nil},
		{"shared member", cat(m1, gz(cat(good("2"), good("3")))), []want{{id: "<urn:uuid:1>"}, {id: "<urn:uuid:2>", offset: int64(len(m1)), shared: true}, {id: "<urn:uuid:3>", offset: int64(len(m1)), shared: true}}, nil},
		{"empty members skipped", cat(empty, m1, empty), []want{{id: "<urn:uuid:1>", offset: int64(len(empty))}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, tt.data)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d results, want %d: %+v", len(got), len(tt.want), got)
			}
			var last error
			for i, w := range tt.want {
				g := got[i]
				if g.id != w.id || (w.offset != 0 && g.offset != w.offset && g.err == nil) || g.shared != w.shared {
					t.Errorf("result %d: got %+v, want %+v", i, g, w)
				}
				if w.msg == "" {
					if g.err != nil {
						t.Errorf("result %d: unexpected error %v", i, g.err)
					}
					continue
				}
				var fe *FormatError
				if !errors.As(g.err, &fe) {
					t.Fatalf("result %d: error %v, want a *FormatError", i, g.err)
				}
				if !strings.Contains(fe.Msg, w.msg) || fe.Fatal != w.fatal || fe.Offset != w.offset {
					t.Errorf("result %d: error %+v, want msg %q fatal %v offset %d", i, fe, w.msg, w.fatal, w.offset)
				}
				last = g.err
			}
			if tt.is != nil && !errors.Is(last, tt.is) {
				t.Errorf("last error %v is not %v", last, tt.is)
			}
		})
	}
}

func TestBodyShortIsUnexpectedEOF(t *testing.T) {
	data := rawRecord("1", "resource", "0123456789")
	r, err := NewReader(bytes.NewReader(data[:len(data)-8]))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rec.Body); err != io.ErrUnexpectedEOF {
		t.Errorf("ReadAll(Body) = %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := r.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after a short block = %v, want the framing error", err)
	}
}

func TestEmptyInput(t *testing.T) {
	r, err := NewReader(bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next = %v, want io.EOF", err)
	}
}

// TestHeaderProblems checks that a header with a bad line is still read,
// with the problem noted on the record.
func TestHeaderProblems(t *testing.T) {
	tests := []struct {
		name, header string
		want         []string // problems: "line N: msg"
		deviation    bool
	}{
		{"no colon", "WARC/1.1\r\nWARC-Type: resource\r\nno colon here\r\n", []string{"line 3: malformed header field"}, false},
		{"bad name", "WARC/1.1\r\nWARC Type: resource\r\n", []string{"line 2: malformed header field"}, false},
		{"continuation first", "WARC/1.1\r\n folded\r\nWARC-Type: resource\r\n", []string{"line 2: continuation line before any field"}, false},
		{"control character", "WARC/1.1\r\nWARC-Type: re\x01source\r\n", []string{"line 2: field WARC-Type has control characters"}, false},
		{"bare LF", "WARC/1.1\nWARC-Type: resource\n", []string{"line 1: line ends in a bare LF"}, true},
		{"folded value", "WARC/1.1\r\nWARC-Type: re\r\n source\r\n", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eol := "\r\n"
			if tt.deviation {
				eol = "\n"
			}
			data := []byte(tt.header + "Content-Length: 3" + eol + eol + "abc\r\n\r\n")
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(rec.Body)
			if err := r.Finish(); err != nil || string(body) != "abc" {
				t.Fatalf("body %q, Finish = %v", body, err)
			}
			if len(rec.Problems) != len(tt.want) {
				t.Fatalf("problems = %v, want %v", rec.Problems, tt.want)
			}
			for i, p := range rec.Problems {
				if got := fmt.Sprintf("line %d: %s", p.Line, p.Msg); !strings.HasPrefix(got, tt.want[i]) || p.Deviation != tt.deviation {
					t.Errorf("problem %d = %q (deviation %v), want %q", i, got, p.Deviation, tt.want[i])
				}
			}
			if tt.name == "folded value" && rec.Header.Get("WARC-Type") != "re source" {
				t.Errorf("folded value = %q", rec.Header.Get("WARC-Type"))
			}
		})
	}
}

// FuzzReader reads arbitrary bytes as a WARC file, checking every record's
// digests as amber verify does. It must never panic or hang. It is seeded
// with every file in testdata/.
func FuzzReader(f *testing.F) {
	f.Add(rawRecord("1", "resource", "abc"))
	f.Add(gzipMember(f, rawRecord("1", "resource", "abc")))
	f.Add(gzipMember(f, rawRecord("1", "response", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"Content-Type", "application/http; msgtype=response", "WARC-Payload-Digest", "sha1:UOJK6HZJ2DUNSLPXMZDJDD5DRZIHNDKE")))
	seeds := 0
	filepath.WalkDir(filepath.Join("..", "testdata"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && len(b) <= 1<<20 {
			f.Add(b)
			seeds++
		}
		return nil
	})
	if seeds == 0 {
		f.Fatal("no seeds in testdata/")
	}
	buf := make([]byte, 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The strict reader, and the one OpenRecords makes, which
		// resynchronises in plain files: with a second view of the file
		// (bytes.Reader is an io.ReaderAt) and as a stream.
		strict, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		readers := []RecordReader{strict}
		for _, in := range []io.Reader{bytes.NewReader(data), onlyReader{bytes.NewReader(data)}} {
			if rr, err := OpenRecords(in); err == nil {
				readers = append(readers, rr)
			}
		}
		for _, r := range readers {
			last := int64(-1)
			for range 1000 {
				rec, err := r.Next()
				if err != nil {
					var fe *FormatError
					if errors.As(err, &fe) && !fe.Fatal {
						if fe.Next != 0 && (fe.Next <= fe.Offset || fe.Next > int64(len(data))) {
							t.Fatalf("error at %d resumes at %d, in %d bytes", fe.Offset, fe.Next, len(data))
						}
						continue
					}
					break
				}
				if !rec.SharedMember && rec.Offset <= last {
					t.Fatalf("record at %d after one at %d", rec.Offset, last)
				}
				last = rec.Offset
				d := NewRecordDigester(rec.Header)
				io.CopyBuffer(d, rec.Body, buf)
				if r.Finish() == nil {
					d.Block()
					d.Payload()
					if rec.Length < 0 || rec.Offset < 0 || rec.Offset+rec.Length > int64(len(data)) {
						t.Fatalf("record at %d, length %d, in %d bytes", rec.Offset, rec.Length, len(data))
					}
				}
			}
		}
	})
}
