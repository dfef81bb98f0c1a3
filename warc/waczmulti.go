package warc

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
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
	"strconv"
	"strings"
	"time"
)

// Several collections as one package: the collection directories the
// workers of one crawl write, each with its own WARC files, put side by
// side. The package holds every WARC file of every collection in archive/
// (a name may be in only one: viewers find WARC files by base name), one
// byte-sorted indexes/index.cdxj merged from theirs, one pages/pages.jsonl
// with the pages of all sorted by time, and the logs of all (a log whose
// name another collection already uses is renamed NAME-2.jsonl, -3, ...).

// NameClashError is two WARC files of the collections given together
// that have the same base name: an index names files by base name, so
// one of them could not be found.
type NameClashError struct {
	Name          string
	First, Second string // the two paths
}

func (e *NameClashError) Error() string {
	return fmt.Sprintf("warc: two WARC files called %s: %s and %s (index lines and viewers find WARC files by name alone)", e.Name, e.First, e.Second)
}

// CollectionWARCs maps the base name of every WARC file in the archive/
// folders of the collections in dirs to its path. Two files of one name
// are a *NameClashError; a directory given twice is read once.
func CollectionWARCs(dirs []string) (map[string]string, error) {
	byName := map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(filepath.Join(dir, ArchiveDir))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if name := e.Name(); e.Type().IsRegular() && !strings.HasPrefix(name, ".") && IsWARCName(name) {
				p := filepath.Join(dir, ArchiveDir, name)
				if err := addUniqueName(byName, name, p); err != nil {
					return nil, err
				}
			}
		}
	}
	return byName, nil
}

// UniqueNames checks that no two of the files at paths share a base name,
// unless they are the same file (given twice, or through two paths).
func UniqueNames(paths []string) error {
	byName := map[string]string{}
	for _, p := range paths {
		if err := addUniqueName(byName, filepath.Base(p), p); err != nil {
			return err
		}
	}
	return nil
}

func addUniqueName(byName map[string]string, name, p string) error {
	other, dup := byName[name]
	if !dup {
		byName[name] = p
		return nil
	}
	if other == p || SameFile(other, p) {
		return nil
	}
	return &NameClashError{Name: name, First: other, Second: p}
}

