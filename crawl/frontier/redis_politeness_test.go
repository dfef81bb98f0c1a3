package frontier_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/internal/testredis"
)

// TestRedisHostSlotsDelay: two workers' slots of one host, one slot per
// host and a delay: a slot is never held by two at once, and it is taken
// again no sooner than the delay after it was given back, whoever takes it,
// whatever the workers' clocks say.
func TestRedisHostSlotsDelay(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	const delay = 120 * time.Millisecond
	var slots []*frontier.HostSlots
	// The second worker's clock is an hour ahead: slots go by the
	// server's.
	for i, w := range []string{"w1", "w2"} {
		skew := time.Duration(i) * time.Hour
		f := openRedis(t, s, "slots", func() time.Time { return time.Now().Add(skew) })
		slots = append(slots, f.HostSlots(w, 1, delay, 10*time.Second, frontier.RetryPolicy{}))
	}
	type span struct{ start, end time.Time }
	var mu sync.Mutex
	var spans []span
	held := 0
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				release, err := slots[g%2].Acquire(ctx, "example.org:80")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				held++
				if held > 1 {
					t.Errorf("%d holders of the one slot", held)
				}
				sp := span{start: time.Now()}
				mu.Unlock()
				time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond) // the request
				mu.Lock()
				held--
				sp.end = time.Now() // before the slot is given back
				spans = append(spans, sp)
				mu.Unlock()
				release()
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	if len(spans) != 18 {
		t.Fatalf("%d slots taken, want 18", len(spans))
	}
	closest := time.Hour
	for i := 1; i < len(spans); i++ {
		gap := spans[i].start.Sub(spans[i-1].end)
		closest = min(closest, gap)
		if gap < delay {
			t.Errorf("slot taken %s after it was given back, the delay is %s", gap, delay)
		}
	}
	t.Logf("closest: taken %s after it was given back", closest)
	// The host's key goes by itself once its slots have.
	if d, err := s.Client(t).PTTL(ctx, "amber:{slots}:host:example.org:80").Result(); err != nil || d == -1 {
		t.Errorf("host slots key without expiry: %v %v", d, err)
	}
}

