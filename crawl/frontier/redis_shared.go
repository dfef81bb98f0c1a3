package frontier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// What several workers of one crawl need beyond the Frontier interface:
// the crawl's settings, a start that never races another worker's, the
// leases of one worker taken back, and the workers alive. Keys, under the
// crawl's prefix:
//
//	config    string: the crawl's settings, as its first worker stored them
//	workers   hash: worker id → WorkerInfo (JSON), its last heartbeat

// RedactURL is a state URL with its password hidden, for messages.
func RedactURL(raw string) string { return redactURL(raw) }

// CrawlState says where a shared crawl stands when a worker starts.
type CrawlState int

const (
	// CrawlOpen is a crawl with URLs queued or leased: the worker joins it.
	CrawlOpen CrawlState = iota
	// CrawlFresh is a crawl begun that has no URL yet (its first worker
	// is queuing its seeds): the worker joins it.
	CrawlFresh
	// CrawlNew is a crawl this call began (the last one had finished and
	// the worker recrawls, or there was none).
	CrawlNew
	// CrawlFinished is a crawl with every URL done or failed: nothing was
	// changed.
	CrawlFinished
	// CrawlNone is a crawl id never begun: nothing was changed.
	CrawlNone
)

// SharedStart is what BeginShared found or did.
type SharedStart struct {
	CrawlInfo
	State  CrawlState
	Counts Counts
}

// BeginShared starts a worker of a shared crawl, atomically, so that
// workers started together all work on one crawl: it joins a crawl that
// is open or fresh; when the last crawl finished, it begins a new one if
// begin and recrawl are set, else changes nothing (CrawlFinished); when
// there was none, it begins the first if begin is set, else changes
// nothing (CrawlNone).
func (r *Redis) BeginShared(ctx context.Context, begin, recrawl bool) (SharedStart, error) {
	b, rc := "0", "0"
	if begin {
		b = "1"
	}
	if recrawl {
		rc = "1"
	}
	v, err := r.run(ctx, "begin", luaBeginShared, nil, ms(r.now()), b, rc, redisSchema)
	if err != nil {
		return SharedStart{}, err
	}
	l := replyList(v)
	if len(l) != 6 {
		return SharedStart{}, fmt.Errorf("frontier: redis begin: unexpected reply %v", v)
	}
	s := SharedStart{CrawlInfo: CrawlInfo{Crawl: uint64(replyInt(l[0]))}, State: CrawlState(replyInt(l[1])),
		Counts: Counts{Queued: int(replyInt(l[2])), Leased: int(replyInt(l[3])), Done: int(replyInt(l[4])), Failed: int(replyInt(l[5]))}}
	s.Resumed = s.State == CrawlOpen
	return s, nil
}

// ARGV: now, begin (0/1), recrawl (0/1), schema. Returns {crawl, state,
// q, l, d, x}.
var luaBeginShared = luaScript(`
local now, begin, recrawl = ARGV[1], ARGV[2] == '1', ARGV[3]
expire(now)
local crawl = tonumber(redis.call('HGET', K_META, 'crawl') or '0')
local c = redis.call('HMGET', K_META, 'q', 'l', 'd', 'x')
local q, l, d, x = tonumber(c[1] or '0'), tonumber(c[2] or '0'), tonumber(c[3] or '0'), tonumber(c[4] or '0')
if crawl > 0 and q + l > 0 then return {crawl, 0, q, l, d, x} end
if crawl > 0 and d + x == 0 then return {crawl, 1, q, l, d, x} end
if crawl > 0 and (not begin or recrawl ~= '1') then return {crawl, 3, q, l, d, x} end
if crawl == 0 and not begin then return {0, 4, 0, 0, 0, 0} end
crawl = crawl + 1
redis.call('HSET', K_META, 'schema', ARGV[4], 'crawl', fmtint(crawl), 'recrawl', recrawl, 'q', 0, 'l', 0, 'd', 0, 'x', 0)
redis.call('DEL', K_FAILED, K_REQ, K_PAGES, K_HOSTCOUNT, K_RATE)
return {crawl, 2, 0, 0, 0, 0}
`)

// Settings returns the settings the crawl's first worker stored; if none
// are stored and v is not nil, it stores v and returns it (put if
// absent). It returns nil when none are stored and v is nil.
func (r *Redis) Settings(ctx context.Context, v []byte) ([]byte, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	key := r.prefix + "config"
	if v != nil {
		if err := r.c.SetNX(ctx, key, v, 0).Err(); err != nil {
			return nil, r.fail(ctx, "settings store", err)
		}
	}
	got, err := r.c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, r.fail(ctx, "settings", err)
	}
	return got, nil
}

