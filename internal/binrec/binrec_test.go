package binrec

import (
	"bytes"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	b := New(0).Byte(7).Uint(1 << 40).Int(-3).Str("héllo").Bytes([]byte{0, 1}).Str("")
	if b[0] != V1 {
		t.Fatalf("version byte %d", b[0])
	}
	r, isJSON, err := Open(b)
	if err != nil || isJSON {
		t.Fatal(isJSON, err)
	}
	if c, u, i, s, bs, e := r.Byte(), r.Uint(), r.Int(), r.Str(), r.Bytes(), r.Str(); c != 7 || u != 1<<40 || i != -3 || s != "héllo" || !bytes.Equal(bs, []byte{0, 1}) || e != "" || r.Err() != nil {
		t.Errorf("read back %d %d %d %q %v %q, %v", c, u, i, s, bs, e, r.Err())
	}
	if r.Byte(); !errors.Is(r.Err(), ErrMalformed) {
		t.Errorf("a read past the end: %v", r.Err())
	}
}

func TestMalformed(t *testing.T) {
	if _, isJSON, err := Open([]byte(`{"s":1}`)); !isJSON || err != nil {
		t.Errorf("JSON: %v %v", isJSON, err)
	}
	for _, bad := range [][]byte{nil, {}, {9, 1}} {
		if _, _, err := Open(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%v): %v", bad, err)
		}
	}
	for _, bad := range [][]byte{{V1, 0x80}, {V1, 5, 'a'}} {
		r, _, _ := Open(bad)
		if s := r.Str(); s != "" || !errors.Is(r.Err(), ErrMalformed) || r.Uint() != 0 {
			t.Errorf("%v: %q, %v", bad, s, r.Err())
		}
	}
}