// TestRedisAddCapped: three workers adding the same URLs at once queue no
// more than the cap of one host in all; the refused are reported; a key
// already seen is not counted again; a new crawl counts from zero.
func TestRedisAddCapped(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	const limit = 8
	var fs []*frontier.Redis
	for i := 0; i < 3; i++ {
		fs = append(fs, openRedis(t, s, "cap", nil))
	}
	if _, err := fs[0].Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	keys := func(host string, n int) ([]frontier.Entry, []string) {
		var es []frontier.Entry
		var hs []string
		for i := 0; i < n; i++ {
			es = append(es, frontier.Entry{Key: fmt.Sprintf("http://%s/%d", host, i), Data: []byte("d")})
			hs = append(hs, host)
		}
		return es, hs
	}
	aE, aH := keys("a", 20)
	bE, bH := keys("b", 5)
	refused := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			es, hs := append(slices.Clone(aE), bE...), append(slices.Clone(aH), bH...)
			// Each in its own order, a few at a time.
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			rnd.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i]; hs[i], hs[j] = hs[j], hs[i] })
			for len(es) > 0 {
				n := min(len(es), 3)
				_, capped, err := f.AddCapped(ctx, es[:n], hs[:n], limit)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, i := range capped {
					if hs[i] != "a" {
						t.Errorf("refused %s of host %s, under the cap", es[i].Key, hs[i])
					}
					refused[es[i].Key] = true
				}
				mu.Unlock()
				es, hs = es[n:], hs[n:]
			}
		}()
	}
	wg.Wait()
	c, err := fs[0].Counts(ctx)
	if err != nil || c.Queued != limit+5 {
		t.Fatalf("queued %d (%v), want %d of host a and 5 of host b", c.Queued, err, limit)
	}
	leases, err := fs[1].Claim(ctx, "w", 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	queuedA := map[string]bool{}
	for _, l := range leases {
		if l.Key[len("http://")] == 'a' {
			queuedA[l.Key] = true
		}
	}
	for _, e := range aE {
		if queuedA[e.Key] == refused[e.Key] {
			t.Errorf("%s: queued %t, refused %t", e.Key, queuedA[e.Key], refused[e.Key])
		}
	}
	// Seen keys are not counted again, or refused: the same URL as a
	// requisite, a URL finished.
	if err := fs[0].Finish(ctx, []frontier.Outcome{{Lease: leases[0]}}, nil); err != nil {
		t.Fatal(err)
	}
	again := []frontier.Entry{leases[0].Entry, leases[1].Entry}
	again[1].Requisite = true // a requisite of a page leased is not queued again
	n, capped, err := fs[2].AddCapped(ctx, again, []string{"a", "a"}, limit)
	if err != nil || len(capped) != 0 || n != 0 {
		t.Errorf("adding seen keys again: queued %d, refused %v, %v", n, capped, err)
	}
	more, moreH := keys("a", 30)
	if _, capped, err := fs[2].AddCapped(ctx, more[20:], moreH[20:], limit); err != nil || len(capped) != 10 {
		t.Errorf("past the cap: refused %d of 10, %v", len(capped), err)
	}
	// Add has no cap.
	if n, err := fs[2].Add(ctx, more[20:21]); err != nil || n != 1 {
		t.Errorf("Add past the cap: %d, %v", n, err)
	}

	// A new crawl counts from zero.
	rest, err := fs[1].Claim(ctx, "w", 100, time.Minute)
	if err != nil || len(rest) != 1 {
		t.Fatal(len(rest), err)
	}
	var outs []frontier.Outcome
	for _, l := range append(leases[1:], rest...) {
		outs = append(outs, frontier.Outcome{Lease: l})
	}
	if err := fs[1].Finish(ctx, outs, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := fs[0].BeginShared(ctx, true, true); err != nil || st.State != frontier.CrawlNew {
		t.Fatalf("new crawl: %+v %v", st, err)
	}
	fresh, freshH := keys("c", 12)
	if n, capped, err := fs[0].AddCapped(ctx, fresh, freshH, limit); err != nil || n != limit || len(capped) != 12-limit {
		t.Errorf("new crawl: queued %d, refused %d, %v", n, len(capped), err)
	}
	if n, err := s.Client(t).HGet(ctx, "amber:{cap}:hostcount", "a").Result(); err == nil {
		t.Errorf("host a counted %s in the new crawl", n)
	}
}

// TestRedisRobotsLock: one worker at a time holds an origin's lock; it is
// renewed while held; a lock that was lost (expired) is not given back by
// its old holder over the new one's.
func TestRedisRobotsLock(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	a := openRedis(t, s, "robots", nil)
	b := openRedis(t, s, "robots", nil)
	const origin = "http://example.org"
	unlockA, ok, err := a.LockRobots(ctx, origin, 600*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("first lock: %t %v", ok, err)
	}
	if _, ok, err := b.LockRobots(ctx, origin, time.Second); err != nil || ok {
		t.Fatalf("second lock taken while the first is held: %t %v", ok, err)
	}
	if _, ok, _ := b.LockRobots(ctx, "http://other.example", time.Second); !ok {
		t.Errorf("another origin's lock not taken")
	}
	// Renewed: still held after several of its times to live.
	key := "amber:{robots}:robotslock:" + origin
	rc := s.Client(t)
	for i := 0; i < 3; i++ {
		time.Sleep(600 * time.Millisecond)
		if n, err := rc.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Fatalf("lock gone while held (renewed every 200ms): %d %v", n, err)
		}
	}
	unlockA()
	unlockB, ok, err := b.LockRobots(ctx, origin, time.Minute)
	if err != nil || !ok {
		t.Fatalf("lock not taken once given back: %t %v", ok, err)
	}
	unlockB()

	// A holder whose lock was lost (here deleted, as if it expired) does
	// not give back the next holder's.
	unlockA, ok, _ = a.LockRobots(ctx, origin, time.Minute)
	if !ok {
		t.Fatal("lock not taken")
	}
	rc.Del(ctx, key)
	unlockB, ok, _ = b.LockRobots(ctx, origin, time.Minute)
	if !ok {
		t.Fatal("lock not taken after it was lost")
	}
	unlockA()
	if _, ok, _ := a.LockRobots(ctx, origin, time.Minute); ok {
		t.Errorf("the old holder gave back the new holder's lock")
	}
	unlockB()

	// A worker that dies holding it: the lock goes within its time to live.
	dead := openRedis(t, s, "robots", nil)
	unlockDead, ok, _ := dead.LockRobots(ctx, origin, 300*time.Millisecond)
	if !ok {
		t.Fatal("lock not taken")
	}
	dead.Close() // no more renewals
	defer unlockDead()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if unlock, ok, err := b.LockRobots(ctx, origin, time.Minute); err != nil {
			t.Fatal(err)
		} else if ok {
			unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a dead holder's lock never expired")
		}
	}
}

// TestRedisRate: Finish counts the URLs done (not failed) by the server's
// clock; Rate gives them over the last minute; old buckets are dropped.
func TestRedisRate(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	f := openRedis(t, s, "rate", nil)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	if r, err := f.Rate(ctx); err != nil || r.Done != 0 || r.PerMinute() != 0 {
		t.Fatalf("rate of a crawl with nothing done: %+v %v", r, err)
	}
	// Stale buckets, as a crawl running for hours leaves them.
	rc := s.Client(t)
	now, err := rc.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	b := now.Unix() / 10
	for i := int64(20); i < 40; i++ {
		rc.HSet(ctx, "amber:{rate}:rate", strconv.FormatInt(b-i, 10), 1000)
	}
	var es []frontier.Entry
	for i := 0; i < 5; i++ {
		es = append(es, frontier.Entry{Key: fmt.Sprintf("http://x/%d", i)})
	}
	if _, err := f.Add(ctx, es); err != nil {
		t.Fatal(err)
	}
	leases, err := f.Claim(ctx, "w", 5, time.Minute)
	if err != nil || len(leases) != 5 {
		t.Fatal(len(leases), err)
	}
	outs := []frontier.Outcome{{Lease: leases[0]}, {Lease: leases[1]}, {Lease: leases[2]}, {Lease: leases[3], Failed: "no"}, {Lease: leases[4], Failed: "no"}}
	if err := f.Finish(ctx, outs, nil); err != nil {
		t.Fatal(err)
	}
	r, err := f.Rate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Done != 3 || r.Window < time.Minute || r.Window >= 70*time.Second || r.PerMinute() <= 0 {
		t.Errorf("rate: %+v (%.1f/min), want 3 done in 60 to 70 s", r, r.PerMinute())
	}
	if n, err := rc.HLen(ctx, "amber:{rate}:rate").Result(); err != nil || n > 13 {
		t.Errorf("rate buckets kept: %d %v, want the last 13 at most", n, err)
	}
}
