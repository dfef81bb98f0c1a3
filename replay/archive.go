package replay

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amber-archiver/amber/warc"
	"github.com/amber-archiver/amber/warc/collection"
)

// Capture is one indexed record: a response, revisit or resource.
type Capture struct {
	URL      string
	Time     time.Time // from the CDXJ timestamp, second precision, UTC
	Status   int       // 0 when the record has no HTTP status (resource)
	Mime     string    // "warc/revisit" for revisits
	Digest   string    // payload digest
	Filename string    // WARC file the record is in
	Offset   int64
	Length   int64
}

// Timestamp is the capture time as the 14 digits of an archival URL.
func (c *Capture) Timestamp() string { return c.Time.Format(tsLayout) }

// Revisit reports whether the capture is a revisit record, whose payload
// is that of an earlier capture with the same digest.
func (c *Capture) Revisit() bool { return c.Mime == "warc/revisit" }

const tsLayout = "20060102150405"

// Page is a page listed in pages.jsonl, or an HTML capture when the
// archive has no page list.
type Page struct {
	URL   string
	Time  time.Time
	Title string
}

// Archive is a read-only view of archived captures: an in-memory index and
// the WARC files it points into. It is safe for concurrent use.
type Archive struct {
	// Title names the archive on the index page.
	Title string

	captures map[string][]*Capture // by lookup key, oldest first
	n        int                   // captures indexed
	max      int                   // captures the index may hold
	skipped  int                   // damaged records left out of the index
	// files left out of the index: neither WARC nor ARC
	notArchives []*warc.NotArchiveError
	strs        map[string]string     // one copy of each URL, mime, digest, file name
	byDigest    map[string][]*Capture // non-revisit captures, by payload digest
	pages       []Page

	// open returns the bytes of a WARC file (by base name) for reading at
	// offsets.
	open    func(name string) (io.ReaderAt, io.Closer, error)
	closers []io.Closer
}

// Close releases the files the archive holds open.
func (a *Archive) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Pages lists the archived pages, in the order of pages.jsonl.
func (a *Archive) Pages() []Page { return a.pages }

// Len is the number of captures indexed.
func (a *Archive) Len() int { return a.n }

// DefaultMaxCaptures bounds the index held in memory unless
// Options.MaxCaptures says otherwise: about 200 bytes a capture with its
// page (50 MB at the limit), so a small file whose index inflates to
// gigabytes of lines is refused with a message instead of filling memory.
// A year of nightly crawls of a few front pages is well under it.
const DefaultMaxCaptures = 250_000

// Options configure Open. Zero values mean the documented default.
type Options struct {
	// MaxCaptures is the most captures the index may list; default
	// DefaultMaxCaptures. Memory grows by about 200 bytes a capture.
	MaxCaptures int
}

// TooManyCapturesError is returned by Open for an index past the limit.
type TooManyCapturesError struct{ Max int }

func (e *TooManyCapturesError) Error() string {
	return fmt.Sprintf("the index lists more than %d captures, more than amber replay holds in memory (--max-captures raises the limit, at about 200 bytes a capture)", e.Max)
}

// maxPagesBytes bounds pages.jsonl, read whole into memory.
const maxPagesBytes = 32 << 20

// limitReader reads at most n bytes of r and then fails with err, so
// that a limit is an error rather than a silently shorter file.
type limitReader struct {
	r   io.Reader
	n   int64
	err error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// key is the lookup key of a URL: its SURT, which ignores the scheme, a
// leading www, default ports, query argument order and case. It is
// computed from the url of each index line rather than taken from the
// line's own key, so an index written with another SURT flavour still
// matches.
func key(u string) string { return warc.SURT(u) }

func newArchive(title string, o Options) *Archive {
	if o.MaxCaptures <= 0 {
		o.MaxCaptures = DefaultMaxCaptures
	}
	return &Archive{Title: title, max: o.MaxCaptures, captures: map[string][]*Capture{}, byDigest: map[string][]*Capture{}, strs: map[string]string{}}
}

// intern returns the archive's copy of s: file names and mime types
// repeat on every line, URLs and digests on every revisit.
func (a *Archive) intern(s string) string {
	if v, ok := a.strs[s]; ok {
		return v
	}
	a.strs[s] = s
	return s
}

func (a *Archive) add(l warc.CDXJLine) error {
	if l.URL == "" || l.Filename == "" {
		return nil
	}
	if a.n >= a.max {
		return &TooManyCapturesError{Max: a.max}
	}
	t, err := time.Parse(tsLayout, padTimestamp(l.Timestamp))
	if err != nil {
		return nil
	}
	status, _ := strconv.Atoi(l.Status)
	// Digests are compared in one form: index lines write them bare or
	// labelled, in base32 or hex, depending on the tool.
	c := &Capture{URL: a.intern(l.URL), Time: t, Status: status, Mime: a.intern(l.Mime), Digest: a.intern(warc.DigestKey(l.Digest)),
		Filename: a.intern(l.Filename), Offset: l.Offset, Length: l.Length}
	k := key(l.LookupURL())
	a.captures[k] = append(a.captures[k], c)
	if !c.Revisit() && c.Digest != "" {
		a.byDigest[c.Digest] = append(a.byDigest[c.Digest], c)
	}
	a.n++
	return nil
}

// finish sorts the captures by time and, with no page list, lists the
// captures that are pages (collection.IsPage: 2xx HTML; revisits, whose
// index mime is warc/revisit, are not).
func (a *Archive) finish() {
	a.strs = nil // only needed while adding
	for _, cs := range a.captures {
		slices.SortStableFunc(cs, func(x, y *Capture) int { return x.Time.Compare(y.Time) })
	}
	if a.pages != nil {
		return
	}
	for _, cs := range a.captures {
		for _, c := range cs {
			if collection.IsPage(collection.Capture{Status: c.Status, ContentType: c.Mime}) {
				a.pages = append(a.pages, Page{URL: c.URL, Time: c.Time})
			}
		}
	}
	slices.SortFunc(a.pages, func(x, y Page) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return strings.Compare(x.URL, y.URL)
	})
}

