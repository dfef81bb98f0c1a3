package frontier

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisSchema is the version of the key layout below, kept in the meta
// hash; a crawl written by another version is refused at open.
const redisSchema = "1"

// Redis is a Frontier kept in a Redis server, shared by every worker that
// opens the same server and crawl id: on several machines, each writing
// its own WARC files.
//
// Every key of a crawl is under the prefix "amber:{ID}:" (the braces make
// the crawl id a Redis Cluster hash tag: all keys of one crawl live in one
// slot, as a multi-key script needs):
//
//	meta             hash: crawl (number), recrawl, schema, token (the
//	                 last lease token), q l d x (URLs of the current crawl
//	                 queued, leased, done, failed)
//	url              hash: key → state, crawl, requisite flag, entry data
//	                 (while queued or leased), lease token and worker,
//	                 failure reason (packed; see redis_lua.go)
//	req, pages       lists: the two queues, in claim order
//	leases           sorted set: leased key, scored by expiry (Unix ms)
//	failed           sorted set: failed keys of the current crawl (score 0,
//	                 so by key)
//	digests          hash: payload digest → the first record (JSON)
//	robots           hash: origin → "crawl JSON"
//	runs             list: the run log (JSON), run n at index n-1
//	pageseq          hash: outbox key → the last page seq
//	cookies          hash: cookie key → "crawl data", the crawl's jar
//	outbox:<worker>  sorted set: the worker's pages, scored by seq
//	calls            hash: "claim:<worker>" → the worker's last claim
//	                 (call id, first and last token), "finish:<worker>"
//	                 → its last finish (call id, lost keys as JSON): a
//	                 call retried after its reply was lost (Redis
//	                 restarted or the connection dropped after the script
//	                 ran) gets that reply again instead of running twice
//	hostcount        hash: host → URLs of the current crawl queued under
//	                 the per-host cap (AddCapped)
//	rate             hash: 10-second bucket of the server's clock → URLs
//	                 done in it, the last two minutes or so (Rate)
//	host:<host>      sorted set: the host's slots (HostSlots)
//	robotslock:<origin> string: the worker fetching the origin's
//	                 robots.txt (LockRobots)
//
// Each method is one Lua script or one command (Add: one script per 500
// entries), so every multi-key step is atomic on the server, and workers
// never race a read against a write.
//
// Time: leases expire by the Clock of the worker that calls, passed to
// the scripts in milliseconds, never by the server's clock. The workers'
// clocks must agree to well within a lease's time to live (NTP does), as
// Clock says. Host slots (and their delay) and the done rate go by the
// server's clock (TIME) instead.
//
// Durability: a method's change is durable once it returns as far as the
// server's persistence makes it so. Run Redis with "appendonly yes": a
// killed or restarted redis-server then loses nothing, and with the
// default "appendfsync everysec" a power cut loses at most the last second.
//
// Errors: a lost connection, a timeout, or a server that is loading,
// read-only (a failover) or otherwise busy comes back as a
// *TransientError (see WithRetry); anything else is fatal.
type Redis struct {
	c      *redis.Client
	now    Clock
	prefix string
	keys   []string // the fixed KEYS of every script
	addr   string   // for messages
	closed atomic.Bool

	// A claim that failed with a transient error may have run on the
	// server: its call id is kept, by worker, for the next claim, which
	// then gets the leases it took (luaClaim).
	callID  string // this client's, unique: the prefix of its call ids
	callSeq atomic.Uint64
	claimMu sync.Mutex
	claims  map[string]string // worker → the id of its claim in doubt

	// gaveUp is set once a call retried through WithRetry or the host
	// slots gave up: the server is gone for good (gaveUpSharer).
	gaveUp atomic.Bool
}

func (r *Redis) gaveUpFlag() *atomic.Bool { return &r.gaveUp }

// Errors of OpenRedis.
var (
	// ErrRedisURL is a state URL that cannot be parsed.
	ErrRedisURL = errors.New("frontier: bad Redis URL")
	// ErrRedisUnreachable is a Redis server that cannot be reached.
	ErrRedisUnreachable = errors.New("frontier: Redis unreachable")
	// ErrRedisAuth is a Redis server that refused the user or password.
	ErrRedisAuth = errors.New("frontier: Redis refused the credentials")
)

