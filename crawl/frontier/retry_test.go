package frontier_test

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/crawl/frontier/frontiertest"
)

// flaky fails every other call of the methods a crawl makes most with a
// transient error, before it reaches the backend (as a dropped connection
// would), or always, with down.
type flaky struct {
	frontier.Frontier
	mu    sync.Mutex
	calls int
	fails int
	down  bool
	fatal error // returned instead, when set
}

func (f *flaky) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fatal != nil {
		return f.fatal
	}
	if f.down || f.calls%2 == 1 {
		f.fails++
		return &frontier.TransientError{Err: syscall.ECONNRESET}
	}
	return nil
}

func (f *flaky) Add(ctx context.Context, es []frontier.Entry) (int, error) {
	if err := f.fail(); err != nil {
		return 0, err
	}
	return f.Frontier.Add(ctx, es)
}

func (f *flaky) Claim(ctx context.Context, w string, max int, ttl time.Duration) ([]frontier.Lease, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Frontier.Claim(ctx, w, max, ttl)
}

func (f *flaky) Finish(ctx context.Context, os []frontier.Outcome, ds []frontier.DigestRef) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Frontier.Finish(ctx, os, ds)
}

func (f *flaky) Counts(ctx context.Context) (frontier.Counts, error) {
	if err := f.fail(); err != nil {
		return frontier.Counts{}, err
	}
	return f.Frontier.Counts(ctx)
}

var fast = frontier.RetryPolicy{Base: time.Microsecond, Max: time.Millisecond}

// TestRetryConformance: a backend that drops every other call still passes
// the whole suite behind WithRetry.
func TestRetryConformance(t *testing.T) {
	var all []*flaky
	frontiertest.Run(t, frontiertest.Backend{
		Open: func(t *testing.T, clock frontier.Clock) frontier.Frontier {
			f := &flaky{Frontier: frontier.NewMemory(clock)}
			all = append(all, f)
			return frontier.WithRetry(f, fast)
		},
	})
	n := 0
	for _, f := range all {
		n += f.fails
	}
	if n < 100 {
		t.Fatalf("only %d transient failures injected", n)
	}
}

func TestRetryGivesUp(t *testing.T) {
	f := &flaky{Frontier: frontier.NewMemory(nil), down: true}
	var logged []string
	p := fast
	p.GiveUp = 20 * time.Millisecond
	p.Log = func(msg string) { logged = append(logged, msg) }
	_, err := frontier.WithRetry(f, p).Add(context.Background(), []frontier.Entry{{Key: "a"}})
	var gu *frontier.GaveUpError
	if !errors.As(err, &gu) || !errors.Is(err, syscall.ECONNRESET) || gu.Op != "add" {
		t.Fatalf("error %v, want a *GaveUpError wrapping ECONNRESET", err)
	}
	if f.calls < 2 || len(logged) != f.calls-1 {
		t.Fatalf("%d calls, %d log lines", f.calls, len(logged))
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	f := &flaky{Frontier: frontier.NewMemory(nil), down: true}
	ctx, cancel := context.WithCancel(context.Background())
	p := frontier.RetryPolicy{Base: time.Hour}
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	if _, err := frontier.WithRetry(f, p).Claim(ctx, "w", 1, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestRetryNotFatal(t *testing.T) {
	boom := errors.New("disk full")
	f := &flaky{Frontier: frontier.NewMemory(nil), fatal: boom}
	if _, err := frontier.WithRetry(f, fast).Add(context.Background(), nil); !errors.Is(err, boom) || f.calls != 1 {
		t.Fatalf("error %v after %d calls, want disk full after 1", err, f.calls)
	}
}