func (a *Archive) setPages(entries []warc.PageEntry) {
	a.pages = []Page{}
	for _, p := range entries {
		t, err := time.Parse(time.RFC3339, p.TS)
		if err != nil {
			if t, err = time.Parse(tsLayout, padTimestamp(p.TS)); err != nil {
				continue
			}
		}
		a.pages = append(a.pages, Page{URL: p.URL, Time: t.UTC(), Title: p.Title})
	}
}

// padTimestamp completes a partial timestamp (2026, 202611...) to 14
// digits with the earliest moment it covers.
func padTimestamp(ts string) string {
	const earliest = "00000101000000"
	if len(ts) >= 14 {
		return ts[:14]
	}
	if len(ts) < 4 {
		return ""
	}
	return ts + earliest[len(ts):]
}

// Open opens a collection directory, a WACZ file, or a WARC file, with the
// default options.
func Open(p string) (*Archive, error) { return OpenWith(p, Options{}) }

// OpenWith opens a collection directory, a WACZ file, or a WARC file.
func OpenWith(p string, o Options) (*Archive, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return openDir(p, o)
	case strings.HasSuffix(strings.ToLower(p), ".wacz") || warc.IsZipFile(p):
		return openWACZ(p, o)
	}
	return openWARC(o, p)
}

// OpenDir opens a collection directory: its indexes/index.cdxj (built
// from archive/*.warc.gz when missing) and pages/pages.jsonl.
func OpenDir(dir string) (*Archive, error) { return openDir(dir, Options{}) }

func openDir(dir string, o Options) (*Archive, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	a := newArchive(filepath.Base(abs), o)
	archiveDir := filepath.Join(dir, warc.ArchiveDir)
	a.open = func(name string) (io.ReaderAt, io.Closer, error) {
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
			return nil, nil, fmt.Errorf("replay: bad WARC file name %q", name)
		}
		return openFile(filepath.Join(archiveDir, name))
	}
	if dp, err := warc.ReadDatapackage(dir); err == nil && dp.Title != "" {
		a.Title = dp.Title
	}
	pages, err := a.addDir(dir)
	if err != nil {
		return nil, err
	}
	if pages != nil {
		a.setPages(pages)
	}
	a.finish()
	return a, nil
}

