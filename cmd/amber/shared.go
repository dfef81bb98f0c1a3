package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc/collection"
)

// exitStateLost is the exit status of a worker that stopped because the
// shared crawl state (Redis) could not be reached for --state-timeout.
const exitStateLost = 5

// sharedOptions are the flags of a crawl shared by several workers.
type sharedOptions struct {
	state        string        // --state redis://…; "" for the embedded state
	crawlID      string        // --crawl-id
	leaseTTL     time.Duration // --lease-ttl
	stateTimeout time.Duration // --state-timeout
}

func addSharedFlags(f *pflag.FlagSet, o *sharedOptions) {
	f.StringVar(&o.state, "state", "", "keep the crawl state in the Redis server at `URL` (redis://[user:password@]HOST:PORT/DB, rediss:// for TLS), shared by every worker started with it; default: in DIR/state")
	f.StringVar(&o.crawlID, "crawl-id", "amber", "with --state: the crawl's `ID` in Redis (its key prefix)")
	f.DurationVar(&o.leaseTTL, "lease-ttl", 2*time.Minute, "with --state: how long a URL stays this worker's without word from it; a dead worker's URLs go to the others after it")
	f.DurationVar(&o.stateTimeout, "state-timeout", 5*time.Minute, "with --state: how long Redis may be unreachable (retried with backoff) before the worker stops, exit status 5")
}

// sharedSettings are what decides which URLs a crawl takes: stored in
// Redis by the crawl's first worker, checked against every worker's that
// gives URLs, and taken by those that give none.
type sharedSettings struct {
	Seeds        []string `json:"seeds"`
	Scope        string   `json:"scope"`
	Outlinks     bool     `json:"outlinks"`
	Depth        int      `json:"depth"`
	Include      []string `json:"include"`
	Exclude      []string `json:"exclude"`
	KeepTracking bool     `json:"keepTracking"`
}

func settingsOf(opts archiveOptions, urls []string) sharedSettings {
	seeds := slices.Clone(urls)
	for i := range seeds {
		seeds[i] = strings.TrimSpace(seeds[i])
	}
	slices.Sort(seeds)
	return sharedSettings{Seeds: slices.Compact(seeds), Scope: opts.scope, Outlinks: opts.outlinks, Depth: opts.depth,
		Include: append([]string{}, opts.include...), Exclude: append([]string{}, opts.exclude...), KeepTracking: opts.keepTracking}
}

// sharedCrawl is a worker's connection to a crawl in Redis.
type sharedCrawl struct {
	r       *frontier.Redis
	opts    sharedOptions
	shown   string // the state URL, password hidden
	joining bool   // started with no URLs
}

// openShared opens the crawl in Redis and settles its settings: a worker
// with URLs stores them if it is the first, and is refused if the crawl
// has others; a worker without takes the crawl's (opts is changed). Any
// problem is a usage error: nothing was fetched.
func openShared(ctx context.Context, opts *archiveOptions, urls []string) (*sharedCrawl, error) {
	o := opts.shared
	switch {
	case o.leaseTTL < time.Second:
		return nil, usageError("--lease-ttl must be at least 1s")
	case o.stateTimeout <= 0:
		return nil, usageError("--state-timeout must be positive")
	case len(opts.linksFrom) > 0 || len(opts.feeds) > 0:
		return nil, usageError("--links-from and --feed cannot be used with --state (give the URLs, or --seeds FILE)")
	}
	r, err := frontier.OpenRedis(ctx, o.state, o.crawlID, nil)
	if err != nil {
		return nil, usageError("--state: %s", oneLine(err))
	}
	sh := &sharedCrawl{r: r, opts: o, shown: frontier.RedactURL(o.state), joining: len(urls) == 0}
	fail := func(err error) (*sharedCrawl, error) {
		r.Close()
		return nil, err
	}
	var stored []byte
	if sh.joining {
		stored, err = r.Settings(ctx, nil)
		if err == nil && stored == nil {
			return fail(usageError("crawl %q at %s has not been started: give its URLs to the first worker", o.crawlID, sh.shown))
		}
	} else {
		mine, merr := json.Marshal(settingsOf(*opts, urls))
		if merr != nil {
			return fail(merr)
		}
		if stored, err = r.Settings(ctx, mine); err == nil && !bytes.Equal(stored, mine) {
			return fail(usageError("crawl %q at %s was started with other seeds or scope (%s): use another --crawl-id, or start this worker with no URLs to join it", o.crawlID, sh.shown, describeSettings(stored)))
		}
	}
	if err != nil {
		return fail(usageError("--state: %s", oneLine(err)))
	}
	var s sharedSettings
	if err := json.Unmarshal(stored, &s); err != nil {
		return fail(fmt.Errorf("crawl %q at %s: its settings are unreadable: %v", o.crawlID, sh.shown, err))
	}
	opts.scope, opts.outlinks, opts.depth, opts.include, opts.exclude, opts.keepTracking = s.Scope, s.Outlinks, s.Depth, s.Include, s.Exclude, s.KeepTracking
	return sh, nil
}

