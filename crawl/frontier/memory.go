package frontier

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// URL states.
const (
	queued byte = 'Q'
	leased byte = 'L'
	done   byte = 'D'
	failed byte = 'X'
)

// item is one key of the seen set.
type item struct {
	state     byte
	crawl     uint64
	reason    string // of a failed key
	requisite bool   // queued or leased as a requisite
	data      []byte
	lease     Lease // while leased
}

// Memory is a Frontier held in memory: one process, gone when it ends. It
// is the reference the other backends are measured against, and the state
// of a crawl that keeps nothing between runs.
type Memory struct {
	now Clock

	mu      sync.Mutex
	closed  bool
	crawl   uint64
	recrawl bool
	token   uint64
	urls    map[string]*item
	// The queues hold keys in claim order; a key may sit in a queue it no
	// longer belongs to (claimed meanwhile, or moved to the requisites),
	// and Claim skips it there.
	requisites, pages []string
	leases            map[string]struct{} // keys leased now
	digests           map[string]DigestRef
	robots            map[string]RobotsTxt
	cookies           map[string]Cookie // of the current crawl
	cookiesCrawl      uint64
	outbox            map[string][]Page
	pageSeq           map[string]uint64
	runs              []RunInfo
}

// NewMemory returns an empty in-memory frontier whose leases go by clock
// (nil: time.Now).
func NewMemory(clock Clock) *Memory {
	if clock == nil {
		clock = time.Now
	}
	return &Memory{
		now:     clock,
		urls:    map[string]*item{},
		leases:  map[string]struct{}{},
		digests: map[string]DigestRef{},
		robots:  map[string]RobotsTxt{},
		outbox:  map[string][]Page{},
		pageSeq: map[string]uint64{},
	}
}

func (m *Memory) lock() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Begin implements Frontier.
func (m *Memory) Begin(ctx context.Context, recrawl bool) (CrawlInfo, error) {
	if err := m.lock(); err != nil {
		return CrawlInfo{}, err
	}
	defer m.mu.Unlock()
	unfinished := false
	for _, it := range m.urls {
		if it.crawl == m.crawl && (it.state == queued || it.state == leased) {
			unfinished = true
			break
		}
	}
	if m.crawl > 0 && unfinished {
		return CrawlInfo{Crawl: m.crawl, Resumed: true}, nil
	}
	m.crawl++
	m.recrawl = recrawl
	return CrawlInfo{Crawl: m.crawl}, nil
}

// isNew reports whether a key with item it (nil: never seen) is new to
// the current crawl.
func (m *Memory) isNew(it *item) bool {
	if it == nil {
		return true
	}
	if it.crawl == m.crawl {
		return false
	}
	// Seen in an earlier crawl: queued again when recrawling; one that
	// failed then is tried again in any new crawl.
	return (it.state == done || it.state == failed) && (m.recrawl || it.state == failed)
}

// Add implements Frontier.
func (m *Memory) Add(ctx context.Context, entries []Entry) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for _, e := range entries {
		it := m.urls[e.Key]
		switch {
		case m.isNew(it):
		case e.Requisite && it.crawl == m.crawl &&
			(it.state == queued && !it.requisite || it.state == failed && strings.HasPrefix(it.reason, SkippedPrefix)):
		default:
			continue
		}
		m.urls[e.Key] = &item{state: queued, crawl: m.crawl, requisite: e.Requisite, data: e.Data}
		if e.Requisite {
			m.requisites = append(m.requisites, e.Key)
		} else {
			m.pages = append(m.pages, e.Key)
		}
		n++
	}
	return n, nil
}

// expire puts the entries whose leases have expired back at the front of
// their queues, oldest lease first.
func (m *Memory) expire(now time.Time) {
	var back []*item
	for k := range m.leases {
		it := m.urls[k]
		if !now.Before(it.lease.Expires) {
			back = append(back, it)
			delete(m.leases, k)
		}
	}
	// Leases of one claim expire together: those keep their claim order.
	slices.SortFunc(back, func(a, b *item) int {
		return cmp.Or(a.lease.Expires.Compare(b.lease.Expires), cmp.Compare(a.lease.Token, b.lease.Token))
	})
	for i := len(back) - 1; i >= 0; i-- {
		m.requeueFront(back[i])
	}
}

