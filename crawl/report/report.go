// Package report maps the seeds of a collection (and any link) to their
// captures: the URL as cited, where its redirects led, the status, time,
// WARC file and record of the capture, and for a URL not captured, why.
//
// It reads only what a collection holds: the warcinfo record that starts
// every WARC file (amber-crawl names the run, amber-seeds its seeds), the
// CDXJ index, the records the index points to (for redirects' Location
// and record ids) and the crawl logs (for the reasons of failures).
package report

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/warc"
)

// MaxRedirects is the longest redirect chain followed (the crawl's
// default).
const MaxRedirects = 20

// Errors for errors.Is.
var (
	ErrNotCollection = errors.New("report: not a collection (no archive directory)")
	ErrNoSuchRun     = errors.New("report: no such run in the collection")
	ErrNotArchived   = errors.New("report: not in the collection")
)

// StatusError is a payload Body does not return: its capture is not a
// 2xx response (a 404 page is archived, but it is not the document).
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("report: %s: archived with HTTP status %d", e.URL, e.Status)
}

// Row is where one seed went.
type Row struct {
	Run          int       `json:"run"`                    // the run that had it as a seed
	URL          string    `json:"url"`                    // as cited
	FinalURL     string    `json:"finalUrl,omitempty"`     // after redirects
	Status       int       `json:"status,omitempty"`       // HTTP status of the final capture
	Captured     time.Time `json:"captured,omitzero"`      // WARC-Date of the final capture
	ArchivalPath string    `json:"archivalPath,omitempty"` // /TIMESTAMP/URL, as amber replay and pywb answer it
	WARCFile     string    `json:"warcFile,omitempty"`
	RecordID     string    `json:"recordId,omitempty"`
	Redirects    int       `json:"redirects,omitempty"` // hops followed
	Revisit      bool      `json:"revisit,omitempty"`   // the capture is a revisit of an identical earlier payload
	Failure      string    `json:"failure,omitempty"`   // why it was not captured
}

// Run is one run of amber archive as its WARC files record it.
type Run struct {
	Number int
	Crawl  int
	Seeds  []string
	Files  []string // base names
	// Documents are those the run took seeds from (--links-from,
	// --feed), as its urn:amber:links: records list them.
	Documents []Document
}

// Document is a document a run took seeds from.
type Document struct {
	URL     string // the document's URL, or file://PATH
	Kind    string
	Title   string
	Error   string // why it gave no links
	Links   []string
	Skipped []Skipped
}

// Skipped is a link a document cites that was not fetched.
type Skipped struct {
	URL    string `json:"url"`
	Reason string `json:"skipped"`
}

// Options choose what a Collection covers.
type Options struct {
	// Run restricts the report to the seeds of that run, with captures
	// made by it or before it; 0: every run.
	Run int
	// Index adds CDXJ lines not yet in the collection's index (those of
	// a run still writing); their files may still be named .open.
	Index []string
}

// Collection is a read-only view of a collection directory.
type Collection struct {
	dir      string
	opts     Options
	runs     []Run
	fileRun  map[string]int // WARC file → run
	logs     []string       // crawl-log paths, oldest first
	captures map[string][]capture
	scanned  map[string]bool // SURT keys looked up in the index
	logged   map[string]crawl.Fetch
	logRun   map[string]int // crawl-log name → run
}

type capture struct {
	warc.CDXJLine
	run int
}

// Open reads the runs of the collection in dir.
func Open(dir string, opts Options) (*Collection, error) {
	files, err := filepath.Glob(filepath.Join(dir, warc.ArchiveDir, "*.warc.gz"))
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Join(dir, warc.ArchiveDir)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNotCollection, dir)
	}
	c := &Collection{dir: dir, opts: opts, fileRun: map[string]int{}, captures: map[string][]capture{}, scanned: map[string]bool{}}
	sort.Strings(files)
	byRun := map[int]*Run{}
	for _, f := range files {
		info, err := readWarcinfo(f)
		if err != nil {
			continue // not amber's, or damaged: verify says which
		}
		n, crawlN, ok := parseCrawlField(info["amber-crawl"])
		if !ok {
			continue
		}
		r := byRun[n]
		if r == nil {
			r = &Run{Number: n, Crawl: crawlN}
			if s := info["amber-seeds"]; s != "" {
				r.Seeds = strings.Fields(s)
			}
			byRun[n] = r
		}
		r.Files = append(r.Files, filepath.Base(f))
		c.fileRun[filepath.Base(f)] = n
	}
	c.logRun = map[string]int{}
	if err := c.readMetadata(byRun); err != nil {
		return nil, err
	}
	for _, r := range byRun {
		c.runs = append(c.runs, *r)
	}
	sort.Slice(c.runs, func(i, j int) bool { return c.runs[i].Number < c.runs[j].Number })
	if opts.Run != 0 && byRun[opts.Run] == nil {
		return nil, fmt.Errorf("%w: run %d (the collection's WARC files name runs %s)", ErrNoSuchRun, opts.Run, c.runList())
	}
	c.logs, _ = filepath.Glob(filepath.Join(dir, warc.LogsDir, "crawl-*.jsonl"))
	sort.Strings(c.logs)
	return c, nil
}

