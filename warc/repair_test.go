package warc

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRepairOpen cuts a file left open mid-record back to its last complete
// record, at every possible cut point.
func TestRepairOpen(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	for i := 0; i < 3; i++ {
		b := w.NewRecord(TypeResource, time.Now())
		b.AddField("WARC-Target-URI", "http://example.com/"+strings.Repeat("x", i))
		b.AddField("Content-Type", "text/plain")
		io.WriteString(b, strings.Repeat("payload ", 100*(i+1)))
		res, err := w.Write(b)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, res[0].Offset+res[0].Length)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(filepath.Join(dir, w.Files()[0]))
	if err != nil {
		t.Fatal(err)
	}
	for cut := int64(1); cut <= int64(len(full)); cut += 7 {
		p := filepath.Join(t.TempDir(), "x.warc.gz.open")
		if err := os.WriteFile(p, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := RepairOpen(p)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		want := int64(0)
		for _, e := range append([]int64{warcinfoEnd(t, full)}, ends...) {
			if e <= cut {
				want = e
			}
		}
		if res.Kept != want {
			t.Fatalf("cut %d: kept %d bytes, want %d", cut, res.Kept, want)
		}
		if want == 0 {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Fatalf("cut %d: empty file not removed", cut)
			}
			continue
		}
		got, err := os.ReadFile(res.Path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(full[:want]) {
			t.Fatalf("cut %d: repaired file is not the original's prefix", cut)
		}
	}
}

func warcinfoEnd(t *testing.T, full []byte) int64 {
	r, err := NewReader(strings.NewReader(string(full)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rec.Body)
	r.Finish()
	return rec.Offset + rec.Length
}
