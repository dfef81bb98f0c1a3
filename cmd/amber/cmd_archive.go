package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/crawl/report"
	"github.com/amber-archiver/amber/warc"
	"github.com/amber-archiver/amber/warc/collection"
)

// localWorker names the run the embedded state has at a time, in its
// leases and its pages outbox: a run finds the outbox of the run it
// recovers under the same name.
const localWorker = "local"

type archiveOptions struct {
	job            string
	jobSeeds       []string
	recrawl        bool
	noDedup        bool
	wacz           bool
	output         string
	seedsFile      string
	linksFrom      []string // --links-from FILE|URL (links.go)
	feeds          []string // --feed URL
	scope          string
	outlinks       bool
	depth          int
	include        []string
	exclude        []string
	concurrency    int
	perHost        int
	delay          time.Duration
	ignoreRobots   bool
	userAgent      string
	maxURLsPerHost int
	maxSize        int64
	retries        int
	keepTracking   bool
	digest         string
	insecure       bool
	quiet          bool
	verbose        bool
	json           bool
	printer        printer
	stopGrace      time.Duration
	cookiesFile    string
	noCookies      bool
	timeouts       capture.Options
	workerID       string // --worker-id; default HOST-PID (worker.go)

	browser browserFlags // --browser and its settings (browser.go)
	// --state, --crawl-id, --lease-ttl, --state-timeout (shared.go)
	shared sharedOptions
}

