package frontier_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/crawl/frontier/frontiertest"
	"github.com/amber-archiver/amber/internal/testredis"
)

func openRedis(t testing.TB, s *testredis.Server, crawlID string, clock frontier.Clock) *frontier.Redis {
	t.Helper()
	f, err := frontier.OpenRedis(context.Background(), s.URL(), crawlID, clock)
	if err != nil {
		t.Fatal(err)
	}
	// A crashed process does not close; Close after the test all the same.
	t.Cleanup(func() { f.Close() })
	return f
}

func TestRedis(t *testing.T) {
	s := testredis.Start(t)
	var mu sync.Mutex
	var n int
	ids := map[frontier.Frontier]string{}
	frontiertest.Run(t, frontiertest.Backend{
		Open: func(t *testing.T, clock frontier.Clock) frontier.Frontier {
			mu.Lock()
			defer mu.Unlock()
			n++
			id := fmt.Sprintf("test%d", n)
			f := openRedis(t, s, id, clock)
			ids[f] = id
			return f
		},
		// A new client on the same server and crawl id, as a new process
		// would open it; the old one is left open, as a crash leaves it.
		Reopen: func(t *testing.T, old frontier.Frontier, clock frontier.Clock) frontier.Frontier {
			mu.Lock()
			defer mu.Unlock()
			f := openRedis(t, s, ids[old], clock)
			ids[f] = ids[old]
			return f
		},
	})
}

