package frontier

import "github.com/redis/go-redis/v9"

// The Lua scripts of the Redis backend. Each runs atomically on the
// server, so no step is a read-modify-write race between workers. Every
// script gets the same KEYS (see redisKeyNames), and the time from the
// caller's Clock as ARGV, never from the server: the suite's hand-moved
// clock works, and so do workers whose clocks agree (NTP).
//
// A URL's state is one field of the "url" hash, its value packed as
//
//	Q<crawl>[r] <data>                       queued (r: as a requisite)
//	L<crawl>[r] <token> <len> <worker><data> leased to worker (len bytes);
//	                                         the expiry is its score in "leases"
//	D<crawl>                                 done
//	X<crawl> <reason>                        failed
//
// so that the entry data, kept while the URL is queued or leased, does
// not cost a second copy of the key.
// The queues are the lists "req" and "pages"; like the memory backend's,
// they may hold keys that were claimed meanwhile or moved to the
// requisites, which Claim skips. The counters q, l, d, x of the "meta"
// hash count the URLs of the current crawl in each state.

// luaPrelude is prepended to every script.
const luaPrelude = `
local K_META, K_URL, K_REQ, K_PAGES, K_LEASES, K_FAILED, K_DIGESTS, K_ROBOTS, K_RUNS, K_PAGESEQ, K_COOKIES, K_CALLS, K_HOSTCOUNT, K_RATE =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14]

local rateBuckets = 13

local function fmtint(n) return string.format('%d', n) end

local function parse(v)
  if not v then return nil end
  local st, crawl, rest = string.match(v, '^(%u)(%d+)(.*)$')
  if not st then error('amber frontier: bad url state ' .. v) end
  local it = {st = st, crawl = crawl, req = false}
  if st == 'Q' then
    local r, data = string.match(rest, '^(r?) (.*)$')
    it.req, it.data = r == 'r', data
  elseif st == 'L' then
    local r, token, n, tail = string.match(rest, '^(r?) (%d+) (%d+) (.*)$')
    n = tonumber(n)
    it.req, it.token, it.worker, it.data = r == 'r', token, string.sub(tail, 1, n), string.sub(tail, n + 1)
  elseif st == 'X' then
    it.reason = string.sub(rest, 2)
  end
  return it
end

local function get(k) return parse(redis.call('HGET', K_URL, k)) end

local function count(q, l, d, x)
  if q ~= 0 then redis.call('HINCRBY', K_META, 'q', q) end
  if l ~= 0 then redis.call('HINCRBY', K_META, 'l', l) end
  if d ~= 0 then redis.call('HINCRBY', K_META, 'd', d) end
  if x ~= 0 then redis.call('HINCRBY', K_META, 'x', x) end
end

-- servertime is the Redis server's clock in microseconds: what holds
-- across workers whatever their clocks say (host slots, the done rate).
local function servertime()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function flag(it) if it.req then return 'r' end return '' end

-- requeue puts a leased entry back at the front of its queue.
local function requeue(k, it)
  redis.call('HSET', K_URL, k, 'Q' .. it.crawl .. flag(it) .. ' ' .. it.data)
  if it.req then redis.call('LPUSH', K_REQ, k) else redis.call('LPUSH', K_PAGES, k) end
  redis.call('ZREM', K_LEASES, k)
  count(1, -1, 0, 0)
end

-- expire puts the entries whose leases expired by now back at the front
-- of their queues, the oldest lease first, and leases that expire
-- together (one claim's) in the order claimed.
local function expire(now)
  local ks = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'WITHSCORES')
  local back = {}
  for i = 1, #ks, 2 do
    local it = get(ks[i])
    if it and it.st == 'L' then
      it.key, it.exp, it.tok = ks[i], tonumber(ks[i + 1]), tonumber(it.token)
      back[#back + 1] = it
    else
      redis.call('ZREM', K_LEASES, ks[i])
    end
  end
  table.sort(back, function(a, b) if a.exp ~= b.exp then return a.exp < b.exp end return a.tok < b.tok end)
  for i = #back, 1, -1 do requeue(back[i].key, back[i]) end
end

-- held returns the state of a lease still held at now, or nil.
local function held(k, token, now)
  local it = get(k)
  if not it or it.st ~= 'L' or it.token ~= token then return nil end
  local exp = redis.call('ZSCORE', K_LEASES, k)
  if not exp or tonumber(now) >= tonumber(exp) then return nil end
  return it
end

local function index(first)
  for i = first, #ARGV, 2 do redis.call('HSETNX', K_DIGESTS, ARGV[i], ARGV[i + 1]) end
end
`

