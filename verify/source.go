package verify

import (
	"archive/zip"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/amber-archiver/amber/warc"
)

// source is a file verify reads: a file on disk, or an entry of a WACZ
// (zip) package, read from the zip without unpacking it.
type source struct {
	name string // what findings name: the path, or FILE.wacz!entry
	base string // the base name, as CDXJ lines give it
	// open returns a reader of the whole content and its size.
	open func() (io.ReadCloser, int64, error)
	// from returns a reader of the content from offset on, or nil when
	// the content cannot be read at an offset (a deflated zip entry).
	from func(offset int64) (io.Reader, io.Closer, error)
}

func fileSource(p string) *source {
	open := func() (*os.File, int64, error) {
		f, err := warc.OpenFile(p)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, fi.Size(), nil
	}
	return &source{
		name: p,
		base: filepath.Base(p),
		open: func() (io.ReadCloser, int64, error) { return open() },
		from: func(offset int64) (io.Reader, io.Closer, error) {
			f, size, err := open()
			if err != nil {
				return nil, nil, err
			}
			return io.NewSectionReader(f, offset, max(0, size-offset)), f, nil
		},
	}
}

// zipSource is the entry zf of the zip file file (named zipName). A stored
// entry can be read at any offset straight from the zip file; a deflated
// one only from its start.
func zipSource(zipName string, file *os.File, zf *zip.File) *source {
	s := &source{
		name: zipName + "!" + zf.Name,
		base: path.Base(zf.Name),
		open: func() (io.ReadCloser, int64, error) {
			rc, err := zf.Open() // checks the CRC-32 at the end
			return rc, int64(zf.UncompressedSize64), err
		},
	}
	if zf.Method == zip.Store {
		if start, err := zf.DataOffset(); err == nil {
			size := int64(zf.UncompressedSize64)
			s.from = func(offset int64) (io.Reader, io.Closer, error) {
				return io.NewSectionReader(file, start+offset, max(0, size-offset)), io.NopCloser(nil), nil
			}
		}
	}
	return s
}

// at returns a reader of src from offset on: directly where it can, else
// by reading (and dropping) what comes before.
func (src *source) at(offset int64) (io.Reader, io.Closer, error) {
	if src.from != nil {
		return src.from(offset)
	}
	rc, _, err := src.open()
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.CopyN(io.Discard, rc, offset); err != nil {
		rc.Close()
		return nil, nil, err
	}
	return rc, rc, nil
}
