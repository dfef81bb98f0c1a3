package frontier_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/internal/testredis"
)

// retryLog is a RetryPolicy's log that a test can wait on: each line is
// logged and sent to lines (dropped when nobody reads).
type retryLog struct {
	t     *testing.T
	mu    sync.Mutex
	all   []string
	lines chan string
}

func newRetryLog(t *testing.T) *retryLog { return &retryLog{t: t, lines: make(chan string, 1)} }

func (l *retryLog) log(msg string) {
	l.mu.Lock()
	l.all = append(l.all, msg)
	l.mu.Unlock()
	l.t.Log(msg)
	select {
	case l.lines <- msg:
	default:
	}
}

// waitFor waits for a line containing s.
func (l *retryLog) waitFor(s string) {
	l.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case m := <-l.lines:
			if strings.Contains(m, s) {
				return
			}
		case <-timeout:
			l.t.Fatalf("no log line with %q in a minute", s)
		}
	}
}

func (l *retryLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.all {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func (l *retryLog) policy() frontier.RetryPolicy {
	return frontier.RetryPolicy{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond, Log: l.log}
}

// TestRedisHostSlots: no more than the limit of a host's slots are held
// at once, across clients; a slot given back makes room at once.
func TestRedisHostSlots(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	a := openRedis(t, s, "slots", nil).HostSlots("w1", 2, 0, time.Hour, frontier.RetryPolicy{})
	b := openRedis(t, s, "slots", nil).HostSlots("w2", 2, 0, time.Hour, frontier.RetryPolicy{})
	r1, err := a.Acquire(ctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.Acquire(ctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Acquire(ctx, "example.net") // another host's slots
	if err != nil {
		t.Fatal(err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := a.Acquire(short, "example.org"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third slot of a host with two: %v, want to wait until cancelled", err)
	}
	r1()
	r1() // once only
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r3, err := a.Acquire(wait, "example.org")
	if err != nil {
		t.Fatalf("a slot given back is not free: %v", err)
	}
	r2()
	r3()
	// A slot had under a context cancelled since (a crawl stopped at
	// once) is given back all the same.
	cctx, cancel := context.WithCancel(ctx)
	r4, err := a.Acquire(cctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	r4()
	if n := s.Client(t).ZCard(ctx, "amber:{slots}:host:example.org").Val(); n != 0 {
		t.Errorf("%d slots taken after all were given back", n)
	}
}

// TestRedisHostSlotsRestart: a slot given back while Redis is down (its
// request ended during a restart) is given back once Redis is back, not
// left taken until it expires, where it would keep every worker off the
// host; a slot asked for while Redis is down is had once it is back.
func TestRedisHostSlotsRestart(t *testing.T) {
	s := testredis.Start(t, "--appendfsync", "always")
	ctx := context.Background()
	log := newRetryLog(t)
	hs := openRedis(t, s, "slots", nil).HostSlots("w1", 1, 0, time.Hour, log.policy())
	release, err := hs.Acquire(ctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	s.Kill()
	given := make(chan struct{})
	go func() {
		release()
		close(given)
	}()
	log.waitFor("host slot release: ")
	s.Restart(t)
	<-given
	if !log.has("host slot release works again") {
		t.Errorf("the recovery was not logged")
	}
	if n := s.Client(t).ZCard(ctx, "amber:{slots}:host:example.org").Val(); n != 0 {
		t.Fatalf("%d slots taken after the slot was given back over a restart", n)
	}

	// The one slot of the host is free: had at once, even when asked for
	// with Redis down.
	s.Kill()
	type result struct {
		release func()
		err     error
	}
	got := make(chan result, 1)
	wait, cancel := context.WithTimeout(ctx, time.Minute) // a leaked slot would hold it for an hour
	defer cancel()
	go func() {
		r, err := hs.Acquire(wait, "example.org")
		got <- result{r, err}
	}()
	log.waitFor("host slot: ")
	s.Restart(t)
	r := <-got
	if r.err != nil {
		t.Fatalf("Acquire over a restart: %v", r.err)
	}
	r.release()
}

// TestRedisRestartKilled: Redis killed (SIGKILL) mid-crawl with
// "appendfsync always" loses nothing: the leases claimed before are
// extended, claimed anew and finished after the restart through
// WithRetry (the script cache is empty then: the scripts are loaded
// again), and every URL is done once.
func TestRedisRestartKilled(t *testing.T) {
	s := testredis.Start(t, "--appendfsync", "always")
	ctx := context.Background()
	f := openRedis(t, s, "killed", nil)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	var es []frontier.Entry
	for i := range 6 {
		es = append(es, frontier.Entry{Key: fmt.Sprint("u", i), Data: []byte(fmt.Sprint("data ", i))})
	}
	if _, err := f.Add(ctx, es); err != nil {
		t.Fatal(err)
	}
	first, err := f.Claim(ctx, "w1", 3, time.Hour)
	if err != nil || len(first) != 3 {
		t.Fatalf("claim: %v %v", first, err)
	}
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: first[0]}}, []frontier.DigestRef{{Digest: "sha1:A", URI: "u0"}}); err != nil {
		t.Fatal(err)
	}
	s.Kill()

	log := newRetryLog(t)
	rf := frontier.WithRetry(f, log.policy())
	type result struct {
		extended, claimed []frontier.Lease
		counts            frontier.Counts
		digest            bool
		err               error
	}
	got := make(chan result, 1)
	go func() {
		var r result
		defer func() { got <- r }()
		if r.extended, r.err = rf.Extend(ctx, first[1:], time.Hour); r.err != nil {
			return
		}
		if r.claimed, r.err = rf.Claim(ctx, "w1", 10, time.Hour); r.err != nil {
			return
		}
		var os []frontier.Outcome
		for _, l := range append(r.extended, r.claimed...) {
			os = append(os, frontier.Outcome{Lease: l})
		}
		if r.err = rf.Finish(ctx, os, nil); r.err != nil {
			return
		}
		if _, r.digest, r.err = rf.LookupDigest(ctx, "sha1:A"); r.err != nil {
			return
		}
		r.counts, r.err = rf.Counts(ctx)
	}()
	log.waitFor("extend: ")
	s.Restart(t)
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.extended) != 2 || len(r.claimed) != 3 {
		t.Errorf("after the restart: %d leases extended (want 2), %d claimed (want 3)", len(r.extended), len(r.claimed))
	}
	for _, l := range r.claimed {
		if want := "data " + strings.TrimPrefix(l.Key, "u"); string(l.Data) != want {
			t.Errorf("%s claimed with data %q, want %q", l.Key, l.Data, want)
		}
	}
	if !r.digest {
		t.Errorf("the digest recorded before the kill is gone")
	}
	if r.counts != (frontier.Counts{Done: 6}) {
		t.Errorf("counts %+v, want 6 done", r.counts)
	}
	if !log.has("extend works again") {
		t.Errorf("the recovery was not logged")
	}
	checkCounters(t, s, "killed")
}

// dropProxy forwards TCP connections to a server, and when drop is set,
// closes the connection at the next reply instead of passing it on: the
// server ran the command, the client never hears of it (a restart or a
// dropped connection at the wrong moment).
type dropProxy struct {
	ln      net.Listener
	drop    atomic.Bool
	dropped atomic.Int32
}

func startDropProxy(t *testing.T, target string) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() {
				io.Copy(s, c)
				s.Close()
			})
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && p.drop.CompareAndSwap(true, false) {
						p.dropped.Add(1)
						s.Close()
						return
					}
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return p
}

// TestRedisLostReplies: a claim or a finish that ran on the server but
// whose reply was lost, tried again (as WithRetry does), gets the reply
// it would have had: the same leases, not a second batch leased to
// nobody until they expire; the outcomes recorded, not reported as lost
// leases.
func TestRedisLostReplies(t *testing.T) {
	s := testredis.Start(t)
	p := startDropProxy(t, s.Addr())
	ctx := context.Background()
	f, err := frontier.OpenRedis(ctx, "redis://"+p.ln.Addr().String()+"/0", "lost", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	var es []frontier.Entry
	for i := range 6 {
		es = append(es, frontier.Entry{Key: fmt.Sprint("u", i)})
	}
	if _, err := f.Add(ctx, es); err != nil {
		t.Fatal(err)
	}
	done := func(ls []frontier.Lease) (os []frontier.Outcome) {
		for _, l := range ls {
			os = append(os, frontier.Outcome{Lease: l})
		}
		return os
	}
	// Both scripts loaded, so that the reply dropped is the script's, not
	// a NOSCRIPT.
	warm, err := f.Claim(ctx, "w1", 1, time.Hour)
	if err != nil || len(warm) != 1 {
		t.Fatalf("claim: %v %v", warm, err)
	}
	if err := f.Finish(ctx, done(warm), nil); err != nil {
		t.Fatal(err)
	}

	p.drop.Store(true)
	if _, err := f.Claim(ctx, "w1", 2, time.Hour); !frontier.IsTransient(err) {
		t.Fatalf("claim with its reply dropped: %v, want a transient error", err)
	}
	ls, err := f.Claim(ctx, "w1", 2, time.Hour)
	if err != nil || len(ls) != 2 || ls[0].Key != "u1" || ls[1].Key != "u2" {
		t.Fatalf("the claim again: %v %v, want u1 and u2", ls, err)
	}
	if c, err := f.Counts(ctx); err != nil || c != (frontier.Counts{Queued: 3, Leased: 2, Done: 1}) {
		t.Fatalf("counts after a claim tried twice: %+v %v, want 3 queued, 2 leased, 1 done", c, err)
	}

	p.drop.Store(true)
	if err := f.Finish(ctx, done(ls), nil); !frontier.IsTransient(err) {
		t.Fatalf("finish with its reply dropped: %v, want a transient error", err)
	}
	if err := f.Finish(ctx, done(ls), nil); err != nil {
		t.Fatalf("the finish again: %v, want its outcomes recorded", err)
	}
	if c, err := f.Counts(ctx); err != nil || c != (frontier.Counts{Queued: 3, Done: 3}) {
		t.Fatalf("counts after a finish tried twice: %+v %v, want 3 queued, 3 done", c, err)
	}
	// The next claim is a new one.
	rest, err := f.Claim(ctx, "w1", 10, time.Hour)
	if err != nil || len(rest) != 3 || rest[0].Key != "u3" {
		t.Fatalf("the next claim: %v %v, want u3 to u5", rest, err)
	}
	// A finish of leases lost meanwhile still says so when tried again.
	if err := f.Release(ctx, rest[:1]); err != nil {
		t.Fatal(err)
	}
	p.drop.Store(true)
	var le *frontier.LeaseError
	if err := f.Finish(ctx, done(rest), nil); !frontier.IsTransient(err) {
		t.Fatalf("finish with its reply dropped: %v, want a transient error", err)
	}
	if err := f.Finish(ctx, done(rest), nil); !errors.As(err, &le) || len(le.Keys) != 1 || le.Keys[0] != "u3" {
		t.Fatalf("the finish again: %v, want u3's lease lost", err)
	}
	if n := p.dropped.Load(); n != 3 {
		t.Errorf("%d replies dropped, want 3", n)
	}
	checkCounters(t, s, "lost")
}

// TestRedisGiveUpShared: once a call through WithRetry gave up on Redis,
// the host slots give up at once too (and the other way round), so that a
// worker stopping past --state-timeout does not wait it out again for
// each slot it gives back.
func TestRedisGiveUpShared(t *testing.T) {
	for _, first := range []string{"frontier", "slots"} {
		t.Run(first, func(t *testing.T) {
			s := testredis.Start(t)
			ctx := context.Background()
			f := openRedis(t, s, "gone", nil)
			short := frontier.RetryPolicy{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, GiveUp: 300 * time.Millisecond}
			long := short
			long.GiveUp = time.Hour
			var g *frontier.GaveUpError
			if first == "frontier" {
				rf := frontier.WithRetry(f, short)
				hs := f.HostSlots("w1", 1, 0, time.Hour, long)
				s.Kill()
				if _, err := rf.Counts(ctx); !errors.As(err, &g) {
					t.Fatalf("Counts with Redis gone: %v, want it to give up", err)
				}
				wait, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				if _, err := hs.Acquire(wait, "example.org"); !errors.As(err, &g) {
					t.Fatalf("a host slot after the frontier gave up: %v, want it to give up at once", err)
				}
				return
			}
			rf := frontier.WithRetry(f, long)
			hs := f.HostSlots("w1", 1, 0, time.Hour, short)
			s.Kill()
			if _, err := hs.Acquire(ctx, "example.org"); !errors.As(err, &g) {
				t.Fatalf("a host slot with Redis gone: %v, want it to give up", err)
			}
			wait, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if _, err := rf.Counts(wait); !errors.As(err, &g) {
				t.Fatalf("Counts after the slots gave up: %v, want it to give up at once", err)
			}
		})
	}
}