// TestRedisKeys checks that a crawl keeps to its key prefix, so that two
// crawls share a server.
func TestRedisKeys(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	a := openRedis(t, s, "a", nil)
	b := openRedis(t, s, "b", nil)
	for _, f := range []*frontier.Redis{a, b} {
		if _, err := f.Begin(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Add(ctx, []frontier.Entry{{Key: "http://x/", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if c, err := b.Counts(ctx); err != nil || c != (frontier.Counts{}) {
		t.Fatalf("crawl b sees %+v %v after an Add to crawl a", c, err)
	}
	keys, err := s.Client(t).Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "amber:{a}:") && !strings.HasPrefix(k, "amber:{b}:") {
			t.Errorf("key %q outside the crawls' prefixes", k)
		}
	}
}

func TestRedisOpenErrors(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	c := s.Client(t)
	// The user README-REDIS.md suggests.
	if err := c.Do(ctx, "ACL", "SETUSER", "amber", "on", ">right-secret", "~amber:*", "+@all", "-@dangerous").Err(); err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
	for _, tc := range []struct {
		url  string
		want error
	}{
		{"http://" + addr + "/0", frontier.ErrRedisURL},
		{"redis://amber:p4ssw0rd@" + addr + ":x/0", frontier.ErrRedisURL},
		{"redis://" + addr + "/0?no_such_option=1", frontier.ErrRedisURL},
		{"redis://" + closed + "/0", frontier.ErrRedisUnreachable},
		{"redis://amber:p4ssw0rd@" + addr + "/0", frontier.ErrRedisAuth},
	} {
		f, err := frontier.OpenRedis(ctx, tc.url, "amber", nil)
		if err == nil {
			f.Close()
			t.Errorf("OpenRedis(%s) succeeded", tc.url)
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("OpenRedis(%s): %v, want %v", tc.url, err, tc.want)
		}
		if msg := err.Error(); strings.Contains(msg, "p4ssw0rd") || strings.Contains(msg, "\n") {
			t.Errorf("OpenRedis(%s): %q: a password or more than one line", tc.url, msg)
		}
		t.Logf("%s: %v", tc.url, err)
	}
	f, err := frontier.OpenRedis(ctx, "redis://amber:right-secret@"+addr+"/0", "amber", nil)
	if err != nil {
		t.Fatalf("with the right password: %v", err)
	}
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Add(ctx, []frontier.Entry{{Key: "a"}}); err != nil {
		t.Fatal(err)
	}
	if ls, err := f.Claim(ctx, "w1", 1, time.Minute); err != nil || len(ls) != 1 {
		t.Fatalf("claim as user amber: %v %v", ls, err)
	}
	f.Close()
	if _, err := frontier.OpenRedis(ctx, s.URL(), "a{b}", nil); err == nil {
		t.Error("a crawl id with braces was taken")
	}
}

// testCert is a self-signed certificate for 127.0.0.1 and its key (PEM),
// made once per test binary: Go reads the system roots (SSL_CERT_FILE)
// once per process, so every run of TestRedisTLS must trust the same one.
var testCert = sync.OnceValues(func() ([2][]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return [2][]byte{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "amber test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return [2][]byte{}, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return [2][]byte{}, err
	}
	return [2][]byte{
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}, nil
})

// TestRedisTLS opens a rediss:// URL, the server's certificate checked
// against a CA the test makes (trusted through SSL_CERT_FILE, which Go
// reads on Linux).
func TestRedisTLS(t *testing.T) {
	pems, err := testCert()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pems[0], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pems[1], 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", cert)
	tlsPort := freePort(t)
	s := testredis.Start(t, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", cert, "--tls-key-file", keyFile,
		"--tls-ca-cert-file", cert, "--tls-auth-clients", "no")
	ctx := context.Background()
	f, err := frontier.OpenRedis(ctx, fmt.Sprintf("rediss://127.0.0.1:%d/0", tlsPort), "tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Add(ctx, []frontier.Entry{{Key: "a"}}); err != nil || n != 1 {
		t.Fatalf("Add over TLS: %d %v", n, err)
	}
	// The same crawl, seen through the plain port.
	if c, err := openRedis(t, s, "tls", nil).Counts(ctx); err != nil || c.Queued != 1 {
		t.Fatalf("counts: %+v %v", c, err)
	}
	// A certificate for another name: fatal, not "unreachable".
	if _, err := frontier.OpenRedis(ctx, fmt.Sprintf("rediss://localhost:%d/0", tlsPort), "tls", nil); err == nil || errors.Is(err, frontier.ErrRedisUnreachable) {
		t.Fatalf("rediss:// with a certificate for another name: %v, want a certificate error", err)
	} else {
		t.Log(err)
	}
	// Plain Redis on the TLS port is not a crawl state.
	if _, err := frontier.OpenRedis(ctx, fmt.Sprintf("redis://127.0.0.1:%d/0", tlsPort), "tls", nil); err == nil {
		t.Fatal("redis:// to a TLS port opened")
	} else {
		t.Log(err)
	}
}

// TestRedisErrorClasses: a server turned read-only (a failover) gives
// transient errors; an error of the data, not of the server, is fatal.
func TestRedisErrorClasses(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	c := s.Client(t)
	f := openRedis(t, s, "errors", nil)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	// A replica of a master that is not there: writes are refused.
	if err := c.Do(ctx, "REPLICAOF", "127.0.0.1", freePort(t)).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := f.Add(ctx, []frontier.Entry{{Key: "a"}})
	if !frontier.IsTransient(err) || !redis.IsReadOnlyError(err) {
		t.Fatalf("Add on a read-only replica: %v, want a transient READONLY error", err)
	}
	t.Log(err)
	if err := c.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Add(ctx, []frontier.Entry{{Key: "a"}}); err != nil || n != 1 {
		t.Fatalf("Add once promoted: %d %v", n, err)
	}

	if err := c.Set(ctx, "amber:{errors}:meta", "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = f.Begin(ctx, false)
	if err == nil || frontier.IsTransient(err) {
		t.Fatalf("Begin on a clobbered key: %v, want a fatal error", err)
	}
	t.Log(err)
}

// TestRedisRestart: a stopped server gives transient errors, and
// WithRetry rides over a restart with the data kept (appendonly).
func TestRedisRestart(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	f := openRedis(t, s, "restart", nil)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Add(ctx, []frontier.Entry{{Key: "a"}, {Key: "b"}, {Key: "c", Requisite: true}}); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "w1", 1, time.Hour)
	if err != nil || len(ls) != 1 || ls[0].Key != "c" {
		t.Fatalf("claim: %v %v", ls, err)
	}

	s.Stop()
	_, err = f.Counts(ctx)
	if !frontier.IsTransient(err) {
		t.Fatalf("Counts with the server stopped: %v, want a transient error", err)
	}
	t.Log(err)
	if _, err := f.Add(ctx, []frontier.Entry{{Key: "d"}}); !frontier.IsTransient(err) {
		t.Fatalf("Add with the server stopped: %v, want a transient error", err)
	}

	retrying := make(chan struct{}, 100)
	var logged atomic.Int32
	rf := frontier.WithRetry(f, frontier.RetryPolicy{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond, Log: func(msg string) {
		logged.Add(1)
		t.Log(msg)
		select {
		case retrying <- struct{}{}:
		default:
		}
	}})
	type result struct {
		c   frontier.Counts
		err error
	}
	got := make(chan result, 1)
	go func() {
		if err := rf.Finish(ctx, []frontier.Outcome{{Lease: ls[0]}}, nil); err != nil {
			got <- result{err: err}
			return
		}
		c, err := rf.Counts(ctx)
		got <- result{c, err}
	}()
	// The call has failed at least once; down for about a second more.
	<-retrying
	time.Sleep(time.Second)
	s.Restart(t)
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := (frontier.Counts{Queued: 2, Done: 1}); r.c != want {
		t.Fatalf("counts after the restart: %+v, want %+v", r.c, want)
	}
	if logged.Load() < 2 { // a retry, and the recovery
		t.Fatalf("%d log lines, want the retries and the recovery", logged.Load())
	}
}

// BenchmarkRedisMemory measures the server's memory per queued URL, per
// finished URL and per indexed payload digest: 100,000 entries with
// 60-byte keys and 100-byte data, finished with one digest each.
// Run with: go test -run '^$' -bench RedisMemory -benchtime 1x ./crawl/frontier/
func BenchmarkRedisMemory(b *testing.B) {
	s := testredis.Start(b, "--appendonly", "no") // the AOF buffer is not the data's
	ctx := context.Background()
	c := s.Client(b)
	const n = 100_000
	data := []byte(strings.Repeat("d", 100))
	used := func() float64 {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(info))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "used_memory:"); ok {
				f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return f
			}
		}
		b.Fatal("no used_memory in INFO memory")
		return 0
	}
	var perQueued, perDone, perDigest float64
	for i := range b.N {
		if err := c.FlushDB(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		id := fmt.Sprint("bench", i)
		f := openRedis(b, s, id, nil)
		rounds := 0
		if _, err := f.Begin(ctx, false); err != nil {
			b.Fatal(err)
		}
		before := used()
		es := make([]frontier.Entry, n)
		for j := range es {
			es[j] = frontier.Entry{Key: fmt.Sprintf("https://www.example-news.org/2026/12/01/article-%07d.html", j), Data: data}
		}
		if _, err := f.Add(ctx, es); err != nil {
			b.Fatal(err)
		}
		queued := used()
		for {
			ls, err := f.Claim(ctx, "w1", 1000, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			if len(ls) == 0 {
				break
			}
			os := make([]frontier.Outcome, len(ls))
			ds := make([]frontier.DigestRef, len(ls))
			for j, l := range ls {
				os[j] = frontier.Outcome{Lease: l}
				ds[j] = frontier.DigestRef{
					Digest:   fmt.Sprintf("sha1:%032d", j+len(ls)*rounds),
					RecordID: fmt.Sprintf("<urn:uuid:%036d>", j+len(ls)*rounds),
					URI:      l.Key,
					Date:     "2026-12-01T12:00:00Z",
				}
			}
			rounds++
			if err := f.Finish(ctx, os, ds); err != nil {
				b.Fatal(err)
			}
		}
		digests, err := c.MemoryUsage(ctx, "amber:{"+id+"}:digests", 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		done := used()
		perQueued, perDone, perDigest = (queued-before)/n, (done-before-float64(digests))/n, float64(digests)/n
	}
	b.ReportMetric(perQueued, "B/queued-URL")
	b.ReportMetric(perDone, "B/done-URL")
	b.ReportMetric(perDigest, "B/digest")
}

// TestRedisWorkers: several clients, as worker processes would be, share
// one crawl; some die holding leases, whose entries the others take when
// they expire. Every key is recorded done once, by one worker.
func TestRedisWorkers(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	clock := frontiertest.NewClock()
	const n, workers, ttl = 300, 4, time.Minute
	seed := openRedis(t, s, "workers", clock.Now)
	if _, err := seed.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	var es []frontier.Entry
	for i := range n {
		es = append(es, frontier.Entry{Key: fmt.Sprint("u", i), Requisite: i%4 == 0})
	}
	if _, err := seed.Add(ctx, es); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	recorded := map[string]string{}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		worker := fmt.Sprint("w", w)
		f := openRedis(t, s, "workers", clock.Now)
		wg.Go(func() {
			for round := 0; ; round++ {
				ls, err := f.Claim(ctx, worker, 5, ttl)
				if err != nil {
					errs <- err
					return
				}
				if len(ls) == 0 {
					c, err := f.Counts(ctx)
					if err != nil {
						errs <- err
						return
					}
					if c.Queued == 0 && c.Leased == 0 {
						return
					}
					clock.Advance(ttl) // let the dead leases expire
					continue
				}
				if round%7 == 3 {
					continue // "dies" holding these leases
				}
				var os []frontier.Outcome
				for _, l := range ls {
					os = append(os, frontier.Outcome{Lease: l})
				}
				err = f.Finish(ctx, os, nil)
				lost := map[string]bool{}
				var le *frontier.LeaseError
				if errors.As(err, &le) {
					for _, k := range le.Keys {
						lost[k] = true
					}
				} else if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, l := range ls {
					if lost[l.Key] {
						continue
					}
					if by, ok := recorded[l.Key]; ok {
						errs <- fmt.Errorf("%s recorded by %s and %s", l.Key, by, worker)
					}
					recorded[l.Key] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(recorded) != n {
		t.Errorf("%d keys recorded, want %d", len(recorded), n)
	}
	if c, err := seed.Counts(ctx); err != nil || c != (frontier.Counts{Done: n}) {
		t.Errorf("counts %+v %v, want %d done", c, err, n)
	}
	checkCounters(t, s, "workers")
}

var stateRE = regexp.MustCompile(`^([QLDX])([0-9]+)`)

// checkCounters compares the counters Counts reads with a count of the
// URL states themselves (the layout documented on frontier.Redis).
func checkCounters(t *testing.T, s *testredis.Server, crawlID string) {
	t.Helper()
	ctx := context.Background()
	c := s.Client(t)
	prefix := "amber:{" + crawlID + "}:"
	meta, err := c.HGetAll(ctx, prefix+"meta").Result()
	if err != nil {
		t.Fatal(err)
	}
	states, err := c.HGetAll(ctx, prefix+"url").Result()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	for _, v := range states {
		m := stateRE.FindStringSubmatch(v)
		if m == nil {
			t.Fatalf("URL state %q", v)
		}
		if m[2] == meta["crawl"] {
			counted[strings.ToLower(m[1])]++
		}
	}
	for _, st := range []string{"q", "l", "d", "x"} {
		if got, _ := strconv.Atoi(meta[st]); got != counted[st] {
			t.Errorf("counter %s is %d, but %d URLs of crawl %s are in that state", st, got, counted[st], meta["crawl"])
		}
	}
	if n, err := c.ZCard(ctx, prefix+"failed").Result(); err != nil || int(n) != counted["x"] {
		t.Errorf("%d keys in the failed set, %d failed URLs (%v)", n, counted["x"], err)
	}
}

// TestRedisAddChunks: one Add larger than a script takes is queued whole,
// its duplicates across chunks once.
func TestRedisAddChunks(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	f := openRedis(t, s, "chunks", nil)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	var es []frontier.Entry
	for i := range 1200 {
		es = append(es, frontier.Entry{Key: fmt.Sprint("u", i%1000)})
	}
	if n, err := f.Add(ctx, es); err != nil || n != 1000 {
		t.Fatalf("Add of 1200 entries, 1000 keys: %d %v", n, err)
	}
	ls, err := f.Claim(ctx, "w1", 2000, time.Minute)
	if err != nil || len(ls) != 1000 || ls[0].Key != "u0" || ls[999].Key != "u999" {
		t.Fatalf("claimed %d (%v)", len(ls), err)
	}
	var os []frontier.Outcome
	for i, l := range ls {
		o := frontier.Outcome{Lease: l}
		if i%10 == 0 {
			o.Failed = "404"
		}
		os = append(os, o)
	}
	if err := f.Finish(ctx, os, nil); err != nil {
		t.Fatal(err)
	}
	if c, err := f.Counts(ctx); err != nil || c != (frontier.Counts{Done: 900, Failed: 100}) {
		t.Fatalf("counts %+v %v", c, err)
	}
	checkCounters(t, s, "chunks")
}

// TestRedisPacking: entry data and worker names of any bytes survive the
// packed URL state through claim, extension, release and expiry.
func TestRedisPacking(t *testing.T) {
	s := testredis.Start(t)
	ctx := context.Background()
	clock := frontiertest.NewClock()
	f := openRedis(t, s, "packing", clock.Now)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	data := []byte("7 12 r \x00\xff\n L1r 3 4 ")
	const worker = "host 12 3 w"
	if _, err := f.Add(ctx, []frontier.Entry{{Key: "k 1", Data: data, Requisite: true}, {Key: "k2"}}); err != nil {
		t.Fatal(err)
	}
	check := func(what string, ls []frontier.Lease) {
		t.Helper()
		if len(ls) != 2 || ls[0].Key != "k 1" || string(ls[0].Data) != string(data) || !ls[0].Requisite || ls[1].Key != "k2" || len(ls[1].Data) != 0 || ls[1].Requisite {
			t.Fatalf("%s: %+v", what, ls)
		}
	}
	ls, err := f.Claim(ctx, worker, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	check("claimed", ls)
	if ls, err = f.Extend(ctx, ls, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := f.Release(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if ls, err = f.Claim(ctx, worker, 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	check("claimed after release", ls)
	clock.Advance(time.Minute)
	if ls, err = f.Claim(ctx, "other", 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	check("claimed after expiry", ls)
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0], Page: &frontier.Page{URL: "k 1"}}, {Lease: ls[1], Failed: "a reason\nof two lines"}}, nil); err != nil {
		t.Fatal(err)
	}
	if fs, err := f.Failures(ctx, 10); err != nil || len(fs) != 1 || fs[0].Reason != "a reason\nof two lines" {
		t.Fatalf("failures %+v %v", fs, err)
	}
	if ps, err := f.Pages(ctx, "other"); err != nil || len(ps) != 1 || ps[0].URL != "k 1" || ps[0].Seq != 1 {
		t.Fatalf("pages %+v %v", ps, err)
	}
	checkCounters(t, s, "packing")
}

// BenchmarkRedis runs the worker cycle of frontiertest.Bench against a
// redis-server on 127.0.0.1 (appendonly, fsync every second: the
// recommended setting), beside BenchmarkBolt and BenchmarkMemory.
func BenchmarkRedis(b *testing.B) {
	s := testredis.Start(b)
	frontiertest.Bench(b, func(b *testing.B) frontier.Frontier { return openRedis(b, s, "bench", nil) })
}

// freePort returns a port of 127.0.0.1 that nothing listens on.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
