package verify

import (
	"path/filepath"
	"testing"
)

// TestLenientHTTPHeads: HTTP heads other tools wrote that do not match
// their bodies. A chunked head over a body stored de-chunked (older
// crawlers did this) is hashed as stored: a match is a warning naming the
// mismatch, a mismatch an error. An invalid Content-Length bounds nothing
// and is no damage.
func TestLenientHTTPHeads(t *testing.T) {
	specs := goodSpecs(t)
	chunkedHead := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
	resp := func(uri, block, payload string) spec {
		return spec{typ: "response", uri: uri, ct: httpResp, block: block, payload: ptr(payload)}
	}
	tests := []struct {
		name string
		rec  spec
		want []want
	}{
		{"de-chunked body under a chunked head", resp("http://example.com/old", chunkedHead+html, html),
			[]want{{sev: Warning, record: 1, msg: "is over the body as stored, which is not chunked although the HTTP head says Transfer-Encoding: chunked"}}},
		{"de-chunked body, wrong digest", spec{typ: "response", uri: "http://example.com/old", ct: httpResp, block: chunkedHead + html, payload: ptr("other")},
			[]want{{sev: Error, record: 1, msg: "payload digest mismatch: recorded sha1:"}}},
		{"Content-Length -1", resp("http://example.com/neg", "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n"+html, html), nil},
		{"Content-Length garbage", resp("http://example.com/junk", "HTTP/1.0 200 OK\r\nContent-Length: lots\r\n\r\n"+html, html), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := []spec{specs[0], tt.rec}
			for _, gz := range []bool{true, false} {
				file, offsets := plain(all)
				name := "old.warc"
				if gz {
					file, offsets = build(t, all, nil)
					name += ".gz"
				}
				path := filepath.Join(t.TempDir(), name)
				writeFile(t, path, file)
				rep := verifyFile(t, path)
				checkFindings(t, rep.Files[0].Findings, tt.want, offsets)
				if rep.Files[0].Records != 2 {
					t.Errorf("%d records, want 2", rep.Files[0].Records)
				}
			}
		})
	}
}