func newArchiveCommand(g *globalOptions) *cobra.Command {
	opts := archiveOptions{}
	cmd := &cobra.Command{
		Use:   "archive [URL...] [--seeds FILE] [--job FILE.yaml]",
		Short: "Archive web pages and everything they need to render",
		Long: `Fetch each URL and its page requisites (images with srcset and lazy sources,
style sheets and what they import, fonts, scripts, icons, media and posters,
frames), including those on other hosts, and write every HTTP exchange byte
for byte into WARC/1.1 files in the collection directory:

  DIR/archive/*.warc.gz     the WARC files (one gzip member per record)
  DIR/indexes/index.cdxj    CDXJ index for replay
  DIR/pages/pages.jsonl     the archived pages
  DIR/logs/crawl-*.jsonl    one JSON line per fetch (also archived in the WARC)
  DIR/datapackage.json      every file with its sha256 and size

Scopes: page (default) archives each seed with its requisites; --outlinks
adds every page a crawled page links to outside the scope (one hop, with
requisites); prefix, host and domain follow links under the seed's path, on
its host, or on its host and subdomains, --depth hops deep (default
unlimited). --include/--exclude regular expressions filter pages; the
requisites of a page are always fetched. robots.txt is obeyed for pages
unless --ignore-robots, and archived.

Every run into a collection adds its own WARC files (each starting with a
warcinfo record) and updates the index, pages and datapackage; closed WARC
files are never rewritten. The crawl state (frontier, seen set, digests) is
kept in DIR/state/crawl.db: a run that was killed or interrupted is resumed
by running the same command again, and URLs archived by an earlier run are
not fetched again unless --recrawl. A response whose payload was archived
before is stored as a revisit record (--no-dedup to store it in full).
A second run into the same collection while one is going exits at once
with status 4.

Each response is bounded: its head (status line and headers, with any 1xx
interim responses) to 256 KiB and 10 interim responses, or the fetch fails
with "response head too large" and nothing of it is archived; its size to
--max-size and its time to --response-timeout, past which what came is
archived marked WARC-Truncated (length, time).

The first Ctrl-C stops taking new URLs and gives those in flight
--stop-grace (10 s) to finish; what has not finished then is cut, not
archived, and fetched again when the crawl is resumed. A second Ctrl-C stops at once. Either way
the files are closed and indexed.

A job file (--job) holds the same settings in YAML, e.g.

  seeds: [https://example.org/]
  output: /srv/archive/example
  scope: host
  recrawl: true
  quiet: true

Flags given on the command line override it.

With --json (json: true in a job file), stdout holds one JSON object at the
end of the run and nothing else: the counts, bytes, duration, failures, the
files written and the exit status. stderr is as without --json (failures,
one a line, even with --quiet); there is no progress line. A run that does
not start (a usage error, a collection in use) prints no object: stdout
is empty and the exit status and the one line on stderr say why.

EXIT STATUS
  0   every URL in scope was captured (an HTTP error such as 404 is a capture)
  1   a seed could not be captured (malformed, refused, DNS, TLS, timeout, robots.txt)
  2   usage error
  3   the crawl finished but some URLs failed (listed on stderr)
  4   another amber run is using the collection
  5   --state: the crawl state (Redis) could not be reached for --state-timeout;
      the files are closed and indexed, run the same command again to go on
  130 interrupted; what was fetched is archived and indexed, run the
      same command again to resume`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyJob(cmd, &opts); err != nil {
				return err
			}
			g.drainable = true
			opts.printer = newPrinter(g, opts.json, levelOf(opts.quiet, opts.verbose))
			_, err := runArchive(cmd.Context(), g, opts, args)
			return err
		},
	}
	f := cmd.Flags()
	addSharedFlags(f, &opts.shared)
	f.StringVar(&opts.job, "job", "", "read settings from a YAML job `FILE` (flags override it)")
	f.BoolVar(&opts.recrawl, "recrawl", false, "fetch again URLs archived by earlier runs (nightly runs)")
	f.BoolVar(&opts.noDedup, "no-dedup", false, "store unchanged payloads in full instead of as revisit records")
	f.BoolVar(&opts.wacz, "wacz", false, "pack the collection into DIR.wacz at the end of the run (as amber pack does)")
	f.StringVarP(&opts.output, "output", "o", "archive", "collection `DIR`ectory")
	f.StringVar(&opts.seedsFile, "seeds", "", "read seed URLs from `FILE` (one a line, # comments)")
	f.StringArrayVar(&opts.linksFrom, "links-from", nil, "archive every http(s) link cited in `FILE|URL` (HTML, bookmarks, Markdown, text; a URL is archived too; repeatable)")
	f.StringArrayVar(&opts.feeds, "feed", nil, "archive the RSS, Atom or JSON feed at `URL` and each item's link (repeatable)")
	f.StringVar(&opts.scope, "scope", "page", "page, prefix, host or domain")
	f.BoolVar(&opts.outlinks, "outlinks", false, "also archive the pages linked from crawled pages, one hop")
	f.IntVar(&opts.depth, "depth", 0, "most link hops from a seed for prefix/host/domain (0: unlimited)")
	f.StringArrayVar(&opts.include, "include", nil, "crawl only pages whose URL matches `REGEX` (repeatable)")
	f.StringArrayVar(&opts.exclude, "exclude", nil, "never crawl pages whose URL matches `REGEX` (repeatable)")
	f.IntVar(&opts.concurrency, "concurrency", 8, "requests in flight in all")
	f.IntVar(&opts.perHost, "per-host", 2, "requests in flight per host")
	f.DurationVar(&opts.delay, "delay", 0, "pause between two requests to the same host")
	f.BoolVar(&opts.ignoreRobots, "ignore-robots", false, "do not obey robots.txt")
	f.StringVar(&opts.userAgent, "user-agent", crawl.DefaultUserAgent, "User-Agent header")
	f.IntVar(&opts.maxURLsPerHost, "max-urls-per-host", 100000, "most URLs fetched from one host (crawler-trap guard)")
	f.Int64Var(&opts.maxSize, "max-size", capture.DefaultMaxSize, "most `BYTES` archived of one response; larger ones are cut and marked WARC-Truncated: length (0: no limit)")
	f.IntVar(&opts.retries, "retries", 3, "retries after a network error, 429 or 5xx")
	f.BoolVar(&opts.keepTracking, "keep-tracking-params", false, "treat URLs differing in utm_*, fbclid, gclid as different")
	f.StringVar(&opts.digest, "digest", "sha1", "digest algorithm for records: sha1 (base32), sha256 or sha512 (hex)")
	f.BoolVar(&opts.insecure, "insecure", false, "archive HTTPS sites whose certificate does not verify")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "also name the files the run wrote")
	f.BoolVar(&opts.json, "json", false, "end with one JSON summary object on stdout, and print nothing else there")
	f.StringVar(&opts.cookiesFile, "cookies", "", "start with the cookies of `FILE` (Netscape cookies.txt, as wget, curl and browser extensions export it)")
	f.BoolVar(&opts.noCookies, "no-cookies", false, "send no cookies and keep none (by default the cookies sites set are sent back to them, within a browser's bounds)")
	f.DurationVar(&opts.stopGrace, "stop-grace", 10*time.Second, "time the first Ctrl-C gives the requests in flight before they are cut (and fetched again on resume)")
	f.DurationVar(&opts.timeouts.ConnectTimeout, "connect-timeout", 10*time.Second, "time to connect (TCP and TLS)")
	f.DurationVar(&opts.timeouts.ResponseHeaderTimeout, "header-timeout", 30*time.Second, "time to wait for response headers")
	f.DurationVar(&opts.timeouts.IdleReadTimeout, "idle-timeout", 60*time.Second, "longest silence while reading a response")
	f.DurationVar(&opts.timeouts.ResponseTimeout, "response-timeout", capture.DefaultResponseTimeout, "longest time for one response, request to last byte; a longer one is cut and marked WARC-Truncated: time (0: no limit)")
	addBrowserFlags(f, &opts.browser)
	f.StringVar(&opts.workerID, "worker-id", "", "name this worker's WARC files PREFIX-TIME-SERIAL-`ID`.warc.gz (letters, digits, '.', '_', '-'; default: HOST-PID)")
	return cmd
}