func (c *Collection) runList() string {
	if len(c.runs) == 0 {
		return "none"
	}
	var s []string
	for _, r := range c.runs {
		s = append(s, strconv.Itoa(r.Number))
	}
	return strings.Join(s, ", ")
}

// Runs lists the runs, oldest first.
func (c *Collection) Runs() []Run { return c.runs }

var crawlField = regexp.MustCompile(`^(\d+) \(run (\d+)`)

// parseCrawlField reads the warcinfo field amber-crawl: "CRAWL (run N...)".
func parseCrawlField(v string) (run, crawlN int, ok bool) {
	m := crawlField.FindStringSubmatch(v)
	if m == nil {
		return 0, 0, false
	}
	crawlN, _ = strconv.Atoi(m[1])
	run, err := strconv.Atoi(m[2])
	return run, crawlN, err == nil
}

// maxWarcinfo bounds the warcinfo block read (the seeds of a run are in it).
const maxWarcinfo = 64 << 20

func readWarcinfo(path string) (map[string]string, error) {
	f, err := warc.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rr, err := warc.OpenRecords(f)
	if err != nil {
		return nil, err
	}
	rec, err := rr.Next()
	if err != nil {
		return nil, err
	}
	if rec.Header.Get("WARC-Type") != "warcinfo" {
		return nil, errors.New("report: no warcinfo record first")
	}
	body, err := io.ReadAll(io.LimitReader(rec.Body, maxWarcinfo))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for line := range strings.Lines(string(body)) {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":"); ok {
			if _, dup := out[k]; !dup {
				out[k] = strings.TrimSpace(v)
			}
		}
	}
	return out, nil
}

// Rows returns one row per seed: of every run (each seed once, in the
// order first given), or of Options.Run. The seeds of a run are its
// URLs, then for each document it took seeds from, the document (when it
// is a URL) and its links; the links it did not fetch are rows with the
// reason as their failure.
func (c *Collection) Rows() ([]Row, error) {
	type seed struct {
		url     string
		run     int
		failure string // known before looking: skipped, or the document's error
		skipped bool
	}
	var seeds []seed
	seen := map[string]bool{}
	add := func(s seed) {
		k := warc.SURT(s.url)
		if seen[k] {
			return
		}
		seen[k] = true
		seeds = append(seeds, s)
	}
	for _, r := range c.runs {
		if c.opts.Run != 0 && r.Number != c.opts.Run {
			continue
		}
		for _, s := range r.Seeds {
			add(seed{url: s, run: r.Number})
		}
		for _, d := range r.Documents {
			if isHTTP(d.URL) {
				add(seed{url: d.URL, run: r.Number, failure: d.Error})
			}
			for _, l := range d.Links {
				add(seed{url: l, run: r.Number})
			}
			for _, s := range d.Skipped {
				add(seed{url: s.URL, run: r.Number, failure: "skipped: " + s.Reason, skipped: true})
			}
		}
	}
	var urls []string
	for _, s := range seeds {
		if !s.skipped {
			urls = append(urls, s.url)
		}
	}
	res, err := c.Resolve(urls)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(seeds))
	for _, s := range seeds {
		var r Row
		if s.skipped {
			r = Row{URL: s.url, Failure: s.failure}
		} else {
			r, res = res[0], res[1:]
			if s.failure != "" && r.Failure == "" {
				r.Failure = s.failure // archived, but not a document amber could read
			}
		}
		r.Run = s.run
		rows = append(rows, r)
	}
	return rows, nil
}

