package frontier_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// fillState writes a state of n URLs, half of them done with a digest, and
// one run, as a crawl leaves it.
func fillState(t testing.TB, path string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := frontier.OpenBolt(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	var es []frontier.Entry
	for i := range n {
		es = append(es, frontier.Entry{Key: fmt.Sprintf("http://example.com/page/%06d", i), Data: []byte("target data")})
	}
	if _, err := s.Add(ctx, es); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "w", n/2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var outs []frontier.Outcome
	var ds []frontier.DigestRef
	for i, l := range got {
		outs = append(outs, frontier.Outcome{Lease: l, Page: &frontier.Page{URL: l.Key}})
		ds = append(ds, frontier.DigestRef{Digest: fmt.Sprintf("sha1:%032d", i), RecordID: "<urn:uuid:x>", URI: l.Key})
	}
	if err := s.Finish(ctx, outs, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(ctx, frontier.RunInfo{Crawl: 1}); err != nil {
		t.Fatal(err)
	}
}

// useState does what amber archive and amber status do with a state. It
// must return an error or nil; a panic fails the test binary.
func useState(path string) error {
	ctx := context.Background()
	s, err := frontier.OpenBolt(path, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Runs(ctx); err != nil {
		return err
	}
	if _, err := s.Counts(ctx); err != nil {
		return err
	}
	if _, err := s.Failures(ctx, 20); err != nil {
		return err
	}
	if _, err := s.Reclaim(ctx); err != nil {
		return err
	}
	if _, err := s.Begin(ctx, false); err != nil {
		return err
	}
	if _, err := s.Pages(ctx, "w"); err != nil {
		return err
	}
	if _, err := s.Add(ctx, []frontier.Entry{{Key: "x"}, {Key: "y"}}); err != nil {
		return err
	}
	ls, err := s.Claim(ctx, "w", 100, time.Hour)
	if err != nil {
		return err
	}
	var outs []frontier.Outcome
	for _, l := range ls {
		outs = append(outs, frontier.Outcome{Lease: l})
	}
	if err := s.Finish(ctx, outs, []frontier.DigestRef{{Digest: "sha1:NEW", URI: "x"}}); err != nil {
		return err
	}
	_, _, err = s.LookupDigest(ctx, "sha1:00000000000000000000000000000001")
	return err
}

const pageSize = 4096 // bbolt's page size on the machines amber runs on (os.Getpagesize)

// boltPages describes a bbolt file: its current meta page, the free-list
// page it names, and the leaf and branch pages.
type boltPages struct {
	freelist, hwm  int
	leaves, branch []int // in use: below the high-water mark and not free
}

func readBoltPages(t *testing.T, data []byte) boltPages {
	t.Helper()
	if os.Getpagesize() != pageSize {
		t.Skipf("page size %d", os.Getpagesize())
	}
	// meta: page header (16) magic version pageSize flags root{pgid seq}
	// freelist pgid txid checksum.
	var bp boltPages
	var txid uint64
	for m := 0; m < 2; m++ {
		meta := data[m*pageSize+16:]
		if tx := binary.LittleEndian.Uint64(meta[48:]); tx >= txid {
			txid = tx
			bp.freelist = int(binary.LittleEndian.Uint64(meta[32:]))
			bp.hwm = int(binary.LittleEndian.Uint64(meta[40:]))
		}
	}
	free := map[int]bool{}
	fl := data[bp.freelist*pageSize:]
	n, ids := int(binary.LittleEndian.Uint16(fl[10:])), fl[16:]
	if n == 0xffff {
		n, ids = int(binary.LittleEndian.Uint64(ids)), ids[8:]
	}
	for i := range n {
		free[int(binary.LittleEndian.Uint64(ids[8*i:]))] = true
	}
	for id := 2; id < bp.hwm; id++ {
		p := data[id*pageSize:]
		if int(binary.LittleEndian.Uint64(p)) != id || free[id] {
			continue
		}
		switch binary.LittleEndian.Uint16(p[8:]) {
		case 0x01:
			bp.branch = append(bp.branch, id)
		case 0x02:
			bp.leaves = append(bp.leaves, id)
		}
	}
	if len(bp.leaves) < 3 || len(bp.branch) < 1 {
		t.Fatalf("state too small to damage: %d leaves, %d branch pages", len(bp.leaves), len(bp.branch))
	}
	return bp
}

func flip(data []byte, off, n int) []byte {
	d := append([]byte(nil), data...)
	for i := range n {
		d[off+i] ^= 0xa5
	}
	return d
}

// TestBoltDamaged: a truncated state file, or one with flipped bytes
// in the meta pages, the free list, a branch or a leaf page, is refused at
// open with a one-line DamagedError naming the file and what to do;
// nothing panics.
func TestBoltDamaged(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillState(t, good, 4000)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bp := readBoltPages(t, data)
	lastLeaf := bp.leaves[len(bp.leaves)-1]
	cases := map[string][]byte{
		"truncated in the first meta page":           data[:100],
		"truncated after the meta pages":             data[:2*pageSize+100],
		"truncated before the last leaf":             data[:lastLeaf*pageSize],
		"truncated inside the last leaf":             data[:lastLeaf*pageSize+pageSize/2],
		"both meta pages flipped":                    flip(flip(data, 16+40, 8), pageSize+16+40, 8),
		"free list page header flipped":              flip(data, bp.freelist*pageSize+8, 8),
		"free list ids flipped":                      flip(data, bp.freelist*pageSize+16, 64),
		"branch page element flipped":                flip(data, bp.branch[0]*pageSize+16, 16),
		"leaf page count flipped":                    flip(data, bp.leaves[1]*pageSize+10, 2),
		"leaf page element offsets flipped":          flip(data, bp.leaves[2]*pageSize+16, 16),
		"leaf page identifies as another":            flip(data, bp.leaves[0]*pageSize, 4),
		"not a bbolt file at all":                    []byte(strings.Repeat("<html>not a database</html>\n", 400)),
		"cut one page short of its meta page's size": data[:(bp.hwm-1)*pageSize],
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "crawl.db")
			if err := os.WriteFile(p, d, 0o644); err != nil {
				t.Fatal(err)
			}
			err := useState(p)
			var de *frontier.DamagedError
			if !errors.Is(err, frontier.ErrDamaged) || !errors.As(err, &de) {
				t.Fatalf("got %v, want a damaged state error", err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") || len(msg) > 600 {
				t.Errorf("not one short line (%d bytes): %q", len(msg), msg)
			}
			if !strings.Contains(msg, "crawl state "+p+" is damaged (") || !strings.Contains(msg, "move it away") {
				t.Errorf("message does not name the file and what to do: %q", msg)
			}
			after, _ := os.ReadFile(p)
			if string(after) != string(d) {
				t.Errorf("the damaged file was changed")
			}
		})
	}
	// One meta page damaged: bbolt falls back on the other one, which is
	// what it is for.
	p := filepath.Join(dir, "one-meta.db")
	os.WriteFile(p, flip(data, 16+40, 8), 0o644)
	if err := useState(p); err != nil && !errors.Is(err, frontier.ErrDamaged) {
		t.Errorf("one meta page flipped: %v", err)
	}
}

// TestBoltDamageSweep flips bytes at many places of a state and cuts
// it at many lengths: every open and use ends in nil or a damaged-state
// error, never a panic (which would end the test binary).
func TestBoltDamageSweep(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillState(t, good, 2000)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	n, refused := 0, 0
	for off := 0; off+pageSize <= len(data); off += 7 * pageSize {
		for _, variant := range [][]byte{flip(data, off+9, 8), flip(data, off+200, 8), data[:off+1000]} {
			p := filepath.Join(dir, fmt.Sprintf("v%d.db", n))
			if err := os.WriteFile(p, variant, 0o644); err != nil {
				t.Fatal(err)
			}
			err := useState(p)
			if err != nil && !errors.Is(err, frontier.ErrDamaged) {
				t.Errorf("offset %d: %v, want nil or a damaged state error", off, err)
			}
			if err != nil {
				refused++
			}
			os.Remove(p)
			n++
		}
	}
	t.Logf("%d damaged variants, %d refused", n, refused)
	if refused == 0 {
		t.Error("no variant was refused")
	}
}

// TestBoltDamagedReleased: a damaged state refused at open leaves
// the file closed and unlocked, whatever failed (an error of bbolt's, a
// panic inside bolt.Open, the check): opening it again in the same
// process is refused as damaged again, not as locked.
func TestBoltDamagedReleased(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	fillState(t, good, 2000)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for off := pageSize * 2; off < len(data); off += 3 * pageSize {
		for _, variant := range [][]byte{data[:off], flip(data, off+9, 8)} {
			p := filepath.Join(dir, "v.db")
			if err := os.WriteFile(p, variant, 0o644); err != nil {
				t.Fatal(err)
			}
			first := useState(p)
			second := useState(p)
			if errors.Is(first, frontier.ErrLocked) || errors.Is(second, frontier.ErrLocked) {
				t.Fatalf("offset %d: %v, then %v: a failed open kept the file locked", off, first, second)
			}
			os.Remove(p)
		}
	}
}

// TestBoltOldFormat: a state file of an amber from before the frontier is
// refused with one line that names the file and what to do, and is left
// as it was.
func TestBoltOldFormat(t *testing.T) {
	p := filepath.Join(t.TempDir(), "crawl.db")
	db, err := bolt.Open(p, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"meta", "urls", "fresh", "fresh-r", "claimed", "digests", "pages", "runs", "robots"} {
			if _, err := tx.CreateBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("urls")).Put([]byte("http://example.com/"), []byte{1, 'D', 1, 0})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	_, err = frontier.OpenBolt(p, nil)
	var oe *frontier.OldFormatError
	if !errors.Is(err, frontier.ErrOldFormat) || !errors.As(err, &oe) || oe.Path != p {
		t.Fatalf("got %v, want an old-format error", err)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, "mv "+p+" "+p+".old") {
		t.Errorf("message %q: want one line with the mv to run", msg)
	}
	if after, _ := os.ReadFile(p); string(after) != string(before) {
		t.Error("the old state file was changed")
	}
}

// TestBoltReclaim: the leases a killed process left in the file go back
// to the queue, ahead of the rest, when the next process reclaims them,
// without waiting for them to expire; they are claimed again in order.
func TestBoltReclaim(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "crawl.db")
	s, err := frontier.OpenBolt(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Begin(ctx, false)
	s.Add(ctx, []frontier.Entry{{Key: "a"}, {Key: "b"}, {Key: "c"}})
	if ls, err := s.Claim(ctx, "dead", 2, time.Hour); err != nil || len(ls) != 2 {
		t.Fatalf("claimed %v, %v", ls, err)
	}
	s.Close()
	s, err = frontier.OpenBolt(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if info, err := s.Begin(ctx, false); err != nil || !info.Resumed {
		t.Fatalf("Begin: %+v, %v; want the crawl resumed", info, err)
	}
	if n, err := s.Reclaim(ctx); err != nil || n != 2 {
		t.Fatalf("Reclaim: %d, %v; want 2", n, err)
	}
	ls, err := s.Claim(ctx, "new", 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.Key)
	}
	if strings.Join(got, " ") != "a b c" {
		t.Errorf("claimed %q after reclaiming, want a b c", got)
	}
}

// TestBoltReadsJSONRecords: URL and digest records stored as JSON (as the
// first frontier files were) still read, beside the binary form.
func TestBoltReadsJSONRecords(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "crawl.db")
	s, err := frontier.OpenBolt(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Begin(ctx, false)
	s.Close()
	db, err := bolt.Open(p, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("urls")).Put([]byte("http://a/"), []byte(`{"s":68,"c":1}`)); err != nil {
			return err
		}
		return tx.Bucket([]byte("digests")).Put([]byte("sha1:X"), []byte(`{"Digest":"sha1:X","RecordID":"<urn:uuid:1>","URI":"http://a/","Date":"2026-12-01T00:00:00Z"}`))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err = frontier.OpenBolt(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Add(ctx, []frontier.Entry{{Key: "http://a/"}, {Key: "http://b/"}}); n != 1 || err != nil {
		t.Errorf("Add: %d, %v; want http://a/ known (done) and http://b/ new", n, err)
	}
	if d, ok, err := s.LookupDigest(ctx, "sha1:X"); !ok || err != nil || d.RecordID != "<urn:uuid:1>" {
		t.Errorf("LookupDigest: %+v %v %v", d, ok, err)
	}
}