// The fixed keys of a crawl, in the order of every script's KEYS (the
// prelude in redis_lua.go names them in the same order).
const (
	keyMeta = iota
	keyURL
	keyReq
	keyPages
	keyLeases
	keyFailed
	keyDigests
	keyRobots
	keyRuns
	keyPageSeq
	keyCookies
	keyCalls
	keyHostCount
	keyRate
)

var redisKeyNames = [...]string{
	keyMeta: "meta", keyURL: "url", keyReq: "req", keyPages: "pages", keyLeases: "leases",
	keyFailed: "failed", keyDigests: "digests", keyRobots: "robots", keyRuns: "runs", keyPageSeq: "pageseq", keyCookies: "cookies",
	keyCalls: "calls", keyHostCount: "hostcount", keyRate: "rate",
}

// addChunk is how many entries one Add script takes at most, so that one
// Add of many seeds does not block the server for long.
const addChunk = 500

// OpenRedis opens the crawl crawlID in the Redis server at rawURL,
// redis://[user:password@]HOST:PORT/DB or rediss://… for TLS (go-redis's
// query options, such as dial_timeout, apply). Leases go by clock (nil:
// time.Now). It pings the server, so a bad URL (ErrRedisURL), a server
// that cannot be reached (ErrRedisUnreachable) or refused credentials
// (ErrRedisAuth) is an error here, naming the problem in one line.
//
// go-redis's own retries are off (its command retries unless the URL
// sets max_retries, and its dial retries): a transient error comes back
// to the caller at once, for WithRetry to retry with backoff and log.
func OpenRedis(ctx context.Context, rawURL, crawlID string, clock Clock) (*Redis, error) {
	shown := redactURL(rawURL)
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the whole URL, password and all
		}
		return nil, fmt.Errorf("%w %q: %v", ErrRedisURL, shown, err)
	}
	if crawlID == "" || strings.ContainsAny(crawlID, "{}") {
		return nil, fmt.Errorf("frontier: bad crawl id %q: it must be non-empty, without braces", crawlID)
	}
	if u, err := url.Parse(rawURL); err == nil && !u.Query().Has("max_retries") {
		opt.MaxRetries = -1
	}
	opt.DialerRetries = 1 // and go-redis's dial retries: WithRetry backs off and logs
	opt.DisableIdentity = true
	if clock == nil {
		clock = time.Now
	}
	var id [8]byte
	rand.Read(id[:])
	r := &Redis{c: redis.NewClient(opt), now: clock, prefix: "amber:{" + crawlID + "}:", addr: opt.Addr,
		callID: hex.EncodeToString(id[:]), claims: map[string]string{}}
	for _, n := range redisKeyNames {
		r.keys = append(r.keys, r.prefix+n)
	}
	if err := r.ping(ctx); err != nil {
		r.c.Close()
		return nil, err
	}
	return r, nil
}

func (r *Redis) ping(ctx context.Context) error {
	schema, err := r.c.HGet(ctx, r.keys[keyMeta], "schema").Result()
	switch {
	case err == nil || errors.Is(err, redis.Nil):
	case ctx.Err() != nil:
		return err
	case redis.IsAuthError(err) || redis.IsPermissionError(err):
		return fmt.Errorf("%w: %s: %v", ErrRedisAuth, r.addr, err)
	case isTransient(err):
		return fmt.Errorf("%w: %s: %w", ErrRedisUnreachable, r.addr, err)
	default:
		return fmt.Errorf("frontier: Redis at %s: %w", r.addr, err)
	}
	if schema != "" && schema != redisSchema {
		return fmt.Errorf("frontier: Redis at %s: crawl state %s has key layout %s, this amber reads %s", r.addr, r.prefix, schema, redisSchema)
	}
	return nil
}

// redactURL hides the password of a URL, for messages.
func redactURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := len(rest)
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		end = j
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	user := rest[:at]
	if c := strings.Index(user, ":"); c >= 0 {
		user = user[:c] + ":xxxxx"
	}
	return raw[:i+3] + user + rest[at:]
}

