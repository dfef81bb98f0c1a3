package warc

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestWriterWorker writes a file with a worker id and reads it back: the
// id ends the file name and is in the warcinfo record.
func TestWriterWorker(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, Worker: "crawler-3.east_1"})
	if err != nil {
		t.Fatal(err)
	}
	b := w.NewRecord(TypeResource, time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC))
	b.AddField("WARC-Target-URI", "http://example.com/")
	b.Write([]byte("x"))
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) != 1 || !regexp.MustCompile(`^amber-[0-9]{14}-00001-crawler-3\.east_1\.warc\.gz$`).MatchString(files[0]) {
		t.Fatalf("files %v", files)
	}
	f, err := os.Open(filepath.Join(dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	block, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Header.Get("WARC-Type") != TypeWarcinfo || !strings.Contains(string(block), "amber-worker: crawler-3.east_1\r\n") {
		t.Fatalf("warcinfo %q", block)
	}
}

func TestCheckWorkerID(t *testing.T) {
	for _, id := range []string{"a", "host-4242", "w.1_B-2", strings.Repeat("x", MaxWorkerIDLen)} {
		if err := CheckWorkerID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", "a b", "a/b", "../x", ".hidden", "-flag", "é", "a\nb", strings.Repeat("x", MaxWorkerIDLen+1)} {
		err := CheckWorkerID(id)
		var we *WorkerIDError
		if !errors.As(err, &we) || we.ID != id || strings.Contains(err.Error(), "\n") && !strings.Contains(id, "\n") {
			t.Errorf("%q: %v", id, err)
		}
		if _, err := NewWriter(WriterOptions{Dir: t.TempDir(), Worker: id}); id != "" && !errors.As(err, &we) { // "" is the default
			t.Errorf("NewWriter with worker %q: %v", id, err)
		}
	}
}

func TestDefaultWorkerID(t *testing.T) {
	for host, want := range map[string]string{
		"news-1.example.org":     "news-1.example.org-4242",
		"":                       "localhost-4242",
		"-odd host/name":         "odd_host_name-4242",
		strings.Repeat("h", 300): strings.Repeat("h", MaxWorkerIDLen-5) + "-4242",
	} {
		got := DefaultWorkerID(host, 4242)
		if got != want || CheckWorkerID(got) != nil {
			t.Errorf("DefaultWorkerID(%q) = %q, want %q", host, got, want)
		}
	}
}
