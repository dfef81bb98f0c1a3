package verify

import (
	"context"
	"crypto/sha1"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// oddHeads writes, with amber's own writer, what hostile servers made amber
// archive: a response with 100,000 header lines (chunked), and a request
// whose head is ~7 MB of cookies. It returns the WARC file's path. The
// response's payload digest is taken over digested, its body if "".
func oddHeads(t *testing.T, dir, digested string) string {
	t.Helper()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, SpoolDir: t.TempDir(), Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var head strings.Builder
	head.WriteString("HTTP/1.1 200 OK\r\n")
	for i := range 100_000 {
		fmt.Fprintf(&head, "X-Filler-%d: %d\r\n", i, i)
	}
	head.WriteString("Content-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
	body := "<html>the end of a long head</html>"
	resp := w.NewRecord(warc.TypeResponse, date)
	resp.AddField("WARC-Target-URI", "http://example.com/long-head")
	resp.AddField("Content-Type", "application/http;msgtype=response")
	if digested == "" {
		digested = body
	}
	sum := sha1.Sum([]byte(digested))
	resp.SetPayloadDigest(sum[:])
	fmt.Fprintf(resp, "%s%x\r\n%s\r\n0\r\n\r\n", head.String(), len(body), body)

	req := w.NewRecord(warc.TypeRequest, date)
	req.AddField("WARC-Target-URI", "http://example.com/long-head")
	req.AddField("Content-Type", "application/http;msgtype=request")
	empty := sha1.Sum(nil)
	req.SetPayloadDigest(empty[:])
	var cookies strings.Builder
	for i := 0; cookies.Len() < 7<<20; i++ {
		fmt.Fprintf(&cookies, "c%d=%s; ", i, strings.Repeat("v", 4000))
	}
	fmt.Fprintf(req, "GET /long-head HTTP/1.1\r\nHost: example.com\r\nCookie: %s\r\n\r\n", cookies.String())
	if _, err := w.Write(resp, req); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, w.Files()[0])
}

// TestOddHeadsAccepted: what amber writes, amber's verify accepts. Heads
// far larger than any HTTP tool allows are warnings naming them, not
// damage, while their digests and framing are right; a flipped byte in
// the body after such a head is still found.
func TestOddHeadsAccepted(t *testing.T) {
	p := oddHeads(t, t.TempDir(), "")
	rep := verifyFile(t, p)
	fs := rep.Files[0]
	if fs.Errors != 0 || fs.Records != 3 {
		t.Fatalf("%d records, %d errors, want 3 and 0:\n%s", fs.Records, fs.Errors, dump(fs.Findings))
	}
	var heads []string
	for _, f := range fs.Findings {
		if f.Severity == Warning && strings.Contains(f.Message, "HTTP head") {
			heads = append(heads, f.Message)
		}
	}
	if len(heads) != 2 || !strings.Contains(heads[0], "100003 lines") || !strings.Contains(heads[1], "3 lines") {
		t.Errorf("warnings about the heads: %q\nall findings:\n%s", heads, dump(fs.Findings))
	}

	// The index finds status and type after the 100,000 lines.
	lines, err := warc.IndexWARC(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].Status != "200" || lines[0].Mime != "text/html" {
		t.Errorf("index lines %+v, want the response with status 200 and mime text/html", lines)
	}

	// A body that is not what its digest says, after such a head: damage.
	bad := oddHeads(t, t.TempDir(), "<html>the end of a long head</html>!")
	rep = verifyFile(t, bad)
	if fs := rep.Files[0]; fs.Errors != 1 || !strings.Contains(dump(fs.Findings), "payload digest mismatch") {
		t.Errorf("a wrong payload digest after a long head: %d errors:\n%s", fs.Errors, dump(fs.Findings))
	}
}

// TestLongFieldAccepted: a WARC header field longer than the reader's line
// buffer (a 200 KB target URI, which a hostile page's link can make) is a
// warning naming it, and the record is kept by repair and indexed.
func TestLongFieldAccepted(t *testing.T) {
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	uri := "http://example.com/?q=" + strings.Repeat("a", 200<<10)
	b := w.NewRecord(warc.TypeResource, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	b.AddField("WARC-Target-URI", uri)
	b.AddField("Content-Type", "text/plain")
	b.Write([]byte("hello"))
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, w.Files()[0])
	rep := verifyFile(t, p)
	fs := rep.Files[0]
	if fs.Errors != 0 || fs.Warnings != 1 || fs.Records != 2 || !strings.Contains(fs.Findings[0].Message, "field WARC-Target-URI is 204839 bytes long") {
		t.Errorf("%d records, %d errors, %d warnings:\n%s", fs.Records, fs.Errors, fs.Warnings, dump(fs.Findings))
	}
	lines, err := warc.IndexWARC(p)
	if err != nil || len(lines) != 1 || lines[0].URL != uri {
		t.Errorf("index: %d lines, %v", len(lines), err)
	}
	out := filepath.Join(dir, "repaired.warc.gz")
	r, err := warc.Repair(context.Background(), p, out)
	if err != nil || r.Records != 2 || r.Lost() {
		t.Errorf("repair: %+v, %v", r, err)
	}
}
