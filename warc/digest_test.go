package warc

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
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

// TestParseDigestEncodings: every encoding and label the annotated WARC
// specification asks readers to accept gives the same sum, for sums whose
// base64 holds '+' and '/' (and their base64url '-' and '_').
func TestParseDigestEncodings(t *testing.T) {
	for i := range 64 {
		body := []byte{byte(i), byte(i * 7), 'x'}
		s1 := sha1.Sum(body)
		s256 := sha256.Sum256(body)
		for _, c := range []struct {
			alg    string
			labels []string
			sum    []byte
		}{
			{"sha1", []string{"sha1", "SHA1", "sha-1", "SHA-1"}, s1[:]},
			{"sha256", []string{"sha256", "SHA256", "sha-256"}, s256[:]},
		} {
			values := []string{
				hex.EncodeToString(c.sum), strings.ToUpper(hex.EncodeToString(c.sum)),
				base32.StdEncoding.EncodeToString(c.sum), strings.ToLower(base32.StdEncoding.EncodeToString(c.sum)),
				base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(c.sum),
				base64.StdEncoding.EncodeToString(c.sum), base64.RawStdEncoding.EncodeToString(c.sum),
				base64.URLEncoding.EncodeToString(c.sum), base64.RawURLEncoding.EncodeToString(c.sum),
			}
			for _, label := range c.labels {
				for _, v := range values {
					d, err := ParseDigest(label + ":" + v)
					if err != nil || d.Algorithm != c.alg || !bytes.Equal(d.Sum, c.sum) {
						t.Fatalf("ParseDigest(%s:%s) = %v, %v; want %s %x", label, v, d, err, c.alg, c.sum)
					}
				}
			}
		}
	}
	if _, err := ParseDigest("sha1:" + base64.StdEncoding.EncodeToString(make([]byte, 19))); !errors.Is(err, ErrMalformedDigest) {
		t.Errorf("base64 of 19 bytes as sha1: %v, want ErrMalformedDigest", err)
	}
}
