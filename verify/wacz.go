package verify

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/amber-archiver/amber/warc"
)

// Bounds on the small JSON files of a WACZ: they are read whole.
const (
	maxDatapackage       = 64 << 20
	maxDatapackageDigest = 1 << 20
)

// isWACZ reports whether the regular file at p is a zip: named .wacz, or
// starting with a zip local file header.
func isWACZ(p string) bool {
	if strings.HasSuffix(strings.ToLower(p), ".wacz") {
		return true
	}
	f, err := warc.OpenFile(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return warc.HasZipMagic(f)
}

// planWACZ plans the checks of a WACZ package, read from the zip without
// unpacking it: the zip's structure, every entry against datapackage.json
// (sha256 and size), datapackage-digest.json against datapackage.json,
// every WARC file inside (as in a collection: records, digests, framing)
// and the CDXJ index against the records. Findings name an entry as
// FILE.wacz!archive/x.warc.gz. The returned function closes the zip file
// once every task has run.
func planWACZ(p string) ([]task, func(), error) {
	pkg := FileSummary{File: p, Kind: "wacz"}
	one := func() []task { return []task{oneTask(func(context.Context) FileSummary { return pkg })} }
	f, err := warc.OpenFile(p)
	if err != nil {
		return nil, nil, &PathError{Path: p, Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, &PathError{Path: p, Err: err}
	}
	zr, err := zip.NewReader(f, fi.Size())
	switch {
	case errors.Is(err, zip.ErrInsecurePath):
		// Reported entry by entry below.
	case err != nil && errors.Is(err, zip.ErrFormat) && !warc.HasZipMagic(f):
		// Named .wacz but no zip at all: whatever it is (a WARC file
		// renamed, a text file) is read as any other file.
		f.Close()
		return []task{warcTask(fileSource(p), nil)}, nil, nil
	case err != nil:
		if errors.Is(err, zip.ErrFormat) {
			pkg.errorf(-1, "not a zip file, so not a WACZ")
		} else {
			pkg.errorf(-1, "not a valid zip file, so not a WACZ: %v", err)
		}
		f.Close()
		return one(), func() {}, nil
	}

	entries := map[string]*zip.File{}
	var names []string
	for _, zf := range zr.File {
		name := zf.Name
		switch {
		case strings.HasSuffix(name, "/"):
			continue // a directory entry
		case name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || !isLocalSlash(name):
			pkg.errorf(-1, "zip entry %q: the name leaves the package (not read)", clipName(name))
			continue
		case entries[name] != nil:
			pkg.errorf(-1, "zip entry %s appears twice", name)
			continue
		}
		entries[name] = zf
		names = append(names, name)
	}
	slices.Sort(names)
	if entries[warc.DatapackagePath] == nil && !slices.ContainsFunc(names, func(n string) bool {
		return strings.HasPrefix(n, warc.ArchiveDir+"/") && isWARCName(n)
	}) {
		// A zip of something else: one line, not a list of what a WACZ
		// would have.
		f.Close()
		pkg.Kind = KindNotArchive
		pkg.errorf(-1, "%s", (&warc.NotArchiveError{Zip: true}).Reason())
		return one(), func() {}, nil
	}

	// datapackage.json and its digest.
	var listed map[string]*resource
	if zf := entries[warc.DatapackagePath]; zf == nil {
		pkg.errorf(-1, "no %s in the zip: not a WACZ package (nothing to check the entries against)", warc.DatapackagePath)
	} else if manifest, err := readEntry(zf, maxDatapackage); err != nil {
		pkg.errorf(-1, "%s: %v", warc.DatapackagePath, err)
	} else {
		var dp dataPackage
		if err := json.Unmarshal(manifest, &dp); err != nil {
			pkg.errorf(-1, "%s is not valid JSON: %v", warc.DatapackagePath, err)
		} else {
			listed = map[string]*resource{}
			if i := slices.IndexFunc(dp.Resources, func(r resource) bool { return r.oldForm != "" }); i >= 0 {
				pkg.warnf(-1, "%s (wacz_version %q) lists %s in an older form (%s): read as such", warc.DatapackagePath, dp.WACZVersion, dp.Resources[i].Path, dp.Resources[i].oldForm)
			}
			for i := range dp.Resources {
				res := &dp.Resources[i]
				rel, err := cleanRel(res.Path)
				switch {
				case err != nil:
					pkg.errorf(-1, "%s: resource %q: %v", warc.DatapackagePath, res.Path, err)
				case listed[rel] != nil:
					pkg.errorf(-1, "%s: %s is listed twice", warc.DatapackagePath, rel)
				case entries[rel] == nil:
					pkg.add(Finding{Severity: Error, File: p + "!" + rel, Offset: -1, Message: "listed in datapackage.json but not in the zip"})
					listed[rel] = res
				default:
					listed[rel] = res
				}
			}
		}
		checkDatapackageDigest(&pkg, entries[warc.WACZDigestPath], manifest)
	}

	var tasks []task
	var archives []string
	var idx []index
	var otherIndexes []string
	for _, name := range names {
		zf := entries[name]
		res := listed[name]
		if name == warc.DatapackagePath || name == warc.WACZDigestPath {
			continue
		}
		if res == nil && listed != nil {
			pkg.add(Finding{Severity: Error, File: p + "!" + name, Offset: -1, Message: "not listed in datapackage.json"})
		}
		src := zipSource(p, f, zf)
		switch {
		case strings.HasPrefix(name, warc.ArchiveDir+"/") && isWARCName(name):
			if zf.Method != zip.Store {
				pkg.add(Finding{Severity: Warning, File: src.name, Offset: -1,
					Message: "compressed in the zip, not stored: a viewer cannot read its records at their offsets with range requests (WACZ stores WARC files)"})
			}
			tasks = append(tasks, warcTask(src, res))
			archives = append(archives, src.name)
		case strings.HasPrefix(name, "indexes/") && strings.HasSuffix(name, ".cdxj"):
			idx = append(idx, index{src: src, rel: name, res: res})
		case strings.HasPrefix(name, "indexes/") && (strings.HasSuffix(name, ".cdxj.gz") || strings.HasSuffix(name, ".cdx.gz") || strings.HasSuffix(name, ".cdx")):
			// A gzip-compressed index (whole, or ZipNum: one gzip member
			// per block of lines) reads, decompressed, as its lines; a
			// .cdx may hold CDXJ lines or classic CDX ones (checkIndex
			// tells).
			idx = append(idx, index{src: src, rel: name, res: res, gz: strings.HasSuffix(name, ".gz")})
		case strings.HasPrefix(name, "indexes/"):
			otherIndexes = append(otherIndexes, name)
			if res != nil {
				tasks = append(tasks, oneTask(func(ctx context.Context) FileSummary { return verifyFixity(ctx, src, res) }))
			}
		case res != nil:
			tasks = append(tasks, oneTask(func(ctx context.Context) FileSummary { return verifyFixity(ctx, src, res) }))
		}
	}
	if len(archives) == 0 && len(entries) > 0 {
		pkg.errorf(-1, "no WARC files in %s/ of the zip: nothing archived", warc.ArchiveDir)
	}
	for _, name := range otherIndexes {
		what := "not a CDXJ index"
		if strings.HasSuffix(name, ".idx") {
			what = "the secondary index of a compressed (ZipNum) index"
		}
		pkg.warnf(-1, "%s: %s: not checked against the records", name, what)
	}
	if len(idx) > 0 || len(otherIndexes) == 0 && len(archives) > 0 {
		tasks = append(tasks, task{second: true, run: func(ctx context.Context, byPath map[string]*warcFacts) ([]FileSummary, *warcFacts) {
			facts := map[string]*warcFacts{}
			for _, a := range archives {
				if f := byPath[a]; f != nil {
					facts[f.name] = f
				}
			}
			return checkIndexes(ctx, p+"!"+warc.IndexPath, idx, facts), nil
		}})
	}
	return append([]task{oneTask(func(context.Context) FileSummary { return pkg })}, tasks...), func() { f.Close() }, nil
}

// checkDatapackageDigest checks datapackage-digest.json, if the zip has
// one, against the bytes of datapackage.json.
func checkDatapackageDigest(pkg *FileSummary, zf *zip.File, manifest []byte) {
	if zf == nil {
		pkg.warnf(-1, "no %s (WACZ before 1.1 had none): the entries are checked against %s, but %s itself is not checked against a digest", warc.WACZDigestPath, warc.DatapackagePath, warc.DatapackagePath)
		return
	}
	b, err := readEntry(zf, maxDatapackageDigest)
	if err != nil {
		pkg.errorf(-1, "%s: %v", warc.WACZDigestPath, err)
		return
	}
	var d warc.WACZDigest
	if err := json.Unmarshal(b, &d); err != nil {
		pkg.errorf(-1, "%s is not valid JSON: %v", warc.WACZDigestPath, err)
		return
	}
	if d.Path != warc.DatapackagePath {
		pkg.errorf(-1, "%s names %q, not %s", warc.WACZDigestPath, d.Path, warc.DatapackagePath)
		return
	}
	alg, want, _ := strings.Cut(d.Hash, ":")
	if !strings.EqualFold(alg, "sha256") {
		pkg.warnf(-1, "%s: hash %q is not sha256; not checked", warc.WACZDigestPath, clipName(d.Hash))
		return
	}
	sum := sha256.Sum256(manifest)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		pkg.errorf(-1, "%s says sha256:%s, but %s is sha256:%s: the manifest changed since it was packed", warc.WACZDigestPath, clipName(want), warc.DatapackagePath, got)
	}
}

// readEntry reads a small zip entry whole, refusing one over limit bytes.
func readEntry(zf *zip.File, limit int64) ([]byte, error) {
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%d bytes, more than the %d a reader allows", zf.UncompressedSize64, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return b.Bytes(), nil
}

// isLocalSlash reports whether a slash path stays inside the package.
func isLocalSlash(name string) bool {
	c := path.Clean(name)
	return c != ".." && !strings.HasPrefix(c, "../") && c != "."
}

func clipName(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
