package warc

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"
)

// Stored members, from a reader or from slices, are gzip members that
// decode to the bytes given, whatever the sizes around the 64 KiB block
// limit.
func TestStoredMembers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sizes := range [][]int{{}, {0}, {1}, {0xffff}, {0x10000}, {700, 0xffff + 3, 0, 200000}, {5, 5, 5}} {
		var parts [][]byte
		var all []byte
		for _, n := range sizes {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			parts = append(parts, p)
			all = append(all, p...)
		}
		var fromSlices, fromReader bytes.Buffer
		if err := writeStoredSlices(&fromSlices, parts...); err != nil {
			t.Fatal(err)
		}
		if err := writeStoredMember(&fromReader, bytes.NewReader(all)); err != nil {
			t.Fatal(err)
		}
		for name, m := range map[string][]byte{"slices": fromSlices.Bytes(), "reader": fromReader.Bytes()} {
			br := bytes.NewReader(m)
			zr, err := gzip.NewReader(br)
			if err != nil {
				t.Fatalf("%v %s: %v", sizes, name, err)
			}
			zr.Multistream(false)
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, all) {
				t.Errorf("%v %s: %d bytes back, %v", sizes, name, len(got), err)
			}
			if br.Len() != 0 {
				t.Errorf("%v %s: %d bytes after the member", sizes, name, br.Len())
			}
		}
	}
}
