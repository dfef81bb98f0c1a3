package crawl

import "sync"

// MemoryState is a State held in memory: one run, nothing to resume.
type MemoryState struct {
	mu      sync.Mutex
	urls    map[string]byte
	reasons map[string]string // of FRESH URLs queued as pages, and of FAILED ones
	fresh   []Entry           // pages and other entries
	freshR  []Entry           // requisites, claimed first
	digests map[string]DigestRef
	pages   []Page
	robots  map[string]RobotsTxt
}

// NewMemoryState returns an empty in-memory state.
func NewMemoryState() *MemoryState {
	return &MemoryState{urls: map[string]byte{}, reasons: map[string]string{}, digests: map[string]DigestRef{}}
}

func (m *MemoryState) Begin(bool) (CrawlInfo, error) { return CrawlInfo{Crawl: 1}, nil }

func (m *MemoryState) Add(entries []Entry) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range entries {
		if st, ok := m.urls[e.Key]; ok && !(e.Requisite && requeuedAsRequisite(st, m.reasons[e.Key])) {
			continue
		}
		m.urls[e.Key] = stateFresh
		delete(m.reasons, e.Key)
		if !e.Requisite {
			m.reasons[e.Key] = queuedAsPage
		}
		if e.Requisite {
			m.freshR = append(m.freshR, e)
		} else {
			m.fresh = append(m.fresh, e)
		}
		n++
	}
	return n, nil
}

func (m *MemoryState) Claim(max int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entry
	for _, q := range []*[]Entry{&m.freshR, &m.fresh} {
		for len(out) < max && len(*q) > 0 {
			e := (*q)[0]
			*q = (*q)[1:]
			if m.urls[e.Key] != stateFresh {
				continue // queued as a page and as a requisite: claimed once
			}
			m.urls[e.Key] = stateClaimed
			delete(m.reasons, e.Key)
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *MemoryState) Finish(outcomes []Outcome, digests []DigestRef) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range outcomes {
		if o.Page != nil {
			m.pages = append(m.pages, *o.Page)
		}
		if o.Failed != "" {
			m.urls[o.Key] = stateFailed
			m.reasons[o.Key] = o.Failed
		} else {
			m.urls[o.Key] = stateDone
		}
	}
	for _, d := range digests {
		if _, ok := m.digests[d.Digest]; !ok {
			m.digests[d.Digest] = d
		}
	}
	return nil
}

func (m *MemoryState) LookupDigest(d string) (DigestRef, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.digests[d]
	return r, ok, nil
}

func (m *MemoryState) Counts() (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c Counts
	for _, s := range m.urls {
		switch s {
		case stateFresh:
			c.Fresh++
		case stateClaimed:
			c.Claimed++
		case stateDone:
			c.Done++
		case stateFailed:
			c.Failed++
		}
	}
	return c, nil
}

func (m *MemoryState) Close() error { return nil }

func (m *MemoryState) Pages() ([]Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Page(nil), m.pages...), nil
}

func (m *MemoryState) ClearPages() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pages = nil
	return nil
}

// Recover implements State; a memory state has nothing to recover.
func (m *MemoryState) Recover([]Outcome, []DigestRef) error { return nil }

func (m *MemoryState) Robots(origin string) (RobotsTxt, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.robots[origin]
	return r, ok, nil
}

func (m *MemoryState) PutRobots(origin string, r RobotsTxt) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.robots == nil {
		m.robots = map[string]RobotsTxt{}
	}
	m.robots[origin] = r
	return nil
}
