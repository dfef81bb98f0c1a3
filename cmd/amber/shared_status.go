package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/amber-archiver/amber/crawl/frontier"
)

func addStatusStateFlags(f *pflag.FlagSet, o *sharedOptions) {
	f.StringVar(&o.state, "state", "", "show the crawl kept in the Redis server at `URL` (as amber archive --state) instead of a collection's")
	f.StringVar(&o.crawlID, "crawl-id", "amber", "with --state: the crawl's `ID`")
}

// sharedStatus is amber status --state: a crawl shared in Redis.
type sharedStatus struct {
	State    string            `json:"state"` // the Redis URL, password hidden
	CrawlID  string            `json:"crawlId"`
	Crawl    uint64            `json:"crawl"`
	Finished bool              `json:"finished"`
	URLs     statusCount       `json:"urls"`
	Rate     sharedRate        `json:"rate"`
	Leases   []sharedLeases    `json:"leases"`
	Workers  []sharedWorker    `json:"workers"`
	Runs     []sharedStatusRun `json:"runs"`
	Failures []string          `json:"failures,omitempty"`
	now      time.Time
}

// sharedRate is how fast the crawl gets done.
type sharedRate struct {
	// RecentDone URLs were done in the last WindowNs (60 to 70 s, by the
	// Redis server's clock): RecentPerMinute a minute.
	RecentDone      int           `json:"recentDone"`
	WindowNs        time.Duration `json:"windowNs"`
	RecentPerMinute float64       `json:"recentPerMinute"`
	// OverallPerMinute is the URLs done a minute over the crawl's
	// ElapsedNs: from the start of its first run to now, or to the end of
	// its last run once it has finished.
	OverallPerMinute float64       `json:"overallPerMinute"`
	ElapsedNs        time.Duration `json:"elapsedNs"`
}

// overall is the crawl's rate from its runs: done URLs over the time since
// its first run started (to now, or to its last run's end once finished).
func overall(done int, crawl uint64, finished bool, runs []frontier.RunInfo, now time.Time) (float64, time.Duration) {
	var start, end time.Time
	for _, r := range runs {
		if r.Crawl != crawl {
			continue
		}
		if start.IsZero() || r.Started.Before(start) {
			start = r.Started
		}
		if r.Ended.After(end) {
			end = r.Ended
		}
	}
	if !finished || end.IsZero() {
		end = now
	}
	d := end.Sub(start)
	if start.IsZero() || d <= 0 {
		return 0, 0
	}
	return float64(done) / d.Minutes(), d
}

// sharedLeases is what one worker holds.
type sharedLeases struct {
	Worker string `json:"worker"`
	Leases int    `json:"leases"`
	// AgeNs is how long ago the worker last claimed or renewed the oldest
	// of them (known when the worker's heartbeat gives its lease TTL).
	AgeNs       time.Duration `json:"ageNs,omitempty"`
	ExpiresInNs time.Duration `json:"expiresInNs"` // until the first expires
}

type sharedWorker struct {
	frontier.WorkerInfo
	Alive bool `json:"alive"`
}

type sharedStatusRun struct {
	Worker string `json:"worker"`
	statusRun
}

