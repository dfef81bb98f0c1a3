package frontier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// What keeps a crawl's workers polite together beyond the host slots
// (redis_hosts.go): one fetch of each robots.txt for the whole crawl, and
// the rate at which the crawl gets done, for amber status.

// LockRobots takes the lock of origin's robots.txt for ttl (SET NX PX on
// "robotslock:<origin>"), so that one worker of the crawl fetches it while
// the others wait for what it stores (Robots). ok is false when another
// worker holds the lock. A lock taken is renewed every third of ttl until
// unlock is called, which gives it back; a worker that dies holding it
// loses it within ttl, and another worker may then fetch.
func (r *Redis) LockRobots(ctx context.Context, origin string, ttl time.Duration) (unlock func(), ok bool, err error) {
	if r.closed.Load() {
		return nil, false, ErrClosed
	}
	key := r.prefix + "robotslock:" + origin
	owner := strconv.FormatUint(rand.Uint64(), 36) // tells this lock from another worker's, or a later one

	got, err := r.c.SetNX(ctx, key, owner, ttl).Result()
	if err != nil || !got {
		return nil, false, r.fail(ctx, "robots.txt lock", err)
	}
	stopRenewing := every(ttl/3, func() {
		ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
		defer cancel()
		r.run(ctx, "robots.txt lock renewal", luaLockRenew, []string{key}, owner, ttl.Milliseconds()) // a lost lock only lets another worker fetch too
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			stopRenewing()
			ctx, cancel := context.WithTimeout(context.Background(), max(ttl/3, time.Second))
			defer cancel()
			r.run(ctx, "robots.txt unlock", luaLockGive, []string{key}, owner) // else it expires
		})
	}, true, nil
}

// ARGV: owner, time to live (ms). Renews the lock if owner holds it.
var luaLockRenew = luaScript(`
if redis.call('GET', KEYS[#KEYS]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[#KEYS], ARGV[2])
return 1
`)

// ARGV: owner. Deletes the lock if owner holds it.
var luaLockGive = luaScript(`
if redis.call('GET', KEYS[#KEYS]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[#KEYS])
return 1
`)

// Rate is how fast the crawl gets done: the URLs done in the last minute
// or so, by the Redis server's clock.
type Rate struct {
	// Done is how many URLs were finished as done within Window, which
	// ends at Now (the server's clock) and spans 60 to 70 s: whole 10 s
	// buckets.
	Done   int
	Window time.Duration
	Now    time.Time
}

// PerMinute is Done per minute of Window.
func (r Rate) PerMinute() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Done) / r.Window.Minutes()
}

// Rate reads the crawl's done rate: Finish counts the URLs done in
// 10-second buckets of the server's clock (a hash of a dozen fields).
func (r *Redis) Rate(ctx context.Context) (Rate, error) {
	v, err := r.run(ctx, "rate", luaRate, nil)
	if err != nil {
		return Rate{}, err
	}
	l := replyList(v)
	if len(l) != 2 {
		return Rate{}, fmt.Errorf("frontier: redis rate: unexpected reply %v", v)
	}
	now := time.UnixMicro(replyInt(l[0]))
	b := now.UnixMicro() / 10_000_000
	start := time.UnixMicro((b - 6) * 10_000_000)
	return Rate{Done: int(replyInt(l[1])), Window: now.Sub(start), Now: now}, nil
}

// Returns the server's time (µs) and the URLs done in the current 10 s
// bucket and the six before it.
var luaRate = luaScript(`
local now = servertime()
local b = math.floor(now / 10000000)
local n = 0
for i = b - 6, b do n = n + tonumber(redis.call('HGET', K_RATE, fmtint(i)) or '0') end
return {fmtint(now), n}
`)

// HostCap is the per-host URL cap of the whole crawl (AddCapped), with
// transient errors retried by a policy.
type HostCap struct {
	r   *Redis
	max int
	p   RetryPolicy
}

// HostCap returns the crawl's per-host cap of max URLs, its transient
// errors retried by p (see WithRetry); once a call of the cap, or of
// WithRetry(r, …), gave up, the others give up at once.
func (r *Redis) HostCap(max int, p RetryPolicy) *HostCap {
	return &HostCap{r: r, max: max, p: p.withDefaults()}
}

// Add is AddCapped with the cap's max, retried.
func (h *HostCap) Add(ctx context.Context, entries []Entry, hosts []string) (int, []int, error) {
	type res struct {
		n      int
		capped []int
	}
	v, err := retry(ctx, h.p, &h.r.gaveUp, "add", func() (res, error) {
		n, capped, err := h.r.AddCapped(ctx, entries, hosts, h.max)
		return res{n, capped}, err
	})
	return v.n, v.capped, err
}
