package crawl

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Scope decides which linked pages a crawl follows. Requisites of a page in
// scope are always fetched, wherever they are.
type Scope int

const (
	// ScopePage archives each seed with its requisites only.
	ScopePage Scope = iota
	// ScopePrefix follows links on the seed's host under the seed's path.
	ScopePrefix
	// ScopeHost follows links on the seed's host.
	ScopeHost
	// ScopeDomain follows links on the seed's host and its subdomains (a
	// leading "www." of the seed is ignored, so www.example.org covers
	// example.org and news.example.org).
	ScopeDomain
)

// ParseScope maps a --scope value to a Scope.
func ParseScope(s string) (Scope, error) {
	switch strings.ToLower(s) {
	case "", "page":
		return ScopePage, nil
	case "prefix":
		return ScopePrefix, nil
	case "host":
		return ScopeHost, nil
	case "domain":
		return ScopeDomain, nil
	}
	return 0, fmt.Errorf("unknown scope %q (page, prefix, host or domain)", s)
}

func (s Scope) String() string {
	return [...]string{"page", "prefix", "host", "domain"}[s]
}

// inScope reports whether target is within the scope of seed.
func (s Scope) inScope(seed, target *url.URL) bool {
	if target.Scheme != "http" && target.Scheme != "https" {
		return false
	}
	th, sh := strings.ToLower(target.Hostname()), strings.ToLower(seed.Hostname())
	switch s {
	case ScopePrefix:
		if th != sh || target.Port() != seed.Port() {
			return false
		}
		prefix := seed.EscapedPath()
		if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
			prefix = prefix[:i+1] // the seed's directory
		}
		return strings.HasPrefix(target.EscapedPath(), prefix)
	case ScopeHost:
		return th == sh && target.Port() == seed.Port()
	case ScopeDomain:
		d := strings.TrimPrefix(sh, "www.")
		return th == d || strings.HasSuffix(th, "."+d)
	}
	return false
}

// filters are the --include and --exclude patterns applied to pages.
type filters struct {
	include, exclude []*regexp.Regexp
}

func (f filters) allow(u string) bool {
	for _, re := range f.exclude {
		if re.MatchString(u) {
			return false
		}
	}
	if len(f.include) == 0 {
		return true
	}
	for _, re := range f.include {
		if re.MatchString(u) {
			return true
		}
	}
	return false
}

// repeatsPath reports whether a path repeats a segment more than max times,
// the signature of relative-link traps (/a/b/a/b/a/b/...).
func repeatsPath(p string, max int) bool {
	if strings.Count(p, "/") < max {
		return false // too few segments to repeat one more than max times
	}
	count := map[string]int{}
	for rest := p; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "" {
			continue
		}
		count[seg]++
		if count[seg] > max {
			return true
		}
	}
	return false
}
