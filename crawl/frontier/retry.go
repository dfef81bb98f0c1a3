package frontier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// RetryPolicy says how a frontier's transient errors are retried.
type RetryPolicy struct {
	// Base is the first wait after a transient error, doubled after each
	// one with ±25% jitter, up to Max. Defaults 100 ms and 10 s.
	Base, Max time.Duration
	// GiveUp is how long one call keeps retrying before its error is
	// returned as fatal (*GaveUpError); default 5 minutes.
	GiveUp time.Duration
	// Log, if set, hears of every transient error and of the recovery.
	Log func(msg string)
}

// GaveUpError is a transient error that lasted longer than
// RetryPolicy.GiveUp.
type GaveUpError struct {
	Op    string
	After time.Duration
	Err   error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("frontier: %s: gave up after %s: %v", e.Op, e.After.Round(time.Second), e.Err)
}
func (e *GaveUpError) Unwrap() error { return e.Err }

// WithRetry returns f with every call retried, by p, while it fails with a
// transient error. Cancelling the call's context stops the retries.
//
// Once a call gave up, later calls are tried once: a transient error
// gives up at once.
//
// A retried call may have taken effect before its reply was lost: Add,
// Extend, Release and Recover are idempotent; the Redis backend knows a
// Claim or a Finish tried again after a transient error, and returns
// what the first try did (the same leases; the same lost leases, none
// for the outcomes it recorded). With a backend that does not, a Claim
// that took effect leaves leases that expire, and a Finish that did
// reports the outcomes it recorded as lost leases.
func WithRetry(f Frontier, p RetryPolicy) Frontier {
	r := &retrying{f: f, p: p.withDefaults()}
	r.gaveUp = &r.own
	if s, ok := f.(gaveUpSharer); ok {
		r.gaveUp = s.gaveUpFlag()
	}
	return r
}

// gaveUpSharer is a backend whose other retried calls (the Redis host
// slots) give up with WithRetry's: once one of them gave up on the server,
// they all do at once.
type gaveUpSharer interface{ gaveUpFlag() *atomic.Bool }

// withDefaults is p with the documented default for every unset field.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Base <= 0 {
		p.Base = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.GiveUp <= 0 {
		p.GiveUp = 5 * time.Minute
	}
	return p
}

type retrying struct {
	f Frontier
	p RetryPolicy
	// gaveUp is set once a call gave up: the backend is gone for good, so
	// later calls try once and give up at once, and a worker stopping
	// does not wait GiveUp again for each of its last calls. It points to
	// own, or to the backend's (gaveUpSharer).
	gaveUp *atomic.Bool
	own    atomic.Bool
}

// do runs fn until it returns anything but a transient error.
func do[T any](ctx context.Context, r *retrying, op string, fn func() (T, error)) (T, error) {
	return retry(ctx, r.p, r.gaveUp, op, fn)
}

// retry runs fn until it returns anything but a transient error, waiting
// by p between tries and logging each failure and the recovery. Once
// gaveUp is set (by this call giving up after p.GiveUp, or by another),
// a transient error gives up at once.
func retry[T any](ctx context.Context, p RetryPolicy, gaveUp *atomic.Bool, op string, fn func() (T, error)) (T, error) {
	start := time.Now()
	wait := p.Base
	failures := 0
	for {
		v, err := fn()
		if err == nil || !IsTransient(err) {
			if failures > 0 && err == nil && p.Log != nil {
				p.Log(fmt.Sprintf("crawl state: %s works again after %d failures in %s", op, failures, time.Since(start).Round(time.Millisecond)))
			}
			return v, err
		}
		failures++
		if time.Since(start) >= p.GiveUp || gaveUp.Load() {
			gaveUp.Store(true)
			return v, &GaveUpError{Op: op, After: time.Since(start), Err: err}
		}
		d := wait - wait/4 + time.Duration(rand.Int64N(int64(wait/2)+1))
		if p.Log != nil {
			p.Log(fmt.Sprintf("crawl state: %s: %v; retrying in %s", op, errors.Unwrap(err), d.Round(time.Millisecond)))
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, p.Max)
	}
}

