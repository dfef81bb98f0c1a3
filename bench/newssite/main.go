// Command newssite serves a deterministic synthetic news site on 127.0.0.1
// for amber's crawl benchmark (see bench/README.md).
//
// Three listeners are started: the site itself, a "CDN" host with fonts and
// a script that every page needs, and an "external" host with pages that
// articles link to (a host-scoped crawl must not crawl them). All bodies are
// generated from a seeded PRNG before the first URL is printed, so the same
// flags always give the same site (apart from the port numbers in absolute
// URLs), and serving costs no more than a map look-up and a write.
//
// stdout, once the site is ready:
//
//	http://127.0.0.1:PORT/        the site (always the first line)
//	cdn http://127.0.0.1:PORT/
//	external http://127.0.0.1:PORT/
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address` of the site (port 0: any free port)")
	extPort := flag.Int("external-port", 0, "`port` of the CDN host; the external pages are served on the port after it (0: any free ports)")
	articles := flag.Int("articles", 2000, "number of articles (the site's size scales with it)")
	manifest := flag.String("manifest", "", "write every URL a complete archive of the site must contain (pages and resources, one a line) to `FILE`")
	seeds := flag.String("seeds", "", "write the articles' URLs, one a line, to `FILE`, and make -manifest what an archive of those seeds alone must contain (the articles and what they need)")
	cdnHost := flag.String("cdn-host", "127.0.0.1", "host `name` in the CDN's URLs (it listens on 127.0.0.1 whatever the name; a name other than 127.0.0.1 must resolve to it)")
	extHost := flag.String("external-host", "127.0.0.1", "host `name` in the external pages' URLs (as -cdn-host)")
	seed := flag.Uint64("seed", 1, "PRNG seed")
	server := flag.String("server", "raw", "HTTP server: `raw` (a minimal HTTP/1.1 loop, the cheapest in CPU) or stdlib (net/http)")
	flag.Parse()
	if flag.NArg() > 0 || *articles < 1 || *extPort < 0 || *extPort > 65534 || !hostName(*cdnHost) || !hostName(*extHost) ||
		*server != "raw" && *server != "stdlib" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*addr, *extPort, *articles, *manifest, *seeds, *seed, *cdnHost, *extHost, *server == "raw"); err != nil {
		fmt.Fprintln(os.Stderr, "newssite:", err)
		os.Exit(1)
	}
}

func run(addr string, extPort, articles int, manifest, seeds string, seed uint64, cdnHost, extHost string, raw bool) error {
	start := time.Now()
	siteLn, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	cdnAddr, extAddr := "127.0.0.1:0", "127.0.0.1:0"
	if extPort != 0 {
		cdnAddr, extAddr = "127.0.0.1:"+strconv.Itoa(extPort), "127.0.0.1:"+strconv.Itoa(extPort+1)
	}
	cdnLn, err := net.Listen("tcp", cdnAddr)
	if err != nil {
		return err
	}
	extLn, err := net.Listen("tcp", extAddr)
	if err != nil {
		return err
	}

	s := buildSite(config{
		base:     baseURL(siteLn, ""),
		cdn:      baseURL(cdnLn, cdnHost),
		ext:      baseURL(extLn, extHost),
		articles: articles,
		seed:     seed,
	})
	urls := s.manifest()
	if seeds != "" {
		urls = s.seedManifest()
		if err := writeLines(seeds, s.articleURLs()); err != nil {
			return err
		}
	}
	if manifest != "" {
		if err := writeLines(manifest, urls); err != nil {
			return err
		}
	}
	debug.FreeOSMemory() // return what generating the bodies took
	st := s.stats()
	fmt.Fprintf(os.Stderr, "newssite: %d articles, %d pages, %d resources in the manifest; %.1f MB served uncompressed (%.1f MB of it HTML, %.1f MB HTML gzipped); built in %s\n",
		articles, st.pages, st.resources, mb(st.bytes), mb(st.htmlBytes), mb(st.htmlGz), time.Since(start).Round(time.Millisecond))

	errc := make(chan error, 3)
	for _, h := range []struct {
		ln  net.Listener
		res *host
	}{{siteLn, s.site}, {cdnLn, s.cdnHost}, {extLn, s.extHost}} {
		if raw {
			go func() { errc <- h.res.serveRaw(h.ln) }()
			continue
		}
		srv := &http.Server{
			Handler:           h.res,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       idleTimeout,
		}
		go func() { errc <- srv.Serve(h.ln) }()
	}
	fmt.Println(s.base)
	fmt.Println("cdn", s.cdn)
	fmt.Println("external", s.ext)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// baseURL is the root URL of a listener, under the host name given, or
// under its IP address when name is empty.
func baseURL(ln net.Listener, name string) string {
	a := ln.Addr().(*net.TCPAddr)
	if name == "" {
		return "http://" + a.String() + "/"
	}
	return "http://" + net.JoinHostPort(name, strconv.Itoa(a.Port)) + "/"
}

func hostName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/:@?# ")
}

func mb(n int64) float64 { return float64(n) / 1e6 }