// SameFile reports whether the paths a and b name one file.
func SameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// IsWARCName reports whether name is that of a WARC or ARC file, closed:
// .warc, .warc.gz, .arc, .arc.gz.
func IsWARCName(name string) bool {
	for _, ext := range []string{".warc.gz", ".warc", ".arc.gz", ".arc"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// PackCollections writes the collections in dirs as one WACZ file out,
// atomically; with one collection it is PackWACZ.
func PackCollections(dirs []string, out string, opts WACZOptions) (*Datapackage, error) {
	if len(dirs) == 1 {
		return PackWACZ(dirs[0], out, opts)
	}
	return packAtomic(out, opts.Hash, func(w io.Writer) (*Datapackage, error) { return WriteCollectionsWACZ(w, dirs, opts) })
}

// packedCollection is one of the collections packed together.
type packedCollection struct {
	dir    string
	files  []string            // as waczFiles lists them
	listed map[string]Resource // its datapackage.json, by path
	prev   *Datapackage        // nil without one
}

// packEntry is one entry of the package and where its bytes come from.
type packEntry struct {
	path  string
	write func(w io.Writer) error
}

// WriteCollectionsWACZ zips the collections in dirs to w as one WACZ (see
// PackCollections); with one collection it is WriteWACZ. As WriteWACZ,
// it checks every file it reads against its own collection's
// datapackage.json and does not verify the WARC records.
//
// The package's title is opts.Title or the collections' names joined by
// ", "; its creation time the earliest of theirs, its modification time
// the latest; the main page that of the only seed of all their WARC files.
func WriteCollectionsWACZ(w io.Writer, dirs []string, opts WACZOptions) (*Datapackage, error) {
	if len(dirs) == 1 {
		return WriteWACZ(w, dirs[0], opts)
	}
	var colls []*packedCollection
	for i, dir := range dirs {
		if slices.ContainsFunc(dirs[:i], func(d string) bool { return d == dir || SameFile(d, dir) }) {
			continue // given twice
		}
		files, err := waczFiles(dir)
		if err != nil {
			return nil, err
		}
		prev, err := ReadDatapackage(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		c := &packedCollection{dir: dir, files: files, listed: map[string]Resource{}, prev: prev}
		if prev != nil {
			for _, r := range prev.Resources {
				c.listed[r.Path] = r
			}
		}
		colls = append(colls, c)
	}
	entries, warcs, err := planEntries(colls)
	if err != nil {
		return nil, err
	}

	dp := &Datapackage{Profile: "data-package", WACZVersion: WACZVersion, Title: opts.Title,
		Software: opts.Software, MainPageURL: opts.MainPageURL, MainPageDate: opts.MainPageDate}
	var names []string
	for _, c := range colls {
		names = append(names, collectionName(c.dir))
		if c.prev == nil {
			continue
		}
		if dp.Software == "" {
			dp.Software = c.prev.Software
		}
		if c.prev.Created != "" && (dp.Created == "" || earlier(c.prev.Created, dp.Created)) {
			dp.Created = c.prev.Created
		}
		if c.prev.Modified != "" && (dp.Modified == "" || earlier(dp.Modified, c.prev.Modified)) {
			dp.Modified = c.prev.Modified
		}
	}
	if dp.Title == "" {
		dp.Title = strings.Join(names, ", ")
	}
	if dp.MainPageURL == "" {
		all, err := readAllPages(colls)
		if err != nil {
			return nil, err
		}
		dp.MainPageURL, dp.MainPageDate = mainPageOf(all, warcs)
	}
	mtime := zipTime(dp.Created)

	zw := zip.NewWriter(w)
	for _, e := range entries {
		res, err := addZipEntry(zw, e.path, mtime, e.write)
		if err != nil {
			return nil, err
		}
		dp.Resources = append(dp.Resources, res)
	}
	if err := closeWACZ(zw, dp, mtime); err != nil {
		return nil, err
	}
	return dp, nil
}

// earlier reports whether RFC 3339 time a is before b; times that do not
// parse compare as strings.
func earlier(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339, a)
	tb, errB := time.Parse(time.RFC3339, b)
	if errA != nil || errB != nil {
		return a < b
	}
	return ta.Before(tb)
}

// planEntries lays out the package: its entries in zip order, and the
// WARC files (paths on disk).
func planEntries(colls []*packedCollection) (entries []packEntry, warcs []string, err error) {
	byName := map[string]string{}
	taken := map[string]bool{}
	var indexes, pages []checkedFile
	for _, c := range colls {
		for _, rel := range c.files {
			f := checkedFile{coll: c, rel: rel}
			dir, name := path.Split(rel)
			switch {
			case dir == ArchiveDir+"/":
				if err := addUniqueName(byName, name, f.path()); err != nil {
					return nil, nil, err
				}
				warcs = append(warcs, f.path())
			case dir == path.Dir(IndexPath)+"/":
				if !strings.HasSuffix(name, ".cdxj") {
					return nil, nil, fmt.Errorf("warc: %s: only CDXJ indexes (.cdxj) can be merged into one", f.path())
				}
				indexes = append(indexes, f)
				continue
			case rel == PagesPath:
				pages = append(pages, f)
				continue
			}
			// Logs (and anything else): under their own name if it is
			// free, else NAME-2, NAME-3, ...
			final := rel
			for n := 2; taken[final]; n++ {
				ext := path.Ext(rel)
				final = strings.TrimSuffix(rel, ext) + "-" + strconv.Itoa(n) + ext
			}
			taken[final] = true
			entries = append(entries, packEntry{path: final, write: f.copyTo})
		}
	}
	if len(indexes) > 0 {
		entries = append(entries, packEntry{path: IndexPath, write: func(w io.Writer) error { return mergeIndexes(w, indexes) }})
	}
	if len(pages) > 0 {
		entries = append(entries, packEntry{path: PagesPath, write: func(w io.Writer) error { return mergePages(w, pages) }})
	}
	order := func(p string) int { return slices.Index(waczDirs, path.Dir(p)) }
	slices.SortStableFunc(entries, func(a, b packEntry) int {
		if c := order(a.path) - order(b.path); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	return entries, warcs, nil
}

// checkedFile is a file of one of the collections, read for the package
// and checked, as it is read, against that collection's datapackage.json.
type checkedFile struct {
	coll *packedCollection
	rel  string
}

func (f checkedFile) path() string { return filepath.Join(f.coll.dir, filepath.FromSlash(f.rel)) }

// open returns a reader of the file that fails at its end if the file is
// not what datapackage.json lists (it changed after it was verified).
func (f checkedFile) open() (io.ReadCloser, error) {
	fh, err := OpenFile(f.path())
	if err != nil {
		return nil, err
	}
	want, ok := f.coll.listed[f.rel]
	if !ok {
		return fh, nil
	}
	return &checkingReader{f: fh, h: sha256.New(), want: want, name: f.path()}, nil
}

func (f checkedFile) copyTo(w io.Writer) error {
	r, err := f.open()
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(w, bufio.NewReaderSize(r, 1<<20)); err != nil {
		return fmt.Errorf("warc: packing %s: %w", f.path(), err)
	}
	return nil
}

type checkingReader struct {
	f    *os.File
	h    hash.Hash
	n    int64
	want Resource
	name string
}

func (c *checkingReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if err == io.EOF {
		if got := hashString(c.h); c.n != c.want.Bytes || !strings.EqualFold(got, c.want.Hash) {
			return n, fmt.Errorf("warc: %s changed while it was packed: it is %d bytes with %s, datapackage.json says %d bytes with %s",
				c.name, c.n, got, c.want.Bytes, c.want.Hash)
		}
	}
	return n, err
}

func (c *checkingReader) Close() error { return c.f.Close() }

// mergeIndexes writes the lines of the byte-sorted CDXJ files as one
// byte-sorted index, each line once, holding one line of each file.
func mergeIndexes(w io.Writer, files []checkedFile) error {
	type cursor struct {
		sc   *bufio.Scanner
		line string
		name string
	}
	var cursors []*cursor
	for _, f := range files {
		r, err := f.open()
		if err != nil {
			return err
		}
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		cursors = append(cursors, &cursor{sc: sc, name: f.path()})
	}
	advance := func(c *cursor) (bool, error) {
		for c.sc.Scan() {
			l := c.sc.Text()
			if l == "" {
				continue
			}
			if l < c.line {
				return false, fmt.Errorf("warc: %s is not byte-sorted, so it cannot be merged", c.name)
			}
			c.line = l
			return true, nil
		}
		if err := c.sc.Err(); err != nil {
			return false, fmt.Errorf("warc: reading %s: %w", c.name, err)
		}
		return false, nil
	}
	var live []*cursor
	for _, c := range cursors {
		ok, err := advance(c)
		if err != nil {
			return err
		}
		if ok {
			live = append(live, c)
		}
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	last := ""
	for len(live) > 0 {
		min := 0
		for i, c := range live {
			if c.line < live[min].line {
				min = i
			}
		}
		c := live[min]
		if c.line != last {
			bw.WriteString(c.line)
			bw.WriteByte('\n')
			last = c.line
		}
		ok, err := advance(c)
		if err != nil {
			return err
		}
		if !ok {
			live = slices.Delete(live, min, min+1)
		}
	}
	return bw.Flush()
}

// maxMergedPages bounds the pages.jsonl files merged, which are held in
// memory to be sorted.
const maxMergedPages = 1 << 30

// mergePages writes one pages.jsonl: the first file's header line, then
// the page lines of all, as they are, sorted by time (pages of one time
// in the order of the collections).
func mergePages(w io.Writer, files []checkedFile) error {
	header := []byte(`{"format":"json-pages-1.0","id":"pages","title":"All Pages"}`)
	type page struct {
		line []byte
		ts   string
		t    time.Time
		ok   bool
	}
	var pages []page
	var total int64
	for i, f := range files {
		r, err := f.open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(r, maxMergedPages-total+1))
		r.Close()
		if err != nil {
			return fmt.Errorf("warc: reading %s: %w", f.path(), err)
		}
		if total += int64(len(b)); total > maxMergedPages {
			return fmt.Errorf("warc: the pages.jsonl files hold more than %d bytes together", maxMergedPages)
		}
		for n, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			var p PageEntry
			if err := json.Unmarshal(line, &p); err != nil {
				return fmt.Errorf("warc: %s line %d: %v", f.path(), n+1, err)
			}
			if p.URL == "" {
				if i == 0 && n == 0 {
					header = line
				}
				continue
			}
			t, ok := pageTime(p.TS)
			pages = append(pages, page{line: line, ts: p.TS, t: t, ok: ok})
		}
	}
	slices.SortStableFunc(pages, func(a, b page) int {
		if a.ok && b.ok {
			return a.t.Compare(b.t)
		}
		return strings.Compare(a.ts, b.ts)
	})
	bw := bufio.NewWriter(w)
	bw.Write(header)
	bw.WriteByte('\n')
	for _, p := range pages {
		bw.Write(p.line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// pageTime parses the ts of a page: RFC 3339, or 14 digits.
func pageTime(ts string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		return t, true
	}
	if t, err := time.Parse("20060102150405", ts); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// readAllPages reads the pages of every collection, sorted as mergePages
// sorts them, for the main page.
func readAllPages(colls []*packedCollection) ([]PageEntry, error) {
	var all []PageEntry
	for _, c := range colls {
		ps, err := ReadPages(c.dir)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	slices.SortStableFunc(all, func(a, b PageEntry) int {
		ta, okA := pageTime(a.TS)
		tb, okB := pageTime(b.TS)
		if okA && okB {
			return ta.Compare(tb)
		}
		return strings.Compare(a.TS, b.TS)
	})
	return all, nil
}
