package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/warc"
)

type archiveOptions struct {
	output      string
	concurrency int
	perHost     int
	userAgent   string
	digest      string
	insecure    bool
	quiet       bool
	timeouts    crawl.TransportOptions
}

func newArchiveCommand(g *globalOptions) *cobra.Command {
	opts := archiveOptions{}
	cmd := &cobra.Command{
		Use:   "archive URL...",
		Short: "Archive web pages and everything they need to render",
		Long: `Fetch each URL and its page requisites (images with srcset and lazy sources,
style sheets and what they import, fonts, scripts, icons, media and posters,
frames), including those on other hosts, and write every HTTP exchange byte
for byte into WARC/1.1 files in the collection directory:

  DIR/archive/*.warc.gz     the WARC files (one gzip member per record)
  DIR/indexes/index.cdxj    CDXJ index for replay
  DIR/pages/pages.jsonl     the archived pages
  DIR/datapackage.json      every file with its sha256 and size

Archiving into an existing collection adds new WARC files and updates the
index, pages and datapackage; closed WARC files are never rewritten.

EXIT STATUS
  0  every URL was captured (an HTTP error status such as 404 is a capture)
  1  a seed URL could not be captured (malformed, refused, timed out, ...)
  2  usage error
  3  the seeds were captured but some other URLs failed (listed on stderr)
  130 interrupted; what was fetched so far is archived and indexed`,
		Args: argsAtLeast(1, "URL to archive"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := runArchive(cmd.Context(), g, opts, args)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.output, "output", "o", "archive", "collection `DIR`ectory")
	f.IntVar(&opts.concurrency, "concurrency", 8, "requests in flight in all")
	f.IntVar(&opts.perHost, "per-host", 2, "requests in flight per host")
	f.StringVar(&opts.userAgent, "user-agent", crawl.DefaultUserAgent, "User-Agent header")
	f.StringVar(&opts.digest, "digest", "sha1", "digest algorithm for records: sha1 (base32), sha256 or sha512 (hex)")
	f.BoolVar(&opts.insecure, "insecure", false, "archive HTTPS sites whose certificate does not verify")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
	f.DurationVar(&opts.timeouts.ConnectTimeout, "connect-timeout", 10*time.Second, "time to connect (TCP and TLS)")
	f.DurationVar(&opts.timeouts.ResponseHeaderTimeout, "header-timeout", 30*time.Second, "time to wait for response headers")
	f.DurationVar(&opts.timeouts.IdleReadTimeout, "idle-timeout", 60*time.Second, "longest silence while reading a response")
	return cmd
}

// archiveSummary is what one run did.
type archiveSummary struct {
	Dir      string
	Files    []string
	Pages    int
	Captures int
	Failures []crawl.Failure
	Bytes    int64
	Elapsed  time.Duration
}

func runArchive(ctx context.Context, g *globalOptions, opts archiveOptions, urls []string) (*archiveSummary, error) {
	switch {
	case opts.concurrency < 1:
		return nil, usageError("--concurrency must be at least 1")
	case opts.perHost < 1:
		return nil, usageError("--per-host must be at least 1")
	}
	if _, err := warc.NewHash(opts.digest); err != nil || opts.digest == "md5" {
		return nil, usageError("--digest must be sha1, sha256 or sha512")
	}
	start := time.Now()
	coll, err := warc.OpenCollection(opts.output)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", opts.output, err)
	}
	host, _ := os.Hostname()
	software := "amber/" + version
	w, err := warc.NewWriter(warc.WriterOptions{
		Dir:             coll.ArchivePath(),
		DigestAlgorithm: opts.digest,
		SpoolDir:        coll.ArchivePath(),
		Info: []warc.Field{
			{Name: "software", Value: software},
			{Name: "hostname", Value: host},
			{Name: "format", Value: "WARC File Format 1.1"},
			{Name: "conformsTo", Value: "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"},
			{Name: "http-header-user-agent", Value: opts.userAgent},
			{Name: "robots", Value: "ignore"},
			{Name: "amber-seeds", Value: strings.Join(urls, " ")},
			{Name: "amber-settings", Value: fmt.Sprintf("concurrency=%d per-host=%d digest=%s insecure=%t connect-timeout=%s header-timeout=%s idle-timeout=%s",
				opts.concurrency, opts.perHost, opts.digest, opts.insecure, opts.timeouts.ConnectTimeout, opts.timeouts.ResponseHeaderTimeout, opts.timeouts.IdleReadTimeout)},
		},
	})
	if err != nil {
		return nil, err
	}

	prog := newProgress(g.stderr, !opts.quiet && isTerminal(g.stderr))
	tr := opts.timeouts
	tr.InsecureSkipVerify = opts.insecure
	res, crawlErr := crawl.Run(ctx, crawl.Options{
		Seeds:       urls,
		Concurrency: opts.concurrency,
		PerHost:     opts.perHost,
		UserAgent:   opts.userAgent,
		Transport:   tr,
		Progress:    prog.fetched,
	}, w)
	prog.stop()

	// Whatever happened, close the files and index what was written, so
	// nothing fetched is lost.
	closeErr := w.Close()
	sum := &archiveSummary{Dir: opts.output, Files: w.Files(), Elapsed: time.Since(start)}
	if res != nil {
		sum.Pages, sum.Captures, sum.Failures, sum.Bytes = len(res.Pages), len(res.Captures), res.Failures, res.Bytes
	}
	if err := finishCollection(coll, w.Files(), res, software); err != nil {
		return sum, err
	}
	if closeErr != nil {
		return sum, closeErr
	}

	for _, f := range sum.Failures {
		fmt.Fprintf(g.stderr, "amber: %s: %v\n", f.URL, f.Err)
	}
	if !opts.quiet {
		fmt.Fprintf(g.stdout, "archived %d responses (%d pages, %s) into %s in %s; %d failed\n",
			sum.Captures, sum.Pages, formatBytes(sum.Bytes), filepath.Join(opts.output, warc.ArchiveDir),
			sum.Elapsed.Round(time.Millisecond), len(sum.Failures))
	}
	switch {
	case errors.Is(crawlErr, context.Canceled):
		return sum, &exitError{code: exitInterrupted, err: errors.New("interrupted; what was fetched is archived and indexed")}
	case crawlErr != nil:
		return sum, crawlErr
	case res.SeedFailed():
		return sum, &exitError{code: exitDamage}
	case len(res.Failures) > 0:
		return sum, &exitError{code: exitPartial}
	}
	return sum, nil
}

