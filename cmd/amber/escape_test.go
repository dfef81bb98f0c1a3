package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindingsEscapeControls: a CR in a crafted target URI cannot forge
// or hide a line of verify's report: control characters come out as \xNN.
func TestFindingsEscapeControls(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cr.warc")
	rec := "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n" +
		"WARC-Date: 2026-12-01T10:00:00Z\r\nWARC-Target-URI: http://example.com/\ramber: all is well\x1b[2K\r\n" +
		"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n"
	if err := os.WriteFile(p, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify", "-q", p}, io.Discard, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %q", code, stderr.String())
	}
	out := stderr.String()
	if strings.ContainsAny(out, "\r\x1b") || !strings.Contains(out, `http://example.com/\x0damber: all is well\x1b[2K`) {
		t.Errorf("stderr %q: control characters not escaped", out)
	}
}
