package main

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/browser"
	"github.com/amber-archiver/amber/warc"
	"github.com/amber-archiver/amber/warc/collection"
)

// browserFlags are amber archive's browser-mode settings, and the extra
// trusted roots (--ca-cert) of both modes.
type browserFlags struct {
	on          bool
	chromium    string
	browsers    int
	pageTimeout time.Duration
	pageText    bool
	caCert      string
	roots       *x509.CertPool // the system's and --ca-cert's; nil: the system's
}

// browserJob is the job-file form of browserFlags (inlined in jobFile).
type browserJob struct {
	Browser     *bool          `yaml:"browser"`
	Chromium    *string        `yaml:"chromium"`
	Browsers    *int           `yaml:"browsers"`
	PageTimeout *time.Duration `yaml:"page_timeout"`
	PageText    *bool          `yaml:"page_text"`
	CACert      *string        `yaml:"ca_cert"`
}

func addBrowserFlags(f *pflag.FlagSet, b *browserFlags) {
	f.BoolVar(&b.on, "browser", false, "also load every page in headless Chromium, archiving what its scripts fetch through the same recording transport")
	f.StringVar(&b.chromium, "chromium", "", "the Chromium `PATH` for --browser (default: chromium, chromium-browser or google-chrome on PATH)")
	f.IntVar(&b.browsers, "browsers", 1, "most Chromium processes at once with --browser")
	f.DurationVar(&b.pageTimeout, "page-timeout", browser.DefaultPageTimeout, "longest load and scrolling of one page with --browser")
	f.BoolVar(&b.pageText, "page-text", false, "with --browser, put each page's rendered text in pages.jsonl")
	f.StringVar(&b.caCert, "ca-cert", "", "also trust the root certificates of PEM `FILE` for HTTPS origins (intranets, test servers)")
}

func applyBrowserJob(f *pflag.FlagSet, b *browserFlags, j browserJob) {
	set := func(flag string, ok bool, apply func()) {
		if ok && !f.Changed(flag) {
			apply()
		}
	}
	set("browser", j.Browser != nil, func() { b.on = *j.Browser })
	set("chromium", j.Chromium != nil, func() { b.chromium = *j.Chromium })
	set("browsers", j.Browsers != nil, func() { b.browsers = *j.Browsers })
	set("page-timeout", j.PageTimeout != nil, func() { b.pageTimeout = *j.PageTimeout })
	set("page-text", j.PageText != nil, func() { b.pageText = *j.PageText })
	set("ca-cert", j.CACert != nil, func() { b.caCert = *j.CACert })
}

// check validates the flags and finds Chromium, before anything is
// fetched.
func (b *browserFlags) check() error {
	if b.caCert != "" {
		roots, err := rootsWith(b.caCert)
		if err != nil {
			return err
		}
		b.roots = roots
	}
	if !b.on {
		if b.chromium != "" || b.pageText {
			return usageError("--chromium and --page-text need --browser")
		}
		return nil
	}
	switch {
	case b.browsers < 1:
		return usageError("--browsers must be at least 1")
	case b.pageTimeout <= 0:
		return usageError("--page-timeout must be positive")
	}
	path, err := browser.FindChromium(b.chromium)
	if err != nil {
		if b.chromium != "" {
			return usageError("--chromium: %v", err)
		}
		return usageError("--browser: %v", err)
	}
	b.chromium = path
	return nil
}

// rootsWith returns the system's roots and those of the PEM file.
func rootsWith(file string) (*x509.CertPool, error) {
	data, err := warc.ReadSmallFile(file, 16<<20)
	if err != nil {
		return nil, usageError("--ca-cert: %v", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(data) {
		return nil, usageError("--ca-cert %s: no PEM certificate in it", file)
	}
	return roots, nil
}

// pageTextFile is where the rendered texts of a run's pages wait for
// pages.jsonl (collection.Dir.Finish).
const pageTextFile = collection.PageTextFile

type pageText struct {
	URL  string `json:"url"`
	Text string `json:"text"`
}

// pageTexts appends rendered texts to the state directory's file.
type pageTexts struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	err error
}

func (p *pageTexts) add(u, text string) {
	line, err := json.Marshal(pageText{URL: u, Text: text})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.err == nil {
		_, err = p.w.Write(append(line, '\n'))
	}
	if err != nil && p.err == nil {
		p.err = err
	}
}

func (p *pageTexts) close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.err, p.w.Flush(), p.f.Close())
}

// options returns the crawl's browser options (nil: HTTP mode) and the
// writer of page texts, if any.
func (b *browserFlags) options(stateDir string) (*crawl.BrowserOptions, *pageTexts, error) {
	if !b.on {
		return nil, nil, nil
	}
	o := &crawl.BrowserOptions{Chromium: b.chromium, Browsers: b.browsers, PageTimeout: b.pageTimeout}
	if !b.pageText {
		return o, nil, nil
	}
	f, err := os.OpenFile(filepath.Join(stateDir, pageTextFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("page texts: %w", err)
	}
	pt := &pageTexts{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	o.PageText = pt.add
	return o, pt, nil
}

// warcinfo returns the warcinfo fields that say the run loads pages in a
// browser: which Chromium (as it reports itself: DevTools
// Browser.getVersion), the User-Agent it sends (userAgent when the run
// sets its own, as the browser is then told to), and the browser
// settings. It starts Chromium once for this, before anything is
// fetched.
func (b *browserFlags) warcinfo(userAgent string) ([]warc.Field, error) {
	if !b.on {
		return nil, nil
	}
	v, err := browser.GetVersion(browser.Options{Chromium: b.chromium})
	if err != nil {
		return nil, fmt.Errorf("--browser: %w", err)
	}
	ua := v.UserAgent
	if userAgent != crawl.DefaultUserAgent {
		ua = userAgent
	}
	return []warc.Field{
		{Name: "browser", Value: "Chromium " + v.Number()},
		{Name: "browser-user-agent", Value: ua},
		{Name: "amber-browser", Value: fmt.Sprintf("chromium=%s browsers=%d page-timeout=%s page-text=%t", b.chromium, b.browsers, b.pageTimeout, b.pageText)},
	}, nil
}
