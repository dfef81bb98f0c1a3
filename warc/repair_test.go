package warc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
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

// digestRecord renders a resource record with its block digest.
func digestRecord(id, block string) []byte {
	return rawRecord(id, "resource", block, "WARC-Target-URI", "http://example.com/"+id, "Content-Type", "text/plain",
		"WARC-Block-Digest", digestOf("sha1", block))
}

func storedMember(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.NoCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readIDs reads a repaired file, checking that every record is intact and,
// in a gzip file, alone in its member; it returns the record ids.
func readIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return ids
		}
		if err != nil {
			t.Fatalf("repaired file: %v", err)
		}
		d := NewRecordDigester(rec.Header)
		io.Copy(d, rec.Body)
		if err := r.Finish(); err != nil {
			t.Fatalf("repaired file: %v", err)
		}
		if b := d.Block(); b.Status != DigestMatch || rec.SharedMember {
			t.Fatalf("repaired file: record %s: block %v, shared %v", rec.Header.Get("WARC-Record-ID"), b.Status, rec.SharedMember)
		}
		ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(rec.Header.Get("WARC-Record-ID"), "<urn:uuid:"), ">"))
	}
}

func TestRepair(t *testing.T) {
	recs := make([][]byte, 5)
	members := make([][]byte, 5)
	for i := range recs {
		recs[i] = digestRecord(fmt.Sprint(i+1), strings.Repeat(fmt.Sprintf("block %d ", i+1), 20*(i+1)))
		members[i] = gzipMember(t, recs[i])
	}
	members[2] = storedMember(t, recs[2])
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	good := cat(members...)
	off := func(i int) int64 { return int64(len(cat(members[:i]...))) }
	flipped := bytes.Clone(good)
	flipped[off(3)-30] ^= 1 // in the stored block of record 3
	corrupt := bytes.Clone(good)
	corrupt[off(1)+10] |= 0x06 // deflate block type 3 in member 2
	shared := cat(members[0], gzipMember(t, cat(recs[1], recs[2], recs[3])), members[4])
	badInShared := cat(members[0], gzipMember(t, cat(recs[1], bytes.Replace(recs[2], []byte("block 3"), []byte("block X"), 1), recs[3])), members[4])
	wholeFile := gzipMember(t, cat(recs...))
	plainFile := cat(recs...)
	plainDamaged := cat(recs[0], bytes.Replace(recs[1], []byte("Content-Length: "), []byte("Content-Length: 1"), 1), recs[2], recs[3], recs[4])

	type drop struct {
		offset int64
		id     string // "" for a stretch of bytes
		reason string
	}
	tests := []struct {
		name      string
		data      []byte
		ids       string // records kept
		identical bool   // the output is the input
		drops     []drop
		lost      bool
		rewritten int
	}{
		{"intact", good, "1 2 3 4 5", true, nil, false, 0},
		{"truncated", good[:len(good)-10], "1 2 3 4", false, []drop{{off(4), "5", "truncated"}}, true, 0},
		{"flipped byte", flipped, "1 2 4 5", false, []drop{{off(2), "3", "CRC-32"}}, true, 0},
		{"corrupt deflate", corrupt, "1 3 4 5", false, []drop{{off(1), "", "corrupt gzip data"}}, true, 0},
		{"garbage between members", cat(members[0], []byte("garbage"), members[1]), "1 2", false, []drop{{off(1), "", "not a gzip member"}}, true, 0},
		{"zero padding", cat(good, make([]byte, 64)), "1 2 3 4 5", false, []drop{{int64(len(good)), "", "zero padding"}}, false, 0},
		{"shared member", shared, "1 2 3 4 5", false, nil, false, 3},
		{"damage in a shared member", badInShared, "1 2 4 5", false, []drop{{off(1), "3", "block digest mismatch"}}, true, 2},
		{"whole file one member, truncated", wholeFile[:len(wholeFile)-40], "1 2 3 4", false, []drop{{0, "", "truncated"}}, true, 4},
		{"plain", plainFile, "1 2 3 4 5", true, nil, false, 0},
		{"plain with a wrong Content-Length", plainDamaged, "1 3 4 5", false, []drop{{int64(len(recs[0])), "2", "Content-Length"}}, true, 0},
		{"nothing to salvage", []byte("not a WARC file at all\n"), "", false, []drop{{0, "", "version line"}}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "in.warc.gz")
			if err := os.WriteFile(src, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			dst := RepairName(src)
			rep, err := Repair(context.Background(), src, dst)
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := os.ReadFile(src); !bytes.Equal(after, tt.data) {
				t.Fatal("the original was modified")
			}
			var got []string
			for _, d := range rep.Dropped {
				got = append(got, fmt.Sprintf("%d %s: %s", d.Offset, d.RecordID, d.Reason))
			}
			if len(rep.Dropped) != len(tt.drops) {
				t.Fatalf("dropped %q, want %d", got, len(tt.drops))
			}
			for i, w := range tt.drops {
				d := rep.Dropped[i]
				id := ""
				if w.id != "" {
					id = "<urn:uuid:" + w.id + ">"
				}
				if d.Offset != w.offset || d.RecordID != id || !strings.Contains(d.Reason, w.reason) {
					t.Errorf("dropped %d = %q, want %+v", i, got[i], w)
				}
			}
			if rep.Lost() != tt.lost || rep.Rewritten != tt.rewritten {
				t.Errorf("lost %v, rewritten %d; want %v, %d", rep.Lost(), rep.Rewritten, tt.lost, tt.rewritten)
			}
			if tt.ids == "" {
				if rep.Output != "" || rep.Records != 0 {
					t.Errorf("report = %+v, want no output", rep)
				}
				if _, err := os.Stat(dst); !os.IsNotExist(err) {
					t.Errorf("output written: %v", err)
				}
				return
			}
			if ids := strings.Join(readIDs(t, dst), " "); ids != tt.ids || rep.Records != len(strings.Fields(tt.ids)) {
				t.Errorf("kept %q (%d), want %q", ids, rep.Records, tt.ids)
			}
			out, _ := os.ReadFile(dst)
			if tt.identical != bytes.Equal(out, tt.data) || rep.Bytes != int64(len(out)) {
				t.Errorf("output identical to input: %v, want %v; %d bytes reported, %d written", !tt.identical, tt.identical, rep.Bytes, len(out))
			}
			if _, err := Repair(context.Background(), src, dst); !errors.Is(err, fs.ErrExist) {
				t.Errorf("repairing onto an existing file: %v", err)
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestRepairName(t *testing.T) {
	for in, want := range map[string]string{
		"a/x.warc.gz":     "a/x.repaired.warc.gz",
		"x.warc.gz.open":  "x.repaired.warc.gz",
		"x.warc":          "x.repaired.warc",
		"x.bin":           "x.bin.repaired.warc.gz",
		"x.repaired.warc": "x.repaired.repaired.warc",
	} {
		if got := RepairName(in); got != want {
			t.Errorf("RepairName(%q) = %q, want %q", in, got, want)
		}
	}
}
