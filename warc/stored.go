package warc

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"
)

// writeStoredMember writes r as one gzip member whose deflate stream uses
// stored blocks only: the bytes as they are, in blocks of up to 64 KiB,
// with the CRC-32 and size trailer. For data that is already compressed
// (images, video, gzip-encoded bodies) this is what any compressor ends up
// writing, without the work of trying: a memory copy and a CRC.
func writeStoredMember(dst io.Writer, r io.Reader) error {
	if _, err := dst.Write(storedHeader); err != nil {
		return err
	}
	buf := storedBuffers.Get().(*[]byte)
	defer storedBuffers.Put(buf)
	b := *buf
	crc, size := uint32(0), uint32(0)
	for {
		n, err := io.ReadFull(r, b[5:])
		if n > 0 {
			// A non-final stored block: BFINAL=0, BTYPE=00, LEN, NLEN.
			b[0] = 0
			binary.LittleEndian.PutUint16(b[1:], uint16(n))
			binary.LittleEndian.PutUint16(b[3:], ^uint16(n))
			if _, werr := dst.Write(b[:5+n]); werr != nil {
				return werr
			}
			crc = crc32.Update(crc, crc32.IEEETable, b[5:5+n])
			size += uint32(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return writeStoredEnd(dst, crc, size)
}

// storedMemberSize is at least the size of the stored member of n bytes
// given in up to three slices.
func storedMemberSize(n int) int { return 10 + n + 5*((n+0xfffe)/0xffff+3) + 13 }

// writeStoredSlices is writeStoredMember for data already in memory: the
// stored blocks are written from the slices themselves, with no staging
// copy.
func writeStoredSlices(dst io.Writer, parts ...[]byte) error {
	if _, err := dst.Write(storedHeader); err != nil {
		return err
	}
	crc, size := uint32(0), uint32(0)
	var hdr [5]byte
	for _, p := range parts {
		for len(p) > 0 {
			n := min(len(p), 0xffff)
			binary.LittleEndian.PutUint16(hdr[1:], uint16(n))
			binary.LittleEndian.PutUint16(hdr[3:], ^uint16(n))
			if _, err := dst.Write(hdr[:]); err != nil {
				return err
			}
			if _, err := dst.Write(p[:n]); err != nil {
				return err
			}
			crc = crc32.Update(crc, crc32.IEEETable, p[:n])
			size += uint32(n)
			p = p[n:]
		}
	}
	return writeStoredEnd(dst, crc, size)
}

// storedHeader starts a gzip member: magic, deflate, no flags, no mtime,
// no extra flags, unknown OS.
var storedHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// writeStoredEnd ends a stored member: an empty final block, then the
// gzip trailer (CRC-32 and size).
func writeStoredEnd(dst io.Writer, crc, size uint32) error {
	var tail [13]byte
	tail[0] = 1
	binary.LittleEndian.PutUint16(tail[1:], 0)
	binary.LittleEndian.PutUint16(tail[3:], 0xffff)
	binary.LittleEndian.PutUint32(tail[5:], crc)
	binary.LittleEndian.PutUint32(tail[9:], size)
	_, err := dst.Write(tail[:])
	return err
}

var storedBuffers = sync.Pool{New: func() any { b := make([]byte, 5+0xffff); return &b }}
