package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/warc"
)

// recoverCollection puts right what a crashed run left behind, before a
// new run writes anything:
//
//   - a WARC file still named .open is cut back to its last complete record
//     and closed;
//   - WARC files not yet in datapackage.json (those a crashed run wrote) are
//     indexed, and the URLs they hold are marked DONE in the state with
//     their payload digests, so they are neither fetched nor stored again.
//
// It returns one line per repaired file, for the user.
func recoverCollection(coll *warc.Collection, st crawl.State, keepTracking bool) ([]string, error) {
	var notes []string
	open, _ := filepath.Glob(filepath.Join(coll.ArchivePath(), "*.warc.gz.open"))
	for _, p := range open {
		res, err := warc.RepairOpen(p)
		if err != nil {
			return notes, fmt.Errorf("repairing %s: %w", p, err)
		}
		notes = append(notes, fmt.Sprintf("repaired %s, left open by an interrupted run: kept %d records, cut %d bytes of a partial record",
			filepath.Base(res.Path), res.Records, res.Cut))
	}

	listed := map[string]bool{}
	if dp, err := warc.ReadDatapackage(coll.Dir); err == nil {
		for _, r := range dp.Resources {
			listed[r.Path] = true
		}
	} else if !os.IsNotExist(err) {
		return notes, err
	}
	files, _ := filepath.Glob(filepath.Join(coll.ArchivePath(), "*.warc.gz"))
	sort.Strings(files)
	// A state file made afresh in a collection that has WARC files (the
	// old one was damaged and moved away, or deleted) is rebuilt from them:
	// the digests of every response, so that unchanged payloads are still
	// stored as revisits of the first capture.
	rebuild := false
	if c, ok := st.(interface{ Created() bool }); ok && c.Created() && len(files) > 0 {
		rebuild = true
	}
	var lines []string
	var outcomes []crawl.Outcome
	var digests []crawl.DigestRef
	rebuilt := 0
	for _, f := range files {
		if listed[warc.ArchiveDir+"/"+filepath.Base(f)] {
			if !rebuild {
				continue
			}
			l, err := warc.IndexWARC(f)
			if err != nil {
				notes = append(notes, fmt.Sprintf("rebuilding the crawl state: %s: %v (its records before the damage are used)", f, err))
			}
			for _, line := range l {
				if line.Type == warc.TypeResponse && line.PayloadDigest != "" {
					digests = append(digests, crawl.DigestRef{Digest: line.PayloadDigest, RecordID: line.RecordID, URI: line.URL, Date: line.Date})
				}
			}
			rebuilt++
			continue
		}
		l, err := warc.IndexWARC(f)
		if err != nil {
			return notes, fmt.Errorf("indexing %s: %w", f, err)
		}
		for _, line := range l {
			lines = append(lines, line.String())
			if line.Type != warc.TypeResponse && line.Type != warc.TypeRevisit {
				continue
			}
			u, err := url.Parse(line.URL)
			if err != nil || u.Scheme != "http" && u.Scheme != "https" {
				continue
			}
			key, err := crawl.Canonicalize(line.URL, !keepTracking)
			if err != nil {
				continue
			}
			o := crawl.Outcome{Key: key}
			date, _ := time.Parse(warc.DateFormat, line.Date)
			if line.Type == warc.TypeResponse && line.Status == "200" && strings.Contains(line.Mime, "html") {
				o.Page = &crawl.Page{URL: line.URL, Date: date}
			}
			outcomes = append(outcomes, o)
			if line.Type == warc.TypeResponse && line.PayloadDigest != "" {
				digests = append(digests, crawl.DigestRef{Digest: line.PayloadDigest, RecordID: line.RecordID, URI: line.URL, Date: line.Date})
			}
		}
	}
	if rebuilt > 0 {
		notes = append(notes, fmt.Sprintf("the crawl state is new: rebuilt its digest index from %d WARC files (%d responses)", rebuilt, len(digests)))
	}
	if len(lines) == 0 {
		if len(digests) > 0 {
			return notes, st.Recover(nil, digests)
		}
		return notes, nil
	}
	if err := st.Recover(outcomes, digests); err != nil {
		return notes, err
	}
	return notes, coll.AddIndex(lines)
}
