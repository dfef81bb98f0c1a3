package warc

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// ErrUnknownAlgorithm is returned by ParseDigest and NewHash for a digest
// algorithm amber cannot compute.
var ErrUnknownAlgorithm = errors.New("warc: unknown digest algorithm")

// ErrMalformedDigest is returned by ParseDigest for a value that is neither
// base32 nor hex of the algorithm's length.
var ErrMalformedDigest = errors.New("warc: malformed digest value")

// Digest is a parsed WARC-Block-Digest or WARC-Payload-Digest value.
type Digest struct {
	Algorithm string // canonical label: "sha1", "sha256", "sha512" or "md5"
	Sum       []byte
}

// canonicalAlgorithm maps the labels seen in the wild ("SHA-1", "sha1",
// "Sha-256") to one canonical name.
func canonicalAlgorithm(label string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(label)), "-", "")
}

// NewHash returns a fresh hash for a digest label, in any case, with or
// without the hyphen.
func NewHash(algorithm string) (hash.Hash, error) {
	switch canonicalAlgorithm(algorithm) {
	case "sha1":
		return sha1.New(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "md5":
		return md5.New(), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, algorithm)
}

// FormatDigest renders a digest the way indexers expect it: sha1 in
// upper-case base32 (the de-facto standard of every CDX tool), the others in
// lower-case hex.
func FormatDigest(algorithm string, sum []byte) string {
	alg := canonicalAlgorithm(algorithm)
	if alg == "sha1" {
		return alg + ":" + base32.StdEncoding.EncodeToString(sum)
	}
	return alg + ":" + hex.EncodeToString(sum)
}

// String renders d with FormatDigest.
func (d Digest) String() string { return FormatDigest(d.Algorithm, d.Sum) }

// ParseDigest parses "label:value". The label may be in any case, with or
// without a hyphen ("sha1", "SHA1", "sha-1"); the value may be hex, base32
// (any case, padded or not), base64 or base64url (padded or not): the
// encodings the annotated WARC specification asks readers to accept. An
// unknown label yields ErrUnknownAlgorithm, a value of the wrong length or
// alphabet ErrMalformedDigest.
func ParseDigest(s string) (Digest, error) {
	label, value, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || label == "" || value == "" {
		return Digest{}, fmt.Errorf("%w: %q has no \"algorithm:value\" form", ErrMalformedDigest, s)
	}
	alg, size := digestSize(label)
	if size == 0 {
		return Digest{}, fmt.Errorf("%w %q", ErrUnknownAlgorithm, label)
	}
	var buf [sha512.Size]byte
	if len(value) == hex.EncodedLen(size) {
		if n, err := hex.Decode(buf[:], []byte(value)); err == nil && n == size {
			return Digest{alg, append([]byte(nil), buf[:n]...)}, nil
		}
	}
	b32 := strings.ToUpper(strings.TrimRight(value, "="))
	if base32NoPad.DecodedLen(len(b32)) <= len(buf) {
		if n, err := base32NoPad.Decode(buf[:], []byte(b32)); err == nil && n == size {
			return Digest{alg, append([]byte(nil), buf[:n]...)}, nil
		}
	}
	// The lengths differ from those of hex and base32 for every algorithm
	// amber knows, so a value cannot be read two ways.
	if t := strings.TrimRight(value, "="); base64.RawStdEncoding.EncodedLen(size) == len(t) {
		enc := base64.RawStdEncoding
		if strings.ContainsAny(t, "-_") {
			enc = base64.RawURLEncoding
		}
		if n, err := enc.Decode(buf[:], []byte(t)); err == nil && n == size {
			return Digest{alg, append([]byte(nil), buf[:n]...)}, nil
		}
	}
	return Digest{}, fmt.Errorf("%w: %q is not hex, base32 or base64 of a %s sum", ErrMalformedDigest, value, alg)
}

// base32NoPad decodes base32 values whose padding was trimmed.
var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// digestSize returns the canonical name and sum size of a digest label,
// or a size of 0 for an unknown one. It allocates nothing for the usual
// labels.
func digestSize(label string) (string, int) {
	switch label {
	case "sha1", "SHA1", "sha-1", "SHA-1":
		return "sha1", sha1.Size
	case "sha256", "SHA256", "sha-256", "SHA-256":
		return "sha256", sha256.Size
	}
	switch alg := canonicalAlgorithm(label); alg {
	case "sha1":
		return alg, sha1.Size
	case "sha256":
		return alg, sha256.Size
	case "sha512":
		return alg, sha512.Size
	case "md5":
		return alg, md5.Size
	}
	return "", 0
}

// ParseIndexDigest parses the digest field of a CDXJ line: "label:value",
// or a bare value as pywb (for sha1) and warcio.js (for every algorithm)
// write it, whose algorithm is told by its length: sha1 first (32 base32
// or 40 hex characters), then sha256 and sha512.
func ParseIndexDigest(s string) (Digest, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ":") {
		return ParseDigest(s)
	}
	var first error
	for _, alg := range []string{"sha1", "sha256", "sha512"} {
		d, err := ParseDigest(alg + ":" + s)
		if err == nil {
			return d, nil
		}
		if first == nil {
			first = err
		}
	}
	return Digest{}, first
}

// DigestKey is a digest value in one canonical form (FormatDigest), for
// comparing digests written in different encodings or labels; a value
// that does not parse is returned as it is.
func DigestKey(s string) string {
	d, err := ParseIndexDigest(s)
	if err != nil {
		return strings.TrimSpace(s)
	}
	return d.String()
}