// archiveSummary is what one run did: the object of archive --json.
type archiveSummary struct {
	Dir        string        `json:"dir"`     // the collection
	Crawl      uint64        `json:"crawl"`   // the crawl the run belongs to
	Run        uint64        `json:"run"`     // the run's number in the collection (amber status)
	Resumed    bool          `json:"resumed"` // the run resumed an unfinished crawl
	Started    time.Time     `json:"started"`
	Elapsed    time.Duration `json:"durationNs"`
	NothingNew bool          `json:"nothingNew"` // every seed was archived before; nothing was fetched
	Responses  int           `json:"responses"`  // response and revisit records written
	Pages      int           `json:"pages"`      // of which HTML pages (listed in pages.jsonl)
	Resources  int           `json:"resources"`  // the others
	Revisits   int           `json:"revisits"`   // of all, stored as revisits
	Requests   int           `json:"requests"`   // requests sent, every attempt
	Failed     int           `json:"failed"`     // URLs with no response recorded
	Skipped    int           `json:"skipped"`
	Truncated  int           `json:"truncated"`
	Bytes      int64         `json:"bytes"` // of the responses, as received
	Failures   []failure     `json:"failures"`
	Files      archiveFiles  `json:"files"`
	Seeds      []report.Row  `json:"seeds"`          // where each seed went: its capture after redirects, or why none
	WACZ       *packSummary  `json:"wacz,omitempty"` // --wacz: the pack's summary
	Exit       int           `json:"exit"`
	ExitName   string        `json:"exitName"`
	Error      string        `json:"error,omitempty"` // the message amber prints on stderr, if any

	warcFiles []string // base names, for the run log
	showSeeds bool     // list Seeds in the text form (on a terminal)
}

// failure is a URL the run could not capture.
type failure struct {
	URL    string `json:"url"`
	Seed   bool   `json:"seed"`
	Reason string `json:"reason"` // as the line on stderr says it
}

