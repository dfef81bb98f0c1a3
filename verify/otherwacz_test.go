package verify

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/warc"
)

// otherWACZ repackages a WACZ amber packed as another writer would:
// edit changes the entries (by name; nil data drops one), and manifest
// writes datapackage.json from the entries' hashes and sizes (nil: no
// datapackage.json), as that writer words it. Already-compressed entries
// and WARC files are stored, the rest deflated.
func otherWACZ(t *testing.T, edit func(entries map[string][]byte), manifest func(names []string, sums map[string]string, sizes map[string]int) any) string {
	t.Helper()
	zr, err := zip.OpenReader(packed(t))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string][]byte{}
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		entries[zf.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	zr.Close()
	delete(entries, warc.DatapackagePath)
	delete(entries, warc.WACZDigestPath)
	edit(entries)
	var names []string
	sums, sizes := map[string]string{}, map[string]int{}
	for name, data := range entries {
		if data == nil {
			continue
		}
		names = append(names, name)
		sum := sha256.Sum256(data)
		sums[name], sizes[name] = hex.EncodeToString(sum[:]), len(data)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		m := zip.Deflate
		if strings.HasPrefix(name, "archive/") || strings.HasSuffix(name, ".gz") {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	for _, name := range names {
		add(name, entries[name])
	}
	if manifest != nil {
		b, _ := json.Marshal(manifest(names, sums, sizes))
		add(warc.DatapackagePath, b)
	}
	zw.Close()
	out := filepath.Join(t.TempDir(), "other.wacz")
	writeFile(t, out, buf.Bytes())
	return out
}

// current is a WACZ 1.1.1 datapackage.json.
func current(names []string, sums map[string]string, sizes map[string]int) any {
	var res []map[string]any
	for _, n := range names {
		res = append(res, map[string]any{"name": path.Base(n), "path": n, "hash": "sha256:" + sums[n], "bytes": sizes[n]})
	}
	return map[string]any{"profile": "data-package", "wacz_version": "1.1.1", "resources": res}
}

func gzipMembers(t *testing.T, lines []string, per int) []byte {
	var out []byte
	for i := 0; i < len(lines); i += per {
		out = append(out, gzipBytes(t, []byte(strings.Join(lines[i:min(i+per, len(lines))], "")))...)
	}
	return out
}

// TestVerifyOtherWACZ: packages other WACZ writers made verify without
// false errors, and the findings say what is there and what is not
// checked: a WACZ 1.0 manifest (hash and size under "stats", no
// datapackage-digest.json), compressed indexes (a whole gzip, ZipNum
// members with an .idx), a classic CDX index.
func TestVerifyOtherWACZ(t *testing.T) {
	splitLines := func(b []byte) []string {
		var ls []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if l != "" {
				ls = append(ls, l)
			}
		}
		return ls
	}
	cases := []struct {
		name     string
		edit     func(map[string][]byte)
		manifest func([]string, map[string]string, map[string]int) any
		warnings []string // each a finding's message contains
		indexed  string   // an entry checked as an index, with lines
	}{
		{"WACZ 1.0 manifest with stats", func(map[string][]byte) {}, func(names []string, sums map[string]string, sizes map[string]int) any {
			var res []map[string]any
			for _, n := range names {
				res = append(res, map[string]any{"path": n, "stats": map[string]any{"hash": sums[n], "bytes": sizes[n]}})
			}
			return map[string]any{"profile": "data-package", "wacz_version": "1.0.0", "resources": res,
				"metadata": map[string]any{"title": "old"}}
		}, []string{`older form (hash and size under "stats", as WACZ 1.0 wrote them)`, "no datapackage-digest.json"}, cdxjName},
		{"no datapackage-digest.json", func(map[string][]byte) {}, current, []string{"no datapackage-digest.json"}, cdxjName},
		{"index.cdx.gz", func(e map[string][]byte) {
			e["indexes/index.cdx.gz"], e[cdxjName] = gzipBytes(t, e[cdxjName]), nil
		}, current, []string{"no datapackage-digest.json"}, "indexes/index.cdx.gz"},
		{"ZipNum: index.cdxj.gz and index.idx", func(e map[string][]byte) {
			e["indexes/index.cdxj.gz"] = gzipMembers(t, splitLines(e[cdxjName]), 2)
			e["indexes/index.idx"] = []byte(`!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdxj.gz"}` + "\n" +
				`com,example)/ 20240506070809 {"offset": 0, "length": 100, "filename": "index.cdxj.gz"}` + "\n")
			e[cdxjName] = nil
		}, current, []string{"no datapackage-digest.json", "indexes/index.idx: the secondary index of a compressed (ZipNum) index: not checked"}, "indexes/index.cdxj.gz"},
		{"classic CDX", func(e map[string][]byte) {
			e["indexes/index.cdx"] = []byte(" CDX N b a m s k r M S V g\ncom,example)/ 20240506070809 http://example.com/ text/html 200 AAAA - - 453 532 x.warc.gz\n")
			e[cdxjName] = nil
		}, current, []string{"no datapackage-digest.json", "not CDXJ lines (classic CDX?): not checked"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := otherWACZ(t, c.edit, c.manifest)
			rep := verifyFile(t, p)
			all := findings(rep)
			if rep.Errors != 0 || rep.Warnings != len(c.warnings) {
				t.Fatalf("%d errors, %d warnings, want %d warnings:\n%s", rep.Errors, rep.Warnings, len(c.warnings), dump(all))
			}
			for i, w := range c.warnings {
				if !strings.Contains(all[i].Message, w) {
					t.Errorf("finding %d: %q, want it to say %q", i, all[i].Message, w)
				}
			}
			if rep.Records != 7 {
				t.Errorf("%d records read, want 7", rep.Records)
			}
			if c.indexed != "" && !slices.ContainsFunc(rep.Files, func(fs FileSummary) bool {
				return fs.File == p+"!"+c.indexed && fs.Kind == "index" && fs.Lines > 0
			}) {
				t.Errorf("%s not checked as an index:\n%+v", c.indexed, rep.Files)
			}
		})
	}

	// A compressed index that points wrong is damage, as a plain one is.
	p := otherWACZ(t, func(e map[string][]byte) {
		e["indexes/index.cdxj.gz"] = gzipBytes(t, bytes.Replace(e[cdxjName], []byte(`"offset": "532"`), []byte(`"offset": "533"`), 1))
		e[cdxjName] = nil
	}, current)
	if rep := verifyFile(t, p); rep.Errors == 0 {
		t.Errorf("a wrong offset in index.cdxj.gz: no error:\n%s", dump(findings(rep)))
	}
}