func (m *Memory) requeueFront(it *item) {
	k := it.lease.Key
	it.state, it.lease = queued, Lease{}
	if it.requisite {
		m.requisites = append([]string{k}, m.requisites...)
	} else {
		m.pages = append([]string{k}, m.pages...)
	}
}

// Claim implements Frontier.
func (m *Memory) Claim(ctx context.Context, worker string, max int, ttl time.Duration) ([]Lease, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.now()
	m.expire(now)
	var out []Lease
	for _, q := range []*[]string{&m.requisites, &m.pages} {
		requisite := q == &m.requisites
		for len(out) < max && len(*q) > 0 {
			k := (*q)[0]
			*q = (*q)[1:]
			it := m.urls[k]
			if it == nil || it.state != queued || it.requisite != requisite {
				continue // claimed already, or moved to the requisites
			}
			m.token++
			it.state = leased
			it.lease = Lease{Entry: Entry{Key: k, Data: it.data, Requisite: it.requisite}, Worker: worker, Token: m.token, Expires: now.Add(ttl)}
			m.leases[k] = struct{}{}
			out = append(out, it.lease)
		}
	}
	return out, nil
}

// held returns the item of a lease that is still held at now, or nil.
func (m *Memory) held(l Lease, now time.Time) *item {
	it := m.urls[l.Key]
	if it == nil || it.state != leased || it.lease.Token != l.Token || !now.Before(it.lease.Expires) {
		return nil
	}
	return it
}

// Extend implements Frontier.
func (m *Memory) Extend(ctx context.Context, leases []Lease, ttl time.Duration) ([]Lease, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.now()
	var out []Lease
	var lost []string
	for _, l := range leases {
		it := m.held(l, now)
		if it == nil {
			lost = append(lost, l.Key)
			continue
		}
		it.lease.Expires = now.Add(ttl)
		out = append(out, it.lease)
	}
	if lost != nil {
		return out, &LeaseError{Keys: lost}
	}
	return out, nil
}

// Release implements Frontier.
func (m *Memory) Release(ctx context.Context, leases []Lease) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	now := m.now()
	for i := len(leases) - 1; i >= 0; i-- {
		if it := m.held(leases[i], now); it != nil {
			delete(m.leases, leases[i].Key)
			m.requeueFront(it)
		}
	}
	return nil
}

// Finish implements Frontier.
func (m *Memory) Finish(ctx context.Context, outcomes []Outcome, digests []DigestRef) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	now := m.now()
	var lost []string
	for _, o := range outcomes {
		it := m.held(o.Lease, now)
		if it == nil {
			lost = append(lost, o.Lease.Key)
			continue
		}
		delete(m.leases, o.Lease.Key)
		it.lease, it.data = Lease{}, nil
		it.state, it.reason = done, ""
		if o.Failed != "" {
			it.state, it.reason = failed, o.Failed
		}
		if o.Page != nil {
			m.addPage(o.Lease.Worker, *o.Page)
		}
	}
	m.index(digests)
	if lost != nil {
		return &LeaseError{Keys: lost}
	}
	return nil
}

func (m *Memory) addPage(worker string, p Page) {
	m.pageSeq[worker]++
	p.Seq = m.pageSeq[worker]
	m.outbox[worker] = append(m.outbox[worker], p)
}

func (m *Memory) index(digests []DigestRef) {
	for _, d := range digests {
		if _, ok := m.digests[d.Digest]; !ok {
			m.digests[d.Digest] = d
		}
	}
}

// Recover implements Frontier.
func (m *Memory) Recover(ctx context.Context, keys []string, digests []DigestRef) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.expire(m.now())
	for _, k := range keys {
		it := m.urls[k]
		switch {
		case it == nil:
			m.urls[k] = &item{state: done, crawl: m.crawl}
		case it.state == queued:
			it.state, it.data = done, nil
		case it.crawl != m.crawl && (it.state == done || it.state == failed):
			*it = item{state: done, crawl: m.crawl}
		}
	}
	m.index(digests)
	return nil
}

