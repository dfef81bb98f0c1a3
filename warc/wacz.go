package warc

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// WACZ packaging (WACZ 1.1.1, https://specs.webrecorder.net/wacz/1.1.1/).
//
// A collection directory already is the WACZ layout, unzipped; packing
// zips its archive/, indexes/, pages/ and logs/ files and writes a fresh
// datapackage.json (hashes taken from the bytes zipped) and
// datapackage-digest.json. state/ (the crawl database and lock) is never
// packed.
//
// The zip is deterministic: the same collection gives the same bytes.
// Entries come in a fixed order (the data files sorted by path, then
// datapackage.json and datapackage-digest.json, which can only be written
// once every file has been hashed), every entry carries the same
// modification time (the collection's creation time from its
// datapackage.json), and nothing else varies.

const (
	// WACZDigestPath is the file holding the hash of datapackage.json.
	WACZDigestPath = "datapackage-digest.json"

	// waczEpoch is the zip time of every entry when the collection does
	// not say when it was created: the earliest time zip can record.
	waczEpoch = "1980-01-01T00:00:00Z"
)

// waczDirs are the collection folders a WACZ holds, in zip order.
var waczDirs = []string{ArchiveDir, path.Dir(IndexPath), LogsDir, path.Dir(PagesPath)}

// ErrOpenWARC is returned by WriteWACZ for a collection with a WARC file
// still being written (….warc.gz.open): a crawl is running or was killed.
var ErrOpenWARC = errors.New("warc: WARC file still open: a crawl is running or was killed; run the same amber archive command to finish it")

// WACZOptions are the descriptive fields of the package. Every field is
// optional.
type WACZOptions struct {
	// Title of the collection; default: the collection directory's name.
	Title string
	// Software that packed it, e.g. "amber/1.0"; default: the collection's
	// datapackage.json software.
	Software string
	// MainPageURL and MainPageDate (RFC 3339) name the page a viewer opens
	// first. By default a collection archived from one seed URL gets that
	// seed's page (from pages/pages.jsonl and the WARC files' warcinfo
	// records); a collection with several seeds gets none.
	MainPageURL, MainPageDate string
	// Hash, if set, is written every byte of the package PackWACZ writes
	// (e.g. sha256.New()), so its digest costs no second read.
	Hash hash.Hash
}

// WACZDigest is datapackage-digest.json.
type WACZDigest struct {
	Path string `json:"path"`
	Hash string `json:"hash"`
}

// PackWACZ writes the collection in dir as the WACZ file out, atomically:
// a crash or an error leaves no partial file behind. It returns the
// package's datapackage.json.
func PackWACZ(dir, out string, opts WACZOptions) (*Datapackage, error) {
	return packAtomic(out, opts.Hash, func(w io.Writer) (*Datapackage, error) { return WriteWACZ(w, dir, opts) })
}

// packAtomic writes the package that write writes to out, atomically,
// every byte also to h if it is not nil.
func packAtomic(out string, h hash.Hash, write func(io.Writer) (*Datapackage, error)) (*Datapackage, error) {
	var dp *Datapackage
	err := writeAtomic(out, func(w io.Writer) error {
		if h != nil {
			h.Reset()
			w = io.MultiWriter(w, h)
		}
		var err error
		dp, err = write(w)
		return err
	})
	return dp, err
}

