package replay

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Memory is measured in a child process (this test binary, re-run with
// AMBER_REPLAY_MEMCHILD set) so its peak RSS is that of replay alone.
const memChildEnv = "AMBER_REPLAY_MEMCHILD"

// maxPeakRSS is the bound on a child's peak resident memory: the ~150 MB
// the crawl also stays under (what was measured is in the test logs;
// 80-90 MB). The race detector multiplies memory: under it the bound is
// looser, still far below what an unbounded rewrite takes (1.9 GB).
func maxPeakRSS() int64 {
	if raceEnabled {
		return 600 << 20
	}
	return 150 << 20
}

// runMemChild runs test (a Test function of this file) in a child process
// with arg, and returns its peak RSS in bytes and its output.
func runMemChild(t *testing.T, test, arg string) (int64, string) {
	t.Helper()

	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), memChildEnv+"="+arg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", test, err, out)
	}
	// The child's own peak, which it prints (see printPeak): the rusage of
	// a child started with vfork, as os/exec does, carries the test
	// binary's own peak into it.
	if m := regexp.MustCompile(`child VmHWM: (\d+) kB`).FindSubmatch(out); m != nil {
		kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return kb << 10, string(out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this system")
	}
	return ru.Maxrss << 10, string(out) // Linux: kilobytes; an upper bound
}

// printPeak, deferred by a child test, prints the process's peak resident
// memory for runMemChild.
func printPeak(t *testing.T) {
	t.Cleanup(func() {
		status, _ := os.ReadFile("/proc/self/status")
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				fmt.Printf("child VmHWM: %s kB\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			}
		}
	})
}

// gzipBomb returns a gzip stream of n MiB of HTML, made of one member
// repeated: a few KB on disk.
func gzipBomb(t testing.TB, mib int) []byte {
	var chunk bytes.Buffer
	chunk.WriteString(strings.Repeat(`<p><a href="/x">x</a> <img src="i.png"></p>`+"\n", (1<<20)/40))
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(chunk.Bytes()[:1<<20])
	zw.Close()
	return bytes.Repeat(member.Bytes(), mib)
}

// TestMemoryGzipBombPage serves an archived page (and a style sheet)
// that inflate to 1 GiB to 8 concurrent requests: the rewriting budget
// keeps replay's memory bounded, and each answer is the page as archived.
func TestMemoryGzipBombPage(t *testing.T) {
	if os.Getenv(memChildEnv) != "" {
		return
	}

	dir := filepath.Join(t.TempDir(), "bomb")
	bomb := gzipBomb(t, 1024)
	t0 := time.Date(2026, 11, 25, 18, 43, 29, 0, time.UTC)
	head := func(ct string) []byte {
		return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", ct, len(bomb)))
	}
	writeCollection(t, dir, t0, map[string][]byte{
		"http://bomb.example/":          append(head("text/html"), bomb...),
		"http://bomb.example/bomb.css":  append(head("text/css"), bomb...),
		"http://bomb.example/small.css": []byte("HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Length: 20\r\n\r\na{b:url(/c.png)}    "),
	})
	rss, out := runMemChild(t, "TestMemoryGzipBombPageChild", dir)
	t.Logf("gzip bomb page (1 GiB inflated, %d KB archived) to 16 concurrent requests (8 pages, 8 style sheets): peak RSS %.1f MB", len(bomb)>>10, float64(rss)/(1<<20))
	if !strings.Contains(out, "served 16 bombs as archived") {
		t.Errorf("child:\n%s", out)
	}
	if rss > maxPeakRSS() {
		t.Errorf("peak RSS %.1f MB, want under %d MB", float64(rss)/(1<<20), maxPeakRSS()>>20)
	}
}

