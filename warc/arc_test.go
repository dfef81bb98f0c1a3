package warc

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// arcRecord is one record of a hand-built ARC file.
type arcRecord struct {
	url, ip, date, mime, content string
}

const arcHTTP = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 21\r\n\r\n<html>hello</html>\r\n\r\n"

var arcV1 = []arcRecord{
	{"http://example.com/", "93.184.216.34", "19961104142103", "text/html", arcHTTP},
	{"dns:example.com", "10.0.0.1", "19961104142104", "text/dns", "19961104142104\nexample.com.\t3600\tIN\tA\t93.184.216.34\n"},
	{"http://example.com/a b.html", "93.184.216.34", "19961104142105", "text/html", arcHTTP},
	{"http://example.com/empty", "93.184.216.34", "19961104142106", "text/plain", ""},
}

// buildARC writes an ARC v1 or v2 file as described in the IA's ARC file
// format 1.0: a filedesc version block, then each record's header line,
// content and a newline. With gz, each record is its own gzip member, and
// the offsets of the members are returned.
func buildARC(t *testing.T, version int, gz bool, recs []arcRecord) ([]byte, []int64) {
	t.Helper()
	var defs string
	if version == 1 {
		defs = "1 0 amber-test\nURL IP-address Archive-date Content-type Archive-length\n"
	} else {
		defs = "2 0 amber-test\nURL IP-address Archive-date Content-type Result-code Checksum Location Offset Filename Archive-length\n"
	}
	line := func(r arcRecord) string {
		if version == 1 {
			return fmt.Sprintf("%s %s %s %s %d\n", r.url, r.ip, r.date, r.mime, len(r.content))
		}
		return fmt.Sprintf("%s %s %s %s 200 - - 0 test.arc %d\n", r.url, r.ip, r.date, r.mime, len(r.content))
	}
	parts := []string{line(arcRecord{"filedesc://test.arc", "0.0.0.0", "19961104142103", "text/plain", defs}) + defs + "\n"}
	for _, r := range recs {
		parts = append(parts, line(r)+r.content+"\n")
	}
	var out bytes.Buffer
	var offs []int64
	for _, p := range parts {
		offs = append(offs, int64(out.Len()))
		if !gz {
			out.WriteString(p)
			continue
		}
		zw := gzip.NewWriter(&out)
		zw.Write([]byte(p))
		zw.Close()
	}
	return out.Bytes(), offs
}

type arcRead struct {
	typ, url, date, ip, ctype string
	offset, length            int64
	body                      string
}

func readARC(t *testing.T, b []byte) ([]arcRead, error) {
	t.Helper()
	r, err := NewARCReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []arcRead
	var last *Record
	for {
		rec, err := r.Next()
		if last != nil {
			out[len(out)-1].length = last.Length
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		body, err := io.ReadAll(rec.Body)
		if err != nil {
			return out, err
		}
		if rec.Version != ARCVersion {
			t.Errorf("version %q", rec.Version)
		}
		out = append(out, arcRead{rec.Header.Get("WARC-Type"), rec.Header.Get("WARC-Target-URI"), rec.Header.Get("WARC-Date"),
			rec.Header.Get("WARC-IP-Address"), rec.Header.Get("Content-Type"), rec.Offset, 0, string(body)})
		last = rec
	}
}

func TestARCReader(t *testing.T) {
	for _, version := range []int{1, 2} {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("v%d-gzip-%v", version, gz), func(t *testing.T) {
				file, offs := buildARC(t, version, gz, arcV1)
				got, err := readARC(t, file)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(arcV1)+1 {
					t.Fatalf("%d records, want %d", len(got), len(arcV1)+1)
				}
				if got[0].typ != "warcinfo" || got[0].url != "filedesc://test.arc" {
					t.Errorf("version block read as %+v", got[0])
				}
				want := []struct{ typ, url, date, ip, ctype string }{
					{"response", "http://example.com/", "1996-11-04T14:21:03Z", "93.184.216.34", "application/http; msgtype=response"},
					{"resource", "dns:example.com", "1996-11-04T14:21:04Z", "10.0.0.1", "text/dns"},
					{"response", "http://example.com/a%20b.html", "1996-11-04T14:21:05Z", "93.184.216.34", "application/http; msgtype=response"},
					{"resource", "http://example.com/empty", "1996-11-04T14:21:06Z", "93.184.216.34", "text/plain"},
				}
				for i, w := range want {
					g := got[i+1]
					if g.typ != w.typ || g.url != w.url || g.date != w.date || g.ip != w.ip || g.ctype != w.ctype {
						t.Errorf("record %d: %+v, want %+v", i+1, g, w)
					}
					if g.body != arcV1[i].content {
						t.Errorf("record %d: body %q, want %q", i+1, g.body, arcV1[i].content)
					}
				}
				for i, g := range got {
					if g.offset != offs[i] {
						t.Errorf("record %d at offset %d, written at %d", i, g.offset, offs[i])
					}
					end := int64(len(file))
					if i+1 < len(offs) {
						end = offs[i+1]
					}
					if g.length != end-offs[i] {
						t.Errorf("record %d: length %d, want %d", i, g.length, end-offs[i])
					}
				}
				// Every record can be read from its offset alone, as an
				// index points at it.
				if gz {
					for i := 1; i < len(offs); i++ {
						r, err := NewARCReader(bytes.NewReader(file[offs[i]:]))
						if err != nil {
							t.Fatal(err)
						}
						r.fields = map[int]int{1: 5, 2: 10}[version]
						r.in.n = offs[i] // offsets count from the file's start
						rec, err := r.Next()
						if err != nil || rec.Header.Get("WARC-Target-URI") != got[i].url {
							t.Errorf("record %d from its offset: %v %v", i, rec, err)
						}
					}
				}
			})
		}
	}
}

