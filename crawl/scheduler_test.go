package crawl

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// newTestScheduler returns a scheduler on a fresh memory frontier (or on
// store, wrapping it, if wrap is set).
func newTestScheduler(t *testing.T, wrap func(leaseStore) leaseStore) (*scheduler, frontier.Frontier) {
	t.Helper()
	front := frontier.NewMemory(nil)
	if _, err := front.Begin(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	var store leaseStore = front
	if wrap != nil {
		store = wrap(front)
	}
	return newScheduler(store, Options{Worker: "w", Concurrency: 1, ClaimBatch: 8, LeaseTTL: time.Hour}), front
}

func addKeys(t *testing.T, s *scheduler, front frontier.Frontier, keys ...string) {
	t.Helper()
	var es []frontier.Entry
	for _, k := range keys {
		es = append(es, frontier.Entry{Key: k, Data: []byte(k)})
	}
	if n, err := front.Add(context.Background(), es); err != nil || n != len(keys) {
		t.Fatalf("Add: %d, %v", n, err)
	}
	s.noteAdded()
}

// TestSchedulerWaitsForInFlight: with the frontier empty, a worker asking
// for work waits while an entry is in flight, and gets what that entry
// adds; the run ends only when nothing is queued or in flight.
func TestSchedulerWaitsForInFlight(t *testing.T) {
	ctx := context.Background()
	s, front := newTestScheduler(t, nil)
	addKeys(t, s, front, "a")
	a, ok := s.next(ctx)
	if !ok || a.Key != "a" {
		t.Fatalf("next = %q, %t; want a", a.Key, ok)
	}
	got := make(chan frontier.Lease)
	go func() {
		l, ok := s.next(ctx)
		if !ok {
			l = frontier.Lease{}
		}
		got <- l
	}()
	// Whenever the other worker looks, either a is in flight or b is
	// queued: it must get b.
	addKeys(t, s, front, "b")
	s.finished()
	b := <-got
	if b.Key != "b" {
		t.Fatalf("the waiting worker got %q, want b (the run ended while a was in flight?)", b.Key)
	}
	s.finished()
	if l, ok := s.next(ctx); ok {
		t.Fatalf("next after all finished = %q, want the end of the run", l.Key)
	}
	if len(s.heldLeases()) != 2 {
		t.Errorf("held %d leases, want 2 (not checkpointed yet)", len(s.heldLeases()))
	}
}

// orderStore notes the order of Finish calls against the checkpoint's
// sync, and can refuse outcomes as lost.
type orderStore struct {
	leaseStore
	mu    sync.Mutex
	calls []string
	lose  []string // keys Finish says were lost
}

func (o *orderStore) note(s string) {
	o.mu.Lock()
	o.calls = append(o.calls, s)
	o.mu.Unlock()
}

func (o *orderStore) Finish(ctx context.Context, outcomes []frontier.Outcome, digests []frontier.DigestRef) error {
	o.note("finish")
	var keep []frontier.Outcome
	for _, out := range outcomes {
		if !slices.Contains(o.lose, out.Lease.Key) {
			keep = append(keep, out)
		}
	}
	if err := o.leaseStore.Finish(ctx, keep, digests); err != nil {
		return err
	}
	if len(o.lose) > 0 {
		return &frontier.LeaseError{Keys: o.lose}
	}
	return nil
}

// TestSchedulerCheckpoint: the records are synced before their outcomes
// are finished, finished entries are no longer held, and a checkpoint
// with nothing pending does nothing.
func TestSchedulerCheckpoint(t *testing.T) {
	ctx := context.Background()
	var store *orderStore
	s, front := newTestScheduler(t, func(ls leaseStore) leaseStore { store = &orderStore{leaseStore: ls}; return store })
	addKeys(t, s, front, "a", "b")
	a, _ := s.next(ctx)
	b, _ := s.next(ctx)
	page := &frontier.Page{URL: "a"}
	s.pend(&frontier.Outcome{Lease: a, Page: page}, nil)
	s.pend(&frontier.Outcome{Lease: b, Failed: "no response"}, nil)
	sync := func() error { store.note("sync"); return nil }
	outs, _, err := s.checkpoint(ctx, sync)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Page != page {
		t.Errorf("checkpoint returned %v, want both outcomes, a's page first", outs)
	}
	if want := []string{"sync", "finish"}; !slices.Equal(store.calls, want) {
		t.Errorf("calls %v, want %v", store.calls, want)
	}
	if n := len(s.heldLeases()); n != 0 {
		t.Errorf("%d leases still held after their checkpoint", n)
	}
	c, err := front.Counts(ctx)
	if err != nil || c.Done != 1 || c.Failed != 1 || c.Queued+c.Leased != 0 {
		t.Errorf("Counts = %+v, %v; want 1 done, 1 failed", c, err)
	}
	if _, _, err := s.checkpoint(ctx, func() error { t.Error("sync with nothing pending"); return nil }); err != nil {
		t.Error(err)
	}
	// A sync that fails: nothing is finished.
	s.finished()
	s.finished()
	addKeys(t, s, front, "c")
	cl, _ := s.next(ctx)
	s.pend(&frontier.Outcome{Lease: cl}, nil)
	boom := errors.New("disk full")
	if _, _, err := s.checkpoint(ctx, func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("checkpoint with a failing sync: %v, want %v", err, boom)
	}
	if c, _ := front.Counts(ctx); c.Done != 1 || c.Leased != 1 {
		t.Errorf("after a failed sync: %+v, want c still leased", c)
	}
}

// TestSchedulerLostLeases: a lease the frontier says was lost is counted
// and told once, and a lost entry still buffered is not handed out.
func TestSchedulerLostLeases(t *testing.T) {
	ctx := context.Background()
	var store *orderStore
	s, front := newTestScheduler(t, func(ls leaseStore) leaseStore { store = &orderStore{leaseStore: ls}; return store })
	var told []string
	s.onLost = func(key, why string) { told = append(told, key) }
	addKeys(t, s, front, "a", "b")
	a, _ := s.next(ctx) // b is in the buffer
	s.loseLeases([]string{"b"}, "lost")
	s.loseLeases([]string{"b"}, "lost again")
	store.lose = []string{"a"}
	s.pend(&frontier.Outcome{Lease: a}, nil)
	if _, _, err := s.checkpoint(ctx, func() error { return nil }); err != nil {
		t.Fatalf("checkpoint with a lost lease: %v, want no error", err)
	}
	s.finished()
	if l, ok := s.next(ctx); ok {
		t.Errorf("next handed out %q, whose lease was lost", l.Key)
	}
	slices.Sort(told)
	if want := []string{"a", "b"}; !slices.Equal(told, want) {
		t.Errorf("told lost %v, want %v", told, want)
	}
	if n := s.lostLeases(); n != 2 {
		t.Errorf("lostLeases = %d, want 2", n)
	}
	if n := len(s.heldLeases()); n != 0 {
		t.Errorf("%d lost leases still held", n)
	}
}

// TestSchedulerDrain: once draining, next hands out nothing, even what
// is buffered, and releaseHeld puts the buffered entries back.
func TestSchedulerDrain(t *testing.T) {
	ctx := context.Background()
	s, front := newTestScheduler(t, nil)
	drain := make(chan struct{})
	s.drain = drain
	addKeys(t, s, front, "a", "b", "c")
	if _, ok := s.next(ctx); !ok {
		t.Fatal("nothing to fetch")
	}
	close(drain)
	if l, ok := s.next(ctx); ok {
		t.Fatalf("next while draining = %q", l.Key)
	}
	if err := s.releaseHeld(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := front.Counts(ctx); err != nil || c.Queued != 3 || c.Leased != 0 {
		t.Errorf("Counts after release = %+v, %v; want 3 queued", c, err)
	}
}

// failStore fails every claim.
type failStore struct {
	leaseStore
	err error
}

func (f failStore) Claim(context.Context, string, int, time.Duration) ([]frontier.Lease, error) {
	return nil, f.err
}

// TestSchedulerClaimFails: a claim that fails stops the run with the
// error, which keeps its cause for errors.Is.
func TestSchedulerClaimFails(t *testing.T) {
	down := &frontier.GaveUpError{Err: errors.New("connection refused")}
	s, _ := newTestScheduler(t, func(ls leaseStore) leaseStore { return failStore{ls, down} })
	if _, ok := s.next(context.Background()); ok {
		t.Fatal("next after a failed claim handed out an entry")
	}
	var gaveUp *frontier.GaveUpError
	if err := s.err(); !errors.As(err, &gaveUp) {
		t.Errorf("err() = %v, want the claim's GaveUpError", err)
	}
	// Later errors do not replace the first.
	s.setFatal(errors.New("later"))
	if err := s.err(); !errors.As(err, &gaveUp) {
		t.Errorf("err() after a second setFatal = %v", err)
	}
}
