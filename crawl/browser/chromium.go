package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Names looks for these on PATH, in this order, when no path is given.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ErrNoChromium: no Chromium binary was found, or the one given cannot be
// run.
var ErrNoChromium = errors.New("browser: Chromium not found")

// FindChromium returns path if it is given and executable, or else the
// first of Names found on PATH. Its error says how to install Chromium.
func FindChromium(path string) (string, error) {
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoChromium, err)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%w: %s is not an executable file", ErrNoChromium, path)
		}
		return path, nil
	}
	for _, name := range Names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w on PATH (looked for %s): install it (Debian, Ubuntu: apt-get install chromium; Fedora: dnf install chromium; macOS: brew install --cask chromium) or give its path",
		ErrNoChromium, strings.Join(Names, ", "))
}

// flags are Chromium's command-line switches for one browser process,
// and why each is there.
func flags(o *Options, profile string) []chromedp.ExecAllocatorOption {
	fl := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(o.Chromium),
		// The new headless mode (the default of --headless since
		// Chromium 132) renders as a headed browser does.
		chromedp.Flag("headless", true),
		// Needed as root, in containers and on CI machines, where the
		// sandbox's namespaces are not available.
		chromedp.Flag("no-sandbox", true),
		// A profile of its own, removed when the process is gone: no
		// cookies, cache or service workers from elsewhere.
		chromedp.UserDataDir(profile),
		// Nothing the browser does on its own behalf (updates, sync,
		// safe-browsing lists, metrics, field trials, translation,
		// optimization hints) goes to the network, where the proxy
		// would archive it.
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-field-trial-config", true),
		chromedp.Flag("no-service-autorun", true),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,InterestFeedContentSuggestions,NetworkTimeServiceQuerying"),
		// Frames of other sites stay in the page's renderer, so the
		// page's network events (the network-quiet count) include theirs.
		chromedp.Flag("disable-site-isolation-trials", true),
		// Timers and rendering of the page keep full speed although no
		// window is visible (lazy loaders run on timers).
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		// Containers often have a 64 MB /dev/shm, which Chromium fills.
		chromedp.Flag("disable-dev-shm-usage", true),
		// No keyring prompt or lookup.
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Screenshots without scroll bars and in one colour profile.
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.ModifyCmdFunc(setProcAttrs),
	}
	if o.Proxy != "" {
		fl = append(fl,
			chromedp.ProxyServer(o.Proxy),
			// Chromium sends loopback addresses around a proxy unless
			// told not to; a page on 127.0.0.1 must go through it too.
			chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		)
	}
	if len(o.TrustSPKI) > 0 {
		// Trust these keys' certificates in this process alone (the
		// proxy's in-memory CA); Chromium honours it only with a
		// user-data-dir of its own, which it has.
		fl = append(fl, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(o.TrustSPKI, ",")))
	}
	if o.UserAgent != "" {
		fl = append(fl, chromedp.UserAgent(o.UserAgent))
	}
	return fl
}

// instance is one running browser process.
type instance struct {
	// ctx is chromedp's handle on the browser process: it lives as long
	// as the process, not as one call, so it is kept here (chromedp ends
	// the browser when it is cancelled).
	ctx         context.Context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	pid         int
	profile     string
	killed      sync.Once
}

// alive reports whether the browser still has its DevTools connection.
func (b *instance) alive() bool { return b.ctx.Err() == nil }

// launch starts a browser and waits until it answers, up to timeout.
func launch(o *Options, timeout time.Duration) (*instance, error) {
	profile, err := os.MkdirTemp(o.TempDir, "amber-chromium-")
	if err != nil {
		return nil, &LaunchError{Err: err}
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), flags(o, profile)...)
	// The package prints nothing: what chromedp would log is in the errors.
	quiet := func(string, ...any) {}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(quiet), chromedp.WithErrorf(quiet))
	b := &instance{ctx: ctx, cancel: cancel, allocCancel: allocCancel, profile: profile}
	// The first call starts the process; it must not have a deadline of
	// its own (that would end the browser), so the wait is bounded here.
	if err := within(timeout, func() error { return chromedp.Do(ctx) }); err != nil {
		if c := chromedp.FromContext(ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
			b.pid = c.Browser.Process().Pid
		}
		b.kill()
		return nil, &LaunchError{Err: err}
	}
	b.pid = chromedp.FromContext(ctx).Browser.Process().Pid
	return b, nil
}

// kill ends the browser's whole process group (its renderers, GPU and
// network processes were started in it) and removes its profile; once.
func (b *instance) kill() { b.killed.Do(b.killNow) }

func (b *instance) killNow() {
	killBrowser(b.pid, b.profile)
	b.cancel()
	b.allocCancel() // waits for the process to be reaped
	for try := 0; try < 20; try++ {
		// A child may still be writing for a moment after the group is
		// killed.
		if err := os.RemoveAll(b.profile); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// within runs f and gives up waiting after d with errHung; f goes on
// until what it waits for is killed.
func within(d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errHung
	}
}

// LaunchError: the browser could not be started.
type LaunchError struct{ Err error }

func (e *LaunchError) Error() string { return "browser: starting Chromium: " + e.Err.Error() }
func (e *LaunchError) Unwrap() error { return e.Err }

// Version is what a Chromium binary says of itself (DevTools
// Browser.getVersion).
type Version struct {
	Product   string // e.g. "HeadlessChrome/156.0.8078.114"
	UserAgent string // the User-Agent it sends unless told otherwise
}

// Number is the version number of Product ("156.0.8078.114").
func (v Version) Number() string {
	if _, n, ok := strings.Cut(v.Product, "/"); ok {
		return n
	}
	return v.Product
}

// GetVersion starts the browser of o (its Chromium, TempDir and
// CommandTimeout; every other option is left out) once, asks it its
// version and ends it. Its proxy is a closed port on the loopback
// interface, so nothing it might try reaches the network.
func GetVersion(o Options) (Version, error) {
	path, err := FindChromium(o.Chromium)
	if err != nil {
		return Version{}, err
	}
	lo := Options{Chromium: path, TempDir: o.TempDir, CommandTimeout: o.CommandTimeout, Proxy: "http://127.0.0.1:1",
		Width: DefaultWidth, Height: DefaultHeight}
	setDefault(&lo.CommandTimeout, DefaultCommandTimeout)
	if lo.TempDir == "" {
		lo.TempDir = os.TempDir()
	}
	b, err := launch(&lo, lo.CommandTimeout)
	if err != nil {
		return Version{}, err
	}
	defer b.kill()
	var v Version
	err = within(lo.CommandTimeout, func() error {
		res, err := chromedp.Call(b.ctx, cdpbrowser.GetVersion, cdp.Empty{})
		v = Version{Product: res.Product, UserAgent: res.UserAgent}
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("browser: asking Chromium its version: %w", err)
	}
	return v, nil
}