func luaScript(body string) *redis.Script { return redis.NewScript(luaPrelude + body) }

// ARGV: recrawl (0/1). Returns {crawl, resumed (0/1)}.
var luaBegin = luaScript(`
local crawl = tonumber(redis.call('HGET', K_META, 'crawl') or '0')
local open = tonumber(redis.call('HGET', K_META, 'q') or '0') + tonumber(redis.call('HGET', K_META, 'l') or '0')
if crawl > 0 and open > 0 then return {crawl, 1} end
crawl = crawl + 1
redis.call('HSET', K_META, 'schema', ARGV[2], 'crawl', fmtint(crawl), 'recrawl', ARGV[1], 'q', 0, 'l', 0, 'd', 0, 'x', 0)
-- Nothing is queued or leased: what the queues still hold is stale.
redis.call('DEL', K_FAILED, K_REQ, K_PAGES, K_HOSTCOUNT, K_RATE)
return {crawl, 0}
`)

// ARGV: skipped prefix, per-host cap (0: none), then key, data, requisite
// (0/1), host per entry. An entry new to the crawl whose host has had cap
// URLs queued in this crawl (the hostcount hash) is refused. Returns how
// many it queued, then the (1-based) index of each entry refused.
var luaAdd = luaScript(`
local prefix, cap = ARGV[1], tonumber(ARGV[2])
local crawl = redis.call('HGET', K_META, 'crawl') or '0'
local recrawl = redis.call('HGET', K_META, 'recrawl') == '1'
local n, dq, dx = 0, 0, 0
local out = {0}
local function new(host, e)
  if cap <= 0 or host == '' then return true end
  if tonumber(redis.call('HGET', K_HOSTCOUNT, host) or '0') >= cap then
    out[#out + 1] = e
    return false
  end
  redis.call('HINCRBY', K_HOSTCOUNT, host, 1)
  return true
end
for i = 3, #ARGV, 4 do
  local k, data, req, host = ARGV[i], ARGV[i + 1], ARGV[i + 2] == '1', ARGV[i + 3]
  local e = (i - 3) / 4 + 1
  local it = get(k)
  local add = false
  if not it then
    if new(host, e) then add, dq = true, dq + 1 end
  elseif it.crawl ~= crawl then
    -- Seen in an earlier crawl: queued again when recrawling; one that
    -- failed then is tried again in any new crawl.
    if (it.st == 'D' or it.st == 'X') and (recrawl or it.st == 'X') and new(host, e) then add, dq = true, dq + 1 end
  elseif req then
    if it.st == 'Q' and not it.req then
      add = true
    elseif it.st == 'X' and string.sub(it.reason, 1, #prefix) == prefix then
      add, dq, dx = true, dq + 1, dx - 1
      redis.call('ZREM', K_FAILED, k)
    end
  end
  if add then
    if req then
      redis.call('HSET', K_URL, k, 'Q' .. crawl .. 'r ' .. data)
      redis.call('RPUSH', K_REQ, k)
    else
      redis.call('HSET', K_URL, k, 'Q' .. crawl .. ' ' .. data)
      redis.call('RPUSH', K_PAGES, k)
    end
    n = n + 1
  end
end
count(dq, 0, 0, dx)
out[1] = n
return out
`)

