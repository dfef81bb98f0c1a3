package crawl

import (
	"context"
	"net/url"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc/collection"
)

// CollectionState is the crawl state of worker as a collection's Recover
// and Finish need it: URLs found archived are canonicalised as the crawl
// keys them (keepTracking as Options.KeepTracking), and the pages outbox
// is the worker's.
func CollectionState(f frontier.Frontier, worker string, keepTracking bool) collection.State {
	return &collState{f: f, worker: worker, keepTracking: keepTracking}
}

type collState struct {
	f            frontier.Frontier
	worker       string
	keepTracking bool
}

func (s *collState) Fresh() bool {
	c, ok := s.f.(interface{ Created() bool })
	return ok && c.Created()
}

func (s *collState) Archived(ctx context.Context, urls []string, digests []collection.Digest) error {
	var keys []string
	for _, u := range urls {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "http" && pu.Scheme != "https" {
			continue
		}
		key, err := Canonicalize(u, !s.keepTracking)
		if err != nil {
			continue
		}
		keys = append(keys, key)
	}
	refs := make([]frontier.DigestRef, len(digests))
	for i, d := range digests {
		refs[i] = frontier.DigestRef{Digest: d.Digest, RecordID: d.RecordID, URI: d.URI, Date: d.Date}
	}
	return s.f.Recover(ctx, keys, refs)
}

func (s *collState) Pages(ctx context.Context) ([]collection.Page, error) {
	ps, err := s.f.Pages(ctx, s.worker)
	if err != nil {
		return nil, err
	}
	out := make([]collection.Page, len(ps))
	for i, p := range ps {
		out[i] = collection.Page{Seq: p.Seq, URL: p.URL, Title: p.Title, Date: p.Date, Seed: p.Seed, Size: p.Size}
	}
	return out, nil
}

func (s *collState) ClearPages(ctx context.Context, through uint64) error {
	return s.f.ClearPages(ctx, s.worker, through)
}
