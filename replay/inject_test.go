package replay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestInjectScriptServed: the first script of every page is served
// complete (its own tag filled in, for the srcdoc frames it prepends it
// to) and as script; what it does in a browser is tested in e2e/
// (TestBrowserReplayScriptBuilt, TestBrowserReplayHostile).
func TestInjectScriptServed(t *testing.T) {
	srv := httptest.NewServer(NewHandler(newArchive("empty", Options{})))
	defer srv.Close()
	resp, err := http.Get(srv.URL + injectPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	js := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("%s: %d %s", injectPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(js, "__AMBER_INJECT_TAG__") || !strings.Contains(js, `var tag = '`+injectTag+`'`) {
		t.Errorf("the script's own tag is not filled in")
	}
	for _, hook := range []string{`"fetch"`, `"XMLHttpRequest"`, `"FontFace"`, `"HTMLImageElement", "src"`, `"setAttribute"`, `"innerHTML"`, `"RTCPeerConnection"`} {
		if !strings.Contains(js, hook) && !strings.Contains(js, strings.Trim(hook, `"`)) {
			t.Errorf("the script lacks %s", hook)
		}
	}
}
