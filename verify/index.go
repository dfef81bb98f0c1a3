package verify

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/amber-archiver/amber/warc"
)

// maxIndexLine bounds one CDXJ line (a URL can be long, not this long).
const maxIndexLine = 4 << 20

// An index is a CDXJ file of a collection or a WACZ: its source, its
// path in the collection and its datapackage.json entry (nil if none).
type index struct {
	src *source
	rel string
	res *resource
	gz  bool // gzip-compressed (.cdxj.gz, .cdx.gz): its lines are read decompressed
}

// checkIndexes checks the CDXJ files of a collection or a WACZ against the
// records of its WARC files (facts, by base name): every line must point at
// a record at that offset and length whose target URI, date and payload
// digest it gives, the lines must be byte-sorted, and every response and
// revisit must have a line. It returns a summary per CDXJ file, in order;
// the same read checks each against its datapackage.json entry. missingName
// names the index a collection without one should have.
func checkIndexes(ctx context.Context, missingName string, idx []index, facts map[string]*warcFacts) []FileSummary {
	var out []FileSummary
	var cdxjs []string
	unchecked := false
	for _, x := range idx {
		s, checked := checkIndex(ctx, x, facts)
		out = append(out, s)
		cdxjs = append(cdxjs, x.rel)
		unchecked = unchecked || !checked
	}
	if ctx.Err() != nil || unchecked {
		return out // with an index not read, a record without a line may have one there
	}

	// Records without a line.
	names := make([]string, 0, len(facts))
	for name := range facts {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(cdxjs) == 0 {
		missing, files := 0, 0
		for _, name := range names {
			n := 0
			for _, e := range facts[name].index {
				if e.required {
					n++
				}
			}
			if n > 0 {
				missing, files = missing+n, files+1
			}
		}
		if missing > 0 {
			s := FileSummary{File: missingName, Kind: "index"}
			s.errorf(-1, "no CDXJ index in indexes/: a replay tool cannot find the %d responses and revisits of %d WARC files", missing, files)
			out = append(out, s)
		}
		return out
	}
	s := &out[0]
	for _, name := range names {
		f := facts[name]
		listedHere := 0
		unlisted := 0
		for _, e := range f.index {
			if !e.required || e.matched {
				continue
			}
			if unlisted++; unlisted > maxListed {
				continue
			}
			listedHere++
			fd := Finding{Severity: Error, File: f.path, Offset: e.offset,
				Message: fmt.Sprintf("no line in %s for this record: replay cannot find it", indexNames(cdxjs))}
			if h, err := headerAt(f.src, e.offset, int(e.nth)); err == nil {
				fd.RecordID, fd.TargetURI = clipURI(h.Get("WARC-Record-ID")), findingURI(h)
				fd.Message = fmt.Sprintf("no line in %s for this %s record: replay cannot find it", indexNames(cdxjs), h.Get("WARC-Type"))
			}
			s.add(fd)
		}
		if unlisted > listedHere {
			s.add(Finding{Severity: Error, File: f.path, Offset: -1,
				Message: fmt.Sprintf("%d more responses and revisits have no line in %s", unlisted-listedHere, indexNames(cdxjs))})
		}
	}
	return out
}

func indexNames(cdxjs []string) string {
	if len(cdxjs) == 1 {
		return cdxjs[0]
	}
	return "any of " + strings.Join(cdxjs, ", ")
}

// checkIndex checks the lines of one CDXJ file, and reports whether it
// could (an index of classic CDX lines is not checked).
func checkIndex(ctx context.Context, x index, facts map[string]*warcFacts) (s FileSummary, checked bool) {
	start := time.Now()
	src := x.src
	s.File, s.Kind = src.name, "index"
	f, _, err := src.open()
	if err != nil {
		s.errorf(-1, "%v", err)
		return s, true
	}
	defer f.Close()
	in, finish := teeFile(ctx, f, x.res)
	defer func() { finish(&s, start) }()

	var lines io.Reader = in
	if x.gz {
		// Every gzip member in turn: a ZipNum index is one per block.
		zr, err := gzip.NewReader(in)
		if err != nil {
			s.errorf(0, "not gzip-compressed, as its name says: %v", err)
			return s, true
		}
		defer zr.Close()
		lines = zr
	}
	sc := bufio.NewScanner(lines)
	sc.Buffer(make([]byte, 64<<10), maxIndexLine)
	var prev []byte
	var offset int64
	lineNo, unsorted, firstUnsorted, firstUnsortedAt := 0, 0, 0, int64(0)
	for sc.Scan() {
		line := sc.Bytes()
		lineNo++
		at := offset
		offset += int64(len(line)) + 1
		if len(line) == 0 {
			s.warnf(at, "line %d is empty", lineNo)
			continue
		}
		if line[0] == '!' { // a header line, e.g. "!OpenWayback-CDXJ 1.0"
			continue
		}
		if s.Lines == 0 && (line[0] == ' ' || !bytes.Contains(line, []byte(" {"))) {
			// " CDX N b a m s k r M S V g": classic CDX, which names no
			// field by JSON key.
			s.warnf(-1, "not CDXJ lines (classic CDX?): not checked against the records")
			return s, false
		}
		if prev != nil && bytes.Compare(line, prev) < 0 {
			if unsorted == 0 {
				firstUnsorted, firstUnsortedAt = lineNo, at
			}
			unsorted++
		}
		prev = append(prev[:0], line...)
		s.Lines++
		checkLine(&s, at, lineNo, string(line), facts)
	}
	if err := sc.Err(); err != nil {
		s.errorf(offset, "line %d: %v; checking stopped", lineNo+1, err)
	}
	if unsorted > 0 {
		s.errorf(firstUnsortedAt, "line %d sorts before the line above it (%d lines out of order): the index must be byte-sorted (LC_ALL=C sort) for replay tools' binary search", firstUnsorted, unsorted)
	}
	return s, true
}

// checkLine checks one CDXJ line at byte at of the index.
func checkLine(s *FileSummary, at int64, lineNo int, text string, facts map[string]*warcFacts) {
	l, err := warc.ParseCDXJLine(text)
	if err != nil {
		s.errorf(at, "line %d is malformed: %s", lineNo, cause(err))
		return
	}
	fail := func(format string, args ...any) {
		s.add(Finding{Severity: Error, Offset: at, TargetURI: clipURI(l.URL),
			Message: fmt.Sprintf("line %d: ", lineNo) + fmt.Sprintf(format, args...)})
	}
	if l.Filename == "" {
		fail("no filename")
		return
	}
	wf := facts[path.Base(l.Filename)]
	if wf == nil {
		fail("points at %s, which is not a WARC file in archive/", l.Filename)
		return
	}
	if wf.stoppedAt >= 0 && l.Offset >= wf.stoppedAt {
		fail("points at offset %d of %s, in the part that could not be read (reading stopped at byte %d)", l.Offset, l.Filename, wf.stoppedAt)
		return
	}
	i := sort.Search(len(wf.index), func(i int) bool { return wf.index[i].offset >= l.Offset })
	if i == len(wf.index) || wf.index[i].offset != l.Offset {
		near := ""
		if i > 0 {
			near = fmt.Sprintf("; the nearest start at %d", wf.index[i-1].offset)
			if i < len(wf.index) {
				near += fmt.Sprintf(" and %d", wf.index[i].offset)
			}
		} else if i < len(wf.index) {
			near = fmt.Sprintf("; the nearest starts at %d", wf.index[i].offset)
		}
		fail("points at offset %d of %s, where no response, revisit, resource or metadata record starts (wrong offset?)%s", l.Offset, l.Filename, near)
		return
	}
	uri, digest := hash64(l.URL), hash64(canonicalDigest(l.Digest))
	ts, _ := strconv.ParseInt(warc.CDXJTimestamp(l.Timestamp), 10, 64)
	e := &wf.index[i]
	for j := i; j < len(wf.index) && wf.index[j].offset == l.Offset; j++ {
		if wf.index[j].uri == uri { // records sharing a member share an offset
			e = &wf.index[j]
			break
		}
	}
	e.matched = true
	if l.Length != 0 && e.length >= 0 && l.Length != e.length {
		fail("length %d, but the record at offset %d of %s takes %d bytes", l.Length, l.Offset, l.Filename, e.length)
	}
	badURI, badTS, badDigest := e.uri != uri, e.ts != ts, l.Digest != "" && e.digest != digest
	if !badURI && !badTS && !badDigest {
		return
	}
	h, err := headerAt(wf.src, e.offset, int(e.nth))
	if err != nil {
		fail("does not describe the record at offset %d of %s, which cannot be read again: %v", l.Offset, l.Filename, err)
		return
	}
	var diffs []string
	if badURI {
		diffs = append(diffs, fmt.Sprintf("url %s where the record has WARC-Target-URI %s", clipURI(l.URL), findingURI(h)))
	}
	if badTS {
		diffs = append(diffs, fmt.Sprintf("timestamp %s where the record has WARC-Date %s", l.Timestamp, h.Get("WARC-Date")))
	}
	if badDigest {
		diffs = append(diffs, fmt.Sprintf("digest %s where the record has WARC-Payload-Digest %s", l.Digest, h.Get("WARC-Payload-Digest")))
	}
	s.add(Finding{Severity: Error, Offset: at, RecordID: clipURI(h.Get("WARC-Record-ID")), TargetURI: clipURI(l.URL),
		Message: fmt.Sprintf("line %d: says %s (record at offset %d of %s)", lineNo, strings.Join(diffs, ", "), l.Offset, l.Filename)})
}