// ReclaimWorker puts every entry leased to worker back at the front of its
// queue, as if its lease had expired, and returns how many: the caller
// knows that the run that held them is dead (it holds the lock of that
// run's collection). Other workers' leases are left alone.
func (r *Redis) ReclaimWorker(ctx context.Context, worker string) (int, error) {
	v, err := r.run(ctx, "reclaim", luaReclaimWorker, nil, ms(r.now()), worker)
	return int(replyInt(v)), err
}

// ARGV: now, worker. Returns how many leases it requeued.
var luaReclaimWorker = luaScript(`
expire(ARGV[1])
local back = {}
for _, k in ipairs(redis.call('ZRANGE', K_LEASES, 0, -1)) do
  local it = get(k)
  if it and it.st == 'L' and it.worker == ARGV[2] then
    it.key, it.tok = k, tonumber(it.token)
    back[#back + 1] = it
  end
end
table.sort(back, function(a, b) return a.tok < b.tok end)
for i = #back, 1, -1 do requeue(back[i].key, back[i]) end
return #back
`)

// WorkerInfo is a worker of a shared crawl, as its last heartbeat told.
type WorkerInfo struct {
	ID       string        `json:"id"`
	Host     string        `json:"host"`
	PID      int           `json:"pid"`
	Dir      string        `json:"dir"`
	Started  time.Time     `json:"started"`
	Seen     time.Time     `json:"seen"`     // the heartbeat
	LeaseTTL time.Duration `json:"leaseTTL"` // its leases' time to live
	Ended    bool          `json:"ended"`    // it said it stopped
}

// Alive reports whether w was heard from within twice its lease time to
// live and did not say it stopped.
func (w WorkerInfo) Alive(now time.Time) bool {
	return !w.Ended && now.Sub(w.Seen) < 2*max(w.LeaseTTL, time.Second)
}

// Beat records w as heard from now.
func (r *Redis) Beat(ctx context.Context, w WorkerInfo) error {
	if r.closed.Load() {
		return ErrClosed
	}
	w.Seen = r.now().UTC()
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return r.fail(ctx, "heartbeat", r.c.HSet(ctx, r.prefix+"workers", w.ID, b).Err())
}

// Workers lists the workers that ever beat, by id.
func (r *Redis) Workers(ctx context.Context) ([]WorkerInfo, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	m, err := r.c.HGetAll(ctx, r.prefix+"workers").Result()
	if err != nil {
		return nil, r.fail(ctx, "workers", err)
	}
	out := make([]WorkerInfo, 0, len(m))
	for id, v := range m {
		var w WorkerInfo
		if err := json.Unmarshal([]byte(v), &w); err != nil {
			return nil, fmt.Errorf("frontier: redis worker %s: %w", id, err)
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b WorkerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// LeaseSummary is what one worker holds: how many live leases, and when
// the first of them expires.
type LeaseSummary struct {
	Worker string
	Leases int
	First  time.Time // the earliest expiry
}

// LeaseHolders lists, by worker, the live leases of the current crawl.
func (r *Redis) LeaseHolders(ctx context.Context) ([]LeaseSummary, error) {
	v, err := r.run(ctx, "leases", luaLeaseHolders, nil, ms(r.now()))
	if err != nil {
		return nil, err
	}
	l := replyList(v)
	var out []LeaseSummary
	for i := 0; i+2 < len(l); i += 3 {
		first, _ := strconv.ParseInt(replyString(l[i+2]), 10, 64)
		out = append(out, LeaseSummary{Worker: replyString(l[i]), Leases: int(replyInt(l[i+1])), First: time.UnixMilli(first)})
	}
	slices.SortFunc(out, func(a, b LeaseSummary) int { return strings.Compare(a.Worker, b.Worker) })
	return out, nil
}

// ARGV: now. Returns worker, count, earliest expiry (ms) per worker.
var luaLeaseHolders = luaScript(`
local ks = redis.call('ZRANGEBYSCORE', K_LEASES, '(' .. ARGV[1], '+inf', 'WITHSCORES')
local n, first, order = {}, {}, {}
for i = 1, #ks, 2 do
  local it = get(ks[i])
  if it and it.st == 'L' then
    if not n[it.worker] then n[it.worker], first[it.worker], order[#order + 1] = 0, ks[i + 1], it.worker end
    n[it.worker] = n[it.worker] + 1
  end
end
local out = {}
for _, w in ipairs(order) do
  out[#out + 1] = w
  out[#out + 1] = n[w]
  out[#out + 1] = first[w]
end
return out
`)
