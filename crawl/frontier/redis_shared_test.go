package frontier_test

import (
	"context"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"

	"github.com/amber-archiver/amber/internal/testredis"
)

// TestRedisShared: BeginShared joins, begins and refuses as documented;
// Settings is put if absent; ReclaimWorker takes back one worker's
// leases only; LeaseHolders and Workers tell who holds what.
func TestRedisShared(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	f := openRedis(t, s, "shared", clock)

	if st, err := f.BeginShared(ctx, false, false); err != nil || st.State != frontier.CrawlNone {
		t.Fatalf("joining a crawl never begun: %+v, %v", st, err)
	}
	if v, err := f.Settings(ctx, nil); err != nil || v != nil {
		t.Fatalf("settings of a crawl never begun: %q, %v", v, err)
	}
	if v, err := f.Settings(ctx, []byte("one")); err != nil || string(v) != "one" {
		t.Fatalf("first settings: %q, %v", v, err)
	}
	if v, err := f.Settings(ctx, []byte("two")); err != nil || string(v) != "one" {
		t.Fatalf("settings are put if absent: %q, %v", v, err)
	}
	st, err := f.BeginShared(ctx, true, false)
	if err != nil || st.State != frontier.CrawlNew || st.Crawl != 1 {
		t.Fatalf("first begin: %+v, %v", st, err)
	}
	// Begun but not seeded: a second worker joins the same crawl.
	if st, err := f.BeginShared(ctx, true, false); err != nil || st.State != frontier.CrawlFresh || st.Crawl != 1 {
		t.Fatalf("second begin: %+v, %v", st, err)
	}
	if _, err := f.Add(ctx, []frontier.Entry{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "d"}}); err != nil {
		t.Fatal(err)
	}
	if st, err := f.BeginShared(ctx, true, false); err != nil || st.State != frontier.CrawlOpen || !st.Resumed || st.Counts.Queued != 4 {
		t.Fatalf("open crawl: %+v, %v", st, err)
	}
	w1, err := f.Claim(ctx, "w1", 2, time.Minute)
	if err != nil || len(w1) != 2 {
		t.Fatal(len(w1), err)
	}
	now = now.Add(time.Second)
	w2, err := f.Claim(ctx, "w2", 2, time.Minute)
	if err != nil || len(w2) != 2 {
		t.Fatal(len(w2), err)
	}
	holders, err := f.LeaseHolders(ctx)
	if err != nil || len(holders) != 2 || holders[0].Worker != "w1" || holders[0].Leases != 2 || !holders[0].First.Equal(now.Add(59*time.Second)) {
		t.Fatalf("lease holders: %+v, %v", holders, err)
	}
	if n, err := f.ReclaimWorker(ctx, "w1"); err != nil || n != 2 {
		t.Fatalf("reclaim w1: %d, %v", n, err)
	}
	if _, err := f.Extend(ctx, w2, time.Minute); err != nil {
		t.Errorf("w2's leases were taken too: %v", err)
	}
	if _, err := f.Extend(ctx, w1, time.Minute); err == nil {
		t.Errorf("w1's leases still held after ReclaimWorker")
	}
	again, err := f.Claim(ctx, "w3", 10, time.Minute)
	if err != nil || len(again) != 2 || again[0].Key != w1[0].Key || again[1].Key != w1[1].Key {
		t.Fatalf("reclaimed leases not queued first, in order: %+v, %v", again, err)
	}
	var outs []frontier.Outcome
	for _, l := range append(w2, again...) {
		outs = append(outs, frontier.Outcome{Lease: l})
	}
	if err := f.Finish(ctx, outs, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := f.BeginShared(ctx, true, false); err != nil || st.State != frontier.CrawlFinished || st.Counts.Done != 4 {
		t.Fatalf("finished crawl: %+v, %v", st, err)
	}
	if st, err := f.BeginShared(ctx, true, true); err != nil || st.State != frontier.CrawlNew || st.Crawl != 2 {
		t.Fatalf("recrawl of a finished crawl: %+v, %v", st, err)
	}

	w := frontier.WorkerInfo{ID: "w1", Host: "h", PID: 7, LeaseTTL: time.Minute}
	if err := f.Beat(ctx, w); err != nil {
		t.Fatal(err)
	}
	ws, err := f.Workers(ctx)
	if err != nil || len(ws) != 1 || ws[0].ID != "w1" || !ws[0].Alive(now) || ws[0].Alive(now.Add(3*time.Minute)) {
		t.Fatalf("workers: %+v, %v", ws, err)
	}
}