func TestMemoryGzipBombPageChild(t *testing.T) {
	printPeak(t)
	dir := os.Getenv(memChildEnv)
	if dir == "" {
		t.Skip("run by TestMemoryGzipBombPage")
	}
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(NewHandler(a))
	defer srv.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	asArchived := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := srv.URL + "/20261125184329mp_/http://bomb.example/"
			if i%2 == 1 {
				u += "bomb.css"
			}
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Accept-Encoding", "gzip") // take the bytes as they come
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && resp.Header.Get("Content-Encoding") == "gzip" && n < 64<<20 {
				mu.Lock()
				asArchived++
				mu.Unlock()
			} else {
				t.Errorf("%s: %d, Content-Encoding %q, %d bytes", u, resp.StatusCode, resp.Header.Get("Content-Encoding"), n)
			}
		}(i)
	}
	wg.Wait()
	// A small style sheet is still rewritten.
	resp, err := http.Get(srv.URL + "/20261125184329mp_/http://bomb.example/small.css")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "/20261125184329mp_/http://bomb.example/c.png") {
		t.Errorf("small.css not rewritten: %q", b)
	}
	fmt.Printf("served %d bombs as archived\n", asArchived)
}

// TestMemoryIndexBomb opens a WACZ of a few MB whose gzipped index
// inflates to 2 GiB of lines: it is refused with a message, in bounded
// memory, and so is a collection directory whose index is too long.
func TestMemoryIndexBomb(t *testing.T) {
	if os.Getenv(memChildEnv) != "" {
		return
	}

	// 100 distinct lines repeated to 1 MiB, gzipped once, the member
	// repeated: 2 GiB of index in a few MB.
	var distinct, lines bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&distinct, `com,example)/news/%d 20261125184329 {"url":"https://example.com/news/%d","mime":"text/html","status":"200","digest":"sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%d","length":"100","offset":"%d","filename":"x.warc.gz"}`+"\n", i, i, i%10, i)
	}
	for lines.Len() < 1<<20 {
		lines.Write(distinct.Bytes())
	}
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(lines.Bytes())
	zw.Close()
	index := bytes.Repeat(member.Bytes(), 2048)
	wacz := filepath.Join(t.TempDir(), "bomb.wacz")
	f, err := os.Create(wacz)
	if err != nil {
		t.Fatal(err)
	}
	zipw := zip.NewWriter(f)
	for name, data := range map[string][]byte{"indexes/index.cdxj.gz": index, "archive/x.warc.gz": nil} {
		w, err := zipw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zipw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(wacz)
	if raceEnabled {
		t.Skip("250,000 index lines take too long under the race detector; run without -race")
	}
	rss, out := runMemChild(t, "TestMemoryIndexBombChild", wacz)
	t.Logf("WACZ of %.1f MB whose index inflates to %d MiB: peak RSS %.1f MB", float64(fi.Size())/(1<<20), len(index)/len(member.Bytes()), float64(rss)/(1<<20))
	if !strings.Contains(out, "refused: replay: "+wacz+": indexes/index.cdxj.gz: the index lists more than 250000 captures") {
		t.Errorf("child:\n%s", out)
	}
	if rss > maxPeakRSS() {
		t.Errorf("peak RSS %.1f MB, want under %d MB", float64(rss)/(1<<20), maxPeakRSS()>>20)
	}

}

func TestMemoryIndexBombChild(t *testing.T) {
	printPeak(t)
	p := os.Getenv(memChildEnv)
	if p == "" {
		t.Skip("run by TestMemoryIndexBomb")
	}
	a, err := Open(p)
	if err == nil {
		a.Close()
		t.Fatalf("%s opened with %d captures", p, a.Len())
	}
	fmt.Printf("refused: %v\n", err)
}

// TestMaxCaptures: the capture limit is the caller's to raise (amber
// replay --max-captures), and an index past it is refused with a typed
// error naming the limit.
func TestMaxCaptures(t *testing.T) {
	p := filepath.Join("..", "testdata", "damaged", "good.warc.gz")
	a, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	n := a.Len()
	a.Close()
	if n < 2 {
		t.Fatalf("%s indexes %d captures", p, n)
	}
	_, err = OpenWith(p, Options{MaxCaptures: n - 1})
	var tm *TooManyCapturesError
	if !errors.As(err, &tm) || tm.Max != n-1 || !strings.Contains(err.Error(), "--max-captures") {
		t.Fatalf("limit %d on %d captures: %v", n-1, n, err)
	}
	a, err = OpenWith(p, Options{MaxCaptures: n})
	if err != nil {
		t.Fatalf("limit %d on %d captures: %v", n, n, err)
	}
	a.Close()
}
