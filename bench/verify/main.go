// Command verifybench measures amber verify against the bare pipeline it
// cannot beat (gunzip + block sha1 + payload sha1 over the same file, in one
// goroutine) and against other Go WARC readers with read-and-validate loops,
// in one run, on files it generates:
//
//	verifybench gen -o FILE -size BYTES -seed N   write a test WARC
//	verifybench bare FILE                         the bare pipeline
//	verifybench nlnwa FILE                        nlnwa/gowarc v3, validating
//	verifybench ia FILE                           internetarchive/gowarc, digests checked by this loop
//	verifybench run -amber BIN FILE1 FILE2        all of the above, under /usr/bin/time -v; prints a table
//
// It is a separate module so that the peers' dependencies stay out of
// amber's go.mod.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	iawarc "github.com/internetarchive/gowarc"
	"github.com/klauspost/compress/gzip"
	"github.com/nlnwa/gowarc/v3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: verifybench gen|bare|nlnwa|ia|run ...")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "gen":
		err = genMain(args)
	case "bare", "nlnwa", "ia":
		err = measureMain(cmd, args)
	case "run":
		err = runMain(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifybench:", err)
		os.Exit(1)
	}
}

// measureMain runs one reader over files and prints "records bytes
// findings" for the orchestrator.
func measureMain(which string, files []string) error {
	if p := os.Getenv("VERIFYBENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var records, findings int
	var size int64
	for _, f := range files {
		var r, n int
		var err error
		switch which {
		case "bare":
			r, err = bare(f)
		case "nlnwa":
			r, n, err = nlnwa(f)
		case "ia":
			r, n, err = ia(f)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fi, _ := os.Stat(f)
		records, findings, size = records+r, findings+n, size+fi.Size()
	}
	fmt.Printf("records %d bytes %d findings %d\n", records, size, findings)
	return nil
}

// bare is the least work a verifier must do: decompress every gzip member
// once, hash each record's block with sha1 and its payload (the bytes after
// the HTTP head, taken as they are) with another sha1. It parses only what
// it needs to find the block and the payload, assumes both heads fit in the
// first read of a member, and compares nothing.
func bare(path string) (records int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	zr := new(gzip.Reader)
	buf := make([]byte, 256<<10)
	block, payload := sha1.New(), sha1.New()
	var sums [2][sha1.Size]byte
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return records, nil
		}
		if err := zr.Reset(br); err != nil {
			return records, err
		}
		zr.Multistream(false)
		n, err := io.ReadAtLeast(zr, buf, 1)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return records, err
		}
		head := bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if head < 0 {
			return records, errors.New("no WARC header in the first read of a member")
		}
		start := int64(head + 4)
		end := start + contentLength(buf[:head])
		payloadStart := end
		if bytes.Contains(buf[:head], []byte("application/http")) {
			if h := bytes.Index(buf[start:n], []byte("\r\n\r\n")); h >= 0 {
				payloadStart = start + int64(h) + 4
			}
		}
		block.Reset()
		payload.Reset()
		for pos := int64(0); ; {
			chunk := buf[:n]
			feed(block, chunk, pos, start, end)
			feed(payload, chunk, pos, payloadStart, end)
			pos += int64(n)
			if err == io.EOF {
				break
			}
			n, err = zr.Read(buf)
			if err != nil && err != io.EOF {
				return records, err
			}
		}
		block.Sum(sums[0][:0])
		payload.Sum(sums[1][:0])
		records++
	}
}

// feed hashes the part of chunk (at pos in the member) within [from, to).
func feed(h hash.Hash, chunk []byte, pos, from, to int64) {
	lo, hi := max(from-pos, 0), min(to-pos, int64(len(chunk)))
	if lo < hi {
		h.Write(chunk[lo:hi])
	}
}

func contentLength(head []byte) int64 {
	i := bytes.Index(head, []byte("Content-Length: "))
	if i < 0 {
		return 0
	}
	v := head[i+len("Content-Length: "):]
	if j := bytes.IndexByte(v, '\r'); j >= 0 {
		v = v[:j]
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	return n
}

// nlnwa reads with nlnwa/gowarc v3, validating as strictly as it can while
// going on after a finding: spec, syntax and record-type checks set to warn,
// and every record's digests validated.
func nlnwa(path string) (records, findings int, err error) {
	wf, err := gowarc.NewWarcFileReader(path, 0,
		gowarc.WithSpecViolationPolicy(gowarc.ErrWarn),
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrWarn),
		gowarc.WithUnknownRecordTypePolicy(gowarc.ErrWarn),
		gowarc.WithBufferTmpDir(os.TempDir()))
	if err != nil {
		return 0, 0, err
	}
	defer wf.Close()
	for {
		rec, err := wf.Next()
		if err == io.EOF {
			return records, findings, nil
		}
		if err != nil {
			return records, findings, err
		}
		records++
		findings += len(rec.Validation)
		v, err := rec.WarcRecord.ValidateDigest()
		findings += len(v)
		if os.Getenv("VERIFYBENCH_SHOW") != "" {
			for _, e := range append(rec.Validation, v...) {
				fmt.Fprintf(os.Stderr, "%s@%d %s: %v\n", path, rec.Offset, rec.WarcRecord.Type(), e)
			}
		}
		rec.Close()
		if err != nil {
			return records, findings, err
		}
	}
}

// ia reads with internetarchive/gowarc, which spools each record's block
// (to memory, or to a temporary file over 1 MB), and checks the block
// digest and, for responses, the payload digest (net/http removing the
// chunked coding) in this loop: the library has no validation of its own.
func ia(path string) (records, findings int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r, err := iawarc.NewReader(f)
	if err != nil {
		return 0, 0, err
	}
	for {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			return records, findings, nil
		}
		if err != nil {
			return records, findings, err
		}
		records++
		h := sha1.New()
		io.Copy(h, rec.Content)
		if !sameDigest(rec.Header.Get("WARC-Block-Digest"), h) {
			findings++
		}
		if rec.Header.Get("WARC-Type") == "response" && strings.HasPrefix(rec.Header.Get("Content-Type"), "application/http") {
			rec.Content.Seek(0, io.SeekStart)
			resp, err := http.ReadResponse(bufio.NewReader(rec.Content), nil)
			if err != nil {
				findings++
			} else {
				h.Reset()
				io.Copy(h, resp.Body)
				if !sameDigest(rec.Header.Get("WARC-Payload-Digest"), h) {
					findings++
				}
			}
		}
		rec.Content.Close()
	}
}

func sameDigest(field string, h hash.Hash) bool {
	return strings.TrimPrefix(field, "sha1:") == base32.StdEncoding.EncodeToString(h.Sum(nil))
}