func TestARCReaderDamage(t *testing.T) {
	plain, _ := buildARC(t, 1, false, arcV1)
	gz, offs := buildARC(t, 1, true, arcV1)
	cases := []struct {
		name string
		file []byte
		want string
		n    int // records read before the error
	}{
		{"truncated-plain", plain[:len(plain)-40], "file ends", 4},
		{"truncated-gzip", gz[:offs[3]+20], "truncated", 3},
		{"not-arc", []byte("WARC/1.1\r\nWARC-Type: warcinfo\r\n\r\n"), "not an ARC file", 0},
		{"garbage-length", []byte("filedesc://x.arc 0.0.0.0 19961104142103 text/plain -7\n"), "archive length", 0},
		{"bad-date", []byte("filedesc://x.arc 0.0.0.0 yesterday text/plain 0\n\n"), "archive date", 0},
		{"endless-line", bytes.Repeat([]byte("a"), 1<<20), "longer than", 0},
		{"trailing-garbage", append(append([]byte{}, gz...), "not gzip"...), "not a gzip member", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readARC(t, c.file)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a *FormatError with %q", err, c.want)
			}
			if len(got) != c.n {
				t.Errorf("%d records before the error, want %d", len(got), c.n)
			}
		})
	}
}

func TestIsARC(t *testing.T) {
	plain, _ := buildARC(t, 1, false, arcV1)
	if !IsARC(plain[:32]) || IsARC([]byte("WARC/1.0\r\n")) {
		t.Error("IsARC")
	}
}

// FuzzARCReader holds the reader to its contract on any input: no panic,
// bounded reads, and a *FormatError or io.EOF at the end.
func FuzzARCReader(f *testing.F) {
	for _, version := range []int{1, 2} {
		for _, gz := range []bool{false, true} {
			b, _ := buildARC(&testing.T{}, version, gz, arcV1)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewARCReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			rec, err := r.Next()
			if err != nil {
				var fe *FormatError
				if err != io.EOF && !errors.As(err, &fe) {
					t.Fatalf("record %d: %T %v", i, err, err)
				}
				if _, again := r.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if _, err := io.Copy(io.Discard, rec.Body); err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("body: %T %v", err, err)
				}
			}
		}
	})
}

// TestWriteARCFixtures writes the hand-built ARC files of testdata/others
// when AMBER_ARC_FIXTURES names the testdata directory:
//
//	AMBER_ARC_FIXTURES=$PWD/testdata go test -run WriteARC ./warc
//
// The damaged one is there too: testdata/damaged is generated from the
// table of verify's corpus test.
func TestWriteARCFixtures(t *testing.T) {
	dir := os.Getenv("AMBER_ARC_FIXTURES")
	if dir == "" {
		t.Skip("AMBER_ARC_FIXTURES not set")
	}
	v1, _ := buildARC(t, 1, false, arcV1)
	v1gz, offs := buildARC(t, 1, true, arcV1)
	v2gz, _ := buildARC(t, 2, true, arcV1)
	files := map[string][]byte{
		"others/arc-v1.arc":              v1,
		"others/arc-v1.arc.gz":           v1gz,
		"others/arc-v2.arc.gz":           v2gz,
		"others/arc-v1-truncated.arc.gz": v1gz[:offs[3]+20],
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
