package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
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
					body := `<html><head><title>t</title></head><body><img src="/head.png"></body></html>`
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
	want := []string{"/head.png: crawl: response head too large", "/data: redirect to an unsupported scheme \"data\"", `/a\r\namber: forged`, "URL longer than the maximum length"}
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
