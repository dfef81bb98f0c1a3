package crawl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// The leases a run holds: each claimed entry from its claim until its
// outcome is recorded (checkpoint) or it is released (the run stopped
// before fetching it, or cut it). While held, a lease is extended every
// third of its time to live, so that a worker busy with a long fetch, or
// with a buffer claimed ahead, keeps what it claimed.

func (cr *crawler) hold(ls []frontier.Lease) {
	cr.leaseMu.Lock()
	for _, l := range ls {
		cr.held[l.Key] = l
	}
	cr.leaseMu.Unlock()
}

// unhold forgets the leases of outcomes the frontier recorded (or
// refused as lost).
func (cr *crawler) unhold(outcomes []frontier.Outcome) {
	cr.leaseMu.Lock()
	for _, o := range outcomes {
		if l, ok := cr.held[o.Lease.Key]; ok && l.Token == o.Lease.Token {
			delete(cr.held, o.Lease.Key)
		}
	}
	cr.leaseMu.Unlock()
}

// loseLeases notes leases the frontier says this run lost: they are not
// held any more, not fetched if still buffered, counted once, and logged.
func (cr *crawler) loseLeases(keys []string, why string) {
	lost := make(map[string]bool, len(keys))
	cr.leaseMu.Lock()
	for _, k := range keys {
		lost[k] = true
		delete(cr.held, k)
		if _, seen := cr.lost[k]; seen {
			delete(lost, k)
			continue
		}
		cr.lost[k] = struct{}{}
	}
	cr.leaseMu.Unlock()
	cr.mu.Lock()
	cr.buf = slices.DeleteFunc(cr.buf, func(l frontier.Lease) bool { return lost[l.Key] })
	cr.mu.Unlock()
	for k := range lost {
		cr.log(Fetch{Time: time.Now().UTC(), URL: k, Error: why})
	}
}

// heldLeases returns the leases held, in claim order.
func (cr *crawler) heldLeases() []frontier.Lease {
	cr.leaseMu.Lock()
	out := make([]frontier.Lease, 0, len(cr.held))
	for _, l := range cr.held {
		out = append(out, l)
	}
	cr.leaseMu.Unlock()
	slices.SortFunc(out, func(a, b frontier.Lease) int { return cmp.Compare(a.Token, b.Token) })
	return out
}

// extendLeases renews the held leases every third of their time to live
// until stop is closed or the crawl is cancelled.
func (cr *crawler) extendLeases(stop <-chan struct{}) {
	t := time.NewTicker(cr.opts.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-cr.ctx.Done():
			return
		case <-t.C:
		}
		ls := cr.heldLeases()
		if len(ls) == 0 {
			continue
		}
		renewed, err := cr.front.Extend(cr.ctx, ls, cr.opts.LeaseTTL)
		var le *frontier.LeaseError
		switch {
		case errors.As(err, &le):
			cr.loseLeases(le.Keys, "lease lost while this run held it (another worker may fetch it)")
		case err != nil && cr.ctx.Err() == nil:
			cr.setFatal(fmt.Errorf("crawl state: extending leases: %w", err))
			return
		}
		cr.leaseMu.Lock()
		for _, l := range renewed {
			if h, ok := cr.held[l.Key]; ok && h.Token == l.Token {
				cr.held[l.Key] = l
			}
		}
		cr.leaseMu.Unlock()
	}
}

// releaseHeld puts back in the queue, ahead of the rest, what this run
// claimed and did not finish: entries buffered but not fetched when it
// stopped, and fetches cut or interrupted. It runs after the crawl's
// context may have been cancelled.
func (cr *crawler) releaseHeld() error {
	ls := cr.heldLeases()
	if len(ls) == 0 {
		return nil
	}
	cr.mu.Lock()
	var gaveUp *frontier.GaveUpError
	lostState := errors.As(cr.fatal, &gaveUp)
	cr.mu.Unlock()
	if lostState {
		return nil // the state is gone: the leases expire by themselves
	}
	if err := cr.front.Release(context.WithoutCancel(cr.ctx), ls); err != nil {
		return fmt.Errorf("crawl state: releasing %d leases: %w", len(ls), err)
	}
	cr.leaseMu.Lock()
	clear(cr.held)
	cr.leaseMu.Unlock()
	return nil
}

// othersBusy reports, for a shared frontier (Options.PollOthers), whether
// other workers still hold leases; if so it has waited PollOthers. It is
// called with cr.mu held and releases it meanwhile.
func (cr *crawler) othersBusy() bool {
	if cr.opts.PollOthers <= 0 {
		return false
	}
	cr.mu.Unlock()
	defer cr.mu.Lock()
	c, err := cr.front.Counts(cr.ctx)
	if err != nil {
		if cr.ctx.Err() == nil {
			cr.setFatal(fmt.Errorf("crawl state: %w", err))
		}
		return false
	}
	if c.Leased == 0 && c.Queued == 0 {
		return false
	}
	cr.wait(cr.opts.PollOthers)
	return true
}