func describeSettings(b []byte) string {
	var s sharedSettings
	if json.Unmarshal(b, &s) != nil {
		return "unreadable settings"
	}
	seeds := strings.Join(s.Seeds, " ")
	if len(s.Seeds) > 3 {
		seeds = strings.Join(s.Seeds[:3], " ") + fmt.Sprintf(" and %d more", len(s.Seeds)-3)
	}
	return fmt.Sprintf("seeds %s, scope %s", safeLine(seeds), s.Scope)
}

// workerOf is the worker id of a collection in a shared crawl: the one it
// was first run with (in DIR/state/worker), so that a rerun finds its
// leases and pages, unless --worker-id gives one. A collection is one
// worker's: another id is refused.
func (sh *sharedCrawl) workerOf(stateDir, given, fallback string) (string, error) {
	p := filepath.Join(stateDir, "worker")
	b, err := os.ReadFile(p)
	prev := strings.TrimSpace(string(b))
	switch {
	case err == nil && prev != "" && given != "" && given != prev:
		return "", usageError("%s holds worker %s's collection: give --worker-id %s, or another -o", filepath.Dir(stateDir), prev, prev)
	case err == nil && prev != "":
		return prev, nil
	case err != nil && !os.IsNotExist(err):
		return "", err
	}
	id := given
	if id == "" {
		id = fallback
	}
	if err := os.WriteFile(p, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// errCrawlFinished is a worker started on a crawl that has finished.
var errCrawlFinished = errors.New("the crawl has finished")

// start takes back this worker's own leases (its last run died: the
// collection lock is ours), recovers the collection, and joins or begins
// the crawl.
func (sh *sharedCrawl) start(ctx context.Context, coll *collection.Dir, worker string, opts archiveOptions, p printer) (frontier.CrawlInfo, int, error) {
	requeued, err := sh.r.ReclaimWorker(ctx, worker)
	if err != nil {
		return frontier.CrawlInfo{}, 0, sh.stateError(err)
	}
	rec, err := coll.Recover(ctx, crawl.CollectionState(sh.r, worker, opts.keepTracking))
	for _, n := range rec.Notes() {
		p.E("amber: %s", n)
	}
	if err != nil {
		return frontier.CrawlInfo{}, 0, err
	}
	begin := !sh.joining
	for waited := time.Duration(0); ; waited += 200 * time.Millisecond {
		s, err := sh.r.BeginShared(ctx, begin, opts.recrawl)
		if err != nil {
			return frontier.CrawlInfo{}, 0, sh.stateError(err)
		}
		switch {
		case s.State == frontier.CrawlFinished:
			p.P("amber: crawl %q at %s has finished (crawl %d: %d URLs done, %d failed); nothing to do", sh.opts.crawlID, sh.shown, s.Crawl, s.Counts.Done, s.Counts.Failed)
			return frontier.CrawlInfo{}, 0, errCrawlFinished
		case s.State == frontier.CrawlNone:
			return frontier.CrawlInfo{}, 0, usageError("crawl %q at %s has not been started: give its URLs to the first worker", sh.opts.crawlID, sh.shown)
		case s.State == frontier.CrawlFresh && sh.joining && waited < 10*time.Second:
			// Its first worker is queuing the seeds.
			select {
			case <-ctx.Done():
				return frontier.CrawlInfo{}, 0, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		return s.CrawlInfo, requeued, nil
	}
}

func (sh *sharedCrawl) stateError(err error) error {
	return fmt.Errorf("crawl state at %s: %s", sh.shown, oneLine(err))
}

// lostState reports whether the crawl stopped because the state could not
// be reached for --state-timeout.
func lostState(err error) bool {
	var g *frontier.GaveUpError
	return errors.As(err, &g)
}

func (sh *sharedCrawl) lostError(err error) error {
	return &exitError{code: exitStateLost, err: fmt.Errorf("the crawl state at %s could not be reached for %s (%s): stopped; the files are closed and indexed, this worker's URLs go to the others when their leases expire; run the same command again when Redis is back",
		sh.shown, sh.opts.stateTimeout, oneLine(errors.Unwrap(err)))}
}

// heartbeat tells the crawl this worker is alive, every third of its lease
// time to live, until stop; stop says it ended.
func (sh *sharedCrawl) heartbeat(ctx context.Context, w frontier.WorkerInfo) (stop func()) {
	w.LeaseTTL = sh.opts.leaseTTL
	sh.r.Beat(ctx, w)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(sh.opts.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				sh.r.Beat(ctx, w) // a failure is the crawl's to see
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
		w.Ended = true
		sh.r.Beat(context.WithoutCancel(ctx), w)
	}
}

// pollOthers is how often a worker with nothing to do looks again while
// other workers hold leases (crawl.Options.PollOthers); 0 for the
// embedded state.
func (sh *sharedCrawl) pollOthers() time.Duration {
	if sh == nil {
		return 0
	}
	return 500 * time.Millisecond
}

func hostName() string {
	h, _ := os.Hostname()
	return h
}

// claimBatch is how many URLs a worker claims at a time: with the shared
// state, a few per request in flight, so that the URLs go round the
// workers; 0 (the crawl's default) for the embedded state.
func (sh *sharedCrawl) claimBatch(concurrency int) int {
	if sh == nil {
		return 0
	}
	return 2 * concurrency
}

// redisLogger takes go-redis's own log lines: its logger is one for the
// process (redis.SetLogger), set by run. A failed dial, which go-redis
// logs at every try ("redis: connection pool: failed to dial after 1
// attempts: dial tcp …: connect: connection refused", raw on stderr by
// default), is dropped: amber's retry lines say it already. Anything else
// it says is one line on stderr, "amber: redis: …".
type redisLogger struct{ w io.Writer }

func (l redisLogger) Printf(_ context.Context, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.Contains(msg, "failed to dial") {
		return
	}
	fmt.Fprintf(l.w, "amber: redis: %s\n", strings.Join(strings.Fields(strings.TrimPrefix(msg, "redis: ")), " "))
}

// hostSlots holds --per-host for the whole crawl: a host's slots are in
// Redis, shared by every worker; nil for the embedded state.
func (sh *sharedCrawl) hostSlots(worker string, opts archiveOptions, g *globalOptions) crawl.HostSlots {
	if sh == nil {
		return nil
	}
	return sh.r.HostSlots(worker, opts.perHost, opts.delay, sh.opts.leaseTTL, sh.retry(g))
}

func (sh *sharedCrawl) retry(g *globalOptions) frontier.RetryPolicy {
	return frontier.RetryPolicy{
		GiveUp: sh.opts.stateTimeout,
		Log:    func(msg string) { fmt.Fprintf(g.stderr, "amber: %s\n", msg) },
	}
}

// hostCap holds --max-urls-per-host for the whole crawl: the URLs queued
// per host are counted in Redis as they are queued; nil for the embedded
// state (each run counts its own).
func (sh *sharedCrawl) hostCap(opts archiveOptions, g *globalOptions) crawl.HostCap {
	if sh == nil {
		return nil
	}
	return sh.r.HostCap(opts.maxURLsPerHost, sh.retry(g))
}

// robotsLock makes the workers fetch each robots.txt once for the whole
// crawl; nil for the embedded state.
func (sh *sharedCrawl) robotsLock() crawl.RobotsLock {
	if sh == nil {
		return nil
	}
	return sh.r
}
