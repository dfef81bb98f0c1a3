package capture

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/semaphore"
)

// Content decodes within the shared inflate budget, whatever the gzip
// trailer claims, and gives all of it back on ReleaseContent.
func TestInflateWithinBudget(t *testing.T) {
	const limit = 1 << 20
	plain := bytes.Repeat([]byte("a{b:c} "), 3<<20/7)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	honest := z.Bytes()
	lying := bytes.Clone(honest)
	copy(lying[len(lying)-4:], []byte{10, 0, 0, 0}) // ISIZE: 10 bytes
	small := func() []byte {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(plain[:1000])
		zw.Close()
		return z.Bytes()
	}()
	for _, c := range []struct {
		name string
		body []byte
		want int
	}{
		{"honest bomb", honest, limit},
		{"lying trailer", lying, limit},
		{"cut stream", honest[:len(honest)/2], -1},
		{"small", small, 1000},
	} {
		budget := semaphore.NewWeighted(limit)
		kept := bytes.Clone(c.body)
		ex := &Exchange{kept: &kept, keptEnc: encGzip, parseLimit: limit, budget: budget}
		got := ex.Content()
		if c.want >= 0 && len(got) != c.want || len(got) > limit || !bytes.Equal(got, plain[:len(got)]) {
			t.Errorf("%s: %d bytes decoded, want %d of the plain text", c.name, len(got), c.want)
		}
		if ex.held < int64(len(got)) || ex.held > limit || budget.TryAcquire(limit-ex.held+1) {
			t.Errorf("%s: %d bytes decoded with %d of the budget held", c.name, len(got), ex.held)
		}
		ex.ReleaseContent()
		if !budget.TryAcquire(limit) {
			t.Errorf("%s: budget not given back", c.name)
		}
	}
}

// TestDecodeBrotliZstd: br and zstd bodies (what a browser asks for) are
// decoded for parsing within the same budget as gzip: a bomb stops at the
// parse limit, a cut stream yields what it holds, a zstd frame with a
// window over 8 MiB is not decoded, and the budget is given back.
func TestDecodeBrotliZstd(t *testing.T) {
	const limit = 1 << 20
	var pb bytes.Buffer
	for i := 0; pb.Len() < 3<<19; i++ {
		fmt.Fprintf(&pb, ".c%d{background:url(/img/%x.png)}\n", i, i*7919)
	}
	plain := pb.Bytes()
	brot := func(p []byte) []byte {
		var b bytes.Buffer
		w := brotli.NewWriterLevel(&b, 1)
		w.Write(p)
		w.Close()
		return b.Bytes()
	}
	zst := func(p []byte, opts ...zstd.EOption) []byte {
		w, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		return w.EncodeAll(p, nil)
	}
	half := func(b []byte) []byte { return b[:len(b)/2] }
	// A frame that declares a 64 MiB window (window descriptor 0x80:
	// 2^(10+16)), with one raw block: a decoder that honoured it could
	// allocate that much.
	raw := plain[:5000]
	bh := 1 | len(raw)<<3 // last block, raw, its size
	wide := append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x80, byte(bh), byte(bh >> 8), byte(bh >> 16)}, raw...)
	if got := decodeLimited(encZstd, nil, append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x20, byte(bh), byte(bh >> 8), byte(bh >> 16)}, raw...), limit); !bytes.Equal(got, raw) {
		t.Fatalf("the hand-made frame with a 16 KiB window decodes to %d bytes, want %d", len(got), len(raw))
	}
	for _, c := range []struct {
		name, enc string
		body      []byte
		want      int
	}{
		{"br bomb", encBrotli, brot(plain), limit},
		{"br small", encBrotli, brot(plain[:1000]), 1000},
		{"br cut", encBrotli, half(brot(plain)), -1},
		{"zstd bomb", encZstd, zst(plain), limit},
		{"zstd small", encZstd, zst(plain[:1000]), 1000},
		{"zstd cut", encZstd, half(zst(plain)), -1},
		{"zstd wide window", encZstd, wide, 0},
	} {
		budget := semaphore.NewWeighted(limit)
		kept := bytes.Clone(c.body)
		ex := &Exchange{kept: &kept, keptEnc: c.enc, parseLimit: limit, budget: budget}
		got := ex.Content()
		if c.want >= 0 && len(got) != c.want || len(got) > limit || !bytes.Equal(got, plain[:len(got)]) {
			t.Errorf("%s: %d bytes decoded, want %d of the plain text", c.name, len(got), c.want)
		}
		if c.want < 0 && len(got) == 0 {
			t.Errorf("%s: nothing decoded of a cut stream", c.name)
		}
		if ex.held < int64(len(got)) || ex.held > limit {
			t.Errorf("%s: %d bytes decoded with %d of the budget held", c.name, len(got), ex.held)
		}
		ex.ReleaseContent()
		if !budget.TryAcquire(limit) {
			t.Errorf("%s: budget not given back", c.name)
		}
	}
	for ce, want := range map[string]string{"gzip": encGzip, " X-Gzip ": encGzip, "BR": encBrotli, "zstd": encZstd, "deflate": "", "gzip, br": "", "": ""} {
		if got := decodable(ce); got != want {
			t.Errorf("decodable(%q) = %q, want %q", ce, got, want)
		}
	}
}
