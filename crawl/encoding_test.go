package crawl

import (
	"encoding/json"
	"testing"
)

// Records round-trip through the binary form, and the JSON that state
// files written by earlier versions hold still reads.
func TestStateRecords(t *testing.T) {
	u := urlRecord{State: stateFailed, Crawl: 300, Reason: "dial tcp: refused"}
	var u2 urlRecord
	if err := decodeURLRecord(u.encode(), &u2); err != nil || u2 != u {
		t.Errorf("url record: %+v, %v", u2, err)
	}
	old, _ := json.Marshal(u)
	if err := decodeURLRecord(old, &u2); err != nil || u2 != u {
		t.Errorf("url record from JSON: %+v, %v", u2, err)
	}

	d := DigestRef{Digest: "sha1:ABC", RecordID: "<urn:uuid:1>", URI: "http://h/é", Date: "2026-11-25T00:00:00Z"}
	var d2 DigestRef
	if err := decodeDigestRef(d.Digest, encodeDigestRef(d), &d2); err != nil || d2 != d {
		t.Errorf("digest ref: %+v, %v", d2, err)
	}
	old, _ = json.Marshal(d)
	if err := decodeDigestRef(d.Digest, old, &d2); err != nil || d2 != d {
		t.Errorf("digest ref from JSON: %+v, %v", d2, err)
	}

	tg := target{URL: "http://h/a", Kind: kindPage, Seed: "http://h/", IsSeed: true, Leaf: true, Hops: 7, Chain: "k1 k2", Via: "http://h/v"}
	var tg2 target
	if err := decodeTarget(tg.encode(), &tg2); err != nil || tg2 != tg {
		t.Errorf("target: %+v, %v", tg2, err)
	}
	old, _ = json.Marshal(tg)
	if err := decodeTarget(old, &tg2); err != nil || tg2 != tg {
		t.Errorf("target from JSON: %+v, %v", tg2, err)
	}
	for _, bad := range [][]byte{nil, {}, {recordV1}, {recordV1, 0x80}, {recordV1, 5, 'a'}, {9, 1, 2}} {
		if decodeTarget(bad, &tg2) == nil || decodeURLRecord(bad, &u2) == nil {
			t.Errorf("%v: decoded without error", bad)
		}
	}
}
