package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// Content codings Content decodes. HTTP mode asks for gzip alone; a
// browser (the proxy keeps its Accept-Encoding) gets br and zstd too.
const (
	encGzip   = "gzip"
	encBrotli = "br"
	encZstd   = "zstd"
)

// decodable returns the coding of a Content-Encoding value if Content
// can decode it, else "" (identity, deflate, several codings).
func decodable(contentEncoding string) string {
	switch ce := strings.ToLower(strings.TrimSpace(contentEncoding)); ce {
	case "gzip", "x-gzip":
		return encGzip
	case encBrotli, encZstd:
		return ce
	}
	return ""
}

// maxZstdWindow is the largest zstd window decoded: the 8 MiB that RFC
// 9659 asks HTTP decoders to support (and Chromium accepts). A frame
// asking for more is not decoded, so a hostile header cannot make the
// decoder allocate hundreds of MiB.
const maxZstdWindow = 8 << 20

// decodedSize estimates the decoded size of body b in coding enc, for
// the inflate budget: gzip's trailer (ISIZE) and a zstd frame's content
// size say it; a brotli stream does not, so it is guessed from the
// encoded size (text compresses about 5:1 with brotli) and found out.
func decodedSize(enc string, b []byte, limit int64) int64 {
	switch enc {
	case encGzip:
		if len(b) >= 4 {
			return int64(binary.LittleEndian.Uint32(b[len(b)-4:]))
		}
	case encZstd:
		var h zstd.Header
		if h.Decode(b) == nil && h.HasFCS {
			return int64(min(h.FrameContentSize, uint64(limit)))
		}
	case encBrotli:
		return max(64<<10, 8*int64(len(b)))
	}
	return limit
}

// decodeLimited appends to dst up to limit bytes decoded from b in
// coding enc; a damaged or cut stream yields what could be decoded.
func decodeLimited(enc string, dst, b []byte, limit int64) []byte {
	switch enc {
	case encGzip:
		return gunzipLimited(dst, b, limit)
	case encBrotli:
		br, _ := brotliReaders.Get().(*brotli.Reader)
		if br == nil {
			br = brotli.NewReader(bytes.NewReader(b))
		} else {
			br.Reset(bytes.NewReader(b))
		}
		defer brotliReaders.Put(br)
		return readLimited(dst, br, limit, int64(len(b)))
	case encZstd:
		zr, _ := zstdReaders.Get().(*zstd.Decoder)
		if zr == nil {
			var err error
			zr, err = zstd.NewReader(bytes.NewReader(b),
				zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
			if err != nil {
				return dst
			}
		} else if zr.Reset(bytes.NewReader(b)) != nil {
			zstdReaders.Put(zr)
			return dst
		}
		defer func() {
			zr.Reset(nil) // drops the reference to b
			zstdReaders.Put(zr)
		}()
		return readLimited(dst, zr, limit, int64(len(b)))
	}
	return append(dst, b...)
}

// readLimited appends up to limit bytes of r to dst, growing dst by a
// guess from the encoded size rather than by the limit.
func readLimited(dst []byte, r io.Reader, limit, encoded int64) []byte {
	dst = slices.Grow(dst, int(min(4*encoded, limit))+bytes.MinRead)
	out := bytes.NewBuffer(dst)
	out.ReadFrom(io.LimitReader(r, limit))
	return out.Bytes()
}

// The decoders are reused: style sheets are decoded by the thousand.
var (
	brotliReaders sync.Pool
	zstdReaders   sync.Pool
)