// WriteWACZ zips the collection in dir to w as a WACZ. WARC files (and
// anything else already gzip-compressed) are stored, so viewers can read
// records at their offsets through HTTP range requests; text files are
// deflated. Every file is hashed as it is zipped, and the hashes go into
// the package's datapackage.json. A file that no longer matches the
// size and hash the collection's own datapackage.json lists is an error:
// it changed after it was verified.
//
// WriteWACZ does not verify the WARC records; the caller does that first.
func WriteWACZ(w io.Writer, dir string, opts WACZOptions) (*Datapackage, error) {
	files, err := waczFiles(dir)
	if err != nil {
		return nil, err
	}
	prev, err := ReadDatapackage(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	listed := map[string]Resource{}
	if prev != nil {
		for _, r := range prev.Resources {
			listed[r.Path] = r
		}
	}

	dp := &Datapackage{Profile: "data-package", WACZVersion: WACZVersion, Title: opts.Title,
		Software: opts.Software, MainPageURL: opts.MainPageURL, MainPageDate: opts.MainPageDate}
	if prev != nil {
		dp.Created, dp.Modified = prev.Created, prev.Modified
		if dp.Software == "" {
			dp.Software = prev.Software
		}
	}
	if dp.Title == "" {
		dp.Title = collectionName(dir)
	}
	if dp.MainPageURL == "" {
		dp.MainPageURL, dp.MainPageDate, err = mainPage(dir, files)
		if err != nil {
			return nil, err
		}
	}
	mtime := zipTime(dp.Created)

	zw := zip.NewWriter(w)
	for _, rel := range files {
		res, err := addZipFile(zw, dir, rel, mtime)
		if err != nil {
			return nil, err
		}
		if want, ok := listed[rel]; ok && (want.Bytes != res.Bytes || !strings.EqualFold(want.Hash, res.Hash)) {
			return nil, fmt.Errorf("warc: %s changed while it was packed: it is %d bytes with %s, datapackage.json says %d bytes with %s",
				rel, res.Bytes, res.Hash, want.Bytes, want.Hash)
		}
		dp.Resources = append(dp.Resources, res)
	}

	if err := closeWACZ(zw, dp, mtime); err != nil {
		return nil, err
	}
	return dp, nil
}

// zipTime is the time of every entry of a package whose collection was
// created at created (RFC 3339): that time, or the earliest zip can
// record.
func zipTime(created string) time.Time {
	mtime, err := time.Parse(time.RFC3339, orDefault(created, waczEpoch))
	if err != nil {
		mtime, _ = time.Parse(time.RFC3339, waczEpoch)
	}
	if mtime.Before(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		mtime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return mtime.UTC()
}

// closeWACZ writes datapackage.json and datapackage-digest.json, the last
// entries, and closes the zip.
func closeWACZ(zw *zip.Writer, dp *Datapackage, mtime time.Time) error {
	manifest, err := marshalJSON(dp)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(manifest)
	digest, err := marshalJSON(WACZDigest{Path: DatapackagePath, Hash: "sha256:" + hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{DatapackagePath, manifest}, {WACZDigestPath, digest}} {
		fw, err := zw.CreateHeader(zipHeader(f.name, zip.Deflate, mtime))
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// marshalJSON indents v and leaves <, > and & in URLs as they are.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

// waczFiles lists the files to pack, as slash paths relative to dir, in
// zip order.
func waczFiles(dir string) ([]string, error) {
	var files []string
	for _, sub := range waczDirs {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "."): // temporary files of atomic writes
				continue
			case strings.HasSuffix(name, ".open"):
				return nil, fmt.Errorf("%w: %s", ErrOpenWARC, filepath.Join(dir, sub, name))
			case !e.Type().IsRegular():
				continue
			}
			files = append(files, sub+"/"+name)
		}
	}
	if !slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, ArchiveDir+"/") }) {
		return nil, fmt.Errorf("warc: %s: no WARC files in %s/: not a collection", dir, ArchiveDir)
	}
	return files, nil
}

// collectionName is the name of the directory dir, for the default title.
func collectionName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(dir)
}

// zipHeader is the header of every entry: fixed time and mode, so the
// bytes depend on the content alone.
func zipHeader(name string, method uint16, mtime time.Time) *zip.FileHeader {
	fh := &zip.FileHeader{Name: name, Method: method, Modified: mtime}
	fh.SetMode(0o644)
	return fh
}

// stored reports whether a file is zipped without compression: WARC files,
// which viewers read at record offsets, and anything already compressed.
func stored(rel string) bool {
	return strings.HasPrefix(rel, ArchiveDir+"/") || strings.HasSuffix(rel, ".gz") || strings.HasSuffix(rel, ".zip")
}

