package crawl

import (
	"encoding/json"
	"fmt"

	"github.com/amber-archiver/amber/internal/binrec"
)

// A frontier entry's data (a target) is in the compact binary form of
// internal/binrec. Entries written as JSON, which starts with '{', still
// read.

const (
	targetSeed = 1 << iota
	targetLeaf
)

func (t target) encode() []byte {
	var flags byte
	if t.IsSeed {
		flags |= targetSeed
	}
	if t.Leaf {
		flags |= targetLeaf
	}
	return binrec.New(len(t.URL) + len(t.Kind) + len(t.Seed) + len(t.Chain) + len(t.Via) + 12).
		Str(t.URL).Str(t.Kind).Str(t.Seed).Byte(flags).Uint(uint64(t.Hops)).Str(t.Chain).Str(t.Via)
}

func decodeTarget(b []byte, t *target) error {
	r, isJSON, err := binrec.Open(b)
	if isJSON {
		return json.Unmarshal(b, t)
	}
	if err != nil {
		return fmt.Errorf("crawl: frontier entry: %w", err)
	}
	*t = target{URL: r.Str(), Kind: r.Str(), Seed: r.Str()}
	flags := r.Byte()
	t.IsSeed, t.Leaf = flags&targetSeed != 0, flags&targetLeaf != 0
	t.Hops = int(r.Uint())
	t.Chain, t.Via = r.Str(), r.Str()
	if r.Err() != nil {
		return fmt.Errorf("crawl: frontier entry: %w", r.Err())
	}
	return nil
}