// archiveFiles are the files of the collection a run wrote or updated.
type archiveFiles struct {
	WARC        []string `json:"warc"`            // the WARC files of this run
	Log         string   `json:"log,omitempty"`   // its crawl log
	Index       string   `json:"index,omitempty"` // the collection's, after the run
	Pages       string   `json:"pages,omitempty"`
	Datapackage string   `json:"datapackage,omitempty"`
	WACZ        string   `json:"wacz,omitempty"`
}

func (s *archiveSummary) printText(w io.Writer) {
	if s.WACZ != nil {
		s.WACZ.printText(w)
	}
	if s.showSeeds {
		defer printSeeds(w, s.Dir, s.Seeds)
	}
	if s.NothingNew {
		fmt.Fprintf(w, "nothing new to archive: every seed is in %s already (--recrawl fetches them again)\n", s.Dir)
		return
	}
	fmt.Fprintf(w, "archived %d responses (%d pages, %d resources, %s) into %s in %s; %d failed",
		s.Responses, s.Pages, s.Resources, formatBytes(s.Bytes), filepath.Join(s.Dir, warc.ArchiveDir),
		s.Elapsed.Round(time.Millisecond), s.Failed)
	if s.Revisits > 0 {
		fmt.Fprintf(w, ", %d unchanged (revisits)", s.Revisits)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", s.Skipped)
	}
	if s.Truncated > 0 {
		fmt.Fprintf(w, ", %d truncated", s.Truncated)
	}
	fmt.Fprintln(w)
}

