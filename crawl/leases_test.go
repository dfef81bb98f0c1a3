package crawl_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/crawl/frontier/frontiertest"
	"github.com/amber-archiver/amber/warc"
)

// runInto crawls with opts into a fresh directory and returns the result,
// Run's error and the records written.
func runInto(t *testing.T, opts crawl.Options) (*crawl.Result, error, []rawRecord) {
	t.Helper()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Retries == 0 {
		opts.Retries = -1
	}
	res, runErr := crawl.Run(context.Background(), opts, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var recs []rawRecord
	for _, f := range w.Files() {
		recs = append(recs, readWARC(t, filepath.Join(dir, f))...)
	}
	return res, runErr, recs
}

func responseURIs(recs []rawRecord) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		if t := r.get("WARC-Type"); t == "response" || t == "revisit" {
			out[r.get("WARC-Target-URI")]++
		}
	}
	return out
}

// A fetch that outlasts its lease (the worker was not heard from: here the
// clock jumps) loses the URL to another worker: the crawl does not record
// it as its own, counts and logs it, and goes on.
func TestLostLease(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.txt" {
			close(arrived)
			<-release
		}
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "text of "+r.URL.Path)
	}))
	defer srv.Close()
	clock := frontiertest.NewClock()
	m := frontier.NewMemory(clock.Now)
	info, err := m.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	var other []frontier.Lease
	go func() {
		<-arrived
		clock.Advance(2 * time.Hour)
		other, err = m.Claim(context.Background(), "other", 10, time.Hour)
		close(release)
	}()
	var log strings.Builder
	res, runErr, recs := runInto(t, crawl.Options{Seeds: []string{srv.URL + "/slow.txt"}, Frontier: m, Crawl: info.Crawl,
		LeaseTTL: time.Hour, Log: &syncWriter{w: &log}})
	if runErr != nil || err != nil {
		t.Fatal(runErr, err)
	}
	if len(other) != 1 || !strings.HasSuffix(other[0].Key, "/slow.txt") {
		t.Fatalf("the other worker claimed %v, want the expired lease of slow.txt", other)
	}
	if res.LostLeases != 1 {
		t.Errorf("LostLeases = %d, want 1", res.LostLeases)
	}
	if !strings.Contains(log.String(), "lease lost") {
		t.Errorf("the crawl log does not say the lease was lost:\n%s", log.String())
	}
	// Fetched and archived here, but the other worker's to record.
	if n := responseURIs(recs)[srv.URL+"/slow.txt"]; n != 1 {
		t.Errorf("slow.txt archived %d times, want once", n)
	}
	c, err := m.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Leased != 1 || c.Done != 0 {
		t.Errorf("counts %+v: want slow.txt leased by the other worker, not done", c)
	}
	if pages, _ := m.Pages(context.Background(), "local"); len(pages) != 0 {
		t.Errorf("pages %v recorded for a lost lease", pages)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// flaky is a frontier whose Add, Claim and Finish fail with a transient
// error the first times they are called, as a Redis restarting does.
type flaky struct {
	frontier.Frontier
	left atomic.Int32
}

func (f *flaky) fail() error {
	if f.left.Add(-1) >= 0 {
		return &frontier.TransientError{Err: errors.New("connection reset by peer")}
	}
	return nil
}

func (f *flaky) Add(ctx context.Context, es []frontier.Entry) (int, error) {
	if err := f.fail(); err != nil {
		return 0, err
	}
	return f.Frontier.Add(ctx, es)
}

func (f *flaky) Claim(ctx context.Context, w string, n int, ttl time.Duration) ([]frontier.Lease, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Frontier.Claim(ctx, w, n, ttl)
}

func (f *flaky) Finish(ctx context.Context, os []frontier.Outcome, ds []frontier.DigestRef) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Frontier.Finish(ctx, os, ds)
}

