package crawl

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// The kept jar stores what changed, with a relative Max-Age made an
// absolute expiry, removes what a site deletes, and a jar loaded from the
// frontier sends what the first one would.
func TestKeptJar(t *testing.T) {
	ctx := context.Background()
	m := frontier.NewMemory(nil)
	m.Begin(ctx, false)
	puts := 0
	store := func(cs []frontier.Cookie) {
		puts++
		if err := m.PutCookies(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	kj, err := loadJar(ctx, m, newBoundedJar(), store)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://news.example/a/b.html")
	kj.SetCookies(u, []*http.Cookie{{Name: "s", Value: "1", MaxAge: 60}, {Name: "dir", Value: "x"}})
	kj.SetCookies(u, []*http.Cookie{{Name: "dir", Value: "x"}}) // unchanged: not stored again
	if puts != 1 {
		t.Errorf("%d stores, want 1", puts)
	}
	cs, _ := m.Cookies(ctx)
	if len(cs) != 2 {
		t.Fatalf("stored %d cookies, want 2", len(cs))
	}
	for _, c := range cs {
		if _, _, ck, ok := decodeCookie(c.Data); !ok || ck.MaxAge != 0 || ck.Name == "s" && !ck.Expires.After(time.Now()) {
			t.Errorf("stored %q: want an absolute expiry, no Max-Age", c.Data)
		}
	}
	again, err := loadJar(ctx, m, newBoundedJar(), store)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cookieHeader(again.Cookies(u)), cookieHeader(kj.Cookies(u)); got != want || got == "" {
		t.Errorf("loaded jar sends %q, the first sent %q", got, want)
	}
	kj.SetCookies(u, []*http.Cookie{{Name: "s", Value: "", MaxAge: -1}})
	if cs, _ := m.Cookies(ctx); len(cs) != 1 {
		t.Errorf("after the site deleted s: %d cookies stored, want 1", len(cs))
	}
}

func cookieHeader(cs []*http.Cookie) string {
	r := &http.Request{Header: http.Header{}}
	for _, c := range cs {
		r.AddCookie(c)
	}
	return r.Header.Get("Cookie")
}