func runSharedStatus(ctx context.Context, opts statusOptions) error {
	o := opts.shared
	r, err := frontier.OpenRedis(ctx, o.state, o.crawlID, nil)
	if err != nil {
		return usageError("--state: %s", oneLine(err))
	}
	defer r.Close()
	shown := frontier.RedactURL(o.state)
	settings, err := r.Settings(ctx, nil)
	if err != nil {
		return fmt.Errorf("crawl state at %s: %s", shown, oneLine(err))
	}
	if settings == nil {
		return usageError("crawl %q at %s has not been started", o.crawlID, shown)
	}
	// Reading only: Begin with begin unset changes nothing, and says
	// which crawl is current.
	s, err := r.BeginShared(ctx, false, false)
	if err != nil {
		return fmt.Errorf("crawl state at %s: %s", shown, oneLine(err))
	}
	rep := sharedStatus{State: shown, CrawlID: o.crawlID, Crawl: s.Crawl, Finished: s.State == frontier.CrawlFinished,
		URLs:   statusCount{Queued: s.Counts.Queued, Leased: s.Counts.Leased, Done: s.Counts.Done, Failed: s.Counts.Failed},
		Leases: []sharedLeases{}, Workers: []sharedWorker{}, Runs: []sharedStatusRun{}, now: time.Now()}
	workers, err := r.Workers(ctx)
	if err != nil {
		return err
	}
	ttl := map[string]time.Duration{}
	for _, w := range workers {
		ttl[w.ID] = w.LeaseTTL
		rep.Workers = append(rep.Workers, sharedWorker{WorkerInfo: w, Alive: w.Alive(rep.now)})
	}
	holders, err := r.LeaseHolders(ctx)
	if err != nil {
		return err
	}
	for _, h := range holders {
		l := sharedLeases{Worker: h.Worker, Leases: h.Leases, ExpiresInNs: h.First.Sub(rep.now)}
		if d, ok := ttl[h.Worker]; ok {
			l.AgeNs = max(d-l.ExpiresInNs, 0)
		}
		rep.Leases = append(rep.Leases, l)
	}
	runs, err := r.Runs(ctx)
	if err != nil {
		return err
	}
	rate, err := r.Rate(ctx)
	if err != nil {
		return err
	}
	rep.Rate = sharedRate{RecentDone: rate.Done, WindowNs: rate.Window, RecentPerMinute: rate.PerMinute()}
	rep.Rate.OverallPerMinute, rep.Rate.ElapsedNs = overall(rep.URLs.Done, rep.Crawl, rep.Finished, runs, rep.now)
	for _, ru := range runs {
		rep.Runs = append(rep.Runs, sharedStatusRun{Worker: ru.Worker, statusRun: statusRun{Crawl: ru.Crawl, Resumed: ru.Resumed, PID: ru.PID, Started: ru.Started, Ended: ru.Ended,
			Exit: ru.Exit, Files: ru.Files, Captures: ru.Captures, Bytes: ru.Bytes, Failures: ru.Failures}})
	}
	fails, err := r.Failures(ctx, 20)
	if err != nil {
		return err
	}
	for _, f := range fails {
		rep.Failures = append(rep.Failures, f.URL+": "+f.Reason)
	}
	return opts.printer.S(&rep)
}

func (rep *sharedStatus) printText(w io.Writer) {
	state := "going"
	if rep.Finished {
		state = "finished"
	}
	c := rep.URLs
	fmt.Fprintf(w, "crawl %q at %s: crawl %d, %s: %d done, %d failed, %d queued, %d leased\n", rep.CrawlID, rep.State, rep.Crawl, state, c.Done, c.Failed, c.Queued, c.Leased)
	fmt.Fprintf(w, "rate: %.1f URLs/min over the last %s (%d done), %.1f URLs/min overall (%s)\n",
		rep.Rate.RecentPerMinute, rep.Rate.WindowNs.Round(time.Second), rep.Rate.RecentDone, rep.Rate.OverallPerMinute, rep.Rate.ElapsedNs.Round(time.Second))
	for _, l := range rep.Leases {
		age := ""
		if l.AgeNs > 0 {
			age = fmt.Sprintf(", renewed %s ago", l.AgeNs.Round(time.Second))
		}
		fmt.Fprintf(w, "  leased to %s: %d URLs%s, the first expiring in %s\n", l.Worker, l.Leases, age, l.ExpiresInNs.Round(time.Second))
	}
	alive := 0
	for _, wk := range rep.Workers {
		if wk.Alive {
			alive++
		}
	}
	fmt.Fprintf(w, "workers: %d alive of %d\n", alive, len(rep.Workers))
	for _, wk := range rep.Workers {
		st := "stopped"
		switch {
		case wk.Alive:
			st = "alive"
		case !wk.Ended:
			st = "not heard from (dead?)"
		}
		fmt.Fprintf(w, "  %s  %s, pid %d on %s, %s, last heard %s ago\n", wk.ID, st, wk.PID, wk.Host, wk.Dir, rep.now.Sub(wk.Seen).Round(time.Second))
	}
	fmt.Fprintf(w, "runs:\n")
	for i, r := range rep.Runs {
		end := "going, or did not finish"
		if !r.Ended.IsZero() {
			end = fmt.Sprintf("exit %d after %s", r.Exit, r.Ended.Sub(r.Started).Round(time.Second))
		}
		fmt.Fprintf(w, "  %d  %s  %s  crawl %d  %s: %d responses, %s, %d failed\n", i+1, r.Started.Format(time.RFC3339), r.Worker, r.Crawl, end, r.Captures, formatBytes(r.Bytes), r.Failures)
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
}
