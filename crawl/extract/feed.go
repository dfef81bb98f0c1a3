package extract

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
)

// MaxFeedSize is the largest feed ParseFeed reads: 16 MiB (a busy
// publication's full-text feed is a few MiB).
const MaxFeedSize = 16 << 20

// Feed is what a feed lists.
type Feed struct {
	Title string
	Type  string // "rss", "atom" or "json"
	// Items are the http(s) links of the feed's items, resolved against
	// the feed's URL, fragment dropped, de-duplicated, in feed order.
	Items []Link
	// Skipped are item links not kept (another scheme, malformed).
	Skipped []Skipped
}

// FeedError is a feed that could not be read: not RSS, Atom or JSON
// Feed, malformed, or too large.
type FeedError struct {
	URL string
	Err error
}

func (e *FeedError) Error() string {
	if e.URL == "" {
		return "extract: feed: " + e.Err.Error()
	}
	return fmt.Sprintf("extract: feed %s: %v", e.URL, e.Err)
}

func (e *FeedError) Unwrap() error { return e.Err }

// ParseFeed reads an RSS 2.0 (or 0.9x/1.0), Atom or JSON Feed document
// fetched from feedURL. Relative item links resolve against feedURL; key
// de-duplicates them as in DocumentOptions.Key (nil: the URL itself).
func ParseFeed(body []byte, feedURL string, key func(string) (string, error)) (*Feed, error) {
	if len(body) > MaxFeedSize {
		return nil, &FeedError{URL: feedURL, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFeedSize)}
	}
	p := gofeed.NewParser()
	f, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			err = errors.New("not an RSS, Atom or JSON feed")
		}
		return nil, &FeedError{URL: feedURL, Err: err}
	}
	out := &Feed{Title: strings.TrimSpace(f.Title), Type: f.FeedType}
	c := newCollector("feed", DocumentOptions{Base: feedURL, Key: key})
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		link := it.Link
		if link == "" && len(it.Links) > 0 {
			link = it.Links[0]
		}
		if link == "" {
			// RSS: a guid that is a permalink names the item.
			if u, err := url.Parse(it.GUID); err == nil && u.IsAbs() {
				link = it.GUID
			}
		}
		c.add(link, -1, -1)
	}
	for _, l := range c.doc.Links {
		out.Items = append(out.Items, l)
	}
	out.Skipped = c.doc.Skipped
	return out, nil
}
