package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/warc"
)

// TestArchiveBrowser archives the scripted article with the amber program
// in browser mode, from a job file: every script-built part is archived as
// the server wrote it, the screenshot is a 1280×800 PNG, pages.jsonl has
// the rendered text, nothing of Chromium's own traffic is archived and
// verify is clean.
func TestArchiveBrowser(t *testing.T) {
	chromium := testsite.Chromium(t)
	site := testsite.NewScripted()
	defer site.Close()
	dir := filepath.Join(t.TempDir(), "coll")
	job := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(job, []byte("browser: true\npage_text: true\nchromium: "+chromium+"\nignore_robots: true\nseeds: ["+site.URL(testsite.ScriptedArticle)+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := amberJSON(t, "archive", "-q", "--json", "--job", job, "-o", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var sum archiveSummary
	decodeOne(t, stdout, &sum)
	files, _ := filepath.Glob(filepath.Join(dir, warc.ArchiveDir, "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC files")
	}
	got := map[string][]byte{}
	shots, infos := 0, 0
	for _, f := range files {
		eachRecord(t, f, func(h warc.Header, block []byte) {
			u := h.Get("WARC-Target-URI")
			switch h.Get("WARC-Type") {
			case "warcinfo":
				infos++
				checkBrowserInfo(t, string(block))
			case "response":
				got[strings.TrimPrefix(u, site.URL(""))] = block
			case "resource":
				if u != crawl.ScreenshotPrefix+site.URL(testsite.ScriptedArticle) {
					return
				}
				shots++
				cfg, err := png.DecodeConfig(bytes.NewReader(block))
				if err != nil || cfg.Width != 1280 || cfg.Height != 800 || h.Get("Content-Type") != "image/png" {
					t.Errorf("screenshot: %v, %d×%d, %s", err, cfg.Width, cfg.Height, h.Get("Content-Type"))
				}
			}
			if typ := h.Get("WARC-Type"); (typ == "request" || typ == "response") && !strings.HasPrefix(u, site.URL("")) {
				t.Errorf("%s record for %s", typ, u)
			}
		})
	}
	for _, p := range append([]string{testsite.ScriptedArticle}, testsite.ScriptedParts...) {
		b, ok := got[p]
		if !ok {
			t.Errorf("%s not archived", p)
		} else if !site.OnWire(b) {
			t.Errorf("%s: the block is not what the server wrote", p)
		}
	}
	if shots != 1 || infos != len(files) {
		t.Errorf("%d screenshots and %d warcinfo records in %d files, want 1 and one a file", shots, infos, len(files))
	}
	pages, err := warc.ReadPages(dir)
	if err != nil || len(pages) != 1 || !strings.Contains(pages[0].Text, testsite.ScriptedText) {
		t.Errorf("pages.jsonl: %v %+v, want the article with its rendered text", err, pages)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", pageTextFile)); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", pageTextFile, err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"verify", dir}, &out, &errb); code != exitOK {
		t.Errorf("verify: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// TestArchiveBrowserBadInput: no Chromium, bad numbers and browser
// settings without --browser are usage errors, before anything is
// fetched.
func TestArchiveBrowserBadInput(t *testing.T) {
	site := testsite.NewScripted()
	defer site.Close()
	u := site.URL(testsite.ScriptedArticle)
	empty := t.TempDir()
	for _, tc := range []struct {
		path string // PATH, if set
		args []string
		want string
	}{
		{"", []string{"--browser", "--chromium", filepath.Join(empty, "none")}, "--chromium: browser: Chromium not found"},
		{"", []string{"--browser", "--browsers", "0"}, "--browsers must be at least 1"},
		{"", []string{"--browser", "--page-timeout", "0s"}, "--page-timeout must be positive"},
		{"", []string{"--page-text"}, "need --browser"},
		{empty, []string{"--browser"}, "apt-get install chromium"},
	} {
		dir := filepath.Join(t.TempDir(), "coll")
		if tc.path != "" {
			t.Setenv("PATH", tc.path)
		}
		var stdout, errb bytes.Buffer
		code := run(context.Background(), append(append([]string{"archive", "-o", dir}, tc.args...), u), &stdout, &errb)
		stderr := errb.String()
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line with %q", tc.args, code, stderr, exitUsage, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, warc.ArchiveDir)); err == nil {
			t.Errorf("%v: the collection was created", tc.args)
		}
	}
}

// TestArchiveCACert: an HTTPS origin with a private root is archived
// with --ca-cert, in HTTP mode and with --browser, and not without it;
// a file with no certificate is a usage error.
func TestArchiveCACert(t *testing.T) {
	site := testsite.NewScriptedTLS()
	defer site.Close()
	u := site.URL(testsite.ScriptedArticle)
	pemFile := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: site.Certificate.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	archive := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"archive", "-q", "--ignore-robots", "-o", filepath.Join(t.TempDir(), "coll")}, append(args, u)...), &out, &errb)
		return code, errb.String()
	}
	if code, stderr := archive(); code == exitOK || !strings.Contains(stderr, "certificate") {
		t.Errorf("without --ca-cert: exit %d, %q; want a certificate failure", code, stderr)
	}
	if code, stderr := archive("--ca-cert", pemFile); code != exitOK {
		t.Errorf("--ca-cert: exit %d, %s", code, stderr)
	}
	notPEM := filepath.Join(t.TempDir(), "root.der")
	os.WriteFile(notPEM, site.Certificate.Raw, 0o644)
	if code, stderr := archive("--ca-cert", notPEM); code != exitUsage || !strings.Contains(stderr, "no PEM certificate") {
		t.Errorf("--ca-cert DER: exit %d, %q", code, stderr)
	}
	if code, stderr := archive("--ca-cert", filepath.Join(t.TempDir(), "missing.pem")); code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("--ca-cert missing: exit %d, %q", code, stderr)
	}
	chromium := testsite.Chromium(t)
	if code, stderr := archive("--ca-cert", pemFile, "--browser", "--chromium", chromium); code != exitOK {
		t.Errorf("--ca-cert --browser: exit %d, %s", code, stderr)
	}
}

// checkBrowserInfo: a browser run's warcinfo names Chromium's version (as
// `chromium --version` gives it), the User-Agent it sent, and the browser
// settings, as application/warc-fields lines.
func checkBrowserInfo(t *testing.T, block string) {
	t.Helper()
	fields := map[string]string{}
	for _, line := range strings.Split(block, "\r\n") {
		if name, value, ok := strings.Cut(line, ": "); ok {
			fields[name] = value
		}
	}
	out, err := exec.Command(testsite.Chromium(t), "--version").Output()
	if err != nil {
		t.Fatalf("chromium --version: %v", err)
	}
	num := regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`).FindString(string(out))
	if num == "" || fields["browser"] != "Chromium "+num {
		t.Errorf("warcinfo browser: %q, want %q (chromium --version: %q)", fields["browser"], "Chromium "+num, out)
	}
	if ua := fields["browser-user-agent"]; !strings.Contains(ua, "Chrome/") || !strings.HasPrefix(ua, "Mozilla/5.0") {
		t.Errorf("warcinfo browser-user-agent: %q, want Chromium's", ua)
	}
	if s := fields["amber-browser"]; !strings.Contains(s, "browsers=1 page-timeout=1m0s page-text=true") {
		t.Errorf("warcinfo amber-browser: %q", s)
	}
	if fields["format"] != "WARC File Format 1.1" || fields["software"] == "" {
		t.Errorf("warcinfo lost its standard fields: %q", block)
	}
}
