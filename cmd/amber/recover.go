package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc"
)

// recoverCollection puts right what a crashed run left behind, before a
// new run writes anything:
//
//   - a WARC file still named .open is cut back to its last complete record
//     and closed;
//   - WARC files not yet in datapackage.json (those a crashed run wrote) are
//     indexed, and the URLs they hold are marked finished in the frontier
//     with their payload digests, so they are neither fetched nor stored
//     again; the pages among them that the crashed run had not finished
//     (they are not in worker's pages outbox) are listed in pages.jsonl.
//
// The leases of the crashed run must have been reclaimed first
// (frontier.Bolt.Reclaim): Recover leaves a live lease alone.
//
// It returns one line per repaired file, for the user.
func recoverCollection(ctx context.Context, coll *warc.Collection, st frontier.Frontier, worker string, keepTracking bool) ([]string, error) {
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
	var keys []string
	var pages []warc.PageEntry
	var digests []frontier.DigestRef
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
					digests = append(digests, frontier.DigestRef{Digest: line.PayloadDigest, RecordID: line.RecordID, URI: line.URL, Date: line.Date})
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
			keys = append(keys, key)
			if line.Type == warc.TypeResponse && line.Status == "200" && strings.Contains(line.Mime, "html") {
				date, _ := time.Parse(warc.DateFormat, line.Date)
				pages = append(pages, warc.PageEntry{ID: uuid.NewString(), URL: line.URL, TS: date.UTC().Format(time.RFC3339)})
			}
			if line.Type == warc.TypeResponse && line.PayloadDigest != "" {
				digests = append(digests, frontier.DigestRef{Digest: line.PayloadDigest, RecordID: line.RecordID, URI: line.URL, Date: line.Date})
			}
		}
	}
	if rebuilt > 0 {
		notes = append(notes, fmt.Sprintf("the crawl state is new: rebuilt its digest index from %d WARC files (%d responses)", rebuilt, len(digests)))
	}
	if len(lines) == 0 {
		if len(digests) > 0 {
			return notes, st.Recover(ctx, nil, digests)
		}
		return notes, nil
	}
	// The pages the crashed run finished are in its outbox, listed when
	// this run ends; the others are listed now.
	finished, err := st.Pages(ctx, worker)
	if err != nil {
		return notes, err
	}
	inOutbox := map[string]bool{}
	for _, p := range finished {
		inOutbox[p.URL] = true
	}
	pages = slices.DeleteFunc(pages, func(p warc.PageEntry) bool { return inOutbox[p.URL] })
	if err := st.Recover(ctx, keys, digests); err != nil {
		return notes, err
	}
	if err := coll.AddIndex(lines); err != nil {
		return notes, err
	}
	if len(pages) == 0 {
		return notes, nil
	}
	return notes, coll.AddPages(pages)
}