// addZipFile copies dir/rel into the zip, hashing it on the way.
func addZipFile(zw *zip.Writer, dir, rel string, mtime time.Time) (Resource, error) {
	f, err := OpenFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return Resource{}, err
	}
	defer f.Close()
	return addZipEntry(zw, rel, mtime, func(w io.Writer) error {
		if _, err := io.Copy(w, bufio.NewReaderSize(f, 1<<20)); err != nil {
			return fmt.Errorf("warc: packing %s: %w", rel, err)
		}
		return nil
	})
}

// addZipEntry adds the entry rel to the zip, stored or deflated as its
// name says, with what write writes, and returns its resource (hash and
// size).
func addZipEntry(zw *zip.Writer, rel string, mtime time.Time, write func(io.Writer) error) (Resource, error) {
	method := zip.Deflate
	if stored(rel) {
		method = zip.Store
	}
	fw, err := zw.CreateHeader(zipHeader(rel, method, mtime))
	if err != nil {
		return Resource{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(fw, h)}
	if err := write(cw); err != nil {
		return Resource{}, err
	}
	return Resource{Name: path.Base(rel), Path: rel, Hash: hashString(h), Bytes: cw.n}, nil
}

func hashString(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// mainPage picks the page a viewer should open first: the page of the
// collection's only seed. The seeds are read from the amber-seeds field of
// each WARC file's warcinfo record; with no such field, a collection
// whose pages.jsonl lists a single URL has that as its main page.
func mainPage(dir string, files []string) (url, date string, err error) {
	pages, err := ReadPages(dir)
	if err != nil || len(pages) == 0 {
		return "", "", err
	}
	var warcs []string
	for _, rel := range files {
		if strings.HasPrefix(rel, ArchiveDir+"/") {
			warcs = append(warcs, filepath.Join(dir, filepath.FromSlash(rel)))
		}
	}
	url, date = mainPageOf(pages, warcs)
	return url, date, nil
}

// mainPageOf is the page of the only seed named by the warcinfo records of
// the WARC files at warcs, among pages; with no seed named, the only page.
func mainPageOf(pages []PageEntry, warcs []string) (url, date string) {
	seeds := map[string]bool{}
	for _, p := range warcs {
		for _, s := range strings.Fields(warcinfoField(p, "amber-seeds")) {
			seeds[s] = true
		}
	}
	urls := map[string]bool{}
	for _, p := range pages {
		urls[p.URL] = true
	}
	want := ""
	switch {
	case len(seeds) == 1:
		for s := range seeds {
			want = s
		}
	case len(seeds) == 0 && len(urls) == 1:
		want = pages[0].URL
	default:
		return "", ""
	}
	// The seed as given may differ from the page URL by a trailing slash
	// or the case of the scheme and host: compare SURTs, then the first
	// capture wins.
	for _, p := range pages {
		if p.URL == want || SURT(p.URL) == SURT(want) {
			return p.URL, p.TS
		}
	}
	return "", ""
}

// warcinfoField returns a field of the warcinfo record at the start of the
// WARC file at p, or "" if there is none or the file cannot be read.
func warcinfoField(p, name string) string {
	f, err := OpenFile(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return ""
	}
	rec, err := r.Next()
	if err != nil || rec.Header.Get("WARC-Type") != "warcinfo" || rec.ContentLength > 1<<20 {
		return ""
	}
	block, err := io.ReadAll(rec.Body)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(block), "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ReadPages reads dir/pages/pages.jsonl: every line after the header that
// has a url. A missing file gives no pages and no error.
func ReadPages(dir string) ([]PageEntry, error) {
	f, err := OpenFile(filepath.Join(dir, filepath.FromSlash(PagesPath)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParsePages(f)
}

// ParsePages reads a pages.jsonl stream: the header line (which has no
// url) is skipped, as are blank lines.
func ParsePages(r io.Reader) ([]PageEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // a line may carry the page's text
	var pages []PageEntry
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var p PageEntry
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			return pages, fmt.Errorf("warc: %s line %d: %v", PagesPath, n, err)
		}
		if p.URL != "" {
			pages = append(pages, p)
		}
	}
	return pages, sc.Err()
}
