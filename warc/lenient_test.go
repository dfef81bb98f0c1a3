package warc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestOpenRecordsNotArchive: what is neither WARC nor ARC is one typed
// error naming what it starts with; a WARC file damaged at its start, or
// a gzip stream that does not decompress, is left to the reader.
func TestOpenRecordsNotArchive(t *testing.T) {
	good := rawRecord("1", "resource", "abc")
	tests := []struct {
		name string
		data []byte
		want string // "" for no error
	}{
		{"text", []byte("hello world\nmore\n"), `starts with "hello world…"`},
		{"one line", []byte("hello world\n"), `starts with "hello world"`},
		{"empty", nil, "an empty file"},
		{"zeros", make([]byte, 100), "starts with zero bytes"},
		{"binary", []byte{0x8f, 0x1c, 0xff, 0, 1, 2}, "binary data, starts with 8f 1c ff 00 01 02"},
		{"gzip of text", gzipMember(t, []byte("hello\n")), `gzip-compressed, starts with "hello"`},
		{"zip", []byte("PK\x03\x04rest"), "a zip file"},
		{"WARC", good, ""},
		{"WARC cut short", []byte("WAR"), ""},
		{"garbage, then a WARC record", append([]byte("junk\r\n"), good...), ""},
		{"gzip garbage member, then a record", append(gzipMember(t, []byte("junk")), gzipMember(t, good)...), ""},
		{"damaged gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff}, ""},
		{"ARC", []byte("filedesc://x.arc 0.0.0.0 19960923142103 text/plain 0\n"), ""},
	}
	for _, tt := range tests {
		_, err := OpenRecords(bytes.NewReader(tt.data))
		var na *NotArchiveError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.As(err, &na) || !errors.Is(err, ErrNotArchive)):
			t.Errorf("%s: err = %v, want a *NotArchiveError", tt.name, err)
		case tt.want != "":
			na.Path = "f"
			if msg := na.Error(); !strings.HasPrefix(msg, "f: not a WARC, ARC or WACZ file (") || !strings.Contains(msg, tt.want) {
				t.Errorf("%s: %q, want it to say %q", tt.name, msg, tt.want)
			}
		}
	}
}
