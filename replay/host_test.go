package replay

import (
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/internal/testsite"
)

// rawGet sends a request to addr with the given Host header, over a
// plain connection so the header is exactly what an attacker's page (after
// DNS rebinding) would send, and returns the status line and body.
func rawGet(t *testing.T, addr, host, path string) (status, body string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(string(b), "\r\n\r\n")
	status, _, _ = strings.Cut(head, "\r\n")
	return status, rest
}

// TestHostCheck: only the host names the server serves on are answered;
// a rebound name gets 403 and no byte of the archive.
func TestHostCheck(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	dir := filepath.Join(t.TempDir(), "coll")
	t0 := captureSite(t, site, dir)
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h := NewHandler(a)
	h.Hosts = []string{"Archive.LAN"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	article := "/" + t0.Format(tsLayout) + "mp_/" + site.URL(testsite.Article)
	for _, tt := range []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:" + port, true},
		{"localhost:" + port, true},
		{"LOCALHOST:" + port, true},
		{"localhost", true},
		{"[::1]:" + port, true},
		{"archive.lan:" + port, true},
		{"archive.lan.:8080", true},
		{"evil.example:" + port, false},
		{"127.0.0.1.evil.example:" + port, false},
		{"localhost.evil.example", false},
		{"", false},
		{"[::2]:" + port, false},
	} {
		for _, path := range []string{"/", article} {
			status, body := rawGet(t, addr, tt.host, path)
			if tt.ok {
				if !strings.Contains(status, " 200 ") {
					t.Errorf("Host %q %s: %s, want 200", tt.host, path, status)
				}
				continue
			}
			if !strings.Contains(status, " 403 ") {
				t.Errorf("Host %q %s: %s, want 403", tt.host, path, status)
			}
			if strings.Contains(body, testsite.Headline) || len(body) > 200 {
				t.Errorf("Host %q %s: answered with %d bytes: %q", tt.host, path, len(body), body)
			}
		}
	}
}
