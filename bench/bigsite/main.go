// Command bigsite serves one large response, generated on the fly, for
// amber's bounded-memory benchmark: GET /big streams -size bytes of
// deterministic pseudo-random data (incompressible, like video), with a
// Content-Length; GET /big?chunked=1 sends the same bytes chunked. The
// first line on stdout is the server's URL; the payload's sha1 (base32, as
// in a WARC-Payload-Digest) is printed on stderr when a transfer ends.
package main

import (
	"crypto/sha1"
	"encoding/base32"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	size := flag.Int64("size", 1<<30, "bytes to serve")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s/\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			if r.URL.Path == "/" {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, `<html><title>big</title><video src="/big" poster="/big?chunked=1"></video></html>`)
				return
			}
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.FormatInt(*size, 10))
		}
		rng := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 1<<16)
		h := sha1.New()
		for left := *size; left > 0; {
			n := int64(len(buf))
			if left < n {
				n = left
			}
			for i := 0; i < int(n); i += 8 {
				v := rng.Uint64()
				for j := 0; j < 8 && i+j < int(n); j++ {
					buf[i+j] = byte(v >> (8 * j))
				}
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
			h.Write(buf[:n])
			left -= n
		}
		fmt.Fprintf(os.Stderr, "%s sha1:%s\n", r.URL, base32.StdEncoding.EncodeToString(h.Sum(nil)))
	})))
}
