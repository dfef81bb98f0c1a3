package frontier_test

import (
	"testing"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/crawl/frontier/frontiertest"
)

func TestMemory(t *testing.T) {
	frontiertest.Run(t, frontiertest.Backend{
		Open: func(t *testing.T, clock frontier.Clock) frontier.Frontier { return frontier.NewMemory(clock) },
	})
}