// ARGV: now, expiry (ms), max, worker, call id. Returns key, data,
// requisite (0/1), token for each lease. A claim whose call id is the
// worker's last claim's ran before, and its reply was lost: it returns
// the leases that one took that the worker still holds, and claims
// nothing more.
var luaClaim = luaScript(`
local now, exp, max, worker, id = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
expire(now)
local out, got = {}, 0
local function lease(k, it, token)
  local r = 0
  if it.req then r = 1 end
  out[#out + 1] = k
  out[#out + 1] = it.data
  out[#out + 1] = r
  out[#out + 1] = token
end
local field = 'claim:' .. worker
local last = redis.call('HGET', K_CALLS, field)
if last then
  local lid, lo, hi = string.match(last, '^(%S+) (%d+) (%d+)$')
  if lid == id then
    lo, hi = tonumber(lo), tonumber(hi)
    local again = {}
    for _, k in ipairs(redis.call('ZRANGE', K_LEASES, 0, -1)) do
      local it = get(k)
      if it and it.st == 'L' and it.worker == worker and tonumber(it.token) >= lo and tonumber(it.token) <= hi then
        it.key = k
        again[#again + 1] = it
      end
    end
    table.sort(again, function(a, b) return tonumber(a.token) < tonumber(b.token) end)
    for _, it in ipairs(again) do
      redis.call('ZADD', K_LEASES, exp, it.key)
      lease(it.key, it, it.token)
    end
    return out
  end
end
local first
for _, q in ipairs({{K_REQ, true}, {K_PAGES, false}}) do
  while got < max do
    local k = redis.call('LPOP', q[1])
    if not k then break end
    local it = get(k)
    if it and it.st == 'Q' and it.req == q[2] then
      local token = fmtint(redis.call('HINCRBY', K_META, 'token', 1))
      first = first or token
      redis.call('HSET', K_URL, k, 'L' .. it.crawl .. flag(it) .. ' ' .. token .. ' ' .. #worker .. ' ' .. worker .. it.data)
      redis.call('ZADD', K_LEASES, exp, k)
      lease(k, it, token)
      got = got + 1
    end
  end
end
count(-got, got, 0, 0)
if got > 0 then
  redis.call('HSET', K_CALLS, field, id .. ' ' .. first .. ' ' .. out[#out])
end
return out
`)

// ARGV: now, expiry (ms), then key, token per lease. Returns 1 (renewed)
// or 0 (lost) per lease.
var luaExtend = luaScript(`
local now, exp = ARGV[1], ARGV[2]
local out = {}
for i = 3, #ARGV, 2 do
  if held(ARGV[i], ARGV[i + 1], now) then
    redis.call('ZADD', K_LEASES, exp, ARGV[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`)

// ARGV: now, then key, token per lease.
var luaRelease = luaScript(`
local now = ARGV[1]
-- From the last, so that the first ends up at the front of its queue.
for i = #ARGV - 1, 2, -2 do
  local it = held(ARGV[i], ARGV[i + 1], now)
  if it then requeue(ARGV[i], it) end
end
return 0
`)

// KEYS beyond the fixed ones: the pages outboxes of the outcomes'
// workers. ARGV: now, the number of outcomes, call id and worker (""
// without outcomes), then key, token, failure reason ("" when done),
// outbox (index into KEYS, 0 for no page), page (JSON) per outcome; then
// digest, ref (JSON) per digest. Returns the keys whose leases were lost.
// A finish whose call id is the worker's last finish's ran before, and
// its reply was lost: it returns that reply again.
var luaFinish = luaScript(`
local now, n, id, worker = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local field = 'finish:' .. worker
if id ~= '' then
  local last = redis.call('HGET', K_CALLS, field)
  if last then
    local lid, js = string.match(last, '^(%S+) (.*)$')
    if lid == id then return cjson.decode(js) end
  end
end
local lost = {}
local dl, dd, dx = 0, 0, 0
for i = 5, 4 + 5 * n, 5 do
  local k, token, reason, box, page = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4]
  local it = held(k, token, now)
  if not it then
    lost[#lost + 1] = k
  else
    redis.call('ZREM', K_LEASES, k)
    dl = dl - 1
    if reason == '' then
      redis.call('HSET', K_URL, k, 'D' .. it.crawl)
      dd = dd + 1
    else
      redis.call('HSET', K_URL, k, 'X' .. it.crawl .. ' ' .. reason)
      redis.call('ZADD', K_FAILED, 0, k)
      dx = dx + 1
    end
    if box > 0 then
      local seq = fmtint(redis.call('HINCRBY', K_PAGESEQ, KEYS[box], 1))
      redis.call('ZADD', KEYS[box], seq, seq .. ' ' .. page)
    end
  end
end
count(0, dl, dd, dx)
if dd > 0 then
  -- The done rate (Rate): URLs done per 10 s of the server's clock, the
  -- last two minutes or so of them kept.
  local b = math.floor(servertime() / 10000000)
  redis.call('HINCRBY', K_RATE, fmtint(b), dd)
  if redis.call('HLEN', K_RATE) > rateBuckets then
    for _, f in ipairs(redis.call('HKEYS', K_RATE)) do
      if tonumber(f) <= b - rateBuckets then redis.call('HDEL', K_RATE, f) end
    end
  end
end
index(5 + 5 * n)
if id ~= '' then
  local js = '[]'
  if #lost > 0 then js = cjson.encode(lost) end
  redis.call('HSET', K_CALLS, field, id .. ' ' .. js)
end
return lost
`)