// Transient errors of the frontier are retried, and logged; the crawl
// completes as if they had not happened.
func TestFrontierTransientErrors(t *testing.T) {
	site := newSmallSite(t)
	m, n := newMemory(t)
	f := &flaky{Frontier: m}
	f.left.Store(6)
	var retries atomic.Int32
	res, err, recs := runInto(t, crawl.Options{Seeds: []string{site.URL + "/"}, Frontier: f, Crawl: n,
		StateRetry: frontier.RetryPolicy{Base: time.Millisecond, Log: func(string) { retries.Add(1) }}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) > 0 {
		t.Errorf("failures: %v", res.Failures)
	}
	got := responseURIs(recs)
	for _, p := range []string{"/", "/style.css", "/big.bin"} {
		if got[site.URL+p] != 1 {
			t.Errorf("%s archived %d times, want once", p, got[site.URL+p])
		}
	}
	if retries.Load() == 0 {
		t.Error("no retry was logged")
	}
	if c, _ := m.Counts(context.Background()); c.Queued+c.Leased != 0 || c.Done < 3 {
		t.Errorf("counts %+v: want everything done", c)
	}
}

// noLookup is a frontier whose digest index cannot be read.
type noLookup struct{ frontier.Frontier }

func (noLookup) LookupDigest(context.Context, string) (frontier.DigestRef, bool, error) {
	return frontier.DigestRef{}, false, errors.New("index unreadable")
}

// A payload whose digest cannot be looked up is not taken for a new one:
// the crawl stops with the error, nothing of it is written, and its URL is
// left for the resumed crawl.
func TestDigestLookupFails(t *testing.T) {
	site := newSmallSite(t)
	m, n := newMemory(t)
	_, err, recs := runInto(t, crawl.Options{Seeds: []string{site.URL + "/big.bin"}, Frontier: noLookup{m}, Crawl: n})
	var le *crawl.DigestLookupError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "index unreadable") {
		t.Fatalf("Run: %v, want a digest lookup error", err)
	}
	if got := responseURIs(recs)[site.URL+"/big.bin"]; got != 0 {
		t.Errorf("big.bin archived %d times, want not at all", got)
	}
	if c, _ := m.Counts(context.Background()); c.Queued != 1 || c.Done != 0 {
		t.Errorf("counts %+v: want big.bin queued again for the resume", c)
	}
}

// newSmallSite serves a page with a style sheet and a body of 4 KiB (a
// payload a revisit could be made of).
func newSmallSite(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><link rel=stylesheet href=/style.css><link rel=icon href=/big.bin></head><body>hi</body></html>`)
		case "/style.css":
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, "body { color: red }")
		case "/big.bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			io.WriteString(w, strings.Repeat("x", 4096))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// extendSignal is a frontier that tells of every Extend once it returns.
type extendSignal struct {
	frontier.Frontier
	extended chan struct{}
}

func (e *extendSignal) Extend(ctx context.Context, ls []frontier.Lease, ttl time.Duration) ([]frontier.Lease, error) {
	out, err := e.Frontier.Extend(ctx, ls, ttl)
	select {
	case e.extended <- struct{}{}:
	default:
	}
	return out, err
}

// A fetch that takes longer than the lease's time to live keeps its lease:
// the crawl extends what it holds, so the URL is recorded as its own. The
// clock moves by hand, half a time to live at a time, each time once an
// extension has been made.
func TestLeaseExtended(t *testing.T) {
	const ttl = 30 * time.Millisecond // the extender's tick; expiry goes by the hand-moved clock
	clock := frontiertest.NewClock()
	m := frontier.NewMemory(clock.Now)
	info, err := m.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	f := &extendSignal{Frontier: m, extended: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.txt" {
			for range 4 { // two times to live in all
				clock.Advance(ttl / 2)
				// Extends run one after another: of three, the last began
				// after the move (the first may be stale in the buffer, the
				// second may have read the clock before it).
				for range 3 {
					select {
					case <-f.extended:
					case <-time.After(time.Minute):
						t.Error("no lease extension in a minute") // a hang, not a timing assertion
						return
					}
				}
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "text of "+r.URL.Path)
	}))
	defer srv.Close()
	res, runErr, recs := runInto(t, crawl.Options{Seeds: []string{srv.URL + "/slow.txt"}, Frontier: f, Crawl: info.Crawl, LeaseTTL: ttl})
	if runErr != nil {
		t.Fatal(runErr)
	}
	if res.LostLeases != 0 {
		t.Errorf("LostLeases = %d, want 0", res.LostLeases)
	}
	if n := responseURIs(recs)[srv.URL+"/slow.txt"]; n != 1 {
		t.Errorf("slow.txt archived %d times, want once", n)
	}
	if c, _ := m.Counts(context.Background()); c.Done < 1 || c.Leased != 0 || c.Queued != 0 {
		t.Errorf("counts %+v: want slow.txt done", c)
	}
}
