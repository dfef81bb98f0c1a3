// Command amber archives web pages into WARC files and verifies them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit statuses shared by every command. Each command documents the ones it
// uses under EXIT STATUS in its long help.
const (
	exitOK      = 0
	exitDamage  = 1 // verify: damage found; archive: a seed could not be captured
	exitUsage   = 2
	exitPartial = 3 // archive: the crawl finished but some URLs failed
	// 4, exitLocked: archive: another run holds the collection (lock.go)
	exitInterrupted = 130
)

// globalOptions are the settings every command receives explicitly.
type globalOptions struct {
	stdout io.Writer
	// stderr takes messages, one a Write, each made one safe line
	// (lineWriter); rawStderr is the terminal itself, for the live
	// progress line.
	stderr     io.Writer
	rawStderr  io.Writer
	cpuProfile string // write a CPU profile here (hidden flag, for benchmarks)
	memProfile string // write a heap profile here at the end (hidden flag)
	trace      string // write an execution trace here (hidden flag)

	// drain is closed by the first interrupt; a command that can stop
	// gracefully (archive) sets drainable, and the second interrupt
	// cancels its context. Other commands are cancelled at once.
	drain     <-chan struct{}
	drainable bool
}

func (g *globalOptions) drained() bool {
	select {
	case <-g.drain:
		return true
	default:
		return false
	}
}

// exitCode maps an error returned by a command to the exit status.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage // cobra does not type this error
	}
	return exitDamage
}

// exitError carries a specific exit status up to main. Its message, if any,
// has already been printed when msg is empty.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments (exit status 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "amber",
		Short: "Archive web pages into WARC files and verify them",
		Long: `amber fetches a web page and everything it needs to render, writes what the
server sent, byte for byte, into WARC/1.1 files with a CDXJ index, and proves
on demand that not one bit of the archive has changed since.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version,
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&g.memProfile, "memprofile", "", "write a heap profile to `FILE` at the end")
	root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentFlags().StringVar(&g.trace, "trace", "", "write an execution trace to `FILE`")
	root.PersistentFlags().MarkHidden("trace")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.trace != "" {
			f, err := os.Create(g.trace)
			if err != nil {
				return usageError("--trace: %v", err)
			}
			if err := trace.Start(f); err != nil {
				return err
			}
		}
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return usageError("--cpuprofile: %v", err)
		}
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		pprof.StopCPUProfile()
		trace.Stop()
	}
	root.AddCommand(
		newArchiveCommand(g),
		newVerifyCommand(g),
		newRepairCommand(g),
		newStatusCommand(g),
		newPackCommand(g),
		newIndexCommand(g),
		newReplayCommand(g),
		newReportCommand(g),
	)
	return root
}

// run executes amber with args and returns the exit status. main and the
// script tests both call it. The first interrupt (SIGINT, SIGTERM) drains
// a command that can stop gracefully, the second cancels it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	drain := make(chan struct{})
	rawStderr := stderr
	stderr = &lineWriter{w: stderr}
	g := &globalOptions{stdout: stdout, stderr: stderr, rawStderr: rawStderr, drain: drain}
	redis.SetLogger(redisLogger{w: stderr})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		close(drain)
		if !g.drainable {
			cancel()
			return
		}
		fmt.Fprintln(stderr, "amber: stopping: finishing the requests in flight, cutting them after --stop-grace (interrupt again to stop at once)")
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()

	root := newRootCommand(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	pprof.StopCPUProfile() // PersistentPostRun does not run after an error
	if g.memProfile != "" {
		if f, err := os.Create(g.memProfile); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if err != nil {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(stderr, "amber: %s\n", msg)
		}
	}
	return exitCode(err)
}

// argsAtLeast is cobra.MinimumNArgs with a usage exit status.
func argsAtLeast(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError("missing %s", what)
		}
		return nil
	}
}

func main() {
	tuneGC()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC trades a little memory for less garbage collection: amber's live
// heap is small and does not grow with a crawl (bodies spool to disk, the
// frontier is in the state file), so the collector may let the heap grow to
// three times it, but a soft limit keeps the heap under 100 MiB however
// large it gets. In the crawl benchmark this is 5% less CPU at the same
// peak RSS (~135 MB). GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(100 << 20)
	}
}

// Bounds of one message on stderr: maxWord for a run of non-space
// characters in it (a URL, a header value), maxMessage for the whole.
const (
	maxWord    = 200
	maxMessage = 2000
)

// safeLine renders a message as one line of bounded length, whatever the
// values in it: control characters (CR, LF, ESC...), invisible format
// characters (bidirectional overrides) and invalid UTF-8 are escaped
// (\r, \n, \x1b, \u202e), a run of non-space characters longer than
// maxWord keeps its start and end around "…", and a message longer than
// maxMessage ends in "…". A seed holding CR LF cannot forge a second line,
// and a 1 MiB Location does not make a 1 MiB line.
func safeLine(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxMessage) + 16)
	word := 0 // where the current run of non-space characters starts in b
	for i := 0; i < len(s); {
		if b.Len() >= maxMessage {
			b.WriteString("…")
			return b.String()
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\r':
			b.WriteString("\\r")
		case r == '\n':
			b.WriteString("\\n")
		case r == '\t':
			b.WriteString("\\t")
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r != ' ' && !unicode.IsPrint(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
		if r == ' ' {
			word = b.Len()
			continue
		}
		if b.Len()-word > maxWord {
			// Elide the middle of the run: keep its first part, skip to
			// its last 40 bytes (or the end of the message).
			keep := word + maxWord - 40
			out := b.String()[:keep]
			for !utf8.ValidString(out) {
				out = out[:len(out)-1]
			}
			end := strings.IndexByte(s[i:], ' ')
			if end < 0 {
				end = len(s) - i
			}
			tail := i + end
			from := max(i, tail-40)
			for from < tail && !utf8.RuneStart(s[from]) {
				from++
			}
			b.Reset()
			b.WriteString(out)
			b.WriteString("…")
			rest := safeLine(s[from:tail])
			b.WriteString(rest)
			i = tail
			word = b.Len()
		}
	}
	return b.String()
}

// lineWriter writes each Write as one safe line (safeLine), ended by a
// newline: every message amber prints goes out in one Write (fmt.Fprintf,
// log.Logger), so the values inside it cannot break it into two.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	line := safeLine(strings.TrimSuffix(string(p), "\n")) + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := io.WriteString(l.w, line); err != nil {
		return 0, err
	}
	return len(p), nil
}
