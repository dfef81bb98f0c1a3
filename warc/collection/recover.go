package collection

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/amber-archiver/amber/warc"
)

// Recovery is what Recover put right.
type Recovery struct {
	// Temps are the temporary files of the index, the page list and
	// datapackage.json that no process held: left by a run killed while it
	// wrote them, removed.
	Temps []string
	// Repaired are the WARC files a run left open, cut back to their last
	// complete record and closed.
	Repaired []warc.RepairResult
	// Indexed are the WARC files that datapackage.json did not list (a run
	// died before it finished), indexed now; IndexLines is how many lines
	// they added, Pages how many pages they added to pages.jsonl.
	Indexed    []string
	IndexLines int
	Pages      int
	// IndexRebuilt and PagesRebuilt say that indexes/index.cdxj or
	// pages/pages.jsonl was missing while WARC files were listed, and was
	// rebuilt from every WARC file.
	IndexRebuilt, PagesRebuilt bool
	// StateRebuilt is the number of WARC files whose response digests were
	// handed to a fresh crawl state (State.Fresh); Digests how many.
	StateRebuilt, Digests int
	// Damaged are the listed WARC files that could not be read to their
	// end while the state, index or pages were rebuilt from them: their
	// records before the damage are used.
	Damaged []error
}

// Notes are one line per thing put right, for the user.
func (r *Recovery) Notes() []string {
	var notes []string
	for _, t := range r.Temps {
		notes = append(notes, fmt.Sprintf("removed %s, left by an interrupted run", t))
	}
	for _, res := range r.Repaired {
		notes = append(notes, fmt.Sprintf("repaired %s, left open by an interrupted run: kept %d records, cut %d bytes of a partial record",
			filepath.Base(res.Path), res.Records, res.Cut))
	}
	for _, err := range r.Damaged {
		notes = append(notes, fmt.Sprintf("rebuilding from the WARC files: %v (its records before the damage are used)", err))
	}
	if r.StateRebuilt > 0 {
		notes = append(notes, fmt.Sprintf("the crawl state is new: rebuilt its digest index from %d WARC files (%d responses)", r.StateRebuilt, r.Digests))
	}
	if r.IndexRebuilt {
		notes = append(notes, fmt.Sprintf("%s was missing: rebuilt from the WARC files", warc.IndexPath))
	}
	if r.PagesRebuilt {
		notes = append(notes, fmt.Sprintf("%s was missing: rebuilt from the WARC files (%d pages, without titles)", warc.PagesPath, r.Pages))
	}
	return notes
}

