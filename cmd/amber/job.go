package main

import (
	"bytes"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// jobFile is the YAML form of amber archive's settings, for cron. Every
// key is optional; a flag given on the command line wins over the file.
type jobFile struct {
	Seeds          []string       `yaml:"seeds"`
	SeedsFile      *string        `yaml:"seeds_file"`
	LinksFrom      []string       `yaml:"links_from"`
	Feeds          []string       `yaml:"feeds"`
	Output         *string        `yaml:"output"`
	Scope          *string        `yaml:"scope"`
	Outlinks       *bool          `yaml:"outlinks"`
	Depth          *int           `yaml:"depth"`
	Include        []string       `yaml:"include"`
	Exclude        []string       `yaml:"exclude"`
	Concurrency    *int           `yaml:"concurrency"`
	PerHost        *int           `yaml:"per_host"`
	Delay          *time.Duration `yaml:"delay"`
	IgnoreRobots   *bool          `yaml:"ignore_robots"`
	UserAgent      *string        `yaml:"user_agent"`
	MaxURLsPerHost *int           `yaml:"max_urls_per_host"`
	MaxSize        *int64         `yaml:"max_size"`
	Retries        *int           `yaml:"retries"`
	Recrawl        *bool          `yaml:"recrawl"`
	NoDedup        *bool          `yaml:"no_dedup"`
	WACZ           *bool          `yaml:"wacz"`
	Digest         *string        `yaml:"digest"`
	Quiet          *bool          `yaml:"quiet"`
	JSON           *bool          `yaml:"json"`
	Cookies        *string        `yaml:"cookies"`
	NoCookies      *bool          `yaml:"no_cookies"`
	WorkerID       *string        `yaml:"worker_id"`
	State          *string        `yaml:"state"`
	CrawlID        *string        `yaml:"crawl_id"`
	LeaseTTL       *time.Duration `yaml:"lease_ttl"`
	StateTimeout   *time.Duration `yaml:"state_timeout"`

	browserJob `yaml:",inline"` // browser.go
}

// applyJob reads --job and sets every option whose flag was not given.
// Seeds from the file are added to those on the command line.
func applyJob(cmd *cobra.Command, opts *archiveOptions) error {
	if opts.job == "" {
		return nil
	}
	data, err := os.ReadFile(opts.job)
	if err != nil {
		return usageError("--job: %v", err)
	}
	var j jobFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&j); err != nil {
		return usageError("--job %s: %v", opts.job, err)
	}
	f := cmd.Flags()
	setStr := func(flag string, dst *string, v *string) {
		if v != nil && !f.Changed(flag) {
			*dst = *v
		}
	}
	setInt := func(flag string, dst *int, v *int) {
		if v != nil && !f.Changed(flag) {
			*dst = *v
		}
	}
	setBool := func(flag string, dst *bool, v *bool) {
		if v != nil && !f.Changed(flag) {
			*dst = *v
		}
	}
	opts.jobSeeds = j.Seeds
	setStr("seeds", &opts.seedsFile, j.SeedsFile)
	if j.LinksFrom != nil && !f.Changed("links-from") {
		opts.linksFrom = j.LinksFrom
	}
	if j.Feeds != nil && !f.Changed("feed") {
		opts.feeds = j.Feeds
	}
	setStr("output", &opts.output, j.Output)
	setStr("scope", &opts.scope, j.Scope)
	setBool("outlinks", &opts.outlinks, j.Outlinks)
	setInt("depth", &opts.depth, j.Depth)
	if j.Include != nil && !f.Changed("include") {
		opts.include = j.Include
	}
	if j.Exclude != nil && !f.Changed("exclude") {
		opts.exclude = j.Exclude
	}
	setInt("concurrency", &opts.concurrency, j.Concurrency)
	setInt("per-host", &opts.perHost, j.PerHost)
	if j.Delay != nil && !f.Changed("delay") {
		opts.delay = *j.Delay
	}
	setBool("ignore-robots", &opts.ignoreRobots, j.IgnoreRobots)
	setStr("user-agent", &opts.userAgent, j.UserAgent)
	setInt("max-urls-per-host", &opts.maxURLsPerHost, j.MaxURLsPerHost)
	if j.MaxSize != nil && !f.Changed("max-size") {
		opts.maxSize = *j.MaxSize
	}
	setInt("retries", &opts.retries, j.Retries)
	setBool("recrawl", &opts.recrawl, j.Recrawl)
	setBool("no-dedup", &opts.noDedup, j.NoDedup)
	setBool("wacz", &opts.wacz, j.WACZ)
	setStr("digest", &opts.digest, j.Digest)
	setBool("quiet", &opts.quiet, j.Quiet)
	setBool("json", &opts.json, j.JSON)
	setStr("cookies", &opts.cookiesFile, j.Cookies)
	setBool("no-cookies", &opts.noCookies, j.NoCookies)
	applyBrowserJob(f, &opts.browser, j.browserJob)
	setStr("worker-id", &opts.workerID, j.WorkerID)
	setStr("state", &opts.shared.state, j.State)
	setStr("crawl-id", &opts.shared.crawlID, j.CrawlID)
	if j.LeaseTTL != nil && !f.Changed("lease-ttl") {
		opts.shared.leaseTTL = *j.LeaseTTL
	}
	if j.StateTimeout != nil && !f.Changed("state-timeout") {
		opts.shared.stateTimeout = *j.StateTimeout
	}
	if opts.shared.state == "" && len(j.Seeds) == 0 && j.SeedsFile == nil && len(opts.linksFrom) == 0 && len(opts.feeds) == 0 && !f.Changed("seeds") && cmd.Flags().NArg() == 0 {
		return usageError("--job %s: no seeds", opts.job)
	}
	return nil
}
