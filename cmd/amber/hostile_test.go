package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/amber-archiver/amber/warc"
)

func TestSafeLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://example.org/a: not found", "http://example.org/a: not found"},
		{"café « naïve »", "café « naïve »"},
		{"a\r\namber: forged", `a\r\namber: forged`},
		{"tab\there\x1b[31mred\x00", `tab\there\x1b[31mred\x00`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`},
	} {
		if got := safeLine(c.in); got != c.want {
			t.Errorf("safeLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}

	long := "http://example.org/" + strings.Repeat("x", 1<<20) + "/end.html"
	got := safeLine("amber: " + long + ": skipped")
	if len(got) > maxWord+64 || !strings.HasPrefix(got, "amber: http://example.org/xxx") || !strings.HasSuffix(got, "x/end.html: skipped") || !strings.Contains(got, "…") {
		t.Errorf("a 1 MiB URL gives %d bytes: %.300q", len(got), got)
	}
	words := strings.Repeat("word ", 1<<18)
	if got := safeLine(words); len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("a 1 MiB message of words gives %d bytes", len(got))
	}
	ctl := strings.Repeat("\n", 1<<16)
	if got := safeLine(ctl); strings.ContainsAny(got, "\r\n") || len(got) > maxMessage+maxWord {
		t.Errorf("64 Ki newlines give %d bytes", len(got))
	}
	// Eliding never cuts a character in two.
	wide := strings.Repeat("é", 1000)
	if got := safeLine(wide); !utf8.ValidString(got) || len(got) > maxWord+64 {
		t.Errorf("%d bytes, valid UTF-8 %t", len(got), utf8.ValidString(got))
	}
}

func FuzzSafeLine(f *testing.F) {
	f.Add("a\r\nb")
	f.Add(strings.Repeat("é", 300) + " x")
	f.Fuzz(func(t *testing.T, s string) {
		got := safeLine(s)
		if strings.ContainsAny(got, "\r\n\x1b") {
			t.Fatalf("%q → %q", s, got)
		}
		if len(got) > maxMessage+2*maxWord {
			t.Fatalf("%d bytes", len(got))
		}
	})
}

// Hostile values reach stderr as one bounded line each: a seed holding
// CR LF, a redirect to a 1 MiB data: URL, a redirect to a 1 MiB URL; the
// run says which seeds failed with the failed-seed status, and what it
// wrote verifies.
func TestHostileMessages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	huge := strings.Repeat("A", 1<<20)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				switch req.URL.Path {
				case "/":
					body := `<html><head><title>t</title><link rel=icon href="/head.png"></head><body><img src="/head.png"></body></html>`
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				case "/head.png":
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Big: %s%s\r\n\r\n", huge, huge)
				case "/data":
					fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: data:text/plain,%s\r\nContent-Length: 0\r\n\r\n", huge[:200<<10])
				case "/long":
					fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: /%s\r\nContent-Length: 0\r\n\r\n", huge[:200<<10])
				default:
					fmt.Fprintf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
				}
			}()
		}
	}()

	dir := filepath.Join(t.TempDir(), "coll")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"archive", "-q", "--retries", "0", "-o", dir,
		base + "/", base + "/data", base + "/long", base + "/a\r\namber: forged"}, &stdout, &stderr)
	if code != exitDamage {
		t.Errorf("exit %d, want %d (seeds failed); stderr:\n%.2000s", code, exitDamage, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	for _, l := range lines {
		if len(l) > maxMessage+len("…") {
			t.Errorf("a stderr line of %d bytes: %.200q", len(l), l)
		}
		if strings.HasPrefix(l, "amber: forged") {
			t.Errorf("forged line: %q", l)
		}
	}
	want := []string{"/head.png: capture: response head too large", "/data: redirect to an unsupported scheme \"data\"", `/a\r\namber: forged`, "URL longer than the maximum length"}
	for _, w := range want {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d stderr lines with %q, want 1:\n%.3000s", n, w, stderr.String())
		}
	}
	if len(lines) != len(want) {
		t.Errorf("%d stderr lines, want %d:\n%.3000s", len(lines), len(want), stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"verify", dir}, &stdout, &stderr); code != exitOK {
		t.Errorf("verify: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// The first interrupt gives the fetches in flight --stop-grace and then
// cuts them: a body dripping a byte at a time does not hold the run. The
// run exits 130, what it wrote verifies, and the same command resumes
// and archives the cut URL whole.
func TestInterruptCutsSlowFetch(t *testing.T) {
	body := strings.Repeat("z", 200000)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	started := make(chan struct{})
	var slowOnce, dripped sync.Once
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				switch req.URL.Path {
				case "/":
					page := `<html><head><title>slow</title><link rel=icon href="/slow.bin"></head><body><img src="/slow.bin"></body></html>`
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(page), page)
				case "/slow.bin":
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", len(body))
					first := false
					dripped.Do(func() { first = true })
					if !first {
						io.WriteString(c, body)
						return
					}
					slowOnce.Do(func() { close(started) })
					for i := range body {
						if _, err := c.Write([]byte{body[i]}); err != nil {
							return
						}
						time.Sleep(20 * time.Millisecond)
					}
				default:
					fmt.Fprintf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
				}
			}()
		}
	}()
	url := "http://" + ln.Addr().String() + "/"
	dir := filepath.Join(t.TempDir(), "coll")
	cmd := amberProcess(t, "archive", "-q", "--stop-grace", "300ms", "-o", dir, url)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the slow fetch never started")
	}
	cmd.Process.Signal(os.Interrupt)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the interrupted run did not end") // a hang, not a timing assertion
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d after one interrupt, want %d: %s", code, exitInterrupted, cmd.Stdout)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify", dir}, &stdout, &stderr); code != exitOK {
		t.Errorf("verify after the interrupt: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if code := run(context.Background(), []string{"archive", "-q", "-o", dir, url}, &stdout, &stderr); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr.String())
	}
	if code := run(context.Background(), []string{"verify", dir}, &stdout, &stderr); code != exitOK {
		t.Errorf("verify after the resume: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	whole := 0
	for _, r := range readCollectionResponses(t, dir) {
		if strings.HasSuffix(r.uri, "/slow.bin") {
			if r.truncated != "" || !strings.HasSuffix(r.block, body) {
				t.Errorf("slow.bin archived cut: WARC-Truncated %q, %d bytes", r.truncated, len(r.block))
			}
			whole++
		}
	}
	if whole != 1 {
		t.Errorf("slow.bin archived %d times, want once, whole", whole)
	}
}

type responseRecord struct{ uri, truncated, block string }

// readCollectionResponses reads the response records of a collection with
// amber's WARC reader.
func readCollectionResponses(t *testing.T, dir string) []responseRecord {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*.warc.gz"))
	var out []responseRecord
	for _, f := range files {
		eachRecord(t, f, func(h warc.Header, block []byte) {
			if h.Get("WARC-Type") == "response" {
				out = append(out, responseRecord{h.Get("WARC-Target-URI"), h.Get("WARC-Truncated"), string(block)})
			}
		})
	}
	return out
}

// A header line that never ends costs the archive run a bounded head, not
// gigabytes: the seed fails with "response head too large", the spool is
// empty, the collection verifies. Peak RSS of the run (a child process)
// is measured, with a bound far under what the server offers.
func TestEndlessHeaderPeakRSS(t *testing.T) {
	const offered = 1 << 30
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Endless: ")
				chunk := []byte(strings.Repeat("a", 64<<10))
				for n := 0; n < offered; n += len(chunk) {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}()
		}
	}()
	dir := filepath.Join(t.TempDir(), "coll")
	cmd, peak := peakProcess(t, "archive", "-q", "--retries", "0", "-o", dir, "http://"+ln.Addr().String()+"/")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end")
	}
	out := fmt.Sprint(cmd.Stdout)
	if code := cmd.ProcessState.ExitCode(); code != exitDamage || !strings.Contains(out, "response head too large") {
		t.Errorf("exit %d, want %d with the head error: %s", code, exitDamage, out)
	}
	rss := peak()
	t.Logf("peak RSS %d MB (the server offered a %d MB header line)", rss>>20, offered>>20)
	if rss > 400<<20 {
		t.Errorf("peak RSS %d MB", rss>>20)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "state", "spool")); len(left) > 0 {
		t.Errorf("%d spool files left", len(left))
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify", dir}, &stdout, &stderr); code != exitOK {
		t.Errorf("verify: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
