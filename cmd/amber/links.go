package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/extract"
	"github.com/amber-archiver/amber/crawl/report"
	"github.com/amber-archiver/amber/warc"
)

// citedDocs are the documents whose links amber archive takes as seeds:
// files, read before the crawl, and URLs (documents and feeds), archived
// first and read back from the archive.
type citedDocs struct {
	files []fileDoc
	urls  []urlDoc
}

type fileDoc struct {
	name string
	doc  *extract.Document
}

type urlDoc struct {
	url  string
	feed bool
}

func (d citedDocs) seeds() []string {
	var out []string
	for _, f := range d.files {
		for _, l := range f.doc.Links {
			out = append(out, l.URL)
		}
	}
	return out
}

func (d citedDocs) urlSeeds() []string {
	var out []string
	for _, u := range d.urls {
		out = append(out, u.url)
	}
	return out
}

// isURL tells a --links-from URL from a file name.
func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// seenKey is the crawl's seen-set key, which de-duplicates a document's
// links.
func seenKey(keepTracking bool) func(string) (string, error) {
	return func(u string) (string, error) { return crawl.Canonicalize(u, !keepTracking) }
}

// readCitedDocs reads the --links-from files and sorts out the URLs of
// --links-from and --feed. A file that cannot be read or cites no link
// is a usage error.
func readCitedDocs(opts archiveOptions) (citedDocs, error) {
	var d citedDocs
	for _, v := range opts.linksFrom {
		if isURL(v) {
			d.urls = append(d.urls, urlDoc{url: v})
			continue
		}
		f, err := os.Open(v)
		if err != nil {
			return d, usageError("--links-from: %v", err)
		}
		body, err := extract.ReadDocument(f)
		f.Close()
		if err != nil {
			return d, usageError("--links-from %s: %v", v, err)
		}
		doc, err := extract.DocumentLinks(body, "", v, extract.DocumentOptions{Key: seenKey(opts.keepTracking)})
		if errors.Is(err, extract.ErrNoLinks) {
			return d, usageError("--links-from %s: no http or https links in this %s document%s", v, doc.Kind, skippedNote(doc.Skipped))
		} else if err != nil {
			return d, usageError("--links-from %s: %v", v, strings.TrimPrefix(err.Error(), "extract: "))
		}
		d.files = append(d.files, fileDoc{name: v, doc: doc})
	}
	for _, v := range opts.feeds {
		if _, err := crawl.CheckURL(v); err != nil {
			return d, usageError("--feed: %v", err)
		}
		d.urls = append(d.urls, urlDoc{url: v, feed: true})
	}
	return d, nil
}

func skippedNote(s []extract.Skipped) string {
	if len(s) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d skipped, e.g. %s: %s)", len(s), s[0].URL, s[0].Reason)
}

// linksRecord is the first line of a urn:amber:links: metadata record:
// which document a run took seeds from. The lines after it are
// linksLines. amber report reads them back.
type linksRecord struct {
	Document string `json:"document"`
	Kind     string `json:"kind,omitempty"` // html, bookmarks, markdown, text, or a feed type
	Title    string `json:"title,omitempty"`
	Error    string `json:"error,omitempty"` // the document could not be read
}

type linksLine struct {
	URL     string `json:"url"`
	Skipped string `json:"skipped,omitempty"`
}