func do0(ctx context.Context, r *retrying, op string, fn func() error) error {
	_, err := do(ctx, r, op, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

func (r *retrying) Begin(ctx context.Context, recrawl bool) (CrawlInfo, error) {
	return do(ctx, r, "begin", func() (CrawlInfo, error) { return r.f.Begin(ctx, recrawl) })
}

func (r *retrying) Add(ctx context.Context, entries []Entry) (int, error) {
	return do(ctx, r, "add", func() (int, error) { return r.f.Add(ctx, entries) })
}

func (r *retrying) Claim(ctx context.Context, worker string, max int, ttl time.Duration) ([]Lease, error) {
	return do(ctx, r, "claim", func() ([]Lease, error) { return r.f.Claim(ctx, worker, max, ttl) })
}

func (r *retrying) Extend(ctx context.Context, leases []Lease, ttl time.Duration) ([]Lease, error) {
	return do(ctx, r, "extend", func() ([]Lease, error) { return r.f.Extend(ctx, leases, ttl) })
}

func (r *retrying) Release(ctx context.Context, leases []Lease) error {
	return do0(ctx, r, "release", func() error { return r.f.Release(ctx, leases) })
}

func (r *retrying) Finish(ctx context.Context, outcomes []Outcome, digests []DigestRef) error {
	return do0(ctx, r, "finish", func() error { return r.f.Finish(ctx, outcomes, digests) })
}

func (r *retrying) Recover(ctx context.Context, keys []string, digests []DigestRef) error {
	return do0(ctx, r, "recover", func() error { return r.f.Recover(ctx, keys, digests) })
}

func (r *retrying) LookupDigest(ctx context.Context, digest string) (DigestRef, bool, error) {
	type found struct {
		d  DigestRef
		ok bool
	}
	v, err := do(ctx, r, "digest lookup", func() (found, error) {
		d, ok, err := r.f.LookupDigest(ctx, digest)
		return found{d, ok}, err
	})
	return v.d, v.ok, err
}

func (r *retrying) Robots(ctx context.Context, origin string) (RobotsTxt, bool, error) {
	type found struct {
		r  RobotsTxt
		ok bool
	}
	v, err := do(ctx, r, "robots.txt lookup", func() (found, error) {
		rt, ok, err := r.f.Robots(ctx, origin)
		return found{rt, ok}, err
	})
	return v.r, v.ok, err
}

func (r *retrying) PutRobots(ctx context.Context, origin string, rt RobotsTxt) (RobotsTxt, error) {
	return do(ctx, r, "robots.txt store", func() (RobotsTxt, error) { return r.f.PutRobots(ctx, origin, rt) })
}

func (r *retrying) Cookies(ctx context.Context) ([]Cookie, error) {
	return do(ctx, r, "cookies", func() ([]Cookie, error) { return r.f.Cookies(ctx) })
}

func (r *retrying) PutCookies(ctx context.Context, cookies []Cookie) error {
	return do0(ctx, r, "cookie store", func() error { return r.f.PutCookies(ctx, cookies) })
}

func (r *retrying) Counts(ctx context.Context) (Counts, error) {
	return do(ctx, r, "counts", func() (Counts, error) { return r.f.Counts(ctx) })
}

func (r *retrying) Failures(ctx context.Context, max int) ([]Failure, error) {
	return do(ctx, r, "failures", func() ([]Failure, error) { return r.f.Failures(ctx, max) })
}

func (r *retrying) Pages(ctx context.Context, worker string) ([]Page, error) {
	return do(ctx, r, "pages", func() ([]Page, error) { return r.f.Pages(ctx, worker) })
}

func (r *retrying) ClearPages(ctx context.Context, worker string, through uint64) error {
	return do0(ctx, r, "clear pages", func() error { return r.f.ClearPages(ctx, worker, through) })
}

func (r *retrying) StartRun(ctx context.Context, ri RunInfo) (uint64, error) {
	return do(ctx, r, "start run", func() (uint64, error) { return r.f.StartRun(ctx, ri) })
}

func (r *retrying) EndRun(ctx context.Context, seq uint64, ri RunInfo) error {
	return do0(ctx, r, "end run", func() error { return r.f.EndRun(ctx, seq, ri) })
}

func (r *retrying) Runs(ctx context.Context) ([]RunInfo, error) {
	return do(ctx, r, "runs", func() ([]RunInfo, error) { return r.f.Runs(ctx) })
}

func (r *retrying) Close() error { return r.f.Close() }