// isTransient reports whether a Redis client error may go away by itself.
func isTransient(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.Is(err, redis.ErrClosed), errors.As(err, &ce): // a certificate does not fix itself
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, net.ErrClosed), errors.As(err, &oe),
		errors.As(err, &ne) && ne.Timeout(),
		errors.Is(err, context.DeadlineExceeded), // go-redis's own timeouts; the caller's context is checked first
		errors.Is(err, redis.ErrPoolTimeout):
		return true
	case redis.IsLoadingError(err), redis.IsReadOnlyError(err), redis.IsMasterDownError(err),
		redis.IsClusterDownError(err), redis.IsTryAgainError(err), redis.IsMaxClientsError(err),
		redis.IsNoReplicasError(err),
		redis.HasErrorPrefix(err, "BUSY"),    // another script runs long
		redis.HasErrorPrefix(err, "MISCONF"): // persistence failing: writes refused until fixed
		return true
	}
	return false
}

// fail classes an error of the Redis client for the caller.
func (r *Redis) fail(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.ErrClosed):
		return ErrClosed
	case ctx.Err() != nil:
		return fmt.Errorf("frontier: redis %s: %w", op, ctx.Err())
	case isTransient(err):
		return &TransientError{Err: fmt.Errorf("redis %s at %s: %w", op, r.addr, err)}
	}
	return fmt.Errorf("frontier: redis %s at %s: %w", op, r.addr, err)
}