// ARGV: now, the number of keys, the keys, then digest, ref (JSON) per
// digest.
var luaRecover = luaScript(`
local now, n = ARGV[1], tonumber(ARGV[2])
expire(now)
local crawl = redis.call('HGET', K_META, 'crawl') or '0'
local dq, dd = 0, 0
for i = 3, 2 + n do
  local k = ARGV[i]
  local it = get(k)
  if not it then
    redis.call('HSET', K_URL, k, 'D' .. crawl)
    dd = dd + 1
  elseif it.st == 'Q' then
    redis.call('HSET', K_URL, k, 'D' .. it.crawl)
    dq, dd = dq - 1, dd + 1
  elseif (it.st == 'D' or it.st == 'X') and tonumber(it.crawl) ~= tonumber(crawl) then
    redis.call('HSET', K_URL, k, 'D' .. crawl)
    dd = dd + 1
  end
end
count(dq, 0, dd, 0)
index(3 + n)
return 0
`)

// ARGV: now. Returns the counters q, l, d, x.
var luaCounts = luaScript(`
expire(ARGV[1])
return redis.call('HMGET', K_META, 'q', 'l', 'd', 'x')
`)

// ARGV: max. Returns key, reason per failure, by key.
var luaFailures = luaScript(`
local out = {}
for _, k in ipairs(redis.call('ZRANGE', K_FAILED, 0, tonumber(ARGV[1]) - 1)) do
  local it = get(k)
  if it and it.st == 'X' then
    out[#out + 1] = k
    out[#out + 1] = it.reason
  end
end
return out
`)

// ARGV: origin, crawl, robots.txt (JSON). Returns what is stored, as
// "<crawl> <JSON>".
var luaPutRobots = luaScript(`
local old = redis.call('HGET', K_ROBOTS, ARGV[1])
if old and tonumber(string.match(old, '^(%d+) ')) >= tonumber(ARGV[2]) then return old end
local v = ARGV[2] .. ' ' .. ARGV[3]
redis.call('HSET', K_ROBOTS, ARGV[1], v)
return v
`)

// Returns {key, data, ...}: the cookies of the current crawl.
var luaCookies = luaScript(`
local crawl = redis.call('HGET', K_META, 'crawl') or '0'
local all = redis.call('HGETALL', K_COOKIES)
local out = {}
for i = 1, #all, 2 do
  local c, data = string.match(all[i + 1], '^(%d+) (.*)$')
  if c == crawl then
    out[#out + 1] = all[i]
    out[#out + 1] = data
  end
end
return out
`)

// ARGV: key, data, ... (empty data: removed). A cookie of an earlier crawl
// under the same key is replaced.
var luaPutCookies = luaScript(`
local crawl = redis.call('HGET', K_META, 'crawl') or '0'
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', K_COOKIES, ARGV[i])
  else
    redis.call('HSET', K_COOKIES, ARGV[i], crawl .. ' ' .. ARGV[i + 1])
  end
end
return 0
`)

// ARGV: seq, run (JSON).
var luaEndRun = luaScript(`
local seq = tonumber(ARGV[1])
if seq >= 1 and seq <= redis.call('LLEN', K_RUNS) then redis.call('LSET', K_RUNS, seq - 1, ARGV[2]) end
return 0
`)
