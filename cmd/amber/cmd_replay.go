package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/replay"
	"github.com/amber-archiver/amber/warc"
)

// replayOptions are the flags of amber replay.
type replayOptions struct {
	port        int      // TCP port on 127.0.0.1; 0 picks a free one
	hosts       []string // host names answered besides 127.0.0.1, localhost and [::1]
	maxCaptures int      // the most captures the index may list; default replay.DefaultMaxCaptures
}

func newReplayCommand(g *globalOptions) *cobra.Command {
	var opts replayOptions
	cmd := &cobra.Command{
		Use:   "replay DIR...|FILE.wacz|FILE.warc.gz [--port N]",
		Short: "Browse an archive in a web browser, offline",
		Long: `Replay serves a collection directory, a WACZ file or a WARC file (or an
ARC file, .arc or .arc.gz) on http://127.0.0.1:PORT/ for a web browser. The first page lists the archived
pages with their capture times; each opens as it was captured, with a banner
naming the capture time and the original URL.

Pages are replayed from the WARC records alone, pywb-style, at archival URLs
/TIMESTAMP/URL: links, images and their srcset candidates, style sheets and
what they import, fonts, scripts, frames, SVG references and what is inside
<noscript> are rewritten to the archived copies closest in time, redirects
are followed inside the archive, and a Content-Security-Policy keeps the
page from loading anything from the live web. Each page is shown in a
sandboxed frame under the banner, so that its scripts cannot navigate the
window to the live site or open another (location, window.open, a meta
refresh, forms and links aimed at it); WebRTC is removed and DNS prefetching
turned off. Nothing needs a network connection or any other program.

A page or style sheet larger than 8 MiB decoded (a gzip bomb), or one that
arrives while 32 MiB are already being rewritten, is served as archived,
not rewritten; an index of more than 250,000 captures is refused unless
--max-captures N allows more (about 200 bytes of memory a capture).

The server listens on 127.0.0.1 only and runs until interrupted (Ctrl-C).
It answers only requests addressed to 127.0.0.1, localhost or [::1] (any
port), so that a web page reaching it through DNS rebinding cannot read
the archive; every other Host gets 403. --host NAME (repeatable) allows
another name, for a hosts-file alias or a reverse proxy in front.

Several collection directories (the workers of one crawl, each with its
own) are replayed as one archive: one index over all, the pages of all,
revisits in one collection resolved to records in another. Two WARC files
of one name in them are a usage error, since index lines name WARC files
by name alone.

Damaged records are left out (and counted) and the rest is replayed: past
a damaged gzip member, and in an uncompressed WARC or ARC file from the
next record header.

EXIT STATUS
  0  stopped by an interrupt
  1  the archive could not be opened (one that is neither WARC, ARC nor
     WACZ is one line saying so), or the server failed
  2  usage error: bad flag, missing or nonexistent path, port in use,
     several paths not all collections, two WARC files of one name`,
		Args: argsAtLeast(1, "DIR, FILE.wacz or FILE.warc.gz (the archive to replay)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), g, opts, args, nil)
		},
	}
	cmd.Flags().IntVarP(&opts.port, "port", "p", 0, "port to listen on at 127.0.0.1 (default: any free port)")
	cmd.Flags().IntVar(&opts.maxCaptures, "max-captures", replay.DefaultMaxCaptures, "refuse an index of more than `N` captures (memory: about 200 bytes a capture)")
	cmd.Flags().StringArrayVar(&opts.hosts, "host", nil, "also answer requests for host `NAME` (repeatable; default: only 127.0.0.1, localhost, [::1])")
	return cmd
}

// runReplay serves the archive at paths (one archive, or several
// collection directories as one) until ctx is done. When ready is not nil
// it receives the server's base URL once it is listening (for tests).
func runReplay(ctx context.Context, g *globalOptions, opts replayOptions, paths []string, ready chan<- string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.port < 0 || opts.port > 65535 {
		return usageError("--port must be between 0 and 65535, not %d", opts.port)
	}
	for _, h := range opts.hosts {
		if !validHostName(h) {
			return usageError("--host %q: not a host name (letters, digits, '.', '-', or an IP address; no port)", h)
		}
	}
	for _, path := range paths {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return usageError("%s: no such file or directory", path)
		}
		if err := refuseIrregular(path); err != nil {
			return err
		}
		if len(paths) > 1 && !isDirectory(filepath.Join(path, warc.ArchiveDir)) {
			return usageError("%s is not a collection directory: several archives are replayed as one only when each is a collection", path)
		}
	}
	path := strings.Join(paths, " ")
	a, err := replay.OpenCollections(paths, replay.Options{MaxCaptures: opts.maxCaptures})
	var na *warc.NotArchiveError
	var clash *warc.NameClashError
	switch {
	case errors.As(err, &na):
		if na.Path == "" {
			na.Path = path
		}
		return na // one line, no prefixes
	case errors.As(err, &clash):
		return &exitError{code: exitUsage, err: nameClashMessage(clash)}
	case err != nil:
		return fmt.Errorf("cannot replay %s: %w", path, err)
	}
	defer a.Close()
	for _, na := range a.NotArchives() {
		fmt.Fprintf(g.stderr, "amber: %s; left out, the rest is replayed\n", na)
	}
	if n := a.Skipped(); n > 0 {
		fmt.Fprintf(g.stderr, "amber: %s: %d damaged records left out (amber verify names them); the rest is replayed\n", path, n)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.port)))
	if err != nil {
		return usageError("cannot listen on 127.0.0.1:%d: %v", opts.port, err)
	}
	h := replay.NewHandler(a)
	h.Log = log.New(g.stderr, "amber: ", 0)
	h.Hosts = opts.hosts
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(g.stderr, "amber: ", 0),
	}
	base := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(g.stdout, "replaying %s (%d pages, %d captures) at %s\n", path, len(a.Pages()), a.Len(), base)
	fmt.Fprintln(g.stdout, "press Ctrl-C to stop")
	if ready != nil {
		ready <- base
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return nil
}

// validHostName accepts a DNS name or an IP address (IPv6 with or without
// brackets), without a port.
func validHostName(h string) bool {
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