// run runs a script with the fixed keys and extra ones.
func (r *Redis) run(ctx context.Context, op string, s *redis.Script, extra []string, args ...any) (any, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	keys := r.keys
	if len(extra) > 0 {
		keys = append(slices.Clip(keys), extra...)
	}
	v, err := s.Run(ctx, r.c, keys, args...).Result()
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	return v, r.fail(ctx, op, err)
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func tok(l Lease) string { return strconv.FormatUint(l.Token, 10) }

// reply helpers: a script's reply is an array of strings and integers.

func replyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func replyString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func replyInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// Begin implements Frontier.
func (r *Redis) Begin(ctx context.Context, recrawl bool) (CrawlInfo, error) {
	flag := "0"
	if recrawl {
		flag = "1"
	}
	v, err := r.run(ctx, "begin", luaBegin, nil, flag, redisSchema)
	if err != nil {
		return CrawlInfo{}, err
	}
	l := replyList(v)
	if len(l) != 2 {
		return CrawlInfo{}, fmt.Errorf("frontier: redis begin: unexpected reply %v", v)
	}
	return CrawlInfo{Crawl: uint64(replyInt(l[0])), Resumed: replyInt(l[1]) == 1}, nil
}

// Add implements Frontier.
func (r *Redis) Add(ctx context.Context, entries []Entry) (int, error) {
	n, _, err := r.add(ctx, entries, nil, 0)
	return n, err
}

// AddCapped is Add with a cap on the URLs queued per host for the whole
// crawl: an entry new to the crawl (never added, or queued again by a new
// crawl) is queued only while fewer than max URLs of its host, hosts[i],
// were queued in the current crawl, and the indexes of the entries refused
// for that are returned. A key already seen is not counted again (a
// requisite queued after the same URL as a page neither). Counting and
// queuing are one script, so workers adding at once never pass the cap
// together. Like Add, it is idempotent: a retried call whose first try
// took effect queues and refuses nothing more.
func (r *Redis) AddCapped(ctx context.Context, entries []Entry, hosts []string, max int) (int, []int, error) {
	if len(hosts) != len(entries) {
		return 0, nil, fmt.Errorf("frontier: redis add: %d hosts for %d entries", len(hosts), len(entries))
	}
	return r.add(ctx, entries, hosts, max)
}

func (r *Redis) add(ctx context.Context, entries []Entry, hosts []string, max int) (int, []int, error) {
	if r.closed.Load() {
		return 0, nil, ErrClosed
	}
	n := 0
	var capped []int
	for first := 0; first < len(entries); first += addChunk {
		chunk := entries[first:min(len(entries), first+addChunk)]
		args := make([]any, 0, 2+4*len(chunk))
		args = append(args, SkippedPrefix, max)
		for i, e := range chunk {
			req := "0"
			if e.Requisite {
				req = "1"
			}
			host := ""
			if hosts != nil {
				host = hosts[first+i]
			}
			args = append(args, e.Key, e.Data, req, host)
		}
		v, err := r.run(ctx, "add", luaAdd, nil, args...)
		if err != nil {
			return n, capped, err
		}
		l := replyList(v)
		if len(l) == 0 {
			return n, capped, fmt.Errorf("frontier: redis add: unexpected reply %v", v)
		}
		n += int(replyInt(l[0]))
		for _, i := range l[1:] {
			capped = append(capped, first+int(replyInt(i))-1)
		}
	}
	return n, capped, nil
}

// Claim implements Frontier.
func (r *Redis) Claim(ctx context.Context, worker string, max int, ttl time.Duration) ([]Lease, error) {
	now := r.now()
	expires := now.Add(ttl)
	r.claimMu.Lock()
	id, retried := r.claims[worker]
	if !retried {
		id = r.callID + "-" + strconv.FormatUint(r.callSeq.Add(1), 10)
		r.claims[worker] = id
	}
	r.claimMu.Unlock()
	v, err := r.run(ctx, "claim", luaClaim, nil, ms(now), ms(expires), max, worker, id)
	if !IsTransient(err) {
		r.claimMu.Lock()
		delete(r.claims, worker)
		r.claimMu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	l := replyList(v)
	var out []Lease
	for i := 0; i+3 < len(l); i += 4 {
		token, _ := strconv.ParseUint(replyString(l[i+3]), 10, 64)
		var data []byte
		if d := replyString(l[i+1]); d != "" {
			data = []byte(d)
		}
		out = append(out, Lease{
			Entry:   Entry{Key: replyString(l[i]), Data: data, Requisite: replyInt(l[i+2]) == 1},
			Worker:  worker,
			Token:   token,
			Expires: expires,
		})
	}
	return out, nil
}

func leaseArgs(leases []Lease, args []any) []any {
	for _, l := range leases {
		args = append(args, l.Key, tok(l))
	}
	return args
}

// Extend implements Frontier.
func (r *Redis) Extend(ctx context.Context, leases []Lease, ttl time.Duration) ([]Lease, error) {
	now := r.now()
	expires := now.Add(ttl)
	v, err := r.run(ctx, "extend", luaExtend, nil, leaseArgs(leases, []any{ms(now), ms(expires)})...)
	if err != nil {
		return nil, err
	}
	l := replyList(v)
	var out []Lease
	var lost []string
	for i, le := range leases {
		if i < len(l) && replyInt(l[i]) == 1 {
			le.Expires = expires
			out = append(out, le)
		} else {
			lost = append(lost, le.Key)
		}
	}
	if lost != nil {
		return out, &LeaseError{Keys: lost}
	}
	return out, nil
}

// Release implements Frontier.
func (r *Redis) Release(ctx context.Context, leases []Lease) error {
	_, err := r.run(ctx, "release", luaRelease, nil, leaseArgs(leases, []any{ms(r.now())})...)
	return err
}

func digestArgs(digests []DigestRef, args []any) ([]any, error) {
	for _, d := range digests {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		args = append(args, d.Digest, b)
	}
	return args, nil
}

// Finish implements Frontier.
func (r *Redis) Finish(ctx context.Context, outcomes []Outcome, digests []DigestRef) error {
	// The call id is the outcomes' digest: a retry of this call has it,
	// another call (other leases, or other tokens) has not.
	id, worker := "", ""
	if len(outcomes) > 0 {
		h := sha256.New()
		for _, o := range outcomes {
			fmt.Fprintf(h, "%d %q %d %q\n", len(o.Lease.Key), o.Lease.Key, o.Lease.Token, o.Failed)
		}
		id, worker = hex.EncodeToString(h.Sum(nil)[:16]), outcomes[0].Lease.Worker
	}
	args := []any{ms(r.now()), len(outcomes), id, worker}
	var boxes []string // outbox keys, KEYS[len(r.keys)+1…]
	for _, o := range outcomes {
		box, page := 0, []byte(nil)
		if o.Page != nil {
			k := r.prefix + "outbox:" + o.Lease.Worker
			i := slices.Index(boxes, k)
			if i < 0 {
				i = len(boxes)
				boxes = append(boxes, k)
			}
			box = len(r.keys) + 1 + i
			p := *o.Page
			p.Seq = 0
			var err error
			if page, err = json.Marshal(p); err != nil {
				return err
			}
		}
		args = append(args, o.Lease.Key, tok(o.Lease), o.Failed, box, page)
	}
	args, err := digestArgs(digests, args)
	if err != nil {
		return err
	}
	v, err := r.run(ctx, "finish", luaFinish, boxes, args...)
	if err != nil {
		return err
	}
	if l := replyList(v); len(l) > 0 {
		lost := make([]string, len(l))
		for i, k := range l {
			lost[i] = replyString(k)
		}
		return &LeaseError{Keys: lost}
	}
	return nil
}

// Recover implements Frontier.
func (r *Redis) Recover(ctx context.Context, keys []string, digests []DigestRef) error {
	args := []any{ms(r.now()), len(keys)}
	for _, k := range keys {
		args = append(args, k)
	}
	args, err := digestArgs(digests, args)
	if err != nil {
		return err
	}
	_, err = r.run(ctx, "recover", luaRecover, nil, args...)
	return err
}

// hget reads one field of one of the fixed hashes.
func (r *Redis) hget(ctx context.Context, op string, key int, field string) (string, bool, error) {
	if r.closed.Load() {
		return "", false, ErrClosed
	}
	v, err := r.c.HGet(ctx, r.keys[key], field).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, r.fail(ctx, op, err)
	}
	return v, true, nil
}

// LookupDigest implements Frontier.
func (r *Redis) LookupDigest(ctx context.Context, digest string) (DigestRef, bool, error) {
	v, ok, err := r.hget(ctx, "digest lookup", keyDigests, digest)
	if !ok || err != nil {
		return DigestRef{}, false, err
	}
	var d DigestRef
	if err := json.Unmarshal([]byte(v), &d); err != nil {
		return DigestRef{}, false, fmt.Errorf("frontier: redis digest %s: %w", digest, err)
	}
	return d, true, nil
}

func decodeRobots(origin, v string) (RobotsTxt, error) {
	var rt RobotsTxt
	_, js, _ := strings.Cut(v, " ")
	if err := json.Unmarshal([]byte(js), &rt); err != nil {
		return RobotsTxt{}, fmt.Errorf("frontier: redis robots.txt of %s: %w", origin, err)
	}
	return rt, nil
}

// Robots implements Frontier.
func (r *Redis) Robots(ctx context.Context, origin string) (RobotsTxt, bool, error) {
	v, ok, err := r.hget(ctx, "robots.txt lookup", keyRobots, origin)
	if !ok || err != nil {
		return RobotsTxt{}, false, err
	}
	rt, err := decodeRobots(origin, v)
	return rt, err == nil, err
}

// PutRobots implements Frontier.
func (r *Redis) PutRobots(ctx context.Context, origin string, rt RobotsTxt) (RobotsTxt, error) {
	b, err := json.Marshal(rt)
	if err != nil {
		return RobotsTxt{}, err
	}
	v, err := r.run(ctx, "robots.txt store", luaPutRobots, nil, origin, strconv.FormatUint(rt.Crawl, 10), b)
	if err != nil {
		return RobotsTxt{}, err
	}
	return decodeRobots(origin, replyString(v))
}

// Cookies implements Frontier.
func (r *Redis) Cookies(ctx context.Context) ([]Cookie, error) {
	v, err := r.run(ctx, "cookies", luaCookies, nil)
	if err != nil {
		return nil, err
	}
	l := replyList(v)
	out := make([]Cookie, 0, len(l)/2)
	for i := 0; i+1 < len(l); i += 2 {
		out = append(out, Cookie{Key: replyString(l[i]), Data: []byte(replyString(l[i+1]))})
	}
	slices.SortFunc(out, func(a, b Cookie) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// PutCookies implements Frontier.
func (r *Redis) PutCookies(ctx context.Context, cookies []Cookie) error {
	if len(cookies) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(cookies))
	for _, c := range cookies {
		args = append(args, c.Key, c.Data)
	}
	_, err := r.run(ctx, "cookie store", luaPutCookies, nil, args...)
	return err
}

// Counts implements Frontier.
func (r *Redis) Counts(ctx context.Context) (Counts, error) {
	v, err := r.run(ctx, "counts", luaCounts, nil, ms(r.now()))
	if err != nil {
		return Counts{}, err
	}
	l := replyList(v)
	if len(l) != 4 {
		return Counts{}, fmt.Errorf("frontier: redis counts: unexpected reply %v", v)
	}
	return Counts{Queued: int(replyInt(l[0])), Leased: int(replyInt(l[1])), Done: int(replyInt(l[2])), Failed: int(replyInt(l[3]))}, nil
}

// Failures implements Frontier.
func (r *Redis) Failures(ctx context.Context, max int) ([]Failure, error) {
	if max <= 0 {
		if r.closed.Load() {
			return nil, ErrClosed
		}
		return nil, nil
	}
	v, err := r.run(ctx, "failures", luaFailures, nil, max)
	if err != nil {
		return nil, err
	}
	l := replyList(v)
	var out []Failure
	for i := 0; i+1 < len(l); i += 2 {
		out = append(out, Failure{URL: replyString(l[i]), Reason: replyString(l[i+1])})
	}
	return out, nil
}

func (r *Redis) outbox(worker string) string { return r.prefix + "outbox:" + worker }

// Pages implements Frontier.
func (r *Redis) Pages(ctx context.Context, worker string) ([]Page, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	members, err := r.c.ZRange(ctx, r.outbox(worker), 0, -1).Result()
	if err != nil {
		return nil, r.fail(ctx, "pages", err)
	}
	var out []Page
	for _, m := range members {
		seq, js, _ := strings.Cut(m, " ")
		var p Page
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			return nil, fmt.Errorf("frontier: redis page %s of %s: %w", seq, worker, err)
		}
		p.Seq, _ = strconv.ParseUint(seq, 10, 64)
		out = append(out, p)
	}
	return out, nil
}

// ClearPages implements Frontier.
func (r *Redis) ClearPages(ctx context.Context, worker string, through uint64) error {
	if r.closed.Load() {
		return ErrClosed
	}
	err := r.c.ZRemRangeByScore(ctx, r.outbox(worker), "-inf", strconv.FormatUint(through, 10)).Err()
	return r.fail(ctx, "clear pages", err)
}

// StartRun implements Frontier.
func (r *Redis) StartRun(ctx context.Context, ri RunInfo) (uint64, error) {
	if r.closed.Load() {
		return 0, ErrClosed
	}
	b, err := json.Marshal(ri)
	if err != nil {
		return 0, err
	}
	n, err := r.c.RPush(ctx, r.keys[keyRuns], b).Result()
	if err != nil {
		return 0, r.fail(ctx, "start run", err)
	}
	return uint64(n), nil
}

// EndRun implements Frontier.
func (r *Redis) EndRun(ctx context.Context, seq uint64, ri RunInfo) error {
	b, err := json.Marshal(ri)
	if err != nil {
		return err
	}
	_, err = r.run(ctx, "end run", luaEndRun, nil, strconv.FormatUint(seq, 10), b)
	return err
}

// Runs implements Frontier.
func (r *Redis) Runs(ctx context.Context) ([]RunInfo, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	vs, err := r.c.LRange(ctx, r.keys[keyRuns], 0, -1).Result()
	if err != nil {
		return nil, r.fail(ctx, "runs", err)
	}
	out := make([]RunInfo, len(vs))
	for i, v := range vs {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, fmt.Errorf("frontier: redis run %d: %w", i+1, err)
		}
	}
	return out, nil
}

// Close implements Frontier. It closes the client's connections; the
// crawl state stays on the server.
func (r *Redis) Close() error {
	if r.closed.Swap(true) {
		return ErrClosed
	}
	return r.c.Close()
}

var _ Frontier = (*Redis)(nil)
