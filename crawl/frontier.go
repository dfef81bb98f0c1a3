package crawl

import (
	"sync"

	"github.com/gocolly/colly/v2/queue"
)

// Frontier is the crawl state: the requests still to fetch (a colly queue
// storage: GetRequest claims the next one) and the set of URLs already
// seen. The embedded default keeps it in memory; persistent and shared
// backends implement the same interface.
type Frontier interface {
	queue.Storage
	// MarkSeen records the canonical key of a URL and reports whether it
	// was new.
	MarkSeen(key string) (bool, error)
}

// MemoryFrontier is a Frontier held in memory for one run.
type MemoryFrontier struct {
	queue.InMemoryQueueStorage
	mu   sync.Mutex
	seen map[string]struct{}
}

// NewMemoryFrontier returns an empty in-memory frontier.
func NewMemoryFrontier() *MemoryFrontier {
	return &MemoryFrontier{seen: map[string]struct{}{}}
}

// MarkSeen implements Frontier.
func (f *MemoryFrontier) MarkSeen(key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.seen[key]; ok {
		return false, nil
	}
	f.seen[key] = struct{}{}
	return true, nil
}
