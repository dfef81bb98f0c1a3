package crawl

import (
	"fmt"
	"testing"
)

// TestAdmissionRecent: a URL is recent per kind, and the cache starts a
// new generation when full.
func TestAdmissionRecent(t *testing.T) {
	a := newAdmission(Options{MaxURLsPerHost: 1})
	if a.recentlySeen(kindPage, "u") {
		t.Error("u seen before it was")
	}
	if !a.recentlySeen(kindPage, "u") {
		t.Error("u as a page not seen the second time")
	}
	if a.recentlySeen(kindRequisite, "u") {
		t.Error("u as a requisite taken for u as a page")
	}
	for i := range recentCacheSize {
		a.recentlySeen(kindPage, fmt.Sprint(i))
	}
	if len(a.recent) > recentCacheSize {
		t.Errorf("cache holds %d, more than %d", len(a.recent), recentCacheSize)
	}
	if a.recentlySeen(kindPage, "u") {
		t.Error("u still cached after a new generation")
	}
}

// TestAdmissionPerHost: a host takes MaxURLsPerHost URLs.
func TestAdmissionPerHost(t *testing.T) {
	a := newAdmission(Options{MaxURLsPerHost: 2})
	for i, want := range []bool{true, true, false, false} {
		if got := a.countHost("a.example"); got != want {
			t.Errorf("URL %d of a.example: %t, want %t", i+1, got, want)
		}
	}
	if !a.countHost("b.example") {
		t.Error("b.example refused for a.example's URLs")
	}
}
