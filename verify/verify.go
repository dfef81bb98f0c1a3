package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/amber-archiver/amber/warc"
)

// Severity tells damage from a deviation that leaves the data intact.
type Severity int

const (
	// Warning is a deviation from the spec or from amber's conventions that
	// loses no data: a payload digest over chunked bytes, records sharing a
	// gzip member, an unknown digest algorithm, a leftover .open file.
	Warning Severity = iota + 1
	// Error is damage or a broken guarantee: a digest mismatch, broken
	// framing, a file that differs from the manifest.
	Error
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText renders s as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one problem found.
type Finding struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	// Offset is the offset of the record (its gzip member) in File, or -1 for
	// a finding about the whole file.
	Offset    int64  `json:"offset"`
	RecordID  string `json:"recordId,omitempty"`
	TargetURI string `json:"targetUri,omitempty"`
	Message   string `json:"message"`
}

// FileSummary is the result for one file.
type FileSummary struct {
	File string `json:"file"`
	// Kind is what the file was checked as: "warc", "arc", "index" (a CDXJ
	// file), "manifest" (datapackage.json), "file" (size and hash only),
	// "wacz", or KindNotArchive (one finding says what it is not).
	Kind     string    `json:"kind"`
	Records  int       `json:"records"`         // WARC records read
	Lines    int       `json:"lines,omitempty"` // lines of an index
	Bytes    int64     `json:"bytes"`           // bytes read from the file
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Findings []Finding `json:"findings"`
	// Duration is the time spent on the file, by one worker.
	Duration time.Duration `json:"durationNs"`

	// Findings past maxFindings are counted, not kept: a crafted file
	// (an index of millions of bad lines) must not cost memory per line.
	unlistedErrors, unlistedWarnings int
}

// KindNotArchive is the Kind of a file that is neither a WARC file, an
// ARC file nor a WACZ package: its one finding says so.
const KindNotArchive = "not-archive"

// maxFindings is how many findings a file's summary lists; the rest are
// counted in Errors and Warnings and summed up in one more finding.
const maxFindings = 1000

// MBPerSecond is the file's read throughput in megabytes (10^6 bytes) per
// second of its worker's time.
func (s *FileSummary) MBPerSecond() float64 { return mbPerSecond(s.Bytes, s.Duration) }

func mbPerSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / 1e6 / d.Seconds()
}

// MarshalJSON adds the throughput to the JSON form.
func (s FileSummary) MarshalJSON() ([]byte, error) {
	type plain FileSummary
	return json.Marshal(struct {
		plain
		MBPerSecond float64 `json:"mbPerSecond"`
	}{plain(s), s.MBPerSecond()})
}

func (s *FileSummary) add(f Finding) {
	if f.File == "" {
		f.File = s.File
	}
	if f.Severity == Error {
		s.Errors++
	} else {
		s.Warnings++
	}
	if len(s.Findings) >= maxFindings {
		if f.Severity == Error {
			s.unlistedErrors++
		} else {
			s.unlistedWarnings++
		}
		return
	}
	s.Findings = append(s.Findings, f)
}

// closeFindings adds the finding that counts those not listed, if any.
func (s *FileSummary) closeFindings() {
	if s.unlistedErrors+s.unlistedWarnings == 0 {
		return
	}
	sev := Warning
	if s.unlistedErrors > 0 {
		sev = Error
	}
	s.Findings = append(s.Findings, Finding{Severity: sev, File: s.File, Offset: -1,
		Message: fmt.Sprintf("%d more errors and %d more warnings in this file are not listed (the first %d findings are)", s.unlistedErrors, s.unlistedWarnings, maxFindings)})
	s.unlistedErrors, s.unlistedWarnings = 0, 0
}

func (s *FileSummary) errorf(offset int64, format string, args ...any) {
	s.add(Finding{Severity: Error, Offset: offset, Message: fmt.Sprintf(format, args...)})
}

func (s *FileSummary) warnf(offset int64, format string, args ...any) {
	s.add(Finding{Severity: Warning, Offset: offset, Message: fmt.Sprintf(format, args...)})
}

