package warc

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// A collection directory is the WACZ layout, unzipped:
//
//	archive/*.warc.gz      the WARC files, never rewritten once closed
//	indexes/index.cdxj     CDXJ index of every response and revisit, byte-sorted
//	pages/pages.jsonl      the archived pages, a header line first
//	logs/*.jsonl           crawl logs, one JSON line per fetch
//	datapackage.json       every file above with its sha256 and size
const (
	ArchiveDir      = "archive"
	IndexPath       = "indexes/index.cdxj"
	PagesPath       = "pages/pages.jsonl"
	DatapackagePath = "datapackage.json"
	LogsDir         = "logs"
	WACZVersion     = "1.1.1"
)

// Collection is a collection directory.
type Collection struct {
	Dir string
}

// OpenCollection creates the layout under dir if needed.
func OpenCollection(dir string) (*Collection, error) {
	for _, sub := range []string{ArchiveDir, path.Dir(IndexPath), path.Dir(PagesPath), LogsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	return &Collection{Dir: dir}, nil
}

// CreateLog creates logs/name for writing and reading back.
func (c *Collection) CreateLog(name string) (*os.File, error) {
	return os.OpenFile(filepath.Join(c.Dir, LogsDir, name), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
}

// ArchivePath is the directory the WARC files go to.
func (c *Collection) ArchivePath() string { return filepath.Join(c.Dir, ArchiveDir) }

// AddIndex merges lines into indexes/index.cdxj, keeping it byte-sorted and
// free of duplicate lines. The new lines are sorted in memory and merged
// with the existing file as a stream, so memory grows with the run, not
// with the collection. The file is replaced atomically.
func (c *Collection) AddIndex(lines []string) error {
	p := filepath.Join(c.Dir, IndexPath)
	sort.Strings(lines)
	var old *bufio.Scanner
	if f, err := OpenFile(p); err == nil {
		defer f.Close()
		old = bufio.NewScanner(f)
		old.Buffer(make([]byte, 64<<10), 16<<20)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeAtomic(p, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 256<<10)
		last := ""
		emit := func(l string) {
			if l != "" && l != last {
				bw.WriteString(l)
				bw.WriteByte('\n')
				last = l
			}
		}
		next := func() (string, bool) {
			if old == nil || !old.Scan() {
				return "", false
			}
			return old.Text(), true
		}
		o, ok := next()
		for _, l := range lines {
			for ok && o <= l {
				emit(o)
				o, ok = next()
			}
			emit(l)
		}
		for ok {
			emit(o)
			o, ok = next()
		}
		if old != nil && old.Err() != nil {
			return fmt.Errorf("reading %s: %w", p, old.Err())
		}
		return bw.Flush()
	})
}

// HasPages reports whether pages/pages.jsonl exists.
func (c *Collection) HasPages() bool {
	_, err := os.Stat(filepath.Join(c.Dir, PagesPath))
	return err == nil
}

// PageEntry is a line of pages/pages.jsonl.
type PageEntry struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	TS    string `json:"ts"`
	Title string `json:"title,omitempty"`
	Size  int64  `json:"size,omitempty"`
	Text  string `json:"text,omitempty"` // the rendered text (amber archive --browser --page-text)
}

// AddPages appends pages to pages/pages.jsonl as AddNewPages does.
func (c *Collection) AddPages(pages []PageEntry) error {
	_, err := c.AddNewPages(pages)
	return err
}

// AddNewPages appends to pages/pages.jsonl the pages it does not list yet
// (the same url and ts), writing the header line first when the file is
// new, and returns how many it added. Listing the same pages twice (a run
// that died after writing pages.jsonl and before clearing its outbox lists
// them again) therefore adds nothing. The file is replaced atomically.
func (c *Collection) AddNewPages(pages []PageEntry) (int, error) {
	p := filepath.Join(c.Dir, PagesPath)
	old, err := ReadSmallFile(p, 1<<30)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	type key struct{ url, ts string }
	have := map[key]bool{}
	if len(pages) > 0 {
		for line := range bytes.Lines(old) {
			if u, ts := pageKey(line); u != "" {
				have[key{u, ts}] = true
			}
		}
	}
	buf := append([]byte(nil), old...)
	if len(buf) == 0 {
		buf = append(buf, `{"format":"json-pages-1.0","id":"pages","title":"All Pages"}`+"\n"...)
	}
	added := 0
	for _, pg := range pages {
		if have[key{pg.URL, pg.TS}] {
			continue
		}
		have[key{pg.URL, pg.TS}] = true
		line, err := json.Marshal(pg)
		if err != nil {
			return 0, err
		}
		buf = append(buf, line...)
		buf = append(buf, '\n')
		added++
	}
	if added == 0 && len(old) > 0 {
		return 0, nil
	}
	return added, writeFileAtomic(p, buf)
}

// pageKey returns the url and ts of a pages.jsonl line, reading no
// further than them: a line may hold megabytes of page text after them
// (amber writes id, url, ts, title, size, text in that order).
func pageKey(line []byte) (url, ts string) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", ""
	}
	var haveURL, haveTS bool
	for dec.More() && !(haveURL && haveTS) {
		k, err := dec.Token()
		if err != nil {
			return "", ""
		}
		switch k {
		case "url":
			haveURL = dec.Decode(&url) == nil
		case "ts":
			haveTS = dec.Decode(&ts) == nil
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return "", ""
			}
		}
	}
	return url, ts
}