// readSeeds returns the URLs of a seeds file: one a line, blank lines and
// # comments ignored.
func readSeeds(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

func compileAll(flag string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, usageError("%s %q: %v", flag, e, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func runArchive(ctx context.Context, g *globalOptions, opts archiveOptions, urls []string) (*archiveSummary, error) {
	p := opts.printer
	switch {
	case opts.concurrency < 1:
		return nil, usageError("--concurrency must be at least 1")
	case opts.perHost < 1:
		return nil, usageError("--per-host must be at least 1")
	case opts.depth < 0:
		return nil, usageError("--depth must not be negative")
	case opts.maxSize < 0:
		return nil, usageError("--max-size must not be negative")
	case opts.stopGrace < 0:
		return nil, usageError("--stop-grace must not be negative")
	case opts.timeouts.ResponseTimeout < 0:
		return nil, usageError("--response-timeout must not be negative")
	case opts.retries < 0:
		return nil, usageError("--retries must not be negative")
	case opts.maxURLsPerHost < 1:
		return nil, usageError("--max-urls-per-host must be at least 1")
	}
	if _, err := warc.NewHash(opts.digest); err != nil || opts.digest == "md5" {
		return nil, usageError("--digest must be sha1, sha256 or sha512")
	}
	worker, err := workerID(opts.workerID)
	if err != nil {
		return nil, err
	}
	scope, err := crawl.ParseScope(opts.scope)
	if err != nil {
		return nil, usageError("--scope: %v", err)
	}
	include, err := compileAll("--include", opts.include)
	if err != nil {
		return nil, err
	}
	exclude, err := compileAll("--exclude", opts.exclude)
	if err != nil {
		return nil, err
	}
	urls = append(urls, opts.jobSeeds...)
	if opts.seedsFile != "" {
		more, err := readSeeds(opts.seedsFile)
		if err != nil {
			return nil, usageError("--seeds: %v", err)
		}
		urls = append(urls, more...)
	}
	docs, err := readCitedDocs(opts)
	if err != nil {
		return nil, err
	}
	urls = append(urls, docs.seeds()...)
	var sh *sharedCrawl
	if opts.shared.state != "" {
		if sh, err = openShared(ctx, &opts, urls); err != nil {
			return nil, err
		}
		defer sh.r.Close()
		if scope, err = crawl.ParseScope(opts.scope); err != nil {
			return nil, usageError("--scope: %v", err)
		}
		if include, err = compileAll("--include", opts.include); err != nil {
			return nil, err
		}
		if exclude, err = compileAll("--exclude", opts.exclude); err != nil {
			return nil, err
		}
	}
	if len(urls) == 0 && len(docs.urls) == 0 && sh == nil {
		return nil, usageError("missing URL to archive (give URLs, --seeds FILE, --links-from or --feed)")
	}
	if err := opts.browser.check(); err != nil {
		return nil, err
	}
	var cookies []crawl.Cookie
	if opts.cookiesFile != "" {
		if opts.noCookies {
			return nil, usageError("--cookies and --no-cookies cannot be used together")
		}
		f, err := os.Open(opts.cookiesFile)
		if err != nil {
			return nil, usageError("--cookies: %v", err)
		}
		cookies, err = crawl.ReadCookiesFile(f)
		f.Close()
		if err != nil {
			return nil, usageError("--cookies %s: %v", opts.cookiesFile, err)
		}
	}

	start := time.Now()
	coll, err := collection.Open(opts.output)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", opts.output, err)
	}
	stateDir := coll.StatePath()
	lock, err := lockCollection(stateDir)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	var st frontier.Frontier
	var info frontier.CrawlInfo
	var requeued int
	stateWorker := localWorker
	if sh != nil {
		if worker, err = sh.workerOf(stateDir, opts.workerID, worker); err != nil {
			return nil, err
		}
		st, stateWorker = sh.r, worker
		if info, requeued, err = sh.start(ctx, coll, worker, opts, p); errors.Is(err, errCrawlFinished) {
			// What recovery put right is listed all the same.
			return nil, coll.Finish(ctx, crawl.CollectionState(st, worker, opts.keepTracking), collection.Run{Software: "amber/" + version})
		} else if err != nil {
			return nil, err
		}
		stop := sh.heartbeat(ctx, frontier.WorkerInfo{ID: worker, Host: hostName(), PID: os.Getpid(), Dir: opts.output, Started: start.UTC()})
		defer stop()
	} else {
		bst, err := frontier.OpenBolt(filepath.Join(stateDir, "crawl.db"), nil)
		if err != nil {
			return nil, err
		}
		defer bst.Close()
		st = bst
		// The collection is locked: the leases in its state are those of runs
		// that died, and go back to the queue now rather than when they expire.
		requeued, err = bst.Reclaim(ctx)
		if err != nil {
			return nil, err
		}
		rec, err := coll.Recover(ctx, crawl.CollectionState(st, localWorker, opts.keepTracking))
		for _, n := range rec.Notes() {
			p.E("amber: %s", n)
		}
		if err != nil {
			return nil, err
		}
		info, err = st.Begin(ctx, opts.recrawl || len(docs.urls) > 0) // documents are fetched again (crawlCited)
		if err != nil {
			return nil, err
		}
	}
	run := frontier.RunInfo{Worker: stateWorker, Crawl: info.Crawl, Resumed: info.Resumed, PID: os.Getpid(), Started: start.UTC()}
	runSeq, err := st.StartRun(ctx, run)
	if err != nil {
		return nil, err
	}
	if info.Resumed {
		more := ""
		if requeued > 0 {
			more = fmt.Sprintf(" (%d URLs it was fetching are queued again)", requeued)
		}
		p.P("amber: resuming crawl %d, which an earlier run did not finish%s", info.Crawl, more)
	}

	// Bodies above 4 MiB spool here while they are recorded; what a killed
	// run left behind is of no use.
	spoolDir := filepath.Join(stateDir, "spool")
	os.RemoveAll(spoolDir)
	if err := os.MkdirAll(spoolDir, 0o755); err != nil {
		return nil, err
	}

	host, _ := os.Hostname()
	software := "amber/" + version
	robots := "obey"
	if opts.ignoreRobots {
		robots = "ignore"
	}
	browserInfo, err := opts.browser.warcinfo(opts.userAgent)
	if err != nil {
		return nil, err
	}
	w, err := warc.NewWriter(warc.WriterOptions{
		Dir:             coll.ArchivePath(),
		Worker:          worker,
		DigestAlgorithm: opts.digest,
		SpoolDir:        spoolDir,
		Info: append([]warc.Field{
			{Name: "software", Value: software},
			{Name: "hostname", Value: host},
			{Name: "format", Value: "WARC File Format 1.1"},
			{Name: "conformsTo", Value: "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"},
			{Name: "http-header-user-agent", Value: opts.userAgent},
			{Name: "robots", Value: robots},
			{Name: "amber-crawl", Value: fmt.Sprintf("%d (run %d%s)", info.Crawl, runSeq, map[bool]string{true: ", resumed"}[info.Resumed])},
			{Name: "amber-seeds", Value: strings.Join(urls, " ")},
			{Name: "amber-settings", Value: fmt.Sprintf("scope=%s outlinks=%t depth=%d include=%q exclude=%q concurrency=%d per-host=%d delay=%s max-urls-per-host=%d max-size=%d retries=%d recrawl=%t dedup=%t digest=%s insecure=%t connect-timeout=%s header-timeout=%s idle-timeout=%s response-timeout=%s",
				scope, opts.outlinks, opts.depth, opts.include, opts.exclude, opts.concurrency, opts.perHost, opts.delay,
				opts.maxURLsPerHost, opts.maxSize, opts.retries, opts.recrawl, !opts.noDedup, opts.digest, opts.insecure,
				opts.timeouts.ConnectTimeout, opts.timeouts.ResponseHeaderTimeout, opts.timeouts.IdleReadTimeout, opts.timeouts.ResponseTimeout)},
		}, browserInfo...),
	})
	if err != nil {
		return nil, err
	}
	logName := "crawl-" + start.UTC().Format("20060102150405") + "-" + uuid.NewString()[:8] + ".jsonl"
	logFile, err := coll.CreateLog(logName)
	if err != nil {
		return nil, err
	}

	browserOpts, texts, err := opts.browser.options(stateDir)
	if err != nil {
		return nil, err
	}
	prog := newProgress(p.Progress())
	tr := opts.timeouts
	tr.InsecureSkipVerify = opts.insecure
	tr.RootCAs = opts.browser.roots // --ca-cert
	tr.MaxSize = opts.maxSize
	if tr.MaxSize == 0 {
		tr.MaxSize = -1 // capture.Options: 0 means the default, negative none
	}
	if tr.ResponseTimeout == 0 {
		tr.ResponseTimeout = -1
	}
	retries := opts.retries
	if retries == 0 {
		retries = -1 // crawl.Options: 0 means the default
	}
	res, crawlErr := crawlCited(ctx, g, docs, opts.recrawl, opts.keepTracking, crawl.Options{
		Seeds:          urls,
		Scope:          scope,
		Outlinks:       opts.outlinks,
		Depth:          opts.depth,
		Include:        include,
		Exclude:        exclude,
		Concurrency:    opts.concurrency,
		PerHost:        opts.perHost,
		Delay:          opts.delay,
		IgnoreRobots:   opts.ignoreRobots,
		UserAgent:      opts.userAgent,
		Transport:      tr,
		MaxURLsPerHost: opts.maxURLsPerHost,
		KeepTracking:   opts.keepTracking,
		Retries:        retries,
		Frontier:       st,
		Crawl:          info.Crawl,
		Worker:         stateWorker,
		StateRetry:     frontier.RetryPolicy{Log: func(msg string) { fmt.Fprintf(g.stderr, "amber: %s\n", msg) }, GiveUp: opts.shared.stateTimeout},
		LeaseTTL:       opts.shared.leaseTTL,
		PollOthers:     sh.pollOthers(),
		ClaimBatch:     sh.claimBatch(opts.concurrency),
		HostSlots:      sh.hostSlots(stateWorker, opts, g),
		HostCap:        sh.hostCap(opts, g),
		RobotsLock:     sh.robotsLock(),
		NoDedup:        opts.noDedup,
		Drain:          g.drain,
		DrainGrace:     max(opts.stopGrace, time.Nanosecond), // crawl.Options: 0 means the default
		Progress:       prog.fetched,
		Log:            logFile,
		Cookies:        cookies,
		NoCookies:      opts.noCookies,
		Browser:        browserOpts,
	}, w, opts.output)
	prog.stop()
	if err := texts.close(); err != nil && crawlErr == nil {
		crawlErr = err
	}

	// Whatever happened, archive the log, close the files and index what
	// was written, so nothing fetched is lost.
	var logErr error
	if res != nil && res.Requests > 0 {
		logErr = archiveLog(w, logFile, logName)
	} else {
		logFile.Close()
		os.Remove(logFile.Name())
	}
	closeErr := w.Close()
	sum := &archiveSummary{Dir: opts.output, Crawl: info.Crawl, Run: runSeq, Resumed: info.Resumed, Started: run.Started,
		Elapsed: time.Since(start), Failures: []failure{}, warcFiles: w.Files()}
	if res != nil {
		sum.Pages, sum.Responses, sum.Revisits, sum.Bytes = res.Pages, res.Captures, res.Revisits, res.Bytes
		sum.Requests, sum.Skipped, sum.Truncated, sum.Failed = res.Requests, res.Skipped, res.Truncated, len(res.Failures)
		sum.Resources = sum.Responses - sum.Pages
		sum.NothingNew = res.Requests == 0 && len(res.Failures) == 0 && !info.Resumed
		for _, f := range res.Failures {
			sum.Failures = append(sum.Failures, failure{URL: f.URL, Seed: f.Seed, Reason: safeLine(fmt.Sprint(f.Err))})
		}
	}
	sum.Files.WARC = []string{}
	for _, name := range sum.warcFiles {
		sum.Files.WARC = append(sum.Files.WARC, filepath.Join(coll.ArchivePath(), name))
	}
	if logErr == nil && res != nil && res.Requests > 0 {
		sum.Files.Log = logFile.Name()
	}
	// The run's end is recorded even when it was interrupted.
	endCtx := context.WithoutCancel(ctx)
	finishSt := crawl.CollectionState(st, stateWorker, opts.keepTracking)
	if lostState(crawlErr) {
		finishSt = nil // the pages stay in the outbox for the worker's next run
	}
	finishErr := coll.Finish(endCtx, finishSt, collection.Run{Index: w.Index(), Hashes: w.FileHashes(), Software: software})
	sum.Files.Index, sum.Files.Pages, sum.Files.Datapackage = existing(coll.Dir, warc.IndexPath), existing(coll.Dir, warc.PagesPath), existing(coll.Dir, warc.DatapackagePath)
	sum.Seeds = []report.Row{}
	sum.showSeeds = p.Progress() != nil // a person is watching
	// Finding them reads the collection's index: done for a person or a
	// program that reads the summary, not for a cron job's text summary.
	if finishErr == nil && (sum.showSeeds || opts.json) {
		rows, rerr := seedOutcomes(opts.output, urls)
		if rerr != nil {
			p.P("amber: where the seeds went is not known: %v", rerr)
		} else {
			for i := range rows {
				rows[i].Run = int(runSeq)
			}
			sum.Seeds = rows
		}
	}

	switch {
	case sh != nil && lostState(crawlErr):
		err = sh.lostError(crawlErr)
	case crawlErr != nil && !errors.Is(crawlErr, context.Canceled):
		// A fatal error (the disk is full, the state cannot be written):
		// what reached the disk is kept and the next run resumes.
		err = fmt.Errorf("%s; the archive is kept up to the last complete record: fix the cause and run the same command again to resume", oneLine(crawlErr))
		if errors.Is(crawlErr, syscall.ENOSPC) {
			err = fmt.Errorf("the disk is full (%s); the archive is kept up to the last complete record: free some space and run the same command again to resume", oneLine(crawlErr))
		}
	case errors.Join(finishErr, logErr, closeErr) != nil:
		err = errors.New(oneLine(errors.Join(finishErr, logErr, closeErr)))
	case errors.Is(crawlErr, context.Canceled):
		err = &exitError{code: exitInterrupted, err: errors.New("interrupted; what was fetched is archived and indexed (run the same command again to resume)")}
	case g.drained():
		err = &exitError{code: exitInterrupted, err: errors.New("stopped; what was fetched is archived and indexed (run the same command again to resume)")}
	case res.SeedFailed():
		err = &exitError{code: exitDamage}
	case len(res.Failures) > 0:
		err = &exitError{code: exitPartial}
	}
	if opts.wacz && (err == nil || exitCode(err) == exitPartial) {
		// Packed while the lock is held, so no other run changes the
		// collection meanwhile; an interrupted run is not packed.
		psum, perr := packCollection(ctx, p, opts.output, packOptions{})
		if psum != nil {
			psum.setExit(perr)
			sum.WACZ, sum.Files.WACZ = psum, psum.Output
		}
		if perr != nil {
			err = perr
		}
	}
	run.Ended, run.Files, run.Captures, run.Bytes, run.Failures = time.Now().UTC(), sum.warcFiles, sum.Responses, sum.Bytes, sum.Failed
	run.Exit = exitCode(err)
	if e := st.EndRun(endCtx, runSeq, run); e != nil && err == nil {
		err = e
	}

	if res != nil {
		for _, f := range res.Failures {
			hint := ""
			if errors.Is(f.Err, crawl.ErrRobotsDisallowed) {
				hint = " (--ignore-robots to archive it anyway)"
			}
			p.E("amber: %s: %v%s", f.URL, f.Err, hint)
		}
	}
	for _, f := range sum.Files.WARC {
		p.V("wrote %s", f)
	}
	sum.Exit, sum.ExitName, sum.Error = exitCode(err), exitName(exitCode(err)), errorText(err)
	if perr := p.S(sum); perr != nil && err == nil {
		err = perr
	}
	return sum, err
}

// oneLine joins the lines of an error (errors.Join makes several) with
// "; ", so every error is one line on stderr.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ; ")), " ")
}

// archiveLog closes the crawl log and stores it in the WARC as a metadata
// record, so the archive documents how it was made.
func archiveLog(w *warc.Writer, f *os.File, name string) error {
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b := w.NewRecord(warc.TypeMetadata, time.Now())
	b.AddField("WARC-Target-URI", "urn:amber:log:"+name)
	b.AddField("Content-Type", "application/x-ndjson")
	if _, err := io.Copy(b, f); err != nil {
		b.Discard()
		return err
	}
	_, err := w.Write(b)
	return err
}

// existing is dir/rel if it exists, or "".
func existing(dir, rel string) string {
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// formatBytes renders a size in decimal units, as MB/s figures are.
func formatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress draws one live status line on the terminal it is given; given
// none, it is silent.
type progress struct {
	w                   io.Writer
	live                bool
	done, failed, bytes atomic.Int64
	queued              atomic.Int64
	start               time.Time
	mu                  sync.Mutex
	last                string
	quit, finished      chan struct{}
}

func newProgress(w io.Writer) *progress {
	live := w != nil
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
				secs := time.Since(p.start).Seconds()
				fmt.Fprintf(p.w, "\r\033[K%d queued, %d done, %d failed, %s (%s/s)  %s",
					p.queued.Load(), p.done.Load(), p.failed.Load(), formatBytes(p.bytes.Load()),
					formatBytes(int64(float64(p.bytes.Load())/max(secs, 0.001))), truncate(safeLine(last), 50))
			}
		}
	}()
	return p
}

func (p *progress) fetched(f crawl.Fetch) {
	if f.Err != nil || f.Error != "" && f.Status == 0 {
		p.failed.Add(1)
	} else {
		p.done.Add(1)
	}
	p.bytes.Add(f.Bytes)
	p.queued.Store(int64(f.Queued))
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
