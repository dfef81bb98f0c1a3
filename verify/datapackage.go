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
	Profile     string     `json:"profile"`
	WACZVersion string     `json:"wacz_version"`
	Resources   []resource `json:"resources"`
}

type resource struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Hash  string `json:"hash"` // "sha256:<hex>"
	Bytes int64  `json:"bytes"`

	// Not in the JSON: whether the entry gives a size at all, and the
	// older form it was read from, if any.
	hasBytes bool
	oldForm  string
}

// UnmarshalJSON reads a resource as WACZ 1.1 writes it ("hash" with an
// algorithm prefix, "bytes") and as older writers did: the hash and size
// under "stats" (WACZ 1.0, py-wacz before 0.3), "size" for "bytes", a
// sha256 without its "sha256:" prefix.
func (r *resource) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name  string `json:"name"`
		Path  string `json:"path"`
		Hash  string `json:"hash"`
		Bytes *int64 `json:"bytes"`
		Size  *int64 `json:"size"`
		Stats *struct {
			Hash  string `json:"hash"`
			Bytes *int64 `json:"bytes"`
			Size  *int64 `json:"size"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = resource{Name: raw.Name, Path: raw.Path, Hash: raw.Hash}
	size := raw.Bytes
	if size == nil && raw.Size != nil {
		size, r.oldForm = raw.Size, `"size" for "bytes"`
	}
	if st := raw.Stats; st != nil && (r.Hash == "" || size == nil) {
		r.oldForm = `hash and size under "stats", as WACZ 1.0 wrote them`
		if r.Hash == "" {
			r.Hash = st.Hash
		}
		if size == nil {
			size = st.Bytes
			if size == nil {
				size = st.Size
			}
		}
	}
	if size != nil {
		r.Bytes, r.hasBytes = *size, true
	}
	if r.Hash != "" && !strings.Contains(r.Hash, ":") && len(r.Hash) == 64 {
		if _, err := hex.DecodeString(r.Hash); err == nil {
			r.Hash = "sha256:" + r.Hash
			if r.oldForm == "" {
				r.oldForm = `a sha256 without its "sha256:" prefix`
			}
		}
	}
	return nil
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
	if res.Hash == "" {
		return f // reported by check: nothing to compare
	}
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
	switch {
	case !f.res.hasBytes && f.res.Hash == "":
		s.warnf(-1, "datapackage.json lists it without a hash or a size: its content is not checked against the manifest")
		return
	case !f.res.hasBytes:
		s.warnf(-1, "datapackage.json gives no size for it: only its hash is checked")
	case size != f.res.Bytes:
		s.errorf(-1, "size is %d bytes, datapackage.json says %d", size, f.res.Bytes)
	}
	if f.res.Hash == "" {
		s.warnf(-1, "datapackage.json gives no hash for it: only its size is checked, not its content")
		return
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
