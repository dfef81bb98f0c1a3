package replay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
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