// LookupDigest implements Frontier.
func (m *Memory) LookupDigest(ctx context.Context, digest string) (DigestRef, bool, error) {
	if err := m.lock(); err != nil {
		return DigestRef{}, false, err
	}
	defer m.mu.Unlock()
	d, ok := m.digests[digest]
	return d, ok, nil
}

// Robots implements Frontier.
func (m *Memory) Robots(ctx context.Context, origin string) (RobotsTxt, bool, error) {
	if err := m.lock(); err != nil {
		return RobotsTxt{}, false, err
	}
	defer m.mu.Unlock()
	r, ok := m.robots[origin]
	return r, ok, nil
}

// PutRobots implements Frontier.
func (m *Memory) PutRobots(ctx context.Context, origin string, r RobotsTxt) (RobotsTxt, error) {
	if err := m.lock(); err != nil {
		return RobotsTxt{}, err
	}
	defer m.mu.Unlock()
	if old, ok := m.robots[origin]; ok && old.Crawl >= r.Crawl {
		return old, nil
	}
	m.robots[origin] = r
	return r, nil
}

// Cookies implements Frontier.
func (m *Memory) Cookies(ctx context.Context) ([]Cookie, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if m.cookiesCrawl != m.crawl {
		return nil, nil
	}
	out := make([]Cookie, 0, len(m.cookies))
	for _, c := range m.cookies {
		out = append(out, Cookie{Key: c.Key, Data: slices.Clone(c.Data)})
	}
	slices.SortFunc(out, func(a, b Cookie) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// PutCookies implements Frontier.
func (m *Memory) PutCookies(ctx context.Context, cookies []Cookie) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if m.cookiesCrawl != m.crawl || m.cookies == nil {
		m.cookies, m.cookiesCrawl = map[string]Cookie{}, m.crawl
	}
	for _, c := range cookies {
		if len(c.Data) == 0 {
			delete(m.cookies, c.Key)
		} else {
			m.cookies[c.Key] = Cookie{Key: c.Key, Data: slices.Clone(c.Data)}
		}
	}
	return nil
}

// Counts implements Frontier.
func (m *Memory) Counts(ctx context.Context) (Counts, error) {
	if err := m.lock(); err != nil {
		return Counts{}, err
	}
	defer m.mu.Unlock()
	m.expire(m.now())
	var c Counts
	for _, it := range m.urls {
		if it.crawl != m.crawl {
			continue
		}
		switch it.state {
		case queued:
			c.Queued++
		case leased:
			c.Leased++
		case done:
			c.Done++
		case failed:
			c.Failed++
		}
	}
	return c, nil
}

// Failures implements Frontier.
func (m *Memory) Failures(ctx context.Context, max int) ([]Failure, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []Failure
	for k, it := range m.urls {
		if it.crawl == m.crawl && it.state == failed {
			out = append(out, Failure{URL: k, Reason: it.reason})
		}
	}
	slices.SortFunc(out, func(a, b Failure) int { return strings.Compare(a.URL, b.URL) })
	if len(out) > max {
		out = out[:0]
		if max > 0 {
			out = out[:max]
		}
	}
	return out, nil
}

// Pages implements Frontier.
func (m *Memory) Pages(ctx context.Context, worker string) ([]Page, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	return slices.Clone(m.outbox[worker]), nil
}

// ClearPages implements Frontier.
func (m *Memory) ClearPages(ctx context.Context, worker string, through uint64) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.outbox[worker] = slices.DeleteFunc(m.outbox[worker], func(p Page) bool { return p.Seq <= through })
	return nil
}

// StartRun implements Frontier.
func (m *Memory) StartRun(ctx context.Context, r RunInfo) (uint64, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	m.runs = append(m.runs, r)
	return uint64(len(m.runs)), nil
}

// EndRun implements Frontier.
func (m *Memory) EndRun(ctx context.Context, seq uint64, r RunInfo) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if seq == 0 || seq > uint64(len(m.runs)) {
		return nil
	}
	m.runs[seq-1] = r
	return nil
}

// Runs implements Frontier.
func (m *Memory) Runs(ctx context.Context) ([]RunInfo, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	return slices.Clone(m.runs), nil
}

// Close implements Frontier.
func (m *Memory) Close() error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
