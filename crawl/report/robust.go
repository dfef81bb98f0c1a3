package report

import (
	"bytes"
	"html"
	"sort"
	"strings"
	"time"

	"github.com/amber-archiver/amber/crawl/extract"
)

// Version is the archived copy a link is annotated with.
type Version struct {
	URL  string    // where the archived copy is replayed
	Date time.Time // when it was captured
}

// RobustLinks returns doc (whose links DocumentLinks found as d) with
// every citation of an archived link annotated, and how many were. In
// HTML (and bookmarks), the <a> or <area> start tag gets the Robust Links
// attributes data-originalurl, data-versionurl and data-versiondate,
// inserted after the tag name; in Markdown, an "(archived)" link follows
// the link; in plain text, "(archived: URL)" follows the URL. Nothing
// else changes: the rest of doc is byte for byte the same. version
// returns the archived copy of a link, false for one not archived (left as
// it is). A tag that already has data-versionurl is left as it is.
func RobustLinks(doc []byte, d *extract.Document, version func(extract.Link) (Version, bool)) ([]byte, int) {
	type insert struct {
		at   int
		text string
	}
	var ins []insert
	for _, r := range d.Refs {
		if r.Start < 0 || r.End > len(doc) || r.Link >= len(d.Links) {
			continue
		}
		v, ok := version(d.Links[r.Link])
		if !ok {
			continue
		}
		switch d.Kind {
		case extract.KindHTML, extract.KindBookmarks:
			tag := doc[r.Start:r.End]
			if bytes.Contains(bytes.ToLower(tag), []byte("data-versionurl")) {
				continue
			}
			name := 1
			for name < len(tag) && isNameByte(tag[name]) {
				name++
			}
			ins = append(ins, insert{r.Start + name, ` data-originalurl="` + html.EscapeString(r.Cited) +
				`" data-versionurl="` + html.EscapeString(v.URL) +
				`" data-versiondate="` + v.Date.UTC().Format(time.RFC3339) + `"`})
		case extract.KindMarkdown:
			ins = append(ins, insert{r.End, " ([archived](" + markdownDest(v.URL) + "))"})
		default:
			ins = append(ins, insert{r.End, " (archived: " + v.URL + ")"})
		}
	}
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].at < ins[j].at })
	var out bytes.Buffer
	out.Grow(len(doc) + len(ins)*128)
	last := 0
	for _, in := range ins {
		out.Write(doc[last:in.at])
		out.WriteString(in.text)
		last = in.at
	}
	out.Write(doc[last:])
	return out.Bytes(), len(ins)
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// markdownDest writes a link destination Markdown reads back unchanged.
func markdownDest(u string) string {
	if !strings.ContainsAny(u, " ()<>") {
		return u
	}
	r := strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20")
	return "<" + r.Replace(u) + ">"
}
