package frontier

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// HostSlots bounds the requests in flight on each host across every
// worker of a crawl: a slot of a host is a member of the sorted set
// "host:<host>" under the crawl's prefix, scored by its expiry, taken and
// given back by Lua scripts, so no two workers take the last slot. A slot
// is renewed while its request goes on and expires by itself when the
// worker that holds it dies.
type HostSlots struct {
	r       *Redis
	limit   int
	ttl     time.Duration
	retry   RetryPolicy
	nextTok atomic.Uint64
	id      string
}

// HostSlots returns the per-host slots of the crawl: limit per host, each
// kept for ttl unless renewed (every third of it while held). Transient
// errors are retried by p (see WithRetry); once a call of the slots, or of
// WithRetry(r, …), gave up, the others give up at once.
func (r *Redis) HostSlots(worker string, limit int, ttl time.Duration, p RetryPolicy) *HostSlots {
	return &HostSlots{r: r, limit: limit, ttl: ttl, retry: p.withDefaults(), id: worker + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)}
}

// ARGV: now, expiry (ms), limit, slot. Returns 1 if the slot was taken.
var luaHostTake = luaScript(`
local k = KEYS[#KEYS]
redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[1])
if redis.call('ZCARD', k) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', k, ARGV[2], ARGV[4])
redis.call('PEXPIREAT', k, ARGV[2])
return 1
`)

// ARGV: expiry (ms), slot. Returns 1 if the slot was still held.
var luaHostRenew = luaScript(`
local k = KEYS[#KEYS]
if not redis.call('ZSCORE', k, ARGV[2]) then return 0 end
redis.call('ZADD', k, ARGV[1], ARGV[2])
if redis.call('PTTL', k) < tonumber(ARGV[1]) then redis.call('PEXPIREAT', k, ARGV[1]) end
return 1
`)

var luaHostGive = luaScript(`
redis.call('ZREM', KEYS[#KEYS], ARGV[1])
return 0
`)

// Acquire waits for a slot of host and returns the function that gives it
// back. It polls while the host's slots are all taken. Transient errors
// are retried and logged by the policy (see WithRetry), past whose
// GiveUp it returns a *GaveUpError; a cancelled ctx ends the wait.
func (h *HostSlots) Acquire(ctx context.Context, host string) (func(), error) {
	key := []string{h.r.prefix + "host:" + host}
	slot := h.id + "/" + strconv.FormatUint(h.nextTok.Add(1), 10)
	wait := 10 * time.Millisecond
	for {
		var expires time.Time
		v, err := retry(ctx, h.retry, &h.r.gaveUp, "host slot", func() (any, error) {
			now := h.r.now()
			expires = now.Add(h.ttl)
			return h.r.run(ctx, "host slot", luaHostTake, key, ms(now), ms(expires), h.limit, slot)
		})
		switch {
		case err != nil:
			return nil, err
		case replyInt(v) == 1:
			return h.hold(ctx, key, slot, expires), nil
		}
		d := wait - wait/4 + time.Duration(rand.Int64N(int64(wait/2)+1))
		wait = min(2*wait, 200*time.Millisecond)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// hold renews the slot every third of its time to live until the
// returned function gives it back.
//
// Giving it back is retried while Redis is unreachable (a restart, a
// failover), until the slot's last expiry: a slot left taken would keep
// every worker off the host until it expires. Past that, or once ctx is
// cancelled (then it is tried once) or the state was given up on, the
// slot is left to expire.
func (h *HostSlots) hold(ctx context.Context, key []string, slot string, expires time.Time) func() {
	var until atomic.Int64 // the slot's expiry (Unix ms by the Clock), as last renewed
	until.Store(expires.UnixMilli())
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(h.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), h.ttl/3)
				exp := h.r.now().Add(h.ttl)
				// A failed renewal leaves the slot to expire when it would
				// have: a lost slot only makes room.
				if v, err := h.r.run(rctx, "host slot renewal", luaHostRenew, key, ms(exp), slot); err == nil && replyInt(v) == 1 {
					until.Store(exp.UnixMilli())
				}
				cancel()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
			left := time.UnixMilli(until.Load()).Sub(h.r.now())
			if left <= 0 {
				return // expired: nothing to give back
			}
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), left)
			defer cancel()
			give := func() (any, error) { return h.r.run(gctx, "host slot release", luaHostGive, key, slot) }
			if ctx.Err() != nil {
				give() // stopping at once: one try, else the slot expires
				return
			}
			defer context.AfterFunc(ctx, cancel)() // a cancelled crawl stops retrying
			retry(gctx, h.retry, &h.r.gaveUp, "host slot release", give)
		})
	}
}