func isHTTP(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// Resolve finds the capture of each URL (following redirects within the
// collection), or why there is none. Rows come in the order of urls.
func (c *Collection) Resolve(urls []string) ([]Row, error) {
	rows := make([]Row, len(urls))
	cur := make([]string, len(urls)) // the URL each row has reached
	visited := make([]map[string]bool, len(urls))
	done := make([]bool, len(urls))
	for i, u := range urls {
		rows[i].URL = u
		if _, err := crawl.CheckURL(u); err != nil {
			rows[i].Failure = err.Error()
			done[i] = true
			continue
		}
		cur[i] = strings.TrimSpace(u)
		visited[i] = map[string]bool{}
	}
	for hop := 0; ; hop++ {
		var want []string
		for i := range urls {
			if !done[i] {
				want = append(want, cur[i])
			}
		}
		if len(want) == 0 {
			return rows, nil
		}
		if err := c.scan(want); err != nil {
			return nil, err
		}
		for i := range urls {
			if done[i] {
				continue
			}
			k := warc.SURT(cur[i])
			if visited[i][k] {
				rows[i].Failure = "redirect loop at " + cur[i]
				done[i] = true
				continue
			}
			visited[i][k] = true
			cp, ok := c.latest(k)
			if !ok {
				rows[i].Failure = c.reason(cur[i])
				done[i] = true
				continue
			}
			h, err := c.readHead(cp.CDXJLine)
			if err != nil {
				rows[i].Failure = fmt.Sprintf("capture of %s unreadable: %v", cur[i], err)
				done[i] = true
				continue
			}
			if h.status >= 300 && h.status < 400 && h.location != "" {
				next, err := resolveRef(cp.URL, h.location)
				switch {
				case err != nil:
					rows[i].Failure = fmt.Sprintf("redirect to a malformed URL: %q", h.location)
				case next.Scheme != "http" && next.Scheme != "https":
					rows[i].Failure = fmt.Sprintf("redirect to an unsupported scheme %q: %s", next.Scheme, h.location)
				case hop >= MaxRedirects:
					rows[i].Failure = fmt.Sprintf("more than %d redirects", MaxRedirects)
				default:
					rows[i].Redirects++
					cur[i] = next.String()
					continue
				}
				done[i] = true
				continue
			}
			r := &rows[i]
			r.FinalURL, r.Status, r.WARCFile, r.RecordID = cp.URL, h.status, cp.Filename, h.id
			r.Captured = h.date
			r.ArchivalPath = "/" + cp.Timestamp + "/" + cp.URL
			r.Revisit = h.revisit
			done[i] = true
		}
	}
}

// resolveRef resolves a Location against the URL it came from.
func resolveRef(base, ref string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return nil, err
	}
	return b.ResolveReference(r), nil
}

// inRange reports whether a capture counts for the report: with a run
// chosen, those of that run or earlier.
func (c *Collection) inRange(run int) bool {
	return c.opts.Run == 0 || run != 0 && run <= c.opts.Run
}

// latest returns the capture of key a report points to: with a run
// chosen, that run's last capture if it made one, else the last capture
// before it; otherwise the last capture.
func (c *Collection) latest(key string) (capture, bool) {
	var best capture
	found := false
	for _, cp := range c.captures[key] {
		if !c.inRange(cp.run) {
			continue
		}
		better := !found || later(cp.CDXJLine, best.CDXJLine)
		if c.opts.Run != 0 && found && (best.run == c.opts.Run) != (cp.run == c.opts.Run) {
			better = cp.run == c.opts.Run
		}
		if better {
			best, found = cp, true
		}
	}
	return best, found
}

// later orders captures by time, then by place in the files.
func later(a, b warc.CDXJLine) bool {
	if a.Timestamp != b.Timestamp {
		return a.Timestamp > b.Timestamp
	}
	if a.Filename != b.Filename {
		return a.Filename > b.Filename
	}
	return a.Offset > b.Offset
}

