package e2e

import (
	"bytes"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/internal/testredis"
	"github.com/amber-archiver/amber/internal/testsite"
)

// TestBrowserReplaySharedCrawl: two worker processes crawl the article
// through one real redis-server, each into its own collection, so the
// article's page is in one worker's WARC and some of its resources in
// the other's (the shared seen set fetches each URL once, by whichever
// worker claims it). amber pack makes one WACZ of the two collections;
// ReplayWeb.page and amber replay show the article with every image.
func TestBrowserReplaySharedCrawl(t *testing.T) {
	chromium := prerequisites(t, true)
	rs := testredis.Start(t)
	dir := t.TempDir()
	bin := buildAmber(t, dir)
	s := newSite(t)
	article := s.front.URL + testsite.Article

	// Worker A takes the seed. Its requests for the article's resources
	// on the site's host wait until worker B has asked for something
	// (or 20 s), so that B, which joins once A has the article, claims
	// its share.
	articleAsked, bAsked := make(chan struct{}), make(chan struct{})
	var onceA, onceB sync.Once
	hold := func(r *http.Request) {
		switch ua := r.UserAgent(); {
		case strings.Contains(ua, "worker-b"):
			onceB.Do(func() { close(bAsked) })
		case r.URL.Path == testsite.Article:
			onceA.Do(func() { close(articleAsked) })
		case r.URL.Path != "/robots.txt":
			select {
			case <-bAsked:
			case <-time.After(20 * time.Second):
			}
		}
	}
	s.hold.Store(&hold)
	a, b := filepath.Join(dir, "A"), filepath.Join(dir, "B")
	worker := func(id, coll string, urls ...string) (*exec.Cmd, *bytes.Buffer) {
		var out bytes.Buffer
		args := append([]string{"archive", "-q", "--state", rs.URL(), "--crawl-id", "e2e", "--worker-id", id,
			"--user-agent", "amber-e2e " + id, "--concurrency", "1", "-o", coll}, urls...)
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	cmdA, outA := worker("worker-a", a, article)
	select {
	case <-articleAsked:
	case <-time.After(60 * time.Second):
		cmdA.Process.Kill()
		cmdA.Wait()
		t.Fatalf("worker A never asked for the article: %s", outA)
	}
	cmdB, outB := worker("worker-b", b)
	for _, w := range []struct {
		name string
		cmd  *exec.Cmd
		out  *bytes.Buffer
	}{{"A", cmdA, outA}, {"B", cmdB, outB}} {
		if err := w.cmd.Wait(); err != nil {
			t.Fatalf("worker %s: %v: %s", w.name, err, w.out)
		}
	}
	amber(t, bin, "verify", "--strict", "-q", a, b)

	inA, inB := archivedStatus(t, a), archivedStatus(t, b)
	if _, ok := inA[article]; !ok {
		t.Fatalf("the article is not in worker A's collection: A %v, B %v", inA, inB)
	}
	var fromB []string
	for u := range inB {
		if _, ok := inA[u]; ok {
			t.Errorf("%s archived by both workers", u)
		}
		if strings.HasPrefix(u, "http") && !strings.HasSuffix(u, "/robots.txt") {
			fromB = append(fromB, u)
		}
	}
	if len(fromB) == 0 {
		t.Fatalf("worker B archived none of the article's resources: the test shows nothing across workers")
	}
	t.Logf("worker A archived %d URLs, worker B %d: %s", len(inA), len(inB), strings.Join(fromB, ", "))

	wacz := filepath.Join(dir, "shared.wacz")
	t.Log(strings.TrimSpace(amber(t, bin, "pack", "-o", wacz, a, b)))
	amber(t, bin, "verify", "--strict", "-q", wacz)
	s.CDN.Close()
	archived := inA
	for u, status := range inB {
		archived[u] = status
	}
	viewer := serveViewer(t, article, wacz, "")
	replayURL := startReplay(t, bin, a, b)
	browserChecks(t, chromium, s, archived, []map[string]string{
		{"name": "replaywebpage-shared-wacz", "url": viewer.URL + "/wacz.html", "viewer": "replaywebpage"},
		{"name": "amber-replay-shared", "url": replayURL, "viewer": "amber"},
	})
}
