package warc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// onlyReader hides every method of a reader but Read: a stream, with no
// second view of the file.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// readResync reads every record through OpenRecords, returning the ids read
// whole and the framing errors, in file order.
func readResync(t *testing.T, r io.Reader) (ids []string, errs []*FormatError) {
	t.Helper()
	rr, err := OpenRecords(r)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		rec, err := rr.Next()
		if err == io.EOF {
			return ids, errs
		}
		if err == nil {
			if _, err = io.Copy(io.Discard, rec.Body); err == nil {
				err = rr.Finish()
			}
			if err == nil {
				ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(rec.Header.Get("WARC-Record-ID"), "<urn:uuid:"), ">"))
				continue
			}
			// A body cut short says io.ErrUnexpectedEOF; Finish, why.
			if err2 := rr.Finish(); err2 != err && !errors.Is(err2, err) {
				t.Fatalf("Body said %v, Finish %v", err, err2)
			} else {
				err = err2
			}
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("%T %v", err, err)
		}
		errs = append(errs, fe)
		if fe.Fatal {
			return ids, errs
		}
	}
	t.Fatal("no end")
	return
}

// TestResyncPlain: in an uncompressed file, a damaged record is skipped
// with one non-fatal error naming where the next record starts, and every
// record after it is read: the reader resynchronises at the next version
// line followed by a parseable header.
func TestResyncPlain(t *testing.T) {
	rec := func(id, block string) []byte { return rawRecord(id, "resource", block) }
	big := strings.Repeat("x", 300<<10) // more than the reader's buffer
	withCL := func(id, block string, cl string) []byte {
		return bytes.Replace(rec(id, block), []byte(fmt.Sprintf("Content-Length: %d\r\n", len(block))), []byte("Content-Length: "+cl+"\r\n"), 1)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	a, c := rec("a", "first"), rec("c", "third")
	tests := []struct {
		name    string
		file    []byte
		bad     int64 // offset of the damage
		msg     string
		stream  bool // also found without a second view of the file
		wantIDs string
		// streamIDs, if set, are what is read without a second view of
		// the file: a large block runs over what follows it.
		streamIDs string
	}{
		{"Content-Length too short", cat(a, withCL("b", "second block", "6"), c), int64(len(a)), "not CRLF CRLF", true, "a c", ""},
		{"Content-Length too long", cat(a, withCL("b", "second", "40"), c), int64(len(a)), "not CRLF CRLF", true, "a c", ""},
		{"Content-Length past the end of the file", cat(a, withCL("b", "second", "100000"), c), int64(len(a)), "file ends", true, "a c", ""},
		{"Content-Length not a number", cat(a, withCL("b", "second", "lots"), c), int64(len(a)), `invalid Content-Length "lots"`, true, "a c", ""},
		{"no Content-Length", cat(a, bytes.Replace(rec("b", "second"), []byte("Content-Length"), []byte("Content-Lenght"), 1), c), int64(len(a)), "missing Content-Length", true, "a c", ""},
		{"garbage between records", cat(a, []byte("<html>garbage\r\nWARC/1.1 not quite\r\n\r\n"), c), int64(len(a)), "expected a WARC version line", true, "a c", ""},
		{"a version line without a header", cat(a, []byte("junk\r\nWARC/1.0\r\nnot a field\r\n\r\n"), c), int64(len(a)), "expected a WARC version line", true, "a c", ""},
		{"truncated record in the middle", cat(a, rec("b", "second block")[:bytes.Index(rec("b", ""), []byte("WARC-Date"))], c), int64(len(a)), "WARC header cut short", true, "a c", ""},
		{"truncated block in the middle", cat(a, rec("b", "second block")[:len(rec("b", ""))+3], c), int64(len(a)), "not CRLF CRLF", true, "a c", ""},
		{"large block, Content-Length too long", cat(a, withCL("b", big, fmt.Sprint(len(big)+50)), c), int64(len(a)), "not CRLF CRLF", true, "a c", "a"},
		{"large block cut short", cat(a, withCL("b", "short", fmt.Sprint(len(big))), c, rec("d", "fourth")), int64(len(a)), "", false, "a c d", ""},
		{"garbage to the end", cat(a, bytes.Repeat([]byte("garbage line\n"), 1000)), int64(len(a)), "no record after it", true, "a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				var r io.Reader = bytes.NewReader(tt.file)
				if stream {
					r = onlyReader{r}
				}
				ids, errs := readResync(t, r)
				if stream && !tt.stream {
					continue // only with a second view of the file
				}
				want := tt.wantIDs
				if stream && tt.streamIDs != "" {
					want = tt.streamIDs
				}
				if got := strings.Join(ids, " "); got != want {
					t.Errorf("stream %v: records %q, want %q (errors %v)", stream, got, want, errs)
				}
				if len(errs) != 1 || errs[0].Offset != tt.bad || !strings.Contains(errs[0].Msg, tt.msg) {
					t.Fatalf("stream %v: errors %v, want one at %d saying %q", stream, errs, tt.bad, tt.msg)
				}
				if fe := errs[0]; fe.Next > 0 && !bytes.HasPrefix(tt.file[fe.Next:], []byte("WARC/1.")) {
					t.Errorf("resumed at %d, not at a version line", fe.Next)
				}
			}
		})
	}
}
