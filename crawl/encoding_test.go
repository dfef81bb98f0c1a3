package crawl

import (
	"encoding/json"
	"testing"

	"github.com/amber-archiver/amber/internal/binrec"
)

// Targets round-trip through the binary form, and JSON entries still
// read.
func TestTargetRecords(t *testing.T) {
	var old []byte
	tg := target{URL: "http://h/a", Kind: kindPage, Seed: "http://h/", IsSeed: true, Leaf: true, Hops: 7, Chain: "k1 k2", Via: "http://h/v"}
	var tg2 target
	if err := decodeTarget(tg.encode(), &tg2); err != nil || tg2 != tg {
		t.Errorf("target: %+v, %v", tg2, err)
	}
	old, _ = json.Marshal(tg)
	if err := decodeTarget(old, &tg2); err != nil || tg2 != tg {
		t.Errorf("target from JSON: %+v, %v", tg2, err)
	}
	for _, bad := range [][]byte{nil, {}, {binrec.V1}, {binrec.V1, 0x80}, {binrec.V1, 5, 'a'}, {9, 1, 2}} {
		if decodeTarget(bad, &tg2) == nil {
			t.Errorf("%v: decoded without error", bad)
		}
	}
}
