package capture

import (
	"bytes"
	"compress/gzip"
	"testing"

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
		ex := &Exchange{kept: &kept, keptGzip: true, parseLimit: limit, budget: budget}
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