func openFile(p string) (io.ReaderAt, io.Closer, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

// OpenCollections opens several collection directories as one archive
// (the collections the workers of one crawl wrote): one index over all,
// the pages of all sorted by time, revisits in one resolved to records in
// any. Index lines name WARC files by base name, so two WARC files of one
// name are a *warc.NameClashError. With one directory it is OpenWith.
func OpenCollections(dirs []string, o Options) (*Archive, error) {
	if len(dirs) == 1 {
		return OpenWith(dirs[0], o)
	}
	byName, err := warc.CollectionWARCs(dirs)
	if err != nil {
		return nil, err
	}
	var titles []string
	a := newArchive("", o)
	a.open = func(name string) (io.ReaderAt, io.Closer, error) {
		p, ok := byName[name]
		if !ok {
			return nil, nil, fmt.Errorf("replay: no WARC file %s in the collections", name)
		}
		return openFile(p)
	}
	var all []warc.PageEntry
	listed := false
	for i, dir := range dirs {
		if slices.ContainsFunc(dirs[:i], func(d string) bool { return warc.SameFile(d, dir) }) {
			continue // given twice
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		title := filepath.Base(abs)
		if dp, err := warc.ReadDatapackage(dir); err == nil && dp.Title != "" {
			title = dp.Title
		}
		titles = append(titles, title)
		pages, err := a.addDir(dir)
		if err != nil {
			return nil, err
		}
		listed = listed || pages != nil
		all = append(all, pages...)
	}
	a.Title = strings.Join(titles, ", ")
	if listed {
		a.setPages(all)
		slices.SortStableFunc(a.pages, func(x, y Page) int { return x.Time.Compare(y.Time) })
	}
	a.finish()
	return a, nil
}

// addDir adds the captures of the collection in dir to the index: its
// indexes/index.cdxj, or its WARC files when it has none. It returns the
// pages its pages/pages.jsonl lists, nil without one.
func (a *Archive) addDir(dir string) ([]warc.PageEntry, error) {
	archiveDir := filepath.Join(dir, warc.ArchiveDir)
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(warc.IndexPath)))
	switch {
	case err == nil:
		err = readCDXJ(a, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("replay: %s: %s: %w", dir, warc.IndexPath, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		files, _ := filepath.Glob(filepath.Join(archiveDir, "*.warc.gz"))
		plain, _ := filepath.Glob(filepath.Join(archiveDir, "*.warc"))
		files = append(files, plain...)
		arcs, _ := filepath.Glob(filepath.Join(archiveDir, "*.arc*"))
		for _, f := range arcs {
			if strings.HasSuffix(f, ".arc") || strings.HasSuffix(f, ".arc.gz") {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("replay: %s: not a collection: no %s and no WARC files in %s", dir, warc.IndexPath, archiveDir)
		}
		for _, wf := range files {
			var na *warc.NotArchiveError
			if err := a.indexWARC(wf); errors.As(err, &na) && len(files) > 1 {
				// One odd file in archive/ does not hide the others.
				a.notArchives = append(a.notArchives, na)
			} else if err != nil {
				return nil, err
			}
		}
	default:
		return nil, err
	}
	pf, err := os.Open(filepath.Join(dir, filepath.FromSlash(warc.PagesPath)))
	switch {
	case err == nil:
		pages, err := warc.ParsePages(&limitReader{r: pf, n: maxPagesBytes, err: errPagesTooLarge})
		pf.Close()
		if err != nil {
			return nil, fmt.Errorf("replay: %s: %w", dir, err)
		}
		if pages == nil {
			pages = []warc.PageEntry{} // listed, but none
		}
		return pages, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	return nil, nil
}

// indexWARC adds the records of the WARC file at path as warc.IndexWARC
// indexes them, a record at a time, so that the capture limit stops a file
// of millions of records before its index fills memory. A record whose
// gzip member is damaged is skipped (Skipped counts it) and the next member
// read, so one bad record never hides the others; a framing error the
// reader cannot get past keeps the records before it (a truncated file
// replays what it has).
func (a *Archive) indexWARC(path string) error {
	f, err := warc.OpenFile(path) // refuses what is not a regular file
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := warc.OpenRecords(f) // a WARC file or an ARC file
	var na *warc.NotArchiveError
	if errors.As(err, &na) {
		na.Path = path
		return na
	}
	if err != nil {
		return fmt.Errorf("replay: %s: %w", path, err)
	}
	ix := warc.NewIndexer(r, filepath.Base(path))
	added := 0
	for {
		l, err := ix.Next()
		var skipped *warc.SkippedError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &skipped):
			a.skipped++
		case err != nil:
			if added > 0 {
				return nil
			}
			return fmt.Errorf("replay: %s: %w", path, err)
		default:
			if err := a.add(l); err != nil {
				return fmt.Errorf("replay: %s: %w", path, err)
			}
			added++
		}
	}
}

// Skipped is the number of damaged records left out of the index built
// from WARC files (an index file read as it is skips nothing).
func (a *Archive) Skipped() int { return a.skipped }

// NotArchives are the files of a collection's archive/ left out because
// they are neither WARC nor ARC files, when others are.
func (a *Archive) NotArchives() []*warc.NotArchiveError { return a.notArchives }

// OpenWARC opens WARC files by themselves, indexing them first.
func OpenWARC(paths ...string) (*Archive, error) { return openWARC(Options{}, paths...) }

func openWARC(o Options, paths ...string) (*Archive, error) {
	byName := map[string]string{}
	a := newArchive(filepath.Base(paths[0]), o)
	for _, p := range paths {
		name := filepath.Base(p)
		if other, dup := byName[name]; dup && other != p {
			return nil, fmt.Errorf("replay: two WARC files called %s: %s and %s", name, other, p)
		}
		byName[name] = p
		if err := a.indexWARC(p); err != nil {
			return nil, err
		}
	}
	a.open = func(name string) (io.ReaderAt, io.Closer, error) {
		p, ok := byName[name]
		if !ok {
			return nil, nil, fmt.Errorf("replay: no WARC file %s", name)
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	}
	a.finish()
	return a, nil
}

// OpenWACZ opens a WACZ file. Its WARC files are read in place when they
// are stored uncompressed in the zip, as WACZ requires; a deflated one is
// read from its start for every record.
func OpenWACZ(p string) (*Archive, error) { return openWACZ(p, Options{}) }

func openWACZ(p string, o Options) (*Archive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		if errors.Is(err, zip.ErrFormat) && !warc.IsZipFile(p) {
			// A .wacz that is no zip: what is it?
			return openWARC(o, p)
		}
		return nil, fmt.Errorf("replay: %s: %w", p, err)
	}
	a := newArchive(strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), o)
	a.closers = append(a.closers, f)
	warcs := map[string]*zip.File{}
	var indexes []*zip.File
	var pages *zip.File
	hasManifest := false
	for _, zf := range zr.File {
		switch dir, name := path.Split(zf.Name); {
		case dir == warc.ArchiveDir+"/":
			warcs[name] = zf
		case dir == "indexes/" && (strings.HasSuffix(name, ".cdxj") || strings.HasSuffix(name, ".cdxj.gz") || strings.HasSuffix(name, ".cdx") || strings.HasSuffix(name, ".cdx.gz")):
			indexes = append(indexes, zf)
		case zf.Name == warc.PagesPath:
			pages = zf
		case zf.Name == warc.DatapackagePath:
			hasManifest = true
			if rc, err := zf.Open(); err == nil {
				var dp warc.Datapackage
				if json.NewDecoder(io.LimitReader(rc, 8<<20)).Decode(&dp) == nil && dp.Title != "" {
					a.Title = dp.Title
				}
				rc.Close()
			}
		}
	}
	if len(indexes) == 0 {
		a.Close()
		if len(warcs) == 0 && !hasManifest {
			return nil, &warc.NotArchiveError{Path: p, Zip: true}
		}
		return nil, fmt.Errorf("replay: %s: no CDXJ index in indexes/", p)
	}
	for _, zf := range indexes {
		rc, err := zf.Open()
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("replay: %s: %s: %w", p, zf.Name, err)
		}
		var r io.Reader = rc
		if strings.HasSuffix(zf.Name, ".gz") {
			gz, err := gzip.NewReader(rc)
			if err != nil {
				rc.Close()
				a.Close()
				return nil, fmt.Errorf("replay: %s: %s: %w", p, zf.Name, err)
			}
			r = gz
		}
		err = readCDXJ(a, r)
		rc.Close()
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("replay: %s: %s: %w", p, zf.Name, err)
		}
	}
	if pages != nil {
		rc, err := pages.Open()
		if err == nil {
			entries, err := warc.ParsePages(&limitReader{r: rc, n: maxPagesBytes, err: errPagesTooLarge})
			rc.Close()
			if err == nil {
				a.setPages(entries)
			}
		}
	}
	a.open = func(name string) (io.ReaderAt, io.Closer, error) {
		zf, ok := warcs[name]
		if !ok {
			return nil, nil, fmt.Errorf("replay: no %s/%s in %s", warc.ArchiveDir, name, p)
		}
		if zf.Method == zip.Store {
			off, err := zf.DataOffset()
			if err != nil {
				return nil, nil, err
			}
			return io.NewSectionReader(f, off, int64(zf.CompressedSize64)), io.NopCloser(nil), nil
		}
		return &zipEntryReaderAt{zf: zf}, io.NopCloser(nil), nil
	}
	a.finish()
	return a, nil
}

var errPagesTooLarge = fmt.Errorf("%s is larger than %d MiB", warc.PagesPath, maxPagesBytes>>20)

// zipEntryReaderAt reads a compressed zip entry at an offset by
// decompressing it from the start: slow, but WACZ files store their WARCs.
type zipEntryReaderAt struct{ zf *zip.File }

func (z *zipEntryReaderAt) ReadAt(p []byte, off int64) (int, error) {
	rc, err := z.zf.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if _, err := io.CopyN(io.Discard, rc, off); err != nil {
		return 0, err
	}
	return io.ReadFull(rc, p)
}

// readCDXJ adds the lines of a CDXJ (or CDX JSON) index.
func readCDXJ(a *Archive, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '!' { // "!meta" header lines of some indexers
			continue
		}
		l, err := warc.ParseCDXJLine(string(line))
		if err != nil {
			continue // one odd line does not make the rest unusable
		}
		if err := a.add(l); err != nil {
			return err
		}
	}
	return sc.Err()
}