// finishCollection indexes the new WARC files and updates pages and the
// datapackage. The index is built by reading the closed files back, so it
// describes exactly what is on disk.
func finishCollection(coll *warc.Collection, files []string, res *crawl.Result, software string) error {
	if len(files) == 0 {
		return nil
	}
	if leftovers, _ := filepath.Glob(filepath.Join(coll.ArchivePath(), "*.open")); len(leftovers) > 0 {
		return fmt.Errorf("WARC file not closed: %s", leftovers[0])
	}
	var lines []warc.CDXJLine
	for _, f := range files {
		l, err := warc.IndexWARC(filepath.Join(coll.ArchivePath(), f))
		if err != nil {
			return fmt.Errorf("indexing %s: %w", f, err)
		}
		lines = append(lines, l...)
	}
	if err := coll.AddIndex(lines); err != nil {
		return err
	}
	var pages []warc.PageEntry
	if res != nil {
		for _, p := range res.Pages {
			pages = append(pages, warc.PageEntry{ID: uuid.NewString(), URL: p.URL, TS: p.Date.Format(time.RFC3339), Title: p.Title})
		}
	}
	if err := coll.AddPages(pages); err != nil {
		return err
	}
	return coll.WriteDatapackage(software, time.Now())
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress draws one live status line on a terminal; elsewhere it is silent.
type progress struct {
	w              io.Writer
	live           bool
	done, failed   atomic.Int64
	start          time.Time
	mu             sync.Mutex
	last           string
	quit, finished chan struct{}
}

func newProgress(w io.Writer, live bool) *progress {
	p := &progress{w: w, live: live, start: time.Now(), quit: make(chan struct{}), finished: make(chan struct{})}
	if !live {
		close(p.finished)
		return p
	}
	go func() {
		defer close(p.finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				p.mu.Lock()
				last := p.last
				p.mu.Unlock()
				fmt.Fprintf(p.w, "\r\033[K%d fetched, %d failed, %s  %s", p.done.Load(), p.failed.Load(),
					time.Since(p.start).Round(time.Second), truncate(last, 60))
			}
		}
	}()
	return p
}

func (p *progress) fetched(f crawl.Fetch) {
	if f.Err != nil {
		p.failed.Add(1)
	} else {
		p.done.Add(1)
	}
	p.mu.Lock()
	p.last = f.URL
	p.mu.Unlock()
}

func (p *progress) stop() {
	if p.live {
		close(p.quit)
	}
	<-p.finished
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
