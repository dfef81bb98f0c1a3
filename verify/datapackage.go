package verify

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/amber-archiver/amber/warc"
)

// dataPackage is the part of a WACZ 1.1.1 datapackage.json that verify reads.
type dataPackage struct {
	Profile   string     `json:"profile"`
	Resources []resource `json:"resources"`
}

type resource struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Hash  string `json:"hash"` // "sha256:<hex>"
	Bytes int64  `json:"bytes"`
}

func readDataPackage(path string) (*dataPackage, error) {
	b, err := warc.ReadSmallFile(path, maxDatapackage)
	if err != nil {
		return nil, err
	}
	var pkg dataPackage
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("datapackage.json is not valid JSON: %v", err)
	}
	return &pkg, nil
}

// fixity checks a file against its datapackage.json entry. Verifying a WARC
// feeds the same reads into it, so no file is read twice.
type fixity struct {
	res  *resource
	want warc.Digest
	h    hash.Hash
	err  error // the entry's hash is unusable
}

func newFixity(res *resource) *fixity {
	f := &fixity{res: res}
	d, err := warc.ParseDigest(res.Hash)
	if err != nil {
		f.err = err
		return f
	}
	f.want = d
	f.h, _ = warc.NewHash(d.Algorithm)
	return f
}

// Write feeds file bytes, in order.
func (f *fixity) Write(p []byte) (int, error) {
	if f.h != nil {
		f.h.Write(p)
	}
	return len(p), nil
}

// check reports a size or hash mismatch once the whole file was fed.
func (f *fixity) check(s *FileSummary, size int64) {
	if size != f.res.Bytes {
		s.errorf(-1, "size is %d bytes, datapackage.json says %d", size, f.res.Bytes)
	}
	if f.err != nil {
		s.errorf(-1, "datapackage.json hash %q: %v", f.res.Hash, f.err)
		return
	}
	if got := f.h.Sum(nil); string(got) != string(f.want.Sum) {
		s.errorf(-1, "%s hash is %s:%s, datapackage.json says %s: the file changed since it was packaged",
			f.want.Algorithm, f.want.Algorithm, hex.EncodeToString(got), strings.ToLower(f.res.Hash))
	}
}

// verifyFixity checks a file that is not a WARC (index, pages) against its
// manifest entry.
func verifyFixity(ctx context.Context, src *source, res *resource) FileSummary {
	s := FileSummary{File: src.name, Kind: "file"}
	file, _, err := src.open()
	if err != nil {
		s.errorf(-1, "%v", err)
		return s
	}
	defer file.Close()
	fx := newFixity(res)
	n, err := io.Copy(fx, ctxReader{ctx, file})
	s.Bytes = n
	if err != nil {
		s.errorf(-1, "read error after %d bytes: %v", n, err)
		return s
	}
	fx.check(&s, n)
	return s
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
