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
// worker of a crawl, and spaces them by a delay: a slot of a host is a
// member of the sorted set "host:<host>" under the crawl's prefix, scored
// by its expiry, taken and given back by Lua scripts, so no two workers
// take the last slot. A slot is renewed while its request goes on and
// expires by itself when the worker that holds it dies. Given back, it
// stays taken for the delay (as a single worker's slot does, see
// crawl.hostLimiter), so that with one slot per host the requests of all
// workers to the host start at least the delay apart.
//
// Expiries are by the Redis server's clock (TIME, in microseconds), so
// the workers' clocks do not matter to the delay.
type HostSlots struct {
	r       *Redis
	limit   int
	ttl     time.Duration
	delay   time.Duration
	retry   RetryPolicy
	nextTok atomic.Uint64
	id      string
}

// HostSlots returns the per-host slots of the crawl: limit per host, each
// kept for ttl unless renewed (every third of it while held), and for
// delay after it is given back. Transient errors are retried by p (see
// WithRetry); once a call of the slots, or of WithRetry(r, …), gave up,
// the others give up at once.
func (r *Redis) HostSlots(worker string, limit int, delay, ttl time.Duration, p RetryPolicy) *HostSlots {
	return &HostSlots{r: r, limit: limit, ttl: ttl, delay: max(delay, 0), retry: p.withDefaults(), id: worker + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)}
}

// luaSlotsExpire sets the expiry of a host's slots key to that of its
// last slot, so the key goes when its slots have.
const luaSlotsExpire = `
local function keepslots(k)
  local last = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', k, fmtint(math.floor(tonumber(last[2]) / 1000) + 1)) end
end
`

// ARGV: time to live (µs), limit, slot. Returns 0 if the slot was taken,
// else how long (µs) until the first slot frees, at the earliest.
var luaHostTake = luaScript(luaSlotsExpire + `
local k = KEYS[#KEYS]
local now = servertime()
redis.call('ZREMRANGEBYSCORE', k, '-inf', fmtint(now))
if redis.call('ZCARD', k) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  return math.max(tonumber(first[2]) - now, 1)
end
redis.call('ZADD', k, fmtint(now + tonumber(ARGV[1])), ARGV[3])
keepslots(k)
return 0
`)

// ARGV: time to live (µs), slot. Returns 1 if the slot was still held.
var luaHostRenew = luaScript(luaSlotsExpire + `
local k = KEYS[#KEYS]
if not redis.call('ZSCORE', k, ARGV[2]) then return 0 end
redis.call('ZADD', k, 'XX', fmtint(servertime() + tonumber(ARGV[1])), ARGV[2])
keepslots(k)
return 1
`)

// ARGV: delay (µs), slot. A slot still held stays taken for the delay
// from now (and a microsecond more: TIME truncates), so the next request
// on it starts no sooner.
var luaHostGive = luaScript(luaSlotsExpire + `
local k = KEYS[#KEYS]
local delay = tonumber(ARGV[1])
if delay <= 0 then
  redis.call('ZREM', k, ARGV[2])
elseif redis.call('ZSCORE', k, ARGV[2]) then
  redis.call('ZADD', k, 'XX', fmtint(servertime() + 1 + delay), ARGV[2])
  keepslots(k)
end
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
			expires = h.r.now().Add(h.ttl) // an estimate: the server's clock decides
			return h.r.run(ctx, "host slot", luaHostTake, key, h.ttl.Microseconds(), h.limit, slot)
		})
		switch {
		case err != nil:
			return nil, err
		case replyInt(v) == 0:
			return h.hold(ctx, key, slot, expires), nil
		}
		// Polled with backoff, but no later than when the first slot frees
		// by itself (the end of a delay).
		d := wait - wait/4 + time.Duration(rand.Int64N(int64(wait/2)+1))
		d = min(d, time.Duration(replyInt(v))*time.Microsecond)
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
	var until atomic.Int64 // the slot's expiry (Unix ms by the Clock, an estimate of the server's), as last renewed
	until.Store(expires.UnixMilli())
	stopRenewing := every(h.ttl/3, func() {
		rctx, cancel := context.WithTimeout(context.Background(), h.ttl/3)
		defer cancel()
		exp := h.r.now().Add(h.ttl)
		// A failed renewal leaves the slot to expire when it would
		// have: a lost slot only makes room.
		if v, err := h.r.run(rctx, "host slot renewal", luaHostRenew, key, h.ttl.Microseconds(), slot); err == nil && replyInt(v) == 1 {
			until.Store(exp.UnixMilli())
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			stopRenewing()
			left := time.UnixMilli(until.Load()).Sub(h.r.now())
			if left <= 0 {
				return // expired: nothing to give back
			}
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), left)
			defer cancel()
			give := func() (any, error) {
				return h.r.run(gctx, "host slot release", luaHostGive, key, h.delay.Microseconds(), slot)
			}
			if ctx.Err() != nil {
				give() // stopping at once: one try, else the slot expires
				return
			}
			defer context.AfterFunc(ctx, cancel)() // a cancelled crawl stops retrying
			retry(gctx, h.retry, &h.r.gaveUp, "host slot release", give)
		})
	}
}

// every calls fn every d, on a goroutine of its own, until the returned
// stop is called; stop waits for a call in progress.
func every(d time.Duration, fn func()) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
		})
	}
}