// scan reads the index lines of the URLs not looked up yet: one pass
// over the index for each step of the redirect chains, so that memory
// holds the captures of the URLs asked about, not the whole index.
func (c *Collection) scan(urls []string) error {
	want := map[string]bool{}
	for _, u := range urls {
		if k := warc.SURT(u); !c.scanned[k] {
			want[k] = true
			c.scanned[k] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	add := func(line string) {
		key, _, _ := strings.Cut(line, " ")
		if !want[key] {
			return
		}
		l, err := warc.ParseCDXJLine(line)
		if err != nil || l.Filename == "" || (l.Status == "" && l.Mime != "warc/revisit") {
			return
		}
		c.captures[key] = append(c.captures[key], capture{CDXJLine: l, run: c.fileRun[l.Filename]})
	}
	for _, l := range c.opts.Index {
		add(l)
	}
	f, err := warc.OpenFile(filepath.Join(c.dir, warc.IndexPath))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		add(sc.Text())
	}
	return sc.Err()
}

// reason says why u has no capture, from the crawl logs: the error of
// its last fetch, or that it was skipped.
func (c *Collection) reason(u string) string {
	if c.logged == nil {
		c.readLogs()
	}
	if f, ok := c.logged[warc.SURT(u)]; ok && f.Error != "" {
		return f.Error
	}
	return "not archived (no capture, and the crawl logs do not name it)"
}

// readLogs keeps, for every URL the crawl logs name with an error, the
// last such line. Logs of runs after Options.Run are left out when their
// run is known.
func (c *Collection) readLogs() {
	c.logged = map[string]crawl.Fetch{}
	for _, p := range c.logs {
		if r, ok := c.logRun[filepath.Base(p)]; ok && !c.inRange(r) {
			continue
		}
		f, err := warc.OpenFile(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if !bytes.Contains(line, []byte(`"error"`)) {
				continue
			}
			var fe crawl.Fetch
			if json.Unmarshal(line, &fe) == nil && fe.Error != "" {
				c.logged[warc.SURT(fe.URL)] = fe
			}
		}
		f.Close()
	}
}

// readMetadata reads the index lines of the metadata records amber
// archive writes: its crawl logs (urn:amber:log:NAME, mapping each log to
// its run) and the documents seeds came from (LinksURN).
func (c *Collection) readMetadata(byRun map[int]*Run) error {
	f, err := warc.OpenFile(filepath.Join(c.dir, warc.IndexPath))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var links []warc.CDXJLine
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "urn:amber:") {
			continue
		}
		l, err := warc.ParseCDXJLine(line)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(l.URL, "urn:amber:log:"):
			c.logRun[strings.TrimPrefix(l.URL, "urn:amber:log:")] = c.fileRun[l.Filename]
		case strings.HasPrefix(l.URL, LinksURN):
			links = append(links, l)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// In the order they were written.
	sort.SliceStable(links, func(i, j int) bool {
		if links[i].Filename != links[j].Filename {
			return links[i].Filename < links[j].Filename
		}
		return links[i].Offset < links[j].Offset
	})
	for _, l := range links {
		r := byRun[c.fileRun[l.Filename]]
		if r == nil {
			continue
		}
		d, err := c.readLinks(l)
		if err != nil {
			d = Document{URL: strings.TrimPrefix(l.URL, LinksURN), Error: "unreadable record: " + err.Error()}
		}
		r.Documents = append(r.Documents, d)
	}
	return nil
}

// maxLinksRecord bounds a links record read back.
const maxLinksRecord = 256 << 20

func (c *Collection) readLinks(l warc.CDXJLine) (Document, error) {
	rec, f, err := c.openRecord(l)
	if err != nil {
		return Document{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(rec.Body, maxLinksRecord))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var d Document
	first := true
	for sc.Scan() {
		if first {
			first = false
			var h struct{ Document, Kind, Title, Error string }
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
				return d, err
			}
			d = Document{URL: h.Document, Kind: h.Kind, Title: h.Title, Error: h.Error}
			continue
		}
		var s Skipped
		if json.Unmarshal(sc.Bytes(), &s) != nil || s.URL == "" {
			continue
		}
		if s.Reason != "" {
			d.Skipped = append(d.Skipped, s)
		} else {
			d.Links = append(d.Links, s.URL)
		}
	}
	return d, sc.Err()
}

// head is what a report needs of a record.
type head struct {
	id       string
	date     time.Time
	status   int
	location string
	revisit  bool
}

