package collection_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/verify"
	"github.com/amber-archiver/amber/warc"
	"github.com/amber-archiver/amber/warc/collection"
)

// fakeState is a crawl state that records what it is handed.
type fakeState struct {
	fresh      bool
	urls       []string
	digests    []collection.Digest
	outbox     []collection.Page
	clears     int   // ClearPages calls
	failClears error // ClearPages fails with it: a crash before the outbox is cleared
}

func (s *fakeState) Fresh() bool { return s.fresh }

func (s *fakeState) Archived(_ context.Context, urls []string, digests []collection.Digest) error {
	s.urls = append(s.urls, urls...)
	s.digests = append(s.digests, digests...)
	return nil
}

func (s *fakeState) Pages(context.Context) ([]collection.Page, error) {
	return slices.Clone(s.outbox), nil
}

func (s *fakeState) ClearPages(_ context.Context, through uint64) error {
	s.clears++
	if s.failClears != nil {
		return s.failClears
	}
	s.outbox = slices.DeleteFunc(s.outbox, func(p collection.Page) bool { return p.Seq <= through })
	return nil
}

// capture is one exchange to write as a response (or a revisit of an
// earlier response with the same body).
type capture struct {
	url, ctype string
	status     int
	body       string
	revisit    bool
}

var day = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// writeRun writes the captures into one WARC file of the collection as a
// run does, and returns the closed writer (its Index and FileHashes).
func writeRun(t *testing.T, d *collection.Dir, worker string, caps []capture) *warc.Writer {
	t.Helper()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: d.ArchivePath(), Worker: worker, SpoolDir: t.TempDir(),
		Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	type ref struct{ id, url, date string }
	byBody := map[string]ref{}
	for i, c := range caps {
		typ := warc.TypeResponse
		if c.revisit {
			typ = warc.TypeRevisit
		}
		date := day.Add(time.Duration(i) * time.Second)
		b := w.NewRecord(typ, date)
		b.AddField("WARC-Target-URI", c.url)
		b.AddField("Content-Type", "application/http; msgtype=response")
		head := fmt.Sprintf("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", c.status, c.ctype, len(c.body))
		block := head + c.body
		if c.revisit {
			block = head
			r, ok := byBody[c.body]
			if !ok {
				t.Fatalf("revisit of %s: no response with its body before it", c.url)
			}
			b.AddField("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
			b.AddField("WARC-Refers-To", r.id)
			b.AddField("WARC-Refers-To-Target-URI", r.url)
			b.AddField("WARC-Refers-To-Date", r.date)
		} else {
			byBody[c.body] = ref{b.ID(), c.url, date.Format(warc.DateFormat)}
		}
		h, err := warc.NewHash(b.Algorithm())
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(c.body))
		b.SetPayloadDigest(h.Sum(nil))
		if _, err := b.Write([]byte(block)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func open(t *testing.T) *collection.Dir {
	t.Helper()
	d, err := collection.Open(filepath.Join(t.TempDir(), "coll"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pageURLs reads pages.jsonl back: its URLs in order, and the entries by
// URL. A URL listed twice fails the test.
func pageURLs(t *testing.T, d *collection.Dir) ([]string, map[string]warc.PageEntry) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Dir, warc.PagesPath))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"format":"json-pages-1.0"`)) {
		t.Fatalf("pages.jsonl starts %q, want the json-pages-1.0 header", b[:min(len(b), 60)])
	}
	pages, err := warc.ParsePages(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	by := map[string]warc.PageEntry{}
	for _, p := range pages {
		if _, dup := by[p.URL]; dup {
			t.Errorf("pages.jsonl lists %s twice", p.URL)
		}
		if _, err := time.Parse(time.RFC3339, p.TS); err != nil || p.ID == "" {
			t.Errorf("page %s: ts %q (%v), id %q: want an RFC 3339 ts and an id", p.URL, p.TS, err, p.ID)
		}
		urls = append(urls, p.URL)
		by[p.URL] = p
	}
	return urls, by
}

// verifyClean runs amber's verifier on the collection and fails on any
// finding.
func verifyClean(t *testing.T, d *collection.Dir) {
	t.Helper()
	rep, err := verify.Paths(context.Background(), []string{d.Dir}, verify.Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		for _, fd := range f.Findings {
			t.Errorf("verify: %s %s@%d: %s", fd.Severity, fd.File, fd.Offset, fd.Message)
		}
	}
	if rep.Damaged(true) {
		t.Fatalf("verify: %d errors, %d warnings", rep.Errors, rep.Warnings)
	}
}

func indexText(t *testing.T, d *collection.Dir) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Dir, warc.IndexPath))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// finished is a collection with one finished run: the seed page (listed,
// with its title) and its image.
func finished(t *testing.T) (*collection.Dir, *warc.Writer) {
	t.Helper()
	d := open(t)
	w := writeRun(t, d, "one", []capture{
		{url: "http://site.test/", ctype: "text/html; charset=utf-8", status: 200, body: "<title>Home</title>home"},
		{url: "http://site.test/logo.png", ctype: "image/png", status: 200, body: "\x89PNG..."},
	})
	st := &fakeState{outbox: []collection.Page{{Seq: 1, URL: "http://site.test/", Title: "Home", Date: day, Seed: true, Size: 100}}}
	if err := d.Finish(context.Background(), st, collection.Run{Index: w.Index(), Hashes: w.FileHashes(), Software: "amber-test"}); err != nil {
		t.Fatal(err)
	}
	return d, w
}

// TestRecover: a run died while writing its WARC file (the last record cut
// short, the file still .open) and while replacing the index, the page
// list and datapackage.json (their temporary files left). Recover cuts the
// file back and closes it, removes the temporary files, indexes the file,
// hands its URLs and digests to the state and lists the pages the dead run
// had not; Finish then lists the outbox, and the collection verifies.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	d, _ := finished(t)
	caps := []capture{
		{url: "http://site.test/a", ctype: "text/html", status: 200, body: "<title>A</title>a"},                    // finished: in the outbox
		{url: "http://site.test/b", ctype: "text/html", status: 200, body: "<title>B</title>b"},                    // written, not finished
		{url: "http://site.test/b.css", ctype: "text/css", status: 200, body: "body{}"},                            // not a page
		{url: "http://site.test/gone", ctype: "text/html", status: 404, body: "not found"},                         // not a page
		{url: "http://site.test/moved", ctype: "text/html", status: 301, body: "moved"},                            // not a page
		{url: "http://site.test/again", ctype: "text/html", status: 200, revisit: true, body: "<title>B</title>b"}, // a page
		{url: "http://site.test/cut", ctype: "text/html", status: 200, body: strings.Repeat("cut short ", 500)},
	}
	w := writeRun(t, d, "two", caps)
	file := filepath.Join(d.ArchivePath(), w.Files()[0])
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	// The dead run's file: still .open, its last record cut short.
	if err := os.Rename(file, file+".open"); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file+".open", fi.Size()-40); err != nil {
		t.Fatal(err)
	}
	temps := []string{
		filepath.Join(d.Dir, "indexes", ".index.cdxj.tmp123"),
		filepath.Join(d.Dir, "pages", ".pages.jsonl.tmp456"),
		filepath.Join(d.Dir, ".datapackage.json.tmp789"),
	}
	for _, p := range temps {
		if err := os.WriteFile(p, []byte("half written"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	st := &fakeState{outbox: []collection.Page{{Seq: 2, URL: "http://site.test/a", Title: "A", Date: day, Size: 17}}}
	rec, err := d.Recover(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rec.Temps)
	slices.Sort(temps)
	if !slices.Equal(rec.Temps, temps) {
		t.Errorf("removed temporary files %v, want %v", rec.Temps, temps)
	}
	for _, p := range temps {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	if len(rec.Repaired) != 1 || rec.Repaired[0].Path != file || rec.Repaired[0].Records != len(caps) || rec.Repaired[0].Cut == 0 {
		t.Fatalf("repaired %+v, want %s with %d records (warcinfo and all but the cut one), bytes cut", rec.Repaired, file, len(caps))
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the repaired file: %v", err)
	}
	if !slices.Equal(rec.Indexed, []string{file}) {
		t.Errorf("indexed %v, want [%s]", rec.Indexed, file)
	}
	wantURLs := []string{"http://site.test/a", "http://site.test/b", "http://site.test/b.css", "http://site.test/gone", "http://site.test/moved", "http://site.test/again"}
	if !slices.Equal(st.urls, wantURLs) {
		t.Errorf("URLs handed to the state %v, want %v", st.urls, wantURLs)
	}
	if len(st.digests) != 5 { // the responses, not the revisit
		t.Errorf("%d digests handed to the state, want 5: %+v", len(st.digests), st.digests)
	}
	for _, dg := range st.digests {
		if dg.Digest == "" || dg.RecordID == "" || dg.Date == "" || dg.URI == "" {
			t.Errorf("digest %+v lacks a field", dg)
		}
	}
	index := indexText(t, d)
	for _, u := range wantURLs {
		if !strings.Contains(index, `"url": "`+u+`"`) {
			t.Errorf("the index has no line for %s:\n%s", u, index)
		}
	}
	if strings.Contains(index, "/cut") {
		t.Errorf("the index has the record that was cut short:\n%s", index)
	}
	urls, _ := pageURLs(t, d)
	if want := []string{"http://site.test/", "http://site.test/b", "http://site.test/again"}; !slices.Equal(urls, want) || rec.Pages != 2 {
		t.Errorf("after Recover, pages %v (%d added), want %v (2 added): /a waits in the outbox", urls, rec.Pages, want)
	}

	if err := d.Finish(ctx, st, collection.Run{Software: "amber-test"}); err != nil {
		t.Fatal(err)
	}
	urls, by := pageURLs(t, d)
	if want := []string{"http://site.test/", "http://site.test/b", "http://site.test/again", "http://site.test/a"}; !slices.Equal(urls, want) {
		t.Errorf("after Finish, pages %v, want %v", urls, want)
	}
	if by["http://site.test/a"].Title != "A" || by["http://site.test/a"].Size != 17 {
		t.Errorf("the outbox page is listed as %+v, want its title and size", by["http://site.test/a"])
	}
	if len(st.outbox) != 0 {
		t.Errorf("outbox after Finish: %+v", st.outbox)
	}
	verifyClean(t, d)

	// Nothing is left to recover.
	st2 := &fakeState{}
	rec, err = d.Recover(ctx, st2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Indexed)+len(rec.Repaired)+len(rec.Temps)+rec.Pages+rec.IndexLines != 0 || rec.IndexRebuilt || rec.PagesRebuilt || len(st2.urls) != 0 {
		t.Errorf("second Recover did %+v, handed %v: want nothing", rec, st2.urls)
	}
}

// TestRecoverMissingIndexAndPages: with index.cdxj and pages.jsonl gone,
// Recover rebuilds both from the WARC files: the same index, byte for
// byte, and the pages (without titles, which only the crawl saw).
func TestRecoverMissingIndexAndPages(t *testing.T) {
	ctx := context.Background()
	d, _ := finished(t)
	w := writeRun(t, d, "two", []capture{{url: "http://site.test/next", ctype: "application/xhtml+xml", status: 200, body: "<html/>"}})
	if err := d.Finish(ctx, &fakeState{}, collection.Run{Index: w.Index(), Hashes: w.FileHashes(), Software: "amber-test"}); err != nil {
		t.Fatal(err)
	}
	want := indexText(t, d)
	for _, rel := range []string{warc.IndexPath, warc.PagesPath} {
		if err := os.Remove(filepath.Join(d.Dir, rel)); err != nil {
			t.Fatal(err)
		}
	}
	st := &fakeState{}
	rec, err := d.Recover(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.IndexRebuilt || !rec.PagesRebuilt {
		t.Errorf("recovery %+v: want the index and the pages rebuilt", rec)
	}
	if got := indexText(t, d); got != want {
		t.Errorf("rebuilt index:\n%s\nwant:\n%s", got, want)
	}
	urls, by := pageURLs(t, d)
	if !slices.Equal(urls, []string{"http://site.test/", "http://site.test/next"}) {
		t.Errorf("rebuilt pages %v", urls)
	}
	if p := by["http://site.test/"]; p.TS != day.Format(time.RFC3339) || p.Title != "" {
		t.Errorf("rebuilt page %+v, want ts %s and no title", p, day.Format(time.RFC3339))
	}
	if len(st.urls) != 0 || len(st.digests) != 0 {
		t.Errorf("finished files handed to the state: %v %v", st.urls, st.digests)
	}
	if err := d.Finish(ctx, st, collection.Run{Software: "amber-test"}); err != nil {
		t.Fatal(err)
	}
	verifyClean(t, d)
}

// TestRecoverFreshState: a state made afresh gets the digests of every
// response of the finished WARC files, so unchanged payloads are still
// stored as revisits; their URLs are not marked (they are fetched again).
func TestRecoverFreshState(t *testing.T) {
	d, w := finished(t)
	st := &fakeState{fresh: true}
	rec, err := d.Recover(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if rec.StateRebuilt != 1 || rec.Digests != 2 || len(st.digests) != 2 || len(st.urls) != 0 {
		t.Fatalf("recovery %+v handed urls %v digests %+v: want the 2 digests of %v", rec, st.urls, st.digests, w.Files())
	}
	if st.digests[0].URI != "http://site.test/" || st.digests[1].URI != "http://site.test/logo.png" {
		t.Errorf("digests %+v", st.digests)
	}
}

// TestRecoverDamagedWARC: a closed WARC file the collection does not list
// that cannot be read to its end stops recovery with an error naming it
// (no crash of amber's makes one: it was damaged or copied short).
func TestRecoverDamagedWARC(t *testing.T) {
	d, _ := finished(t)
	w := writeRun(t, d, "two", []capture{{url: "http://site.test/x", ctype: "text/html", status: 200, body: strings.Repeat("x", 4000)}})
	file := filepath.Join(d.ArchivePath(), w.Files()[0])
	fi, _ := os.Stat(file)
	if err := os.Truncate(file, fi.Size()-30); err != nil {
		t.Fatal(err)
	}
	rec, err := d.Recover(context.Background(), &fakeState{})
	if err == nil || !strings.Contains(err.Error(), file) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Recover: %v, want a one-line error naming %s", err, file)
	}
	if rec == nil {
		t.Fatal("no Recovery with the error")
	}
}

// TestFinish: the index lines, the outbox pages with their texts, and a
// datapackage.json whose hashes are those of the files, which verify
// accepts; the outbox and the texts are cleared.
func TestFinish(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	w := writeRun(t, d, "one", []capture{
		{url: "http://site.test/", ctype: "text/html", status: 200, body: "<title>Home</title>"},
		{url: "http://site.test/p", ctype: "text/html", status: 200, body: "<title>P</title>"},
	})
	if err := os.MkdirAll(d.StatePath(), 0o755); err != nil {
		t.Fatal(err)
	}
	texts := filepath.Join(d.StatePath(), collection.PageTextFile)
	if err := os.WriteFile(texts, []byte(`{"url":"http://site.test/p","text":"old"}`+"\n"+`{"url":"http://site.test/p","text":"Rendered P"}`+"\n"+`{"url":"http://site.te`), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &fakeState{outbox: []collection.Page{
		{Seq: 7, URL: "http://site.test/", Title: "Home", Date: day, Seed: true, Size: 50},
		{Seq: 8, URL: "http://site.test/p", Title: "P", Date: day.Add(time.Second), Size: 40},
	}}
	if err := d.Finish(ctx, st, collection.Run{Index: w.Index(), Hashes: w.FileHashes(), Software: "amber-test/1"}); err != nil {
		t.Fatal(err)
	}
	urls, by := pageURLs(t, d)
	if !slices.Equal(urls, []string{"http://site.test/", "http://site.test/p"}) {
		t.Fatalf("pages %v", urls)
	}
	if p := by["http://site.test/p"]; p.Title != "P" || p.Text != "Rendered P" || p.TS != day.Add(time.Second).Format(time.RFC3339) || p.Size != 40 {
		t.Errorf("page %+v", p)
	}
	if by["http://site.test/"].Text != "" {
		t.Errorf("a page without a text got one: %+v", by["http://site.test/"])
	}
	if len(st.outbox) != 0 {
		t.Errorf("outbox not cleared: %+v", st.outbox)
	}
	if _, err := os.Stat(texts); !os.IsNotExist(err) {
		t.Errorf("the page texts are still there (%v)", err)
	}
	if got := strings.Count(indexText(t, d), "\n"); got != 2 {
		t.Errorf("index has %d lines, want 2", got)
	}
	dp, err := warc.ReadDatapackage(d.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if dp.Software != "amber-test/1" || dp.WACZVersion != "1.1.1" || dp.Profile != "data-package" {
		t.Errorf("datapackage %+v", dp)
	}
	var paths []string
	for _, r := range dp.Resources {
		paths = append(paths, r.Path)
		b, err := os.ReadFile(filepath.Join(d.Dir, filepath.FromSlash(r.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if r.Hash != "sha256:"+hex.EncodeToString(sum[:]) || r.Bytes != int64(len(b)) {
			t.Errorf("%s listed as %s %d bytes, is sha256:%x %d bytes", r.Path, r.Hash, r.Bytes, sum, len(b))
		}
	}
	if want := []string{"archive/" + w.Files()[0], warc.IndexPath, warc.PagesPath}; !slices.Equal(paths, want) {
		t.Errorf("datapackage lists %v, want %v", paths, want)
	}
	verifyClean(t, d)
}

// TestFinishKeepsOutboxUntilDatapackage: a Finish that stops after
// writing pages.jsonl and before datapackage.json (the disk fails, the
// process dies), or after datapackage.json and before the outbox is
// cleared, leaves the outbox as it was; the next Finish lists its pages
// once, not twice, and the collection verifies.
func TestFinishKeepsOutboxUntilDatapackage(t *testing.T) {
	ctx := context.Background()
	for _, stop := range []string{"before datapackage", "before clearing"} {
		t.Run(strings.ReplaceAll(stop, " ", "-"), func(t *testing.T) {
			d := open(t)
			w := writeRun(t, d, "one", []capture{{url: "http://site.test/", ctype: "text/html", status: 200, body: "<title>Home</title>"}})
			st := &fakeState{outbox: []collection.Page{{Seq: 1, URL: "http://site.test/", Title: "Home", Date: day}}}
			dpPath := filepath.Join(d.Dir, warc.DatapackagePath)
			switch stop {
			case "before datapackage":
				// datapackage.json cannot be written where a directory is.
				if err := os.Mkdir(dpPath, 0o755); err != nil {
					t.Fatal(err)
				}
			case "before clearing":
				st.failClears = fmt.Errorf("killed")
			}
			run := collection.Run{Index: w.Index(), Hashes: w.FileHashes(), Software: "amber-test"}
			if err := d.Finish(ctx, st, run); err == nil {
				t.Fatal("Finish succeeded")
			}
			if urls, _ := pageURLs(t, d); !slices.Equal(urls, []string{"http://site.test/"}) {
				t.Errorf("pages.jsonl after the failed Finish: %v", urls)
			}
			if len(st.outbox) != 1 {
				t.Fatalf("the outbox lost its page: %+v", st.outbox)
			}
			if stop == "before datapackage" && st.clears != 0 {
				t.Errorf("ClearPages called %d times before datapackage.json was written", st.clears)
			}
			os.Remove(dpPath)
			st.failClears = nil
			if err := d.Finish(ctx, st, run); err != nil {
				t.Fatal(err)
			}
			pageURLs(t, d) // fails on a page listed twice
			if len(st.outbox) != 0 {
				t.Errorf("outbox not cleared: %+v", st.outbox)
			}
			verifyClean(t, d)
		})
	}
}

// TestFinishStateLost: with no state (it cannot be reached), Finish
// indexes and lists the files, makes pages.jsonl if there is none, and
// leaves the page texts for the run that will list the outbox.
func TestFinishStateLost(t *testing.T) {
	d := open(t)
	w := writeRun(t, d, "one", []capture{{url: "http://site.test/", ctype: "text/html", status: 200, body: "x"}})
	if err := os.MkdirAll(d.StatePath(), 0o755); err != nil {
		t.Fatal(err)
	}
	texts := filepath.Join(d.StatePath(), collection.PageTextFile)
	if err := os.WriteFile(texts, []byte(`{"url":"http://site.test/","text":"t"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(context.Background(), nil, collection.Run{Index: w.Index(), Hashes: w.FileHashes(), Software: "amber-test"}); err != nil {
		t.Fatal(err)
	}
	if urls, _ := pageURLs(t, d); len(urls) != 0 {
		t.Errorf("pages %v, want none", urls)
	}
	if _, err := os.Stat(texts); err != nil {
		t.Errorf("page texts: %v, want them kept", err)
	}
	verifyClean(t, d)
}

// TestFinishRefusesOpenWARC: a WARC file still open means its run has not
// ended; nothing is listed.
func TestFinishRefusesOpenWARC(t *testing.T) {
	d := open(t)
	p := filepath.Join(d.ArchivePath(), "x.warc.gz.open")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := d.Finish(context.Background(), &fakeState{}, collection.Run{Software: "amber-test"})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("Finish: %v, want an error naming %s", err, p)
	}
	if _, err := os.Stat(filepath.Join(d.Dir, warc.DatapackagePath)); !os.IsNotExist(err) {
		t.Errorf("datapackage.json written (%v)", err)
	}
}

// TestAddNewPagesKeys: pages.jsonl lines written by other tools (keys in
// another order, other fields, a text before the url) are recognised by
// their url and ts, so the same page is not listed again, and a page at
// another time is.
func TestAddNewPagesKeys(t *testing.T) {
	d := open(t)
	p := filepath.Join(d.Dir, warc.PagesPath)
	old := `{"format":"json-pages-1.0","id":"pages","title":"All Pages"}` + "\n" +
		`{"text":"a \"url\": \"http://x/\" in the text","ts":"2026-12-01T10:00:00Z","extra":{"url":"http://nested/"},"url":"http://site.test/a"}` + "\n" +
		`{"url":"http://site.test/b","ts":"2026-12-01T10:00:00Z"}` + "\n" +
		`not json` + "\n"
	if err := os.WriteFile(p, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := d.AddNewPages([]warc.PageEntry{
		{ID: "1", URL: "http://site.test/a", TS: "2026-12-01T10:00:00Z"},
		{ID: "2", URL: "http://site.test/b", TS: "2026-12-01T10:00:00Z"},
		{ID: "3", URL: "http://site.test/b", TS: "2026-12-02T10:00:00Z"},
		{ID: "4", URL: "http://nested/", TS: "2026-12-01T10:00:00Z"},
		{ID: "4", URL: "http://nested/", TS: "2026-12-01T10:00:00Z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || !strings.HasPrefix(string(b), old) || strings.Count(string(b), "\n") != 6 {
		t.Errorf("added %d, file:\n%s\nwant the old lines, then /b of 2 December and http://nested/ once", n, b)
	}
}
