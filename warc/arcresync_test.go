package warc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestARCResyncPlain: in a plain ARC file read through OpenRecords, a
// damaged record is skipped with one non-fatal error and the reader goes
// on at the next header line.
func TestARCResyncPlain(t *testing.T) {
	plain, offs := buildARC(t, 1, false, arcV1)
	// offs[0]: the version block; offs[i]: record i-1 of arcV1.
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	setLength := func(rec []byte, length string) []byte {
		line, rest, _ := bytes.Cut(rec, []byte("\n"))
		i := bytes.LastIndexByte(line, ' ')
		return cat(line[:i+1], []byte(length), []byte("\n"), rest)
	}
	rec := func(i int) []byte {
		end := int64(len(plain))
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		return plain[offs[i]:end]
	}
	tests := []struct {
		name string
		file []byte
		bad  int64
		msg  string
		urls string // read whole
	}{
		{"garbage between records", cat(plain[:offs[2]], []byte("<html>junk</html>\n"), plain[offs[2]:]), offs[2], "not 5 or 10", "http://example.com/ dns:example.com http://example.com/a%20b.html http://example.com/empty"},
		{"length too long", cat(plain[:offs[1]], setLength(rec(1), "120"), plain[offs[2]:]), offs[1], "wrong length?", "dns:example.com http://example.com/a%20b.html http://example.com/empty"},
		{"length too short", cat(plain[:offs[1]], setLength(rec(1), "40"), plain[offs[2]:]), offs[1], "wrong length?", "dns:example.com http://example.com/a%20b.html http://example.com/empty"},
		{"garbage to the end", cat(plain[:offs[2]], bytes.Repeat([]byte("junk line\n"), 1000)), offs[2], "no record after it", "http://example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, err := OpenRecords(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var urls []string
			var errs []*FormatError
			for range 100 {
				rec, err := rr.Next()
				if err == io.EOF {
					break
				}
				if err == nil {
					if _, err = io.Copy(io.Discard, rec.Body); err == nil {
						err = rr.Finish()
					}
					if err == nil {
						if rec.Header.Get("WARC-Type") != "warcinfo" {
							urls = append(urls, rec.Header.Get("WARC-Target-URI"))
						}
						continue
					}
				}
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("%T %v", err, err)
				}
				errs = append(errs, fe)
				if fe.Fatal {
					break
				}
			}
			if got := strings.Join(urls, " "); got != tt.urls {
				t.Errorf("records %q, want %q", got, tt.urls)
			}
			if len(errs) != 1 || errs[0].Offset != tt.bad || !strings.Contains(errs[0].Msg, tt.msg) {
				t.Fatalf("errors %v, want one at %d saying %q", errs, tt.bad, tt.msg)
			}
		})
	}
}
