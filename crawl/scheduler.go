package crawl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// leaseStore is what the scheduler needs of the frontier: claims and the
// leases' life, and the outcomes recorded at checkpoints.
type leaseStore interface {
	Claim(ctx context.Context, worker string, max int, ttl time.Duration) ([]frontier.Lease, error)
	Extend(ctx context.Context, leases []frontier.Lease, ttl time.Duration) ([]frontier.Lease, error)
	Release(ctx context.Context, leases []frontier.Lease) error
	Finish(ctx context.Context, outcomes []frontier.Outcome, digests []frontier.DigestRef) error
	Counts(ctx context.Context) (frontier.Counts, error)
}

// scheduler hands the workers of one run the entries they fetch: it
// claims them from the frontier in batches into a buffer, holds their
// leases until their outcomes are recorded, and decides when the run is
// over (nothing queued, nothing in flight) or stopped (a fatal error,
// cancelled, draining). Outcomes wait in it for the next checkpoint.
type scheduler struct {
	front      leaseStore
	worker     string        // Options.Worker
	batch      int           // entries one claim takes at most
	ttl        time.Duration // Options.LeaseTTL
	pollOthers time.Duration // Options.PollOthers
	drain      <-chan struct{}
	onClaim    func(n int)           // hears how many entries each claim took
	onLost     func(key, why string) // hears each key whose lease was lost, once

	// The claim buffer and the count of entries being fetched, guarded by
	// mu; workers wait on more when the buffer is empty.
	mu       sync.Mutex
	more     *sync.Cond
	buf      []frontier.Lease
	claiming bool
	drained  bool   // the last claim emptied the frontier
	added    uint64 // Adds so far: one during a claim may have come after it
	inflight int
	stopped  bool
	fatal    error

	// Outcomes and digests waiting for the next checkpoint.
	pendMu   sync.Mutex
	outcomes []frontier.Outcome
	digests  []frontier.DigestRef

	// The leases this run holds, claimed and not yet finished or released
	// (buffered, being fetched, waiting for a checkpoint), by key; and
	// the keys whose leases it lost.
	leaseMu sync.Mutex
	held    map[string]frontier.Lease
	lost    map[string]struct{}
}

func newScheduler(front leaseStore, opts Options) *scheduler {
	s := &scheduler{
		front:      front,
		worker:     opts.Worker,
		batch:      claimBatch(opts),
		ttl:        opts.LeaseTTL,
		pollOthers: opts.PollOthers,
		drain:      opts.Drain,
		onClaim:    func(int) {},
		onLost:     func(string, string) {},
		held:       map[string]frontier.Lease{},
		lost:       map[string]struct{}{},
	}
	s.more = sync.NewCond(&s.mu)
	return s
}

// claimBatch is how many entries one Claim takes: a claimed entry that
// is not fetched when the crawl stops goes back to the frontier on the
// next run, so a batch can be large enough that claiming (a state
// transaction) is rare.
func claimBatch(opts Options) int {
	if opts.ClaimBatch > 0 {
		return opts.ClaimBatch
	}
	return max(512, 16*opts.Concurrency)
}

// setFatal stops the run with err, the first such error being kept.
func (s *scheduler) setFatal(err error) {
	s.mu.Lock()
	if s.fatal == nil {
		s.fatal = err
	}
	s.stopped = true
	s.mu.Unlock()
	s.more.Broadcast()
}

// err returns the error that stopped the run, if any.
func (s *scheduler) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

// wakeAll wakes the workers waiting for work, to look again at the
// frontier and at whether the crawl is stopping.
func (s *scheduler) wakeAll() {
	s.mu.Lock()
	s.more.Broadcast()
	s.mu.Unlock()
}

// draining reports whether the crawl takes no new URLs.
func (s *scheduler) draining(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-s.drain:
		return true
	default:
		return false
	}
}

// wait sleeps for d unless the crawl is cancelled or drained first.
func (s *scheduler) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.drain:
		return false
	}
}

