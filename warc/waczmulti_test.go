package warc

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPackCollections packs two collections as one: their WARC files, one
// merged index, one pages list sorted by time, both logs (the second,
// whose name the first took, renamed), deterministically.
func TestPackCollections(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	testCollectionOf(t, b, "late", "https://example.org/later")
	testCollectionOf(t, a, "early", "https://example.org/")
	out := filepath.Join(root, "x.wacz")
	dp, err := PackCollections([]string{b, a}, out, WACZOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range dp.Resources {
		paths = append(paths, r.Path)
	}
	if dp.Title != "b, a" || len(paths) != 6 || !strings.HasSuffix(paths[0], "-early.warc.gz") || !strings.HasSuffix(paths[1], "-late.warc.gz") ||
		!slices.Equal(paths[2:], []string{IndexPath, "logs/crawl-1-2.jsonl", "logs/crawl-1.jsonl", PagesPath}) {
		t.Fatalf("title %q, resources %v", dp.Title, paths)
	}
	if dp.MainPageURL != "" {
		t.Errorf("main page %s of a crawl of two seeds", dp.MainPageURL)
	}
	readWACZ(t, out, "b, a") // hashes and sizes as listed
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	entry := func(name string) string {
		for _, zf := range zr.File {
			if zf.Name == name {
				rc, _ := zf.Open()
				defer rc.Close()
				b, _ := io.ReadAll(rc)
				return string(b)
			}
		}
		t.Fatalf("no %s", name)
		return ""
	}
	ia, _ := os.ReadFile(filepath.Join(a, IndexPath))
	ib, _ := os.ReadFile(filepath.Join(b, IndexPath))
	lines := strings.Split(strings.TrimSpace(string(ia)+string(ib)), "\n")
	slices.Sort(lines)
	if got := entry(IndexPath); got != strings.Join(lines, "\n")+"\n" {
		t.Errorf("index:\n%s", got)
	}
	pages := strings.Split(strings.TrimSpace(entry(PagesPath)), "\n")
	if len(pages) != 3 || !strings.Contains(pages[0], "json-pages-1.0") || !strings.Contains(pages[1], `"url":"https://example.org/"`) || !strings.Contains(pages[2], "/later") {
		t.Errorf("pages:\n%s", strings.Join(pages, "\n"))
	}
	again := filepath.Join(root, "again.wacz")
	if _, err := PackCollections([]string{b, a}, again, WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(out)
	y, _ := os.ReadFile(again)
	if !bytes.Equal(x, y) {
		t.Error("the same collections packed to different bytes")
	}

	// One collection is PackWACZ, byte for byte.
	one, single := filepath.Join(root, "one.wacz"), filepath.Join(root, "single.wacz")
	if _, err := PackCollections([]string{a}, one, WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := PackWACZ(a, single, WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	x, _ = os.ReadFile(one)
	y, _ = os.ReadFile(single)
	if !bytes.Equal(x, y) {
		t.Error("PackCollections of one collection differs from PackWACZ")
	}
}

// TestPackCollectionsRefuses: two WARC files of one name, a file changed
// since the manifest was written, an index out of order.
func TestPackCollectionsRefuses(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	testCollectionOf(t, a, "w", "https://example.org/")
	testCollectionOf(t, b, "w", "https://example.org/")
	out := filepath.Join(root, "x.wacz")
	var clash *NameClashError
	if _, err := PackCollections([]string{a, b}, out, WACZOptions{}); !errors.As(err, &clash) || !strings.HasPrefix(clash.First, a) || !strings.HasPrefix(clash.Second, b) {
		t.Fatalf("err %v", err)
	}
	if _, err := CollectionWARCs([]string{a, b}); !errors.As(err, &clash) {
		t.Fatalf("CollectionWARCs: %v", err)
	}
	if _, err := CollectionWARCs([]string{a, a}); err != nil {
		t.Fatalf("a collection given twice: %v", err)
	}

	c := filepath.Join(root, "c")
	testCollectionOf(t, c, "late", "https://example.org/later")
	os.WriteFile(filepath.Join(c, PagesPath), []byte("{}\n"), 0o644)
	if _, err := PackCollections([]string{a, c}, out, WACZOptions{}); err == nil || !strings.Contains(err.Error(), "changed while it was packed") {
		t.Fatalf("changed pages: %v", err)
	}
	testCollectionOf(t, filepath.Join(root, "d"), "late", "https://example.org/later")
	idx := filepath.Join(root, "d", IndexPath)
	lines, _ := os.ReadFile(idx)
	ls := strings.Split(strings.TrimSpace(string(lines)), "\n")
	slices.Reverse(ls)
	os.WriteFile(idx, []byte(strings.Join(ls, "\n")+"\n"), 0o644)
	if _, err := PackCollections([]string{a, filepath.Join(root, "d")}, out, WACZOptions{}); err == nil || !strings.Contains(err.Error(), "not byte-sorted") {
		t.Fatalf("unsorted index: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused pack left a file")
	}
}
