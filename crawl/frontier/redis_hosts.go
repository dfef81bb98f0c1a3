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
	gaveUp  atomic.Bool // once, every later transient error gives up at once
}

// HostSlots returns the per-host slots of the crawl: limit per host, each
// kept for ttl unless renewed (every third of it while held), and for
// delay after it is given back. Transient errors are retried by p (see
// WithRetry).
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
// back. It polls while the host's slots are all taken, and retries
// transient errors for the policy's GiveUp, after which it returns a
// *GaveUpError; a cancelled ctx ends the wait.
func (h *HostSlots) Acquire(ctx context.Context, host string) (func(), error) {
	key := []string{h.r.prefix + "host:" + host}
	slot := h.id + "/" + strconv.FormatUint(h.nextTok.Add(1), 10)
	wait := 10 * time.Millisecond
	var failing time.Time
	backoff := h.retry.Base
	for {
		v, err := h.r.run(ctx, "host slot", luaHostTake, key, h.ttl.Microseconds(), h.limit, slot)
		var d time.Duration
		switch {
		case err == nil && replyInt(v) == 0:
			return h.hold(key, slot), nil
		case err == nil:
			// Polled with backoff, but no later than when the first slot
			// frees by itself (the end of a delay).
			d = wait - wait/4 + time.Duration(rand.Int64N(int64(wait/2)+1))
			d = min(d, time.Duration(replyInt(v))*time.Microsecond)
			wait = min(2*wait, 200*time.Millisecond)
			failing = time.Time{}
		case !IsTransient(err):
			return nil, err
		default:
			if failing.IsZero() && !h.gaveUp.Load() {
				failing = time.Now()
			} else if time.Since(failing) >= h.retry.GiveUp || h.gaveUp.Load() {
				h.gaveUp.Store(true)
				return nil, &GaveUpError{Op: "host slot", After: time.Since(failing), Err: err}
			}
			if h.retry.Log != nil {
				h.retry.Log("crawl state: host slot: " + err.Error())
			}
			d, backoff = backoff, min(2*backoff, h.retry.Max)
		}
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
func (h *HostSlots) hold(key []string, slot string) func() {
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
				ctx, cancel := context.WithTimeout(context.Background(), h.ttl/3)
				h.r.run(ctx, "host slot renewal", luaHostRenew, key, h.ttl.Microseconds(), slot) // a lost slot only makes room
				cancel()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), h.ttl/3)
			defer cancel()
			h.r.run(ctx, "host slot release", luaHostGive, key, h.delay.Microseconds(), slot) // else it expires
		})
	}
}
