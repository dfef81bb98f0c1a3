package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amber-archiver/amber/internal/testredis"
)

// lockedBuffer is a process's output that the test reads while the
// process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged starts amber with its stdout and stderr in a lockedBuffer,
// killed at the end of the test if the test did not wait for it.
func startLogged(t *testing.T, args ...string) (*exec.Cmd, *lockedBuffer) {
	out := &lockedBuffer{}
	cmd := exec.Command("amber-program", args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// waitAll waits for the processes to exit and returns their exit
// statuses. Past limit, it asks each one still running for a goroutine
// dump (SIGQUIT) and fails the test with their output: a hang shows where
// it is.
func waitAll(t *testing.T, limit time.Duration, cmds []*exec.Cmd, outs []*lockedBuffer) []int {
	t.Helper()
	done := make(chan struct{})
	go func() {
		for _, c := range cmds {
			c.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		for _, c := range cmds {
			if c.ProcessState == nil {
				c.Process.Signal(syscall.SIGQUIT)
			}
		}
		<-done
		for i, o := range outs {
			t.Logf("worker %d:\n%s", i, o.String())
		}
		t.Fatalf("the workers did not finish within %s (goroutine dumps above)", limit)
	}
	codes := make([]int, len(cmds))
	for i, c := range cmds {
		codes[i] = c.ProcessState.ExitCode()
	}
	return codes
}

// TestSharedCrawlRedisRestart: two worker processes crawl the site through
// one redis-server with "appendonly yes". Mid-crawl, once some URLs are
// done and both workers have requests in flight, held back by the site,
// Redis goes away: killed (SIGKILL: no shutdown, no last fsync) with
// "appendfsync always" (every write on disk before Redis answers it), or
// stopped (SIGTERM: it writes the AOF out and exits) with the default
// "appendfsync everysec". The held answers are let go, so that the
// workers' outcomes, claims and host slots meet a Redis that is gone, and
// a few seconds later Redis is started again on the same port and data.
// The crawl completes: each worker says Redis was unreachable and that it
// works again, and exits 0; every URL of the site was fetched once and is
// archived once across the two collections, which verify clean as one
// set.
//
// --per-host is the requests the site holds, so that a host slot not given
// back over the outage keeps every worker off the host, and --lease-ttl
// (the slots' time to live too) is longer than the test waits: a slot or
// lease left behind by the outage hangs the crawl, and the test fails
// with the workers' goroutine dumps. --header-timeout is long enough that
// a held request is not given up on and fetched again on a loaded
// machine.
func TestSharedCrawlRedisRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		stop  func(*testredis.Server)
	}{
		{"SIGKILL, appendfsync always", []string{"--appendfsync", "always"}, (*testredis.Server).Kill},
		{"SIGTERM, appendfsync everysec", nil, (*testredis.Server).Stop},
	} {
		t.Run(tc.name, func(t *testing.T) { testRedisRestart(t, tc.extra, tc.stop) })
	}
}

func testRedisRestart(t *testing.T, extra []string, stop func(*testredis.Server)) {
	rs := testredis.Start(t, extra...)
	const pages, holdFrom, inFlight = 40, 30, 4 // two workers, --concurrency 2
	var mu sync.Mutex
	answered, held := 0, 0
	release, allHeld := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	site := newSharedSite(t, pages, 2, func(s *sharedSite) {
		s.answer = func(string) {
			mu.Lock()
			answered++
			hold := answered > holdFrom
			if hold {
				if held++; held == inFlight {
					close(allHeld)
				}
			}
			mu.Unlock()
			if hold {
				<-release
			}
		}
	})
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the site closes
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "A"), filepath.Join(root, "B")}
	seeds := site.seedsFile(t, root)
	common := []string{"archive", "-q", "--state", rs.URL(), "--crawl-id", "restart", "--concurrency", "2", "--per-host", fmt.Sprint(inFlight), "--lease-ttl", "10m", "--header-timeout", "5m"}
	a, outA := startLogged(t, append(common, "--scope", "host", "--worker-id", "w-a", "--user-agent", "worker-a", "-o", dirs[0], "--seeds", seeds)...)
	waitSeeded(t, rs, "restart", a)
	b, outB := startLogged(t, append(common, "--worker-id", "w-b", "--user-agent", "worker-b", "-o", dirs[1])...)
	cmds, outs := []*exec.Cmd{a, b}, []*lockedBuffer{outA, outB}

	select {
	case <-allHeld:
	case <-time.After(2 * time.Minute):
		mu.Lock()
		t.Logf("answered %d, held %d", answered, held)
		mu.Unlock()
		t.Fatalf("the workers never had %d requests in flight\nA: %s\nB: %s", inFlight, outA, outB)
	}
	rc := rs.Client(t)
	meta := "amber:{restart}:meta"
	var done int
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		done, _ = rc.HGet(context.Background(), meta, "d").Int()
		if done >= holdFrom/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d URLs done in Redis after %d answers", done, holdFrom)
		}
	}
	rc.Close()

	stopped := time.Now()
	stop(rs)
	releaseOnce.Do(func() { close(release) })
	// Both workers meet the outage (their outcomes are due at the next
	// checkpoint), and it lasts a few seconds.
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(outA.String(), "crawl state:") || !strings.Contains(outB.String(), "crawl state:"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a worker did not log the outage\nA: %s\nB: %s", outA, outB)
		}
	}
	time.Sleep(time.Until(stopped.Add(3 * time.Second)))
	rs.Restart(t)
	outage := time.Since(stopped)
	t.Logf("Redis was down %s, with %d URLs done and %d requests in flight", outage.Round(time.Millisecond), done, inFlight)

	codes := waitAll(t, 5*time.Minute, cmds, outs)
	for i, code := range codes {
		t.Logf("worker %d (exit %d):\n%s", i, code, outs[i])
		if code != 0 {
			t.Errorf("worker %d: exit %d", i, code)
		}
		o := outs[i].String()
		if !strings.Contains(o, "connection refused; retrying in") || !strings.Contains(o, "works again") {
			t.Errorf("worker %d did not say Redis was unreachable and that it recovered", i)
		}
		for _, l := range strings.Split(strings.TrimSpace(o), "\n") {
			if !strings.HasPrefix(l, "amber: crawl state: ") {
				t.Errorf("worker %d: stderr line %q", i, l)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	got := map[string]int{}
	perDir := map[string]int{}
	for _, d := range dirs {
		for _, r := range readRecords(t, d) {
			if r.typ == "response" || r.typ == "revisit" {
				got[strings.TrimPrefix(r.uri, site.srv.URL)]++
				perDir[filepath.Base(d)]++
			}
		}
	}
	t.Logf("records per collection: %v", perDir)
	fetched := site.paths()
	for p, n := range fetched {
		if p == "/robots.txt" {
			continue
		}
		if n != 1 || got[p] != 1 {
			t.Errorf("%s: fetched %d times, %d records in the collections", p, n, got[p])
		}
	}
	for i := 0; i < pages; i++ {
		for _, p := range []string{fmt.Sprintf("/p/%d.html", i), fmt.Sprintf("/img/%d.png", i), fmt.Sprintf("/logo/%d.png", i)} {
			if got[p] != 1 {
				t.Errorf("%s: %d records, want 1", p, got[p])
			}
		}
	}
	if len(perDir) != 2 {
		t.Errorf("want records in both collections: %v", perDir)
	}
	if code, out, stderr := amberRun(t, append([]string{"verify"}, dirs...)...); code != 0 {
		t.Errorf("verify A B: exit %d\n%s%s", code, out, stderr)
	}
	c := redis.NewClient(&redis.Options{Addr: rs.Addr(), DisableIdentity: true})
	defer c.Close()
	m, err := c.HGetAll(context.Background(), meta).Result()
	if err != nil || m["q"] != "0" || m["l"] != "0" || m["x"] != "0" {
		t.Errorf("crawl state after the crawl: %v %v", m, err)
	}
}

// TestRedisLogger: go-redis's failed dials are dropped (amber's retry
// lines say them), anything else it logs is one line of amber's.
func TestRedisLogger(t *testing.T) {
	var b bytes.Buffer
	l := redisLogger{w: &b}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "dial tcp 127.0.0.1:1: connect: connection refused")
	l.Printf(context.Background(), "redis: re-authentication failed: %v", "WRONGPASS\ninvalid username-password pair")
	if want := "amber: redis: re-authentication failed: WRONGPASS invalid username-password pair\n"; b.String() != want {
		t.Errorf("logged %q, want %q", b.String(), want)
	}
}
