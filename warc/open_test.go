package warc

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base32"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenRecordsARC(t *testing.T) {
	for _, version := range []int{1, 2} {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("v%d-gzip-%v", version, gz), func(t *testing.T) {
				file, offs := buildARC(t, version, gz, arcV1)
				r, err := OpenRecords(bytes.NewReader(file))
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := r.(*ARCReader); !ok {
					t.Fatalf("OpenRecords gave a %T for an ARC file", r)
				}
				if r.Compressed() != gz {
					t.Errorf("Compressed() = %v", r.Compressed())
				}
				// Each record read from its offset alone, as replay reads
				// it from an index line: the URL (with its space) intact.
				for i := 1; i < len(offs); i++ {
					r, err := OpenRecordAt(bytes.NewReader(file[offs[i]:]), offs[i])
					if err != nil {
						t.Fatal(err)
					}
					rec, err := r.Next()
					if err != nil {
						t.Fatalf("record %d: %v", i, err)
					}
					want := []string{"http://example.com/", "dns:example.com", "http://example.com/a%20b.html", "http://example.com/empty"}[i-1]
					if u := rec.Header.Get("WARC-Target-URI"); u != want || rec.Offset != offs[i] {
						t.Errorf("record %d: %s at %d, want %s at %d", i, u, rec.Offset, want, offs[i])
					}
				}
			})
		}
	}
	w, err := OpenRecords(bytes.NewReader([]byte("WARC/1.1\r\n")))
	if _, ok := w.(*Reader); !ok || err != nil {
		t.Errorf("OpenRecords gave %T, %v for a WARC file", w, err)
	}
}

func TestIndexARC(t *testing.T) {
	file, offs := buildARC(t, 1, true, arcV1)
	p := filepath.Join(t.TempDir(), "test.arc.gz")
	if err := os.WriteFile(p, file, 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := IndexWARC(p)
	if err != nil {
		t.Fatal(err)
	}
	// sha1("<html>hello</html>\r\n\r\n"), the payload after the HTTP head;
	// the empty record's digest is that of nothing.
	want := []string{
		fmt.Sprintf(`com,example)/ 19961104142103 {"url": "http://example.com/", "mime": "text/html", "status": "200", "digest": "%s", "length": "%d", "offset": "%d", "filename": "test.arc.gz"}`, sha1b32("<html>hello</html>\r\n\r\n"), offs[2]-offs[1], offs[1]),
		fmt.Sprintf(SURT("dns:example.com")+` 19961104142104 {"url": "dns:example.com", "mime": "text/dns", "digest": "%s", "length": "%d", "offset": "%d", "filename": "test.arc.gz"}`, sha1b32(arcV1[1].content), offs[3]-offs[2], offs[2]),
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4: %v", len(lines), lines)
	}
	for i, w := range want {
		if g := lines[i].String(); g != w {
			t.Errorf("line %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

func sha1b32(s string) string {
	sum := sha1.Sum([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])
}

// TestOpenRecordsBigFirstMember: an ARC file whose first gzip member is
// larger than what OpenRecords reads ahead is still told by its content.
func TestOpenRecordsBigFirstMember(t *testing.T) {
	noise := make([]byte, 3*sniffSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte('a' + rng.IntN(26)) // compresses poorly
	}
	big := []arcRecord{{"http://example.com/big", "93.184.216.34", "19961104142103", "text/plain", string(noise)}}
	var file bytes.Buffer
	zw := gzip.NewWriter(&file)
	zw.Write([]byte("filedesc://big.arc 0.0.0.0 19961104142103 text/plain " + fmt.Sprint(len(noise)+9) + "\n1 0 big " + string(noise) + "\n\n"))
	zw.Close()
	rest, _ := buildARC(t, 1, true, big)
	if file.Len() <= sniffSize {
		t.Fatalf("first member of %d bytes, want more than %d", file.Len(), sniffSize)
	}
	file.Write(rest)
	r, err := OpenRecords(bytes.NewReader(file.Bytes()))
	if _, ok := r.(*ARCReader); !ok || err != nil {
		t.Fatalf("OpenRecords gave %T, %v", r, err)
	}
	n := 0
	for ; ; n++ {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
	}
	if n != 3 { // the big version block, the small one, the record
		t.Errorf("%d records, want 3", n)
	}
}
