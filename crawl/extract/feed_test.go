package extract

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const rssFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>The Daily Example</title><link>https://news.example/</link>
<item><title>One</title><link>https://news.example/2026/one.html</link></item>
<item><title>Two</title><link>/2026/two.html#comments</link></item>
<item><title>Guid only</title><guid isPermaLink="true">https://news.example/2026/three.html</guid></item>
<item><title>One again</title><link>https://news.example/2026/one.html#x</link></item>
<item><title>Mail</title><link>mailto:editor@news.example</link></item>
</channel></rss>`

const atomFeed = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example Atom</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated><link rel="alternate" href="https://blog.example/a"/></entry>
<entry><title>B</title><id>urn:b</id><updated>2026-01-01T00:00:00Z</updated><link href="b.html"/></entry>
</feed>`

const jsonFeed = `{"version":"https://jsonfeed.org/version/1.1","title":"Example JSON","home_page_url":"https://j.example/",
"items":[{"id":"1","url":"https://j.example/1"},{"id":"2","url":"https://j.example/2"}]}`

func TestParseFeed(t *testing.T) {
	for _, tc := range []struct {
		name, body, url, title, typ string
		items                       []string
	}{
		{"rss", rssFeed, "https://news.example/feed.xml", "The Daily Example", "rss",
			[]string{"https://news.example/2026/one.html", "https://news.example/2026/two.html", "https://news.example/2026/three.html"}},
		{"atom", atomFeed, "https://blog.example/feeds/atom.xml", "Example Atom", "atom",
			[]string{"https://blog.example/a", "https://blog.example/feeds/b.html"}},
		{"json", jsonFeed, "https://j.example/feed.json", "Example JSON", "json",
			[]string{"https://j.example/1", "https://j.example/2"}},
	} {
		f, err := ParseFeed([]byte(tc.body), tc.url, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, it := range f.Items {
			got = append(got, it.URL)
		}
		if f.Title != tc.title || f.Type != tc.typ || !reflect.DeepEqual(got, tc.items) {
			t.Errorf("%s: %q %q %q, want %q %q %q", tc.name, f.Title, f.Type, got, tc.title, tc.typ, tc.items)
		}
	}
	f, _ := ParseFeed([]byte(rssFeed), "https://news.example/feed.xml", nil)
	if len(f.Skipped) != 1 || f.Skipped[0].URL != "mailto:editor@news.example" {
		t.Errorf("skipped %+v", f.Skipped)
	}
}

func TestParseFeedBad(t *testing.T) {
	for name, body := range map[string]string{
		"html":      "<html><body>not a feed</body></html>",
		"truncated": rssFeed[:200],
		"json":      `{"version": 1, "items": "no"}`,
		"empty":     "",
		"large":     strings.Repeat(" ", MaxFeedSize+1),
	} {
		_, err := ParseFeed([]byte(body), "https://x.example/feed", nil)
		var fe *FeedError
		if !errors.As(err, &fe) || fe.URL != "https://x.example/feed" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