// next returns the next entry to fetch, waiting while the frontier is
// empty but URLs in flight may still add to it. It returns false when the
// crawl is over or draining. When the buffer runs low, the worker that
// notices claims the next batch while the others go on with the rest.
// Each entry next returns is in flight until finished is called.
func (s *scheduler) next(ctx context.Context) (frontier.Lease, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.stopped || s.draining(ctx) {
			return frontier.Lease{}, false
		}
		if len(s.buf) > 0 {
			e := s.buf[0]
			s.buf = s.buf[1:]
			s.inflight++
			if len(s.buf) < s.batch/4 && !s.claiming && !s.drained {
				s.claim(ctx)
			}
			return e, true
		}
		if !s.claiming {
			added := s.added
			if n := s.claim(ctx); n > 0 || s.stopped || s.added != added {
				continue
			}
			if s.inflight == 0 && s.othersBusy(ctx) {
				continue
			}
			if s.inflight == 0 {
				// Nothing queued, nothing being fetched: the crawl is over.
				s.stopped = true
				s.more.Broadcast()
				return frontier.Lease{}, false
			}
		}
		s.more.Wait()
	}
}

// claim moves a batch of entries from the state's frontier into the
// buffer and returns how many. It is called with s.mu held and releases
// it while the state works.
func (s *scheduler) claim(ctx context.Context) int {
	s.claiming = true
	s.mu.Unlock()
	entries, err := s.front.Claim(ctx, s.worker, s.batch, s.ttl)
	s.hold(entries)
	s.mu.Lock()
	s.claiming = false
	if err != nil {
		if s.fatal == nil && ctx.Err() == nil {
			s.fatal = fmt.Errorf("crawl state: %w", err)
		}
		s.stopped = true
		s.more.Broadcast()
		return 0
	}
	// A short batch means the frontier is empty for now: no claim ahead
	// until add puts something in it.
	s.drained = len(entries) < s.batch
	if len(entries) > 0 {
		s.onClaim(len(entries))
		s.buf = append(s.buf, entries...)
		s.more.Broadcast()
	}
	return len(entries)
}

// noteAdded says entries were added to the frontier: a worker waiting
// for work claims again.
func (s *scheduler) noteAdded() {
	s.mu.Lock()
	s.added++
	s.drained = false
	s.more.Broadcast()
	s.mu.Unlock()
}

// finished says an entry next returned is no longer in flight.
func (s *scheduler) finished() {
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
	s.more.Broadcast()
}

// pend queues an outcome (and the digest of a record just written) for
// the next checkpoint.
func (s *scheduler) pend(o *frontier.Outcome, d *frontier.DigestRef) {
	s.pendMu.Lock()
	if o != nil {
		s.outcomes = append(s.outcomes, *o)
	}
	if d != nil {
		s.digests = append(s.digests, *d)
	}
	s.pendMu.Unlock()
}

// checkpoint takes the pending outcomes and digests, calls sync (which
// makes the records they stand for durable) and then records them in the
// frontier. It returns what it recorded (with the outcomes of leases lost
// meanwhile, which the frontier refused). It runs once more after the
// crawl was interrupted, so it does not give up when ctx is cancelled.
func (s *scheduler) checkpoint(ctx context.Context, sync func() error) ([]frontier.Outcome, []frontier.DigestRef, error) {
	s.pendMu.Lock()
	outcomes, digests := s.outcomes, s.digests
	s.outcomes, s.digests = nil, nil
	s.pendMu.Unlock()
	if len(outcomes) == 0 && len(digests) == 0 {
		return nil, nil, nil
	}
	if err := sync(); err != nil {
		return nil, nil, err
	}
	err := s.front.Finish(context.WithoutCancel(ctx), outcomes, digests)
	var le *frontier.LeaseError
	if errors.As(err, &le) {
		// Recorded for the others; these went back to the queue while
		// this run had them.
		s.loseLeases(le.Keys, "lease lost before its outcome was recorded (another worker may fetch it again)")
		err = nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("crawl state: %w", err)
	}
	s.unhold(outcomes)
	return outcomes, digests, nil
}

// The leases a run holds: each claimed entry from its claim until its
// outcome is recorded (checkpoint) or it is released (the run stopped
// before fetching it, or cut it). While held, a lease is extended every
// third of its time to live, so that a worker busy with a long fetch, or
// with a buffer claimed ahead, keeps what it claimed.

