package replay

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/warc"
)

// corpusFiles lists every WARC and ARC file of testdata: amber's own
// fixtures, the files other tools wrote and the deliberately damaged ones.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"cdxj", "others", "damaged"} {
		entries, err := os.ReadDir(filepath.Join("..", "testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			n := e.Name()
			for _, ext := range []string{".warc", ".warc.gz", ".arc", ".arc.gz"} {
				if strings.HasSuffix(n, ext) {
					files = append(files, filepath.Join("..", "testdata", dir, n))
				}
			}
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d corpus files", len(files))
	}
	return files
}

// TestCorpusIndexAndReplay: for every file of the corpus, damaged ones
// included, every index line amber writes splits into key, timestamp and
// JSON, reads back as itself, and points at its record (the record at its
// offset, read from there alone, has its URL and date); and amber replay,
// given the file alone, answers every indexed GET response with the
// archived status and the archived payload, byte for byte (id_ mode).
// (Revisits, whose payload may be in another file, are checked elsewhere.)
func TestCorpusIndexAndReplay(t *testing.T) {
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	files := corpusFiles(t)
	replayed := 0
	for _, f := range files {
		lines, _ := warc.IndexWARC(f) // damage is named; what could be read is indexed
		if len(lines) == 0 {
			continue
		}
		a, err := OpenWARC(f)
		if err != nil {
			t.Errorf("%s: %d lines indexed, but replay cannot open it: %v", f, len(lines), err)
			continue
		}
		srv := httptest.NewServer(NewHandler(a))
		// The payloads each (key, timestamp) may answer with: several
		// records can share both.
		type capture struct {
			status int
			body   []byte
		}
		answers := map[string][]capture{}
		var requests []warc.CDXJLine
		for _, l := range lines {
			s := l.String()
			parts := strings.SplitN(s, " ", 3)
			if len(parts) != 3 || strings.ContainsAny(parts[0], " \t\r\n") || len(parts[1]) != 14 || !strings.HasPrefix(parts[2], "{") {
				t.Errorf("%s: line does not split in key, timestamp and JSON: %q", f, s)
			}
			back, err := warc.ParseCDXJLine(s)
			if err != nil || back.String() != s {
				t.Errorf("%s: line %q reads back as %q, %v", f, s, back.String(), err)
			}
			if l.Length == 0 {
				continue // a record sharing its gzip member: no length of its own
			}
			rec, block := recordAt(t, f, l.Offset, l.Length)
			if u := strings.Trim(rec.Header.Get("WARC-Target-URI"), "<>"); u != l.URL || warc.CDXJTimestamp(rec.Header.Get("WARC-Date")) != l.Timestamp {
				t.Errorf("%s@%d: line of %s %s, record of %s %s", f, l.Offset, l.URL, l.Timestamp, u, rec.Header.Get("WARC-Date"))
			}
			if l.Status == "" || l.Mime == "warc/revisit" || l.Method != "" || strings.HasPrefix(l.Timestamp, "0000") {
				// (An undated record cannot be asked for by time.)
				continue
			}
			status, body := archivedPayload(t, block)
			if strconv.Itoa(status) != l.Status {
				t.Errorf("%s@%d: status %d in the record, %s in the line", f, l.Offset, status, l.Status)
			}
			k := l.Key + " " + l.Timestamp
			if len(answers[k]) == 0 {
				requests = append(requests, l)
			}
			answers[k] = append(answers[k], capture{status, body})
		}
		for _, l := range requests {
			resp, err := client.Get(srv.URL + "/" + l.Timestamp + "id_/" + l.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ok := slices.ContainsFunc(answers[l.Key+" "+l.Timestamp], func(c capture) bool {
				return c.status == resp.StatusCode && bytes.Equal(c.body, got)
			})
			if !ok {
				t.Errorf("%s@%d %s %s: replay answers %d with %d bytes, not the archived status %s and payload", f, l.Offset, l.URL, l.Timestamp, resp.StatusCode, len(got), l.Status)
			}
			replayed++
		}
		srv.Close()
		a.Close()
	}
	t.Logf("%d files, %d responses replayed", len(files), replayed)
	if replayed < 50 {
		t.Fatalf("only %d responses replayed", replayed)
	}
}

// recordAt reads the record at offset of file from those length bytes
// alone, as a replay tool does from an index line.
func recordAt(t *testing.T, file string, offset, length int64) (*warc.Record, []byte) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if length <= 0 {
		t.Fatalf("%s@%d: length %d", file, offset, length)
	}
	r, err := warc.OpenRecordAt(io.NewSectionReader(f, offset, length), offset)
	if err != nil {
		t.Fatalf("%s@%d: %v", file, offset, err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatalf("%s@%d: %v", file, offset, err)
	}
	block, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatalf("%s@%d: %v", file, offset, err)
	}
	return rec, block
}

// archivedPayload is the status and payload of an archived HTTP response:
// the body with its transfer encoding removed and its content encoding
// kept, or the stored bytes after the head when the head's framing does
// not fit them (a chunked head over a de-chunked body).
func archivedPayload(t *testing.T, block []byte) (int, []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(block))
	resp, err := http.ReadResponse(br, nil)
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
		resp, err = http.ReadResponse(br, nil) // past an interim response
	}
	if err != nil {
		t.Fatalf("archived response does not parse: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) && resp.ContentLength < 0 {
		return resp.StatusCode, body
	}
	if len(resp.TransferEncoding) > 0 && !warc.LooksChunked(rawBody(block)) {
		// A chunked head over a body stored de-chunked: served as stored.
		return resp.StatusCode, rawBody(block)
	}
	return resp.StatusCode, body // malformed chunks: what decodes
}

// rawBody is what follows the last HTTP head of an archived response.
func rawBody(block []byte) []byte {
	for {
		_, start := warc.HTTPHeadEnd(block)
		if start < 0 {
			return nil
		}
		rest := block[start:]
		if bytes.HasPrefix(block, []byte("HTTP/1.1 1")) && !bytes.HasPrefix(block, []byte("HTTP/1.1 101")) && bytes.HasPrefix(rest, []byte("HTTP/")) {
			block = rest
			continue
		}
		return rest
	}
}

// TestReplayPOST: a page's POSTs, archived by warcio.js, replay from their
// captures when the browser posts the same body again (a form and an XHR
// with a JSON body); a GET or another body of the same URL does not get
// them.
func TestReplayPOST(t *testing.T) {
	a, err := OpenWARC(filepath.Join("..", "testdata", "others", "warciojs-sha1-plain.warc"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(NewHandler(a))
	defer srv.Close()
	for _, tt := range []struct {
		method, path, ctype, body string
		status                    int
		want                      string
	}{
		{"POST", "/search", "application/x-www-form-urlencoded", "q=amber&", 200, "3 results for amber"},
		{"POST", "/api/items", "application/json", `{"query":"amber","page":1}`, 200, "found by POST"},
		{"POST", "/api/items", "application/json", `{"page":1,"query":"amber"}`, 200, "found by POST"}, // same query once flattened
		{"POST", "/search", "application/x-www-form-urlencoded", "q=other", 404, ""},
		{"GET", "/search", "", "", 404, ""},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+"/20261201100000id_/https://warcio.example"+tt.path, strings.NewReader(tt.body))
		if tt.ctype != "" {
			req.Header.Set("Content-Type", tt.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(got), tt.want) {
			t.Errorf("%s %s %q: %d %q, want %d with %q", tt.method, tt.path, tt.body, resp.StatusCode, got, tt.status, tt.want)
		}
	}
}
