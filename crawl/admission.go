package crawl

import "sync"

// admission is the state of the checks a URL passes before it is queued
// (crawler.admit): the include and exclude filters, a bounded cache of the
// exact URLs queued lately, and the URLs queued per host against
// Options.MaxURLsPerHost. Its methods are safe for concurrent use.
type admission struct {
	filters    filters
	maxPerHost int

	mu      sync.Mutex
	perHost map[string]int
	recent  map[recentKey]struct{} // exact URLs queued lately, a bounded cache in front of the seen set
}

func newAdmission(opts Options) *admission {
	return &admission{
		filters:    filters{include: opts.Include, exclude: opts.Exclude},
		maxPerHost: opts.MaxURLsPerHost,
		perHost:    map[string]int{},
		recent:     map[recentKey]struct{}{},
	}
}

// recentCacheSize bounds the cache of exact URLs: pages repeat the same
// navigation links, and most links are exact repeats.
const recentCacheSize = 1 << 14

// recentlySeen reports whether u was queued lately as a kind, and
// remembers it. Kinds are apart: a URL linked as a page is still queued
// when a page needs it as a requisite (the state decides).
func (a *admission) recentlySeen(kind, u string) bool {
	k := recentKey{kind, u}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.recent[k]; ok {
		return true
	}
	if len(a.recent) >= recentCacheSize {
		clear(a.recent) // a new generation; the seen set stays authoritative
	}
	a.recent[k] = struct{}{}
	return false
}

type recentKey struct{ kind, url string }

// countHost counts one more URL of host (lower case) and reports whether
// it is within the per-host cap; a URL over the cap is not counted.
func (a *admission) countHost(host string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perHost[host] >= a.maxPerHost {
		return false
	}
	a.perHost[host]++
	return true
}