// openRecord opens the record of l: in the collection's archive
// directory, or (a run still writing) its .open file.
func (c *Collection) openRecord(l warc.CDXJLine) (*warc.Record, io.Closer, error) {
	p := filepath.Join(c.dir, warc.ArchiveDir, filepath.Base(l.Filename))
	f, err := warc.OpenFile(p)
	if errors.Is(err, os.ErrNotExist) {
		f, err = warc.OpenFile(p + ".open")
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := f.Seek(l.Offset, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	rr, err := warc.OpenRecordAt(f, l.Offset)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	rec, err := rr.Next()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return rec, f, nil
}

// maxHead bounds the HTTP head read from a record (the crawl's bound).
const maxHead = 256 << 10

func (c *Collection) readHead(l warc.CDXJLine) (head, error) {
	rec, f, err := c.openRecord(l)
	if err != nil {
		return head{}, err
	}
	defer f.Close()
	h := head{id: rec.Header.Get("WARC-Record-ID"), revisit: rec.Header.Get("WARC-Type") == "revisit"}
	h.date, _ = time.Parse(time.RFC3339Nano, rec.Header.Get("WARC-Date"))
	br := bufio.NewReader(io.LimitReader(rec.Body, maxHead))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		if st, e := strconv.Atoi(l.Status); e == nil {
			h.status = st // the index knew it; a head net/http refuses
			return h, nil
		}
		return h, err
	}
	resp.Body.Close()
	h.status, h.location = resp.StatusCode, resp.Header.Get("Location")
	return h, nil
}

// Body returns the archived payload of u (redirects followed), decoded
// (transfer and content encodings removed), of at most max bytes, with
// its Content-Type and the URL it came from. A revisit gives the payload
// of the record it revisits.
func (c *Collection) Body(u string, max int64) (body []byte, contentType, final string, err error) {
	rows, err := c.Resolve([]string{u})
	if err != nil {
		return nil, "", "", err
	}
	r := rows[0]
	if r.Failure != "" {
		return nil, "", "", fmt.Errorf("%w: %s: %s", ErrNotArchived, u, r.Failure)
	}
	cp, _ := c.latest(warc.SURT(r.FinalURL))
	rec, f, err := c.openRecord(cp.CDXJLine)
	if err != nil {
		return nil, "", "", err
	}
	defer f.Close()
	if rec.Header.Get("WARC-Type") == "revisit" {
		orig, ok := c.original(rec.Header, cp)
		if !ok {
			return nil, "", "", fmt.Errorf("%w: %s: the record a revisit refers to", ErrNotArchived, u)
		}
		f.Close()
		if rec, f, err = c.openRecord(orig.CDXJLine); err != nil {
			return nil, "", "", err
		}
		defer f.Close()
	}
	resp, err := http.ReadResponse(bufio.NewReader(rec.Body), nil)
	if err != nil {
		return nil, "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, "", "", &StatusError{URL: r.FinalURL, Status: resp.StatusCode}
	}
	var rd io.Reader = resp.Body
	for _, enc := range strings.Split(resp.Header.Get("Content-Encoding"), ",") {
		switch strings.ToLower(strings.TrimSpace(enc)) {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(rd)
			if err != nil {
				return nil, "", "", err
			}
			rd = zr
		case "deflate":
			rd = flate.NewReader(rd)
		case "br":
			rd = brotli.NewReader(rd)
		default:
			return nil, "", "", fmt.Errorf("report: content encoding %q not supported", enc)
		}
	}
	body, err = io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return nil, "", "", err
	}
	if int64(len(body)) > max {
		return nil, "", "", fmt.Errorf("report: %s: payload larger than %d bytes", u, max)
	}
	return body, resp.Header.Get("Content-Type"), r.FinalURL, nil
}

// original finds the full record a revisit refers to: its
// WARC-Refers-To-Target-URI with the same payload digest.
func (c *Collection) original(h warc.Header, rv capture) (capture, bool) {
	target := h.Get("WARC-Refers-To-Target-URI")
	if target == "" {
		target = rv.URL
	}
	k := warc.SURT(target)
	if err := c.scan([]string{target}); err != nil {
		return capture{}, false
	}
	for _, cp := range c.captures[k] {
		if cp.Mime != "warc/revisit" && cp.Digest == rv.Digest {
			return cp, true
		}
	}
	return capture{}, false
}

// LinksURN starts the target URI of the metadata record amber archive
// writes for each document it took seeds from (--links-from, --feed):
// LinksURN+DOCUMENT, one JSON line about the document ({"document",
// "kind", "title", "error"}), then one a link ({"url"}, or {"url",
// "skipped"} for a link not fetched).
const LinksURN = "urn:amber:links:"
