package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc"
)

type statusOptions struct {
	json    bool
	printer printer
	shared  sharedOptions // --state, --crawl-id (shared_status.go)
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status DIR | status --state URL [--crawl-id ID]",
		Short: "Show a collection's runs, crawl state and size",
		Long: `Status shows what a collection holds and how its runs went: each run with
its start, end, exit status and what it archived; the URLs of the current
crawl by state (queued, being fetched, done, failed) and the failures; the
files and their sizes. It reads the state without changing anything, and
waits for nothing: while a run is going, it says so.

With --state redis://… (no DIR), it shows the crawl that workers share in
Redis: its URLs by state, the leases each worker holds (and how long ago it
renewed them), the workers alive, and the runs of every worker.

EXIT STATUS
  0  the status was shown
  1  the collection could not be read (e.g. its crawl state is damaged:
     the message says what to do)
  2  usage error: no such directory, or not a collection; a bad or
     unreachable Redis URL, or a crawl id never started`,
		Args: func(_ *cobra.Command, args []string) error {
			if opts.shared.state != "" {
				if len(args) != 0 {
					return usageError("status --state takes no directory")
				}
				return nil
			}
			if len(args) != 1 {
				return usageError("status takes one collection directory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.printer = newPrinter(g, opts.json, normalLevel)
			if opts.shared.state != "" {
				return runSharedStatus(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts, args[0])
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print one JSON object")
	addStatusStateFlags(cmd.Flags(), &opts.shared)
	return cmd
}

type statusReport struct {
	Dir       string       `json:"dir"`
	Running   string       `json:"running,omitempty"`
	Runs      []statusRun  `json:"runs"`
	URLs      *statusCount `json:"urls,omitempty"`
	Failures  []string     `json:"failures,omitempty"`
	WARCFiles int          `json:"warcFiles"`
	WARCBytes int64        `json:"warcBytes"`
	Bytes     int64        `json:"bytes"`
}

// statusRun is a run as status --json shows it.
type statusRun struct {
	Crawl    uint64    `json:"crawl"`
	Resumed  bool      `json:"resumed"`
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	Exit     int       `json:"exit"`
	Files    []string  `json:"files,omitempty"`
	Captures int       `json:"captures"`
	Bytes    int64     `json:"bytes"`
	Failures int       `json:"failures"`
}

// statusCount is the URLs of the current crawl in each state.
type statusCount struct {
	Queued int `json:"queued"`
	Leased int `json:"leased"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
}

func runStatus(_ context.Context, opts statusOptions, dir string) error {
	if fi, err := os.Stat(filepath.Join(dir, warc.ArchiveDir)); err != nil || !fi.IsDir() {
		return usageError("%s is not a collection (no %s directory)", dir, warc.ArchiveDir)
	}
	rep := statusReport{Dir: dir}
	stateDir := filepath.Join(dir, "state")
	if lock, err := lockCollection(stateDir); err != nil {
		holder, _ := os.ReadFile(filepath.Join(stateDir, "lock"))
		rep.Running = describeHolder(string(holder))
	} else {
		// Nobody is running: read the state (bbolt allows one process).
		defer lock.release()
		if _, err := os.Stat(filepath.Join(stateDir, "crawl.db")); err == nil {
			ctx := context.Background()
			st, err := frontier.OpenBolt(filepath.Join(stateDir, "crawl.db"), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.Runs(ctx)
			if err != nil {
				return err
			}
			for _, r := range runs {
				rep.Runs = append(rep.Runs, statusRun{Crawl: r.Crawl, Resumed: r.Resumed, PID: r.PID, Started: r.Started, Ended: r.Ended,
					Exit: r.Exit, Files: r.Files, Captures: r.Captures, Bytes: r.Bytes, Failures: r.Failures})
			}
			c, err := st.Counts(ctx)
			if err != nil {
				return err
			}
			rep.URLs = &statusCount{Queued: c.Queued, Leased: c.Leased, Done: c.Done, Failed: c.Failed}
			fails, err := st.Failures(ctx, 20)
			if err != nil {
				return err
			}
			for _, f := range fails {
				rep.Failures = append(rep.Failures, f.URL+": "+f.Reason)
			}
		}
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		rep.Bytes += fi.Size()
		if strings.HasSuffix(p, ".warc.gz") && filepath.Base(filepath.Dir(p)) == warc.ArchiveDir {
			rep.WARCFiles++
			rep.WARCBytes += fi.Size()
		}
		return nil
	})
	return opts.printer.S(&rep)
}

func (rep *statusReport) printText(w io.Writer) {
	fmt.Fprintf(w, "collection %s: %d WARC files, %s (%s in all)\n", rep.Dir, rep.WARCFiles, formatBytes(rep.WARCBytes), formatBytes(rep.Bytes))
	if rep.Running != "" {
		fmt.Fprintf(w, "a run is going now: %s (state not shown while it runs)\n", rep.Running)
		return
	}
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "no runs recorded")
		return
	}
	fmt.Fprintf(w, "runs:\n")
	for i, r := range rep.Runs {
		end := "did not finish (killed?)"
		if !r.Ended.IsZero() {
			end = fmt.Sprintf("exit %d after %s", r.Exit, r.Ended.Sub(r.Started).Round(time.Second))
		}
		resumed := ""
		if r.Resumed {
			resumed = ", resumed"
		}
		fmt.Fprintf(w, "  %d  %s  crawl %d%s  %s: %d responses, %s, %d failed\n", i+1, r.Started.Format(time.RFC3339), r.Crawl, resumed, end, r.Captures, formatBytes(r.Bytes), r.Failures)
	}
	last := rep.Runs[len(rep.Runs)-1]
	fmt.Fprintf(w, "last run: exit status %d\n", last.Exit)
	if c := rep.URLs; c != nil {
		fmt.Fprintf(w, "current crawl: %d done, %d failed, %d queued, %d leased\n", c.Done, c.Failed, c.Queued, c.Leased)
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
}
