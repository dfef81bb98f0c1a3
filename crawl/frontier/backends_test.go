package frontier_test

import (
	"path/filepath"
	"testing"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/crawl/frontier/frontiertest"
)

func TestMemory(t *testing.T) {
	frontiertest.Run(t, frontiertest.Backend{
		Open: func(t *testing.T, clock frontier.Clock) frontier.Frontier { return frontier.NewMemory(clock) },
	})
}

func TestBolt(t *testing.T) {
	frontiertest.Run(t, frontiertest.Backend{
		Open: func(t *testing.T, clock frontier.Clock) frontier.Frontier {
			f, err := frontier.OpenBolt(filepath.Join(t.TempDir(), "crawl.db"), clock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
		// bbolt locks the file: the dead process's handle is closed first.
		// Every change was committed when its method returned, so closing
		// writes nothing a crash would not have.
		Reopen: func(t *testing.T, f frontier.Frontier, clock frontier.Clock) frontier.Frontier {
			path := f.(*frontier.Bolt).Path()
			f.Close()
			g, err := frontier.OpenBolt(path, clock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { g.Close() })
			return g
		},
	})
}

func BenchmarkMemory(b *testing.B) {
	frontiertest.Bench(b, func(b *testing.B) frontier.Frontier { return frontier.NewMemory(nil) })
}

func BenchmarkBolt(b *testing.B) {
	frontiertest.Bench(b, func(b *testing.B) frontier.Frontier {
		f, err := frontier.OpenBolt(filepath.Join(b.TempDir(), "crawl.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	})
}