// writeLinksRecord stores in the WARC where a document's seeds came
// from: a metadata record urn:amber:links:DOCUMENT, one JSON line for the
// document, then one a link (skipped ones with the reason).
func writeLinksRecord(w *warc.Writer, head linksRecord, links []extract.Link, skipped []extract.Skipped) error {
	b := w.NewRecord(warc.TypeMetadata, time.Now())
	b.AddField("WARC-Target-URI", report.LinksURN+head.Document)
	b.AddField("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(head)
	for _, l := range links {
		enc.Encode(linksLine{URL: l.URL})
	}
	for _, s := range skipped {
		enc.Encode(linksLine{URL: s.URL, Skipped: s.Reason})
	}
	_, err := w.Write(b)
	return err
}

// crawlCited runs the crawl of amber archive. Without URL documents it is
// one crawl.Run. With them, two in the same run and the same WARC files:
// the first archives the documents (a new crawl that fetches them again
// even when an earlier run archived them: a feed changes), the second,
// a crawl of its own, archives the other seeds and the links read back
// from the archived documents. URLs archived by earlier runs are not
// fetched again by the second unless recrawl.
func crawlCited(ctx context.Context, g *globalOptions, docs citedDocs, recrawl bool, keepTracking bool, o crawl.Options, w *warc.Writer, dir string) (*crawl.Result, error) {
	for _, f := range docs.files {
		name, _ := filepath.Abs(f.name)
		if err := writeLinksRecord(w, linksRecord{Document: "file://" + name, Kind: f.doc.Kind}, f.doc.Links, f.doc.Skipped); err != nil {
			return nil, err
		}
		for _, s := range f.doc.Skipped {
			fmt.Fprintf(g.stderr, "amber: %s: skipped %s: %s\n", f.name, s.URL, s.Reason)
		}
	}
	if len(docs.urls) == 0 {
		return crawl.Run(ctx, o, w)
	}
	first := o
	first.Seeds = docs.urlSeeds()
	res, err := crawl.Run(ctx, first, w)
	if err != nil || g.drained() {
		return res, err
	}
	if _, err := w.Sync(); err != nil {
		return res, err
	}
	coll, err := report.Open(dir, report.Options{Index: w.Index()})
	if err != nil {
		return res, err
	}
	var more []string
	var docFailures []int // indexes in res.Failures
	failed := map[string]bool{}
	for _, f := range res.Failures {
		failed[f.URL] = true
	}
	for _, d := range docs.urls {
		head := linksRecord{Document: d.url}
		var links []extract.Link
		var skipped []extract.Skipped
		body, ctype, final, err := coll.Body(d.url, max(extract.MaxDocumentSize, extract.MaxFeedSize))
		switch {
		case err != nil && failed[d.url]:
			head.Error = "not archived"
		case err != nil:
			head.Error = strings.TrimPrefix(err.Error(), "report: ")
		case d.feed:
			feed, ferr := extract.ParseFeed(body, final, seenKey(keepTracking))
			if ferr != nil {
				err, head.Error = ferr, strings.TrimPrefix(ferr.Error(), "extract: ")
				break
			}
			head.Kind, head.Title, links, skipped = feed.Type, feed.Title, feed.Items, feed.Skipped
		default:
			doc, derr := extract.DocumentLinks(body, ctype, final, extract.DocumentOptions{Base: final, Key: seenKey(keepTracking)})
			if derr != nil {
				err, head.Error = derr, strings.TrimPrefix(derr.Error(), "extract: ")
				if doc != nil {
					head.Kind, skipped = doc.Kind, doc.Skipped
				}
				break
			}
			head.Kind, links, skipped = doc.Kind, doc.Links, doc.Skipped
		}
		if werr := writeLinksRecord(w, head, links, skipped); werr != nil {
			return res, werr
		}
		if head.Error != "" && !failed[d.url] {
			docFailures = append(docFailures, len(res.Failures))
			res.Failures = append(res.Failures, crawl.Failure{URL: d.url, Seed: true, Err: errors.New(head.Error)})
		} else if head.Error != "" {
			for i, f := range res.Failures {
				if f.URL == d.url {
					docFailures = append(docFailures, i)
				}
			}
		}
		for _, s := range skipped {
			fmt.Fprintf(g.stderr, "amber: %s: skipped %s: %s\n", d.url, s.URL, s.Reason)
		}
		for _, l := range links {
			more = append(more, l.URL)
		}
	}
	second := o
	second.Seeds = append(append([]string(nil), o.Seeds...), more...)
	if len(second.Seeds) == 0 {
		return res, nil
	}
	if _, err := o.Frontier.Begin(ctx, recrawl); err != nil {
		return res, err
	}
	res2, err := crawl.Run(ctx, second, w)
	if res2 != nil {
		if res2.Captures > 0 {
			// Other seeds were archived: a document that failed makes the
			// run partial (exit 3), not failed.
			for _, i := range docFailures {
				res.Failures[i].Seed = false
			}
		}
		res.Pages += res2.Pages
		res.Captures += res2.Captures
		res.Revisits += res2.Revisits
		res.Failures = append(res.Failures, res2.Failures...)
		res.Bytes += res2.Bytes
		res.Requests += res2.Requests
		res.Skipped += res2.Skipped
		res.Truncated += res2.Truncated
	}
	return res, err
}
