package replay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/amber-archiver/amber/warc"
)

// TestReplayARC: the hand-built ARC files of testdata/others are indexed
// record by record and each response is served from its offset, with its
// archived status and body.
func TestReplayARC(t *testing.T) {
	for _, name := range []string{"arc-v1.arc", "arc-v1.arc.gz", "arc-v2.arc.gz", "arc-v1-truncated.arc.gz"} {
		t.Run(name, func(t *testing.T) {
			a, err := Open(filepath.Join("..", "testdata", "others", name))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			srv := httptest.NewServer(NewHandler(a))
			defer srv.Close()
			// The archived body: the 21 bytes the HTTP head's
			// Content-Length gives, of the 22 the fixture holds.
			const archived = "<html>hello</html>\r\n\r"
			urls := map[string]string{
				"http://example.com/":           archived,
				"http://example.com/a%20b.html": archived,
			}
			if name == "arc-v1-truncated.arc.gz" {
				delete(urls, "http://example.com/a%20b.html") // in the damaged member
			}
			for u, want := range urls {
				resp, err := http.Get(srv.URL + "/19961104142103id_/" + u)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != want {
					t.Errorf("%s: %d %q, want 200 %q", u, resp.StatusCode, body, want)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
					t.Errorf("%s: Content-Type %q", u, ct)
				}
			}
		})
	}
}

// TestReplayARCCollection: a collection without an index is indexed from
// the ARC files in its archive/ too.
func TestReplayARCCollection(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, warc.ArchiveDir)
	if err := os.Mkdir(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "testdata", "others", "arc-v2.arc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(archive, "arc-v2.arc.gz"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Len() != 4 {
		t.Errorf("%d captures, want 4", a.Len())
	}
	srv := httptest.NewServer(NewHandler(a))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/19961104142103id_/http://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<html>hello</html>\r\n\r" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}
