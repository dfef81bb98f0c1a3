package frontier_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	a := openRedis(t, s, "slots", nil).HostSlots("w1", 2, time.Hour, frontier.RetryPolicy{})
	b := openRedis(t, s, "slots", nil).HostSlots("w2", 2, time.Hour, frontier.RetryPolicy{})
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
	hs := openRedis(t, s, "slots", nil).HostSlots("w1", 1, time.Hour, log.policy())
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
