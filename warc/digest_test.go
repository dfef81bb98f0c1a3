package warc

import (
	"crypto/sha1"
	"errors"
	"testing"
)

func TestParseDigest(t *testing.T) {
	sum := sha1.Sum([]byte("hello"))
	b32 := FormatDigest("sha1", sum[:])
	tests := []struct {
		in      string
		wantAlg string
		err     error
	}{
		{b32, "sha1", nil},
		{"SHA-1:" + b32[len("sha1:"):], "sha1", nil},
		{"sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "sha1", nil},
		{"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "sha256", nil},
		{"sha1:NOTBASE32", "", ErrMalformedDigest},
		{"nocolon", "", ErrMalformedDigest},
		{"blake9:abcd", "", ErrUnknownAlgorithm},
	}
	for _, tt := range tests {
		d, err := ParseDigest(tt.in)
		if !errors.Is(err, tt.err) || (err == nil && d.Algorithm != tt.wantAlg) {
			t.Errorf("ParseDigest(%q) = %v, %v; want %s, %v", tt.in, d, err, tt.wantAlg, tt.err)
		}
	}
	if d, _ := ParseDigest(b32); d.String() != b32 {
		t.Errorf("round trip: %s != %s", d, b32)
	}
}
