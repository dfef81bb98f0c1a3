package main

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// headerLines is header lines that never end: what a crafted WARC file
// puts after its version line.
var headerLines = []byte(strings.Repeat("X-Filler: "+strings.Repeat("y", 60)+"\r\n", 1<<10))

// bombMember returns one gzip member that inflates to a version line and
// then about size bytes of header lines, built from one compressed segment
// repeated (each segment is byte-aligned by a sync flush and refers only to
// the identical bytes before it), so that making it costs no compressing.
func bombMember(t *testing.T, size int) []byte {
	t.Helper()
	var first, seg bytes.Buffer
	fw, _ := flate.NewWriter(&first, flate.BestCompression)
	fw.Write([]byte("WARC/1.1\r\n"))
	fw.Write(headerLines)
	fw.Flush()
	n := first.Len()
	fw.Write(headerLines)
	fw.Flush()
	seg.Write(first.Bytes()[n:])
	first.Truncate(n)
	crc := crc32.ChecksumIEEE([]byte("WARC/1.1\r\n"))
	crc = crc32.Update(crc, crc32.IEEETable, headerLines)
	total := 10 + len(headerLines)
	var out bytes.Buffer
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	out.Write(first.Bytes())
	for total < size {
		out.Write(seg.Bytes())
		crc = crc32.Update(crc, crc32.IEEETable, headerLines)
		total += len(headerLines)
	}
	out.Write([]byte{1, 0, 0, 0xff, 0xff}) // a final empty stored block
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(total))
	out.Write(trailer[:])
	return out.Bytes()
}

// amberPeak is amber as a program that, at exit, writes its peak resident
// memory (VmHWM, which exec resets) to $AMBER_PEAK_FILE. The rusage of a
// child is no measure here: Linux carries the parent's peak into a child
// started with vfork, as os/exec does, so every child would report the
// test binary's own peak.
func amberPeak() {
	code := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if p := os.Getenv("AMBER_PEAK_FILE"); p != "" {
		status, _ := os.ReadFile("/proc/self/status")
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				os.WriteFile(p, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o644)
			}
		}
	}
	os.Exit(code)
}

// maxRSS runs amber with args as a child process and returns its exit
// status, output and peak resident memory in bytes.
func maxRSS(t *testing.T, args ...string) (int, string, int64) {
	t.Helper()
	peak := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command("amber-peak", args...)
	cmd.Env = append(os.Environ(), "AMBER_PEAK_FILE="+peak)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	b, err := os.ReadFile(peak)
	if err != nil {
		t.Skipf("no peak memory measured (/proc/self/status): %v", err)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("VmHWM %q: %v", b, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), kb << 10
}

// TestCraftedFilesBoundedMemory: verify, index and repair keep bounded
// memory on crafted files: a plain WARC header that never ends (16 MB of
// header lines) and a gzip member of 20 KB that inflates to 64 MB of
// header lines. Each is refused with a one-line reason; the peak stays
// well under the crawl's usual ~150 MB (measured: ~24 MB, ~55 MB under -race).
func TestCraftedFilesBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "endless-header.warc")
	f, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("WARC/1.1\r\n")
	for n := 0; n < 16<<20; n += len(headerLines) {
		f.Write(headerLines)
	}
	f.Close()
	bomb := filepath.Join(dir, "header-bomb.warc.gz")
	if err := os.WriteFile(bomb, bombMember(t, 64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	const bound = 100 << 20
	for _, file := range []string{plain, bomb} {
		for _, args := range [][]string{
			{"verify", file},
			{"index", file},
			{"repair", "-o", filepath.Join(dir, "out-"+filepath.Base(file)), file},
		} {
			code, out, rss := maxRSS(t, args...)
			t.Logf("amber %s %s: exit %d, peak RSS %.1f MB: %s", args[0], filepath.Base(file), code, float64(rss)/1e6, out)
			if code != 1 {
				t.Errorf("amber %s %s: exit %d, want 1: %s", args[0], filepath.Base(file), code, out)
			}
			if !strings.Contains(out, "WARC header longer than 1048576 bytes") {
				t.Errorf("amber %s %s: %q does not say why", args[0], filepath.Base(file), out)
			}
			if rss > bound {
				t.Errorf("amber %s %s: peak RSS %d MB, want under %d MB", args[0], filepath.Base(file), rss>>20, bound>>20)
			}
		}
	}
}

// peakProcess starts amber with args as a child process, like
// amberProcess, and returns with it a function that, once the child has
// been waited for, gives its own peak resident memory in bytes (VmHWM, not
// the rusage a vfork child inherits from the test binary).
func peakProcess(t *testing.T, args ...string) (*exec.Cmd, func() int64) {
	t.Helper()
	peak := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command("amber-peak", args...)
	cmd.Env = append(os.Environ(), "AMBER_PEAK_FILE="+peak)
	return startProgram(t, cmd), func() int64 {
		b, err := os.ReadFile(peak)
		if err != nil {
			t.Skipf("no peak memory measured (/proc/self/status): %v", err)
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			t.Fatalf("VmHWM %q: %v", b, err)
		}
		return kb << 10
	}
}
