package verify

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/warc"
)

// packed packs the test collection as amber pack does and returns the
// WACZ's path.
func packed(t *testing.T) string {
	t.Helper()
	dir, _ := collection(t)
	out := filepath.Join(t.TempDir(), "coll.wacz")
	if _, err := warc.PackWACZ(dir, out, warc.WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	return out
}

// rezip copies the zip src to a new file, passing every entry through
// edit (nil drops the entry) and adding extra entries; method, when not
// nil, overrides the method of an entry.
func rezip(t *testing.T, src string, edit func(name string, data []byte) []byte, method func(name string) uint16, extra map[string]string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, m uint16, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			if data = edit(zf.Name, data); data == nil {
				continue
			}
		}
		m := zf.Method
		if method != nil {
			m = method(zf.Name)
		}
		add(zf.Name, m, data)
	}
	for name, data := range extra {
		add(name, zip.Deflate, []byte(data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "edited.wacz")
	writeFile(t, out, buf.Bytes())
	return out
}

func findings(rep *Report) []Finding {
	var all []Finding
	for _, fs := range rep.Files {
		all = append(all, fs.Findings...)
	}
	return all
}

// TestVerifyWACZ: a WACZ as amber packs it verifies clean, read from the
// zip: every WARC record, the index against the records, every entry
// against datapackage.json, datapackage.json against its digest.
func TestVerifyWACZ(t *testing.T) {
	p := packed(t)
	rep := verifyFile(t, p)
	if rep.Errors != 0 || rep.Warnings != 0 {
		t.Fatalf("a packed collection: %d errors, %d warnings:\n%s", rep.Errors, rep.Warnings, dump(findings(rep)))
	}
	kinds := map[string]string{}
	for _, fs := range rep.Files {
		kinds[fs.File] = fs.Kind
	}
	for name, kind := range map[string]string{p: "wacz", p + "!" + warcName: "warc", p + "!" + cdxjName: "index", p + "!pages/pages.jsonl": "file"} {
		if kinds[name] != kind {
			t.Errorf("%s checked as %q, want %q (all: %v)", name, kinds[name], kind, kinds)
		}
	}
	if rep.Records != 7 {
		t.Errorf("%d records read from the zip, want 7", rep.Records)
	}
}

// TestVerifyWACZDamage: each kind of damage to a WACZ is found and named
// FILE.wacz!entry@offset.
func TestVerifyWACZDamage(t *testing.T) {
	good := packed(t)
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// A byte flipped inside the stored WARC entry, in the third record
	// (the response at offset 532 of the WARC file).
	zr, _ := zip.OpenReader(good)
	var start int64
	for _, zf := range zr.File {
		if zf.Name == warcName {
			start, _ = zf.DataOffset()
		}
	}
	zr.Close()
	flipped := append([]byte(nil), raw...)
	flipped[start+600] ^= 0x55
	flippedPath := filepath.Join(t.TempDir(), "flipped.wacz")
	writeFile(t, flippedPath, flipped)

	digestOf := func(name string) func(string, []byte) []byte {
		return func(n string, data []byte) []byte {
			if n == name {
				return append(data, '\n')
			}
			return data
		}
	}
	cases := []struct {
		name, path string
		want       []string // substrings of the findings, each on its own finding
		warnOnly   bool
	}{
		{"a byte flipped in a WARC record", flippedPath, []string{
			"flipped.wacz!" + warcName + "@532: corrupt gzip data",
			"flipped.wacz!" + warcName + "@2301: read error: zip: checksum error",
			"flipped.wacz!" + warcName + ": sha256 hash is",
		}, false},
		{"an index changed after packing", rezip(t, good, digestOf(cdxjName), nil, nil), []string{
			"edited.wacz!" + cdxjName + ": size is",
		}, false},
		{"datapackage.json changed after its digest", rezip(t, good, digestOf(warc.DatapackagePath), nil, nil), []string{
			"the manifest changed since it was packed",
		}, false},
		{"an entry not listed", rezip(t, good, nil, nil, map[string]string{"logs/extra.log": "x"}), []string{
			"edited.wacz!logs/extra.log: not listed in datapackage.json",
		}, false},
		{"a listed entry missing", rezip(t, good, func(n string, d []byte) []byte {
			if n == "pages/pages.jsonl" {
				return nil
			}
			return d
		}, nil, nil), []string{
			"edited.wacz!pages/pages.jsonl: listed in datapackage.json but not in the zip",
		}, false},
		{"no datapackage.json", rezip(t, good, func(n string, d []byte) []byte {
			if n == warc.DatapackagePath || n == warc.WACZDigestPath {
				return nil
			}
			return d
		}, nil, nil), []string{"no datapackage.json in the zip: not a WACZ"}, false},
		{"a WARC file deflated, not stored", rezip(t, good, nil, func(string) uint16 { return zip.Deflate }, nil), []string{
			"edited.wacz!" + warcName + ": compressed in the zip, not stored",
		}, true},
		{"an index line pointing nowhere", rezip(t, good, func(n string, d []byte) []byte {
			if n == cdxjName {
				return bytes.Replace(d, []byte(`"offset": "532"`), []byte(`"offset": "533"`), 1)
			}
			return d
		}, nil, nil), []string{
			"edited.wacz!" + cdxjName + "@",
			"no line in " + cdxjName + " for this response record",
		}, false},
		{"not a zip at all", func() string {
			p := filepath.Join(t.TempDir(), "junk.wacz")
			writeFile(t, p, []byte("<html>not a zip</html>"))
			return p
		}(), []string{"junk.wacz: not a WARC, ARC or WACZ file (starts with \"<html>not a zip</html>\")"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyFile(t, c.path)
			var lines []string
			for _, f := range findings(rep) {
				where := f.File
				if f.Offset >= 0 {
					where += "@" + strconv.FormatInt(f.Offset, 10)
				}
				if f.RecordID != "" {
					where += " " + f.RecordID
				}
				lines = append(lines, where+": "+f.Message)
			}
			all := strings.Join(lines, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("no finding with %q in:\n%s", w, all)
				}
			}
			if c.warnOnly && rep.Errors != 0 || !c.warnOnly && rep.Errors == 0 {
				t.Errorf("%d errors, %d warnings:\n%s", rep.Errors, rep.Warnings, all)
			}
		})
	}
}
