package warc

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// HasZipMagic reports whether r starts as a zip file does: a local file
// header, or the end record of an empty zip.
func HasZipMagic(r io.ReaderAt) bool {
	var magic [4]byte
	_, err := r.ReadAt(magic[:], 0)
	return err == nil && (string(magic[:]) == "PK\x03\x04" || string(magic[:]) == "PK\x05\x06")
}

// IsZipFile reports whether the regular file at p starts as a zip file.
func IsZipFile(p string) bool {
	f, err := OpenFile(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return HasZipMagic(f)
}

// IsArchiveEntry reports whether a WACZ entry name is a WARC or ARC file
// in archive/.
func IsArchiveEntry(name string) bool {
	if !strings.HasPrefix(name, ArchiveDir+"/") {
		return false
	}
	for _, ext := range []string{".warc", ".warc.gz", ".arc", ".arc.gz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// EntryError is an error of one entry of a WACZ package.
type EntryError struct {
	Entry string // the entry's name in the zip, e.g. archive/x.warc.gz
	Err   error
}

func (e *EntryError) Error() string { return e.Entry + ": " + e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// IndexWACZ indexes the WARC and ARC files in archive/ of the WACZ
// package at p, read from the zip without unpacking it (a stored entry at
// its place in the zip, a deflated one as a stream), in entry-name order.
// Each line's filename is the entry's base name, as the package's own
// index names it (amber pack and py-wacz do; replay tools look the name
// up in archive/). Damage is reported as IndexWARC reports it, each error
// an *EntryError naming its entry. A zip with neither datapackage.json
// nor WARC files is a *NotArchiveError; a .wacz that is no zip is indexed
// as what it is.
func IndexWACZ(p string) ([]CDXJLine, error) {
	f, err := OpenFile(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !HasZipMagic(f) {
		return IndexRecords(f, p, path.Base(p))
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("warc: %s: not a readable zip file, so not a WACZ: %w", p, err)
	}
	var files []*zip.File
	manifest := false
	for _, zf := range zr.File {
		switch {
		case zf.Name == DatapackagePath:
			manifest = true
		case IsArchiveEntry(zf.Name) && !strings.Contains(zf.Name, "..") && !strings.Contains(zf.Name, "\\"):
			files = append(files, zf)
		}
	}
	if len(files) == 0 {
		if !manifest {
			return nil, &NotArchiveError{Path: p, Zip: true}
		}
		return nil, fmt.Errorf("warc: %s: a WACZ without WARC files in %s/: nothing to index", p, ArchiveDir)
	}
	slices.SortFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	var lines []CDXJLine
	var errs []error
	for _, zf := range files {
		in, closer, err := openEntry(f, zf)
		if err != nil {
			errs = append(errs, &EntryError{Entry: zf.Name, Err: err})
			continue
		}
		ls, err := IndexRecords(in, p+"!"+zf.Name, path.Base(zf.Name))
		closer.Close()
		lines = append(lines, ls...)
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) {
			for _, e := range joined.Unwrap() {
				errs = append(errs, &EntryError{Entry: zf.Name, Err: e})
			}
		} else if err != nil {
			errs = append(errs, &EntryError{Entry: zf.Name, Err: err})
		}
	}
	return lines, errors.Join(errs...)
}

// openEntry returns a reader of a zip entry: a stored one straight from
// the zip file (an io.ReaderAt, which a plain WARC's reader checks block
// ends with), a deflated one through the decompressor, which checks its
// CRC-32.
func openEntry(f io.ReaderAt, zf *zip.File) (io.Reader, io.Closer, error) {
	if zf.Method == zip.Store {
		if off, err := zf.DataOffset(); err == nil {
			return io.NewSectionReader(f, off, int64(zf.UncompressedSize64)), io.NopCloser(nil), nil
		}
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, nil, err
	}
	return rc, rc, nil
}