// Report is the result of Paths.
type Report struct {
	Files    []FileSummary `json:"files"`
	Records  int           `json:"records"`
	Bytes    int64         `json:"bytes"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Duration time.Duration `json:"durationNs"`
}

// MBPerSecond is the read throughput in megabytes (10^6 bytes) per second.
func (r *Report) MBPerSecond() float64 { return mbPerSecond(r.Bytes, r.Duration) }

// Damaged reports whether r holds errors, or with strict also warnings.
func (r *Report) Damaged(strict bool) bool {
	return r.Errors > 0 || strict && r.Warnings > 0
}

// MarshalJSON adds the throughput to the JSON form.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		*plain
		MBPerSecond float64 `json:"mbPerSecond"`
	}{(*plain)(r), r.MBPerSecond()})
}

// Options configure Paths.
type Options struct {
	// Jobs is how many files are verified at once; default runtime.NumCPU().
	Jobs int
}

// ErrNoSuchPath is wrapped by the *PathError for a path that does not exist.
var ErrNoSuchPath = errors.New("no such file or directory")

// ErrNothingToVerify is wrapped by the *PathError for a directory that is
// neither a collection nor holds WARC files.
var ErrNothingToVerify = errors.New("not a collection and holds no WARC files")

// ErrNotRegular is wrapped by the *PathError for a path that is neither a
// regular file nor a directory (a named pipe, a device): reading it could
// block or never end.
var ErrNotRegular = errors.New("not a regular file or a directory")

// PathError is a usage problem with a path given to Paths. Damage is never a
// PathError: it is reported as Findings.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return "verify: " + e.Path + ": " + e.Err.Error() }
func (e *PathError) Unwrap() error { return e.Err }

// task verifies one file, or a few (the indexes of a collection), into
// summaries. A task of the second phase runs once every task of the first
// has finished, and reads the facts they gathered about WARC files.
type task struct {
	second bool
	run    func(ctx context.Context, facts map[string]*warcFacts) ([]FileSummary, *warcFacts)
}

func warcTask(src *source, res *resource) task {
	return task{run: func(ctx context.Context, _ map[string]*warcFacts) ([]FileSummary, *warcFacts) {
		s, f := verifyWARC(ctx, src, res)
		return []FileSummary{s}, f
	}}
}

func oneTask(run func(ctx context.Context) FileSummary) task {
	return task{run: func(ctx context.Context, _ map[string]*warcFacts) ([]FileSummary, *warcFacts) {
		return []FileSummary{run(ctx)}, nil
	}}
}

// Paths verifies every path: a collection directory (one with an archive/
// subdirectory or a datapackage.json), a WARC file (.warc, .warc.gz,
// .warc.gz.open, or any file named explicitly) or a directory of WARC files.
// Files are verified in parallel; the Report lists them in the order of paths,
// each directory's files sorted by name.
//
// Revisits are looked up among the records of every WARC file verified, so
// a revisit is best verified together with the files it refers to.
//
// The error is a *PathError for a path that cannot be verified at all, or
// the context's error; damage is reported in the Report only.
func Paths(ctx context.Context, paths []string, opts Options) (*Report, error) {
	start := time.Now()
	var tasks []task
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for _, p := range paths {
		ts, closer, err := plan(p)
		if err != nil {
			return nil, err
		}
		if closer != nil {
			closers = append(closers, closer)
		}
		tasks = append(tasks, ts...)
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	results := make([][]FileSummary, len(tasks))
	facts := make([]*warcFacts, len(tasks))
	byPath := map[string]*warcFacts{}
	for _, second := range []bool{false, true} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(jobs)
		if second {
			// Index checks mark the records they find: one at a time, as
			// a collection given twice shares its files' facts.
			g.SetLimit(1)
		}
		for i, t := range tasks {
			if t.second != second {
				continue
			}
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				results[i], facts[i] = t.run(gctx, byPath)
				return gctx.Err()
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for i, f := range facts {
			if f != nil && byPath[f.path] == nil {
				byPath[f.path] = f
			}
			facts[i] = nil
		}
	}

	// One summary per file; facts lined up with them for the revisits.
	rep := &Report{}
	var fileFacts []*warcFacts
	for _, ss := range results {
		for _, s := range ss {
			rep.Files = append(rep.Files, s)
			fileFacts = append(fileFacts, byPath[s.File])
		}
	}
	seen := map[*warcFacts]bool{}
	for i, f := range fileFacts {
		if seen[f] { // a file given twice: its revisits are reported once
			fileFacts[i] = nil
		}
		seen[f] = true
	}
	checkRevisits(rep.Files, fileFacts)
	for i := range rep.Files {
		rep.Files[i].closeFindings()
		s := rep.Files[i]
		if s.Findings == nil {
			rep.Files[i].Findings = []Finding{} // [] rather than null in JSON
		}
		rep.Records += s.Records
		rep.Bytes += s.Bytes
		rep.Errors += s.Errors
		rep.Warnings += s.Warnings
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// isWARCName reports whether name looks like a WARC file, or an ARC file
// (which verifyWARC tells by its content and checks as ARC).
func isWARCName(name string) bool {
	return strings.HasSuffix(name, ".warc") || strings.HasSuffix(name, ".warc.gz") || strings.HasSuffix(name, ".warc.gz.open") ||
		strings.HasSuffix(name, ".arc") || strings.HasSuffix(name, ".arc.gz")
}

// plan returns the tasks that verify path p and, for a WACZ, a function
// that closes it once they have run.
func plan(p string) ([]task, func(), error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &PathError{Path: p, Err: ErrNoSuchPath}
	}
	if err != nil {
		return nil, nil, &PathError{Path: p, Err: err}
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, nil, &PathError{Path: p, Err: fmt.Errorf("%s: %w", warc.DescribeMode(fi.Mode()), ErrNotRegular)}
		}
		if isWACZ(p) {
			return planWACZ(p)
		}
		return []task{warcTask(fileSource(p), nil)}, nil, nil
	}
	if isCollection(p) {
		return planCollection(p), nil, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, nil, &PathError{Path: p, Err: err}
	}
	var tasks []task
	for _, e := range entries { // ReadDir sorts by name
		if e.Type().IsRegular() && isWARCName(e.Name()) {
			tasks = append(tasks, warcTask(fileSource(filepath.Join(p, e.Name())), nil))
		}
	}
	if len(tasks) == 0 {
		return nil, nil, &PathError{Path: p, Err: ErrNothingToVerify}
	}
	return tasks, nil, nil
}

func isCollection(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "archive")); err == nil && fi.IsDir() {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "datapackage.json"))
	return err == nil
}

// collectionPaths are the folders whose every file datapackage.json must list.
var collectionPaths = []string{"archive", "indexes"}

// planCollection returns a task for datapackage.json (the manifest itself,
// files it lists that are missing, files it does not list), then one per
// file in archive/ and per other listed file, sorted by path.
func planCollection(dir string) []task {
	manifest := FileSummary{File: filepath.Join(dir, "datapackage.json"), Kind: "manifest"}
	listed := map[string]*resource{}
	pkg, err := readDataPackage(manifest.File)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		manifest.warnf(-1, "no datapackage.json: file sizes and hashes cannot be checked")
	case err != nil:
		manifest.errorf(-1, "%v", err)
	}
	if pkg != nil {
		for i := range pkg.Resources {
			res := &pkg.Resources[i]
			rel, err := cleanRel(res.Path)
			if err != nil {
				manifest.errorf(-1, "resource %q: %v", res.Path, err)
				continue
			}
			if _, dup := listed[rel]; dup {
				manifest.errorf(-1, "%s is listed twice", rel)
				continue
			}
			listed[rel] = res
		}
	}

	// Every file under archive/ and indexes/.
	present := map[string]bool{}
	irregular := map[string]bool{} // named pipes, devices, sockets: reported, never opened
	for _, sub := range collectionPaths {
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					manifest.errorf(-1, "%v", err)
				}
				return nil
			}
			if d.Type().IsRegular() {
				rel, _ := filepath.Rel(dir, p)
				present[filepath.ToSlash(rel)] = true
			} else if t := d.Type(); t&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket) != 0 {
				rel, _ := filepath.Rel(dir, p)
				irregular[filepath.ToSlash(rel)] = true
				manifest.add(Finding{Severity: Error, File: p, Offset: -1,
					Message: warc.DescribeMode(t) + ", not a regular file: not read (reading it could block or never end)"})
			}
			return nil
		})
	}

	var files []string
	for rel := range present {
		files = append(files, rel)
	}
	for rel := range listed {
		if !present[rel] {
			files = append(files, rel)
		}
	}
	slices.Sort(files)

	var tasks []task
	var archives, cdxjs []string
	indexAt := -1 // where the index task goes among the tasks
	for _, rel := range files {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		res := listed[rel]
		base := path.Base(rel)
		switch {
		case strings.HasSuffix(rel, ".open") && res == nil:
			manifest.add(Finding{Severity: Warning, File: full, Offset: -1,
				Message: "leftover open WARC file: a crawl is running or was killed; run the same amber archive command to finish it (its records are not checked)"})
			continue
		case strings.HasPrefix(base, ".") && res == nil:
			manifest.add(Finding{Severity: Warning, File: full, Offset: -1,
				Message: "leftover temporary file (a run was killed while replacing a file); it can be deleted"})
			continue
		case res == nil && pkg != nil:
			manifest.add(Finding{Severity: Error, File: full, Offset: -1, Message: "not listed in datapackage.json"})
		}
		if res != nil {
			fi, err := os.Stat(full)
			if errors.Is(err, fs.ErrNotExist) {
				manifest.add(Finding{Severity: Error, File: full, Offset: -1, Message: "listed in datapackage.json but missing"})
				continue
			}
			if err == nil && !fi.Mode().IsRegular() {
				if !irregular[rel] { // else reported by the walk
					manifest.add(Finding{Severity: Error, File: full, Offset: -1,
						Message: "listed in datapackage.json but " + warc.DescribeMode(fi.Mode()) + ", not a regular file"})
				}
				continue
			}
		}
		switch {
		case strings.HasPrefix(rel, "archive/") && isWARCName(rel):
			tasks = append(tasks, warcTask(fileSource(full), res))
			archives = append(archives, full)
		case strings.HasPrefix(rel, "indexes/") && strings.HasSuffix(rel, ".cdxj"):
			if indexAt < 0 {
				indexAt = len(tasks)
			}
			cdxjs = append(cdxjs, rel)
		case res != nil:
			tasks = append(tasks, oneTask(func(ctx context.Context) FileSummary { return verifyFixity(ctx, fileSource(full), res) }))
		}
	}
	if len(archives) == 0 {
		manifest.warnf(-1, "no WARC files in archive/: nothing archived to check")
	}
	if indexAt < 0 {
		indexAt = len(archives)
	}
	index := task{second: true, run: func(ctx context.Context, byPath map[string]*warcFacts) ([]FileSummary, *warcFacts) {
		facts := map[string]*warcFacts{}
		for _, p := range archives {
			if f := byPath[p]; f != nil {
				facts[f.name] = f
			}
		}
		var idx []index
		for _, rel := range cdxjs {
			idx = append(idx, index{src: fileSource(filepath.Join(dir, filepath.FromSlash(rel))), rel: rel, res: listed[rel]})
		}
		return checkIndexes(ctx, filepath.Join(dir, filepath.FromSlash(warc.IndexPath)), idx, facts), nil
	}}
	tasks = slices.Insert(tasks, indexAt, index)
	return append([]task{oneTask(func(context.Context) FileSummary { return manifest })}, tasks...)
}

// cleanRel checks a datapackage path: relative, inside the collection.
func cleanRel(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || filepath.IsAbs(p) {
		return "", errors.New("path must be relative to the collection")
	}
	c := filepath.ToSlash(filepath.Clean(filepath.FromSlash(p)))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errors.New("path leaves the collection")
	}
	return c, nil
}