// Datapackage is datapackage.json (WACZ 1.1.1), the collection's fixity
// manifest.
type Datapackage struct {
	Profile      string     `json:"profile"`
	WACZVersion  string     `json:"wacz_version"`
	Title        string     `json:"title,omitempty"`
	Created      string     `json:"created,omitempty"`
	Modified     string     `json:"modified,omitempty"`
	Software     string     `json:"software,omitempty"`
	MainPageURL  string     `json:"mainPageUrl,omitempty"`
	MainPageDate string     `json:"mainPageDate,omitempty"`
	Resources    []Resource `json:"resources"`
}

// Resource is one file listed in datapackage.json.
type Resource struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Hash  string `json:"hash"`
	Bytes int64  `json:"bytes"`
}

// ReadDatapackage reads dir/datapackage.json.
func ReadDatapackage(dir string) (*Datapackage, error) {
	b, err := ReadSmallFile(filepath.Join(dir, DatapackagePath), 64<<20)
	if err != nil {
		return nil, err
	}
	var dp Datapackage
	if err := json.Unmarshal(b, &dp); err != nil {
		return nil, fmt.Errorf("%s: %w", DatapackagePath, err)
	}
	return &dp, nil
}

// WriteDatapackage lists every file of the collection with its sha256 and
// size. Closed WARC files never change, so their hash is taken from the
// previous manifest when the size still matches; everything else is hashed.
//
// known maps archive/ file names to hashes already computed while the files
// were written, so they are not read again.
func (c *Collection) WriteDatapackage(software string, now time.Time, known map[string]string) error {
	prev, err := ReadDatapackage(c.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	listed := map[string]Resource{}
	dp := &Datapackage{Created: now.UTC().Format(time.RFC3339)}
	if prev != nil {
		*dp = *prev
		for _, r := range prev.Resources {
			listed[r.Path] = r
		}
	}
	dp.Profile, dp.WACZVersion, dp.Software = "data-package", WACZVersion, software
	dp.Modified = now.UTC().Format(time.RFC3339)
	dp.Resources = nil
	var files []string
	for _, sub := range []string{ArchiveDir, path.Dir(IndexPath), path.Dir(PagesPath), LogsDir} {
		entries, err := os.ReadDir(filepath.Join(c.Dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasSuffix(name, ".open") || strings.HasPrefix(name, ".") {
				continue
			}
			files = append(files, sub+"/"+name)
		}
	}
	sort.Strings(files)
	for _, rel := range files {
		fi, err := os.Stat(filepath.Join(c.Dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		r, ok := listed[rel]
		if h, fresh := known[path.Base(rel)]; fresh && strings.HasPrefix(rel, ArchiveDir+"/") {
			r, ok = Resource{Path: rel, Hash: h, Bytes: fi.Size()}, true
		}
		if !ok || r.Bytes != fi.Size() || !strings.HasPrefix(rel, ArchiveDir+"/") {
			sum, n, err := hashFile(filepath.Join(c.Dir, filepath.FromSlash(rel)))
			if err != nil {
				return err
			}
			r = Resource{Path: rel, Hash: "sha256:" + sum, Bytes: n}
		}
		r.Name = path.Base(rel)
		dp.Resources = append(dp.Resources, r)
	}
	b, err := json.MarshalIndent(dp, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(c.Dir, DatapackagePath), append(b, '\n'))
}

func hashFile(p string) (string, int64, error) {
	f, err := OpenFile(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeFileAtomic replaces p with data so that a crash leaves either the
// old or the new file, never half of one.
func writeFileAtomic(p string, data []byte) error {
	return writeAtomic(p, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic replaces p with what write writes, through a temporary file
// that is synced and renamed.
func writeAtomic(p string, write func(io.Writer) error) error {
	tmp, err := CreateTemp(p)
	if err != nil {
		return err
	}
	defer tmp.Close() // a no-op once closed; releases the lock
	if err := write(tmp); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	// Renamed while still open, so still locked: a cleanup by another run
	// cannot take it for a dead run's leftover meanwhile.
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	syncDir(filepath.Dir(p)) // best effort: not every file system syncs directories
	return nil
}

// CreateTemp creates the temporary file through which dst is written:
// .BASE.tmpRANDOM next to it, readable by all (0644), and locked (flock)
// for as long as it is open. It first removes the temporary files of dst
// that no process holds: what a run killed mid-way (SIGKILL, a crash, a
// power cut) left behind. The caller renames or links the file to dst
// before closing it, so the lock covers it until it has its final name.
func CreateTemp(dst string) (*os.File, error) {
	RemoveStaleTemps(dst)
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	// CreateTemp makes the file private; an archive is meant to be read.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
}

// RemoveStaleTemps removes the temporary files CreateTemp made for dst
// that no live process holds locked, and returns their names.
func RemoveStaleTemps(dst string) []string {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), "."+globEscape(filepath.Base(dst))+".tmp*"))
	var removed []string
	for _, m := range matches {
		f, err := os.OpenFile(m, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err == nil && fi.Mode().IsRegular() && syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			if os.Remove(m) == nil {
				removed = append(removed, m)
			}
		}
		f.Close()
	}
	return removed
}

// globEscape quotes the metacharacters of filepath.Match in s.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