// Recover puts right what a run that died left behind, before a new run
// writes anything:
//
//   - temporary files of the index, the page list and datapackage.json
//     that no live process holds are removed;
//   - a WARC file still named .open is cut back to its last complete
//     record and closed (warc.RepairOpen);
//   - the WARC files not listed in datapackage.json (those the dead run
//     wrote) are indexed, their URLs and payload digests handed to
//     st.Archived so that they are neither fetched nor stored again, and
//     their pages (IsPage) that the dead run had not yet listed (they are
//     not in st's pages outbox, which Finish lists) are added to
//     pages.jsonl;
//   - a missing indexes/index.cdxj or pages/pages.jsonl is rebuilt from
//     every WARC file, and a fresh state (st.Fresh) gets the digests of
//     every WARC file.
//
// The leases of the dead run must have been given back first: Archived
// leaves a live lease alone. Recover changes nothing in datapackage.json:
// the run's Finish lists what it indexed. A WARC file not listed that
// cannot be read to its end is an error (amber repair makes a readable
// copy); what was put right until then stays so.
func (d *Dir) Recover(ctx context.Context, st State) (*Recovery, error) {
	r := &Recovery{}
	for _, rel := range []string{warc.IndexPath, warc.PagesPath, warc.DatapackagePath} {
		r.Temps = append(r.Temps, warc.RemoveStaleTemps(filepath.Join(d.Dir, filepath.FromSlash(rel)))...)
	}
	open, _ := filepath.Glob(filepath.Join(d.ArchivePath(), "*.warc.gz.open"))
	sort.Strings(open)
	for _, p := range open {
		res, err := warc.RepairOpen(p)
		if err != nil {
			return r, fmt.Errorf("repairing %s: %w", p, err)
		}
		r.Repaired = append(r.Repaired, res)
	}

	listed := map[string]bool{}
	if dp, err := warc.ReadDatapackage(d.Dir); err == nil {
		for _, res := range dp.Resources {
			listed[res.Path] = true
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	files, _ := filepath.Glob(filepath.Join(d.ArchivePath(), "*.warc.gz"))
	sort.Strings(files)
	anyListed := slices.ContainsFunc(files, func(f string) bool { return listed[warc.ArchiveDir+"/"+filepath.Base(f)] })
	r.IndexRebuilt = anyListed && !exists(filepath.Join(d.Dir, warc.IndexPath))
	r.PagesRebuilt = anyListed && !exists(filepath.Join(d.Dir, warc.PagesPath))
	fresh := st.Fresh() && len(files) > 0

	var (
		lines   []string
		urls    []string
		pages   []warc.PageEntry // of the WARC files not listed
		rebuilt []warc.PageEntry // of those listed, when pages.jsonl is missing
		digests []Digest
	)
	for _, f := range files {
		if listed[warc.ArchiveDir+"/"+filepath.Base(f)] {
			// Finished by its run: read again only for what is missing.
			if !fresh && !r.IndexRebuilt && !r.PagesRebuilt {
				continue
			}
			l, err := warc.IndexWARC(f)
			if err != nil {
				r.Damaged = append(r.Damaged, fmt.Errorf("%s: %w", f, err))
			}
			for _, line := range l {
				if r.IndexRebuilt {
					lines = append(lines, line.String())
				}
				if r.PagesRebuilt {
					rebuilt = appendPage(rebuilt, line)
				}
				if fresh {
					digests = appendDigest(digests, line)
				}
			}
			if fresh {
				r.StateRebuilt++
			}
			continue
		}
		l, err := warc.IndexWARC(f)
		if err != nil {
			return r, fmt.Errorf("indexing %s: %w (amber repair %s writes a readable copy)", f, err, f)
		}
		r.Indexed = append(r.Indexed, f)
		for _, line := range l {
			lines = append(lines, line.String())
			if line.Type != warc.TypeResponse && line.Type != warc.TypeRevisit {
				continue
			}
			urls = append(urls, line.URL)
			pages = appendPage(pages, line)
			digests = appendDigest(digests, line)
		}
	}
	if fresh {
		r.Digests = len(digests)
	}
	if len(urls) > 0 || len(digests) > 0 {
		if err := st.Archived(ctx, urls, digests); err != nil {
			return r, err
		}
	}
	if len(lines) > 0 {
		if err := d.AddIndex(lines); err != nil {
			return r, err
		}
		r.IndexLines = len(lines)
	}
	if len(pages) > 0 {
		// The pages the dead run finished are in its outbox, listed (with
		// their titles) when this run finishes; the others are listed now.
		finished, err := st.Pages(ctx)
		if err != nil {
			return r, err
		}
		inOutbox := map[string]bool{}
		for _, p := range finished {
			inOutbox[p.URL] = true
		}
		pages = slices.DeleteFunc(pages, func(p warc.PageEntry) bool { return inOutbox[p.URL] })
	}
	if len(rebuilt)+len(pages) == 0 {
		return r, nil
	}
	n, err := d.AddNewPages(append(rebuilt, pages...))
	r.Pages = n
	return r, err
}

// appendPage appends the page of an index line, if it is one (IsPage;
// whether it was fetched as a requisite is not known here).
func appendPage(pages []warc.PageEntry, l warc.CDXJLine) []warc.PageEntry {
	if l.Type != warc.TypeResponse && l.Type != warc.TypeRevisit {
		return pages
	}
	status, _ := strconv.Atoi(l.Status)
	if !IsPage(Capture{Status: status, ContentType: l.HTTPMime}) {
		return pages
	}
	date, err := time.Parse(warc.DateFormat, l.Date)
	if err != nil {
		return pages
	}
	return append(pages, warc.PageEntry{ID: uuid.NewString(), URL: l.URL, TS: date.UTC().Format(time.RFC3339)})
}

func appendDigest(digests []Digest, l warc.CDXJLine) []Digest {
	if l.Type != warc.TypeResponse || l.PayloadDigest == "" {
		return digests
	}
	return append(digests, Digest{Digest: l.PayloadDigest, RecordID: l.RecordID, URI: l.URL, Date: l.Date})
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
