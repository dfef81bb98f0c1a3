package warc

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIndexWACZ: a WACZ amber packed indexes, from the WARC files read in
// the zip, to exactly the index inside it; a zip with no WARC files and no
// datapackage.json is no WACZ.
func TestIndexWACZ(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "harbour")
	testCollection(t, dir, "https://example.org/news/story", "https://example.org/other")
	out := filepath.Join(t.TempDir(), "harbour.wacz")
	if _, err := PackWACZ(dir, out, WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(IndexPath)
	if err != nil {
		t.Fatal(err)
	}
	inside, _ := io.ReadAll(rc)
	rc.Close()

	lines, err := IndexWACZ(out)
	if err != nil {
		t.Fatal(err)
	}
	SortCDXJ(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String() + "\n")
	}
	if b.String() != string(inside) || len(lines) != 3 {
		t.Errorf("IndexWACZ:\n%s\nthe index inside the WACZ:\n%s", b.String(), inside)
	}

	notWACZ := filepath.Join(t.TempDir(), "notes.zip")
	f, _ := os.Create(notWACZ)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("notes/a.txt")
	io.WriteString(w, "hello")
	zw.Close()
	f.Close()
	if _, err := IndexWACZ(notWACZ); !errors.Is(err, ErrNotArchive) {
		t.Errorf("a zip of notes: %v, want ErrNotArchive", err)
	}
}