func (s *scheduler) hold(ls []frontier.Lease) {
	s.leaseMu.Lock()
	for _, l := range ls {
		s.held[l.Key] = l
	}
	s.leaseMu.Unlock()
}

// unhold forgets the leases of outcomes the frontier recorded (or
// refused as lost).
func (s *scheduler) unhold(outcomes []frontier.Outcome) {
	s.leaseMu.Lock()
	for _, o := range outcomes {
		if l, ok := s.held[o.Lease.Key]; ok && l.Token == o.Lease.Token {
			delete(s.held, o.Lease.Key)
		}
	}
	s.leaseMu.Unlock()
}

// loseLeases notes leases the frontier says this run lost: they are not
// held any more, not fetched if still buffered, counted once, and told
// to onLost.
func (s *scheduler) loseLeases(keys []string, why string) {
	lost := make(map[string]bool, len(keys))
	s.leaseMu.Lock()
	for _, k := range keys {
		lost[k] = true
		delete(s.held, k)
		if _, seen := s.lost[k]; seen {
			delete(lost, k)
			continue
		}
		s.lost[k] = struct{}{}
	}
	s.leaseMu.Unlock()
	s.mu.Lock()
	s.buf = slices.DeleteFunc(s.buf, func(l frontier.Lease) bool { return lost[l.Key] })
	s.mu.Unlock()
	for k := range lost {
		s.onLost(k, why)
	}
}

// lostLeases is how many leases this run lost.
func (s *scheduler) lostLeases() int {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	return len(s.lost)
}

// heldLeases returns the leases held, in claim order.
func (s *scheduler) heldLeases() []frontier.Lease {
	s.leaseMu.Lock()
	out := make([]frontier.Lease, 0, len(s.held))
	for _, l := range s.held {
		out = append(out, l)
	}
	s.leaseMu.Unlock()
	slices.SortFunc(out, func(a, b frontier.Lease) int { return cmp.Compare(a.Token, b.Token) })
	return out
}

// extendLeases renews the held leases every third of their time to live
// until stop is closed or the crawl is cancelled.
func (s *scheduler) extendLeases(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ls := s.heldLeases()
		if len(ls) == 0 {
			continue
		}
		renewed, err := s.front.Extend(ctx, ls, s.ttl)
		var le *frontier.LeaseError
		switch {
		case errors.As(err, &le):
			s.loseLeases(le.Keys, "lease lost while this run held it (another worker may fetch it)")
		case err != nil && ctx.Err() == nil:
			s.setFatal(fmt.Errorf("crawl state: extending leases: %w", err))
			return
		}
		s.leaseMu.Lock()
		for _, l := range renewed {
			if h, ok := s.held[l.Key]; ok && h.Token == l.Token {
				s.held[l.Key] = l
			}
		}
		s.leaseMu.Unlock()
	}
}

// releaseHeld puts back in the queue, ahead of the rest, what this run
// claimed and did not finish: entries buffered but not fetched when it
// stopped, and fetches cut or interrupted. It runs after ctx may have
// been cancelled.
func (s *scheduler) releaseHeld(ctx context.Context) error {
	ls := s.heldLeases()
	if len(ls) == 0 {
		return nil
	}
	var gaveUp *frontier.GaveUpError
	if errors.As(s.err(), &gaveUp) {
		return nil // the state is gone: the leases expire by themselves
	}
	if err := s.front.Release(context.WithoutCancel(ctx), ls); err != nil {
		return fmt.Errorf("crawl state: releasing %d leases: %w", len(ls), err)
	}
	s.leaseMu.Lock()
	clear(s.held)
	s.leaseMu.Unlock()
	return nil
}

// othersBusy reports, for a shared frontier (Options.PollOthers), whether
// other workers still hold leases; if so it has waited PollOthers. It is
// called with s.mu held and releases it meanwhile.
func (s *scheduler) othersBusy(ctx context.Context) bool {
	if s.pollOthers <= 0 {
		return false
	}
	s.mu.Unlock()
	defer s.mu.Lock()
	c, err := s.front.Counts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.setFatal(fmt.Errorf("crawl state: %w", err))
		}
		return false
	}
	if c.Leased == 0 && c.Queued == 0 {
		return false
	}
	s.wait(ctx, s.pollOthers)
	return true
}
