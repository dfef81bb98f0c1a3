// Command warcurls prints the WARC-Target-URI of every response record in
// the given WARC files (.warc or .warc.gz, one gzip member per record or
// one stream), one a line.
//
// With -manifest FILE it prints instead how much of the manifest (the URLs
// written by bench/newssite -manifest) has a response record, pages and
// resources separately, as "key value" lines, then up to -sample missing
// URLs of each kind:
//
//	pages_total 2056
//	pages_found 2056
//	resources_total 28016
//	resources_found 22000
//	responses 30100       response records read
//	revisits 0            revisit records read (not counted as found)
//	outside 100           responses for URLs not in the manifest
//	external 37           of them, responses under the -external prefix
//	missing_page URL
//	missing_resource URL
//
// A URL is a page when its path ends in "/" or ".html".
package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	manifest := flag.String("manifest", "", "compare with the URLs listed in `FILE` and print a summary")
	sample := flag.Int("sample", 10, "with -manifest: list at most `N` missing URLs of each kind")
	external := flag.String("external", "", "with -manifest: count responses whose URL starts with `PREFIX`")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: warcurls [-manifest FILE [-sample N] [-external PREFIX]] FILE.warc[.gz]...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	failed := false
	found := map[string]bool{}
	var responses, revisits int
	out := bufio.NewWriter(os.Stdout)
	for _, name := range flag.Args() {
		err := scan(name, func(typ, uri string) {
			switch typ {
			case "response":
				responses++
				if *manifest == "" {
					out.WriteString(uri)
					out.WriteByte('\n')
				} else {
					found[uri] = true
				}
			case "revisit":
				revisits++
			}
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "warcurls: %s: %v\n", name, err)
			failed = true
		}
	}
	if *manifest != "" {
		if err := compare(out, *manifest, found, responses, revisits, *sample, *external); err != nil {
			fmt.Fprintln(os.Stderr, "warcurls:", err)
			failed = true
		}
	}
	if err := out.Flush(); err != nil {
		failed = true
	}
	if failed {
		os.Exit(1)
	}
}

// scan calls fn with the WARC-Type and WARC-Target-URI of every record.
func scan(name string, fn func(typ, uri string)) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".gz.open") {
		zr, err := gzip.NewReader(r) // multistream: reads member after member
		if err != nil {
			return err
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReaderSize(r, 1<<16)
	for n := 0; ; n++ {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
		if strings.TrimRight(line, "\r\n") == "" {
			n-- // the blank lines that end the previous record
			continue
		}
		if !strings.HasPrefix(line, "WARC/") {
			return fmt.Errorf("record %d: no WARC version line: %q", n, line)
		}
		var typ, uri string
		length := int64(-1)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return fmt.Errorf("record %d header: %w", n, err)
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "warc-type":
				typ = v
			case "warc-target-uri":
				uri = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
			case "content-length":
				length, err = strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("record %d: bad Content-Length %q", n, v)
				}
			}
		}
		if length < 0 {
			return fmt.Errorf("record %d: no Content-Length", n)
		}
		if _, err := br.Discard(int(length)); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("record %d block: %w", n, err)
		}
		fn(typ, uri)
	}
}

func isPage(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	return p.Path == "" || strings.HasSuffix(p.Path, "/") || strings.HasSuffix(p.Path, ".html")
}

func compare(w io.Writer, manifest string, found map[string]bool, responses, revisits, sample int, external string) error {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	var pagesTotal, pagesFound, resTotal, resFound int
	var missingPages, missingRes []string
	listed := map[string]bool{}
	for _, u := range strings.Split(string(data), "\n") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		listed[u] = true
		page := isPage(u)
		switch {
		case page && found[u]:
			pagesTotal++
			pagesFound++
		case page:
			pagesTotal++
			missingPages = append(missingPages, u)
		case found[u]:
			resTotal++
			resFound++
		default:
			resTotal++
			missingRes = append(missingRes, u)
		}
	}
	outside, ext := 0, 0
	for u := range found {
		if !listed[u] {
			outside++
			if external != "" && strings.HasPrefix(u, external) {
				ext++
			}
		}
	}
	fmt.Fprintf(w, "pages_total %d\npages_found %d\nresources_total %d\nresources_found %d\nresponses %d\nrevisits %d\noutside %d\nexternal %d\n",
		pagesTotal, pagesFound, resTotal, resFound, responses, revisits, outside, ext)
	sort.Strings(missingPages)
	sort.Strings(missingRes)
	for _, u := range missingPages[:min(sample, len(missingPages))] {
		fmt.Fprintf(w, "missing_page %s\n", u)
	}
	for _, u := range spread(missingRes, sample) {
		fmt.Fprintf(w, "missing_resource %s\n", u)
	}
	return nil
}

// spread picks n of the sorted list, one from each kind of file name
// first (hero-400.jpg, chart-2x.png, …) so the sample shows what is
// missing rather than n images of one article.
func spread(list []string, n int) []string {
	var out []string
	kinds, picked := map[string]bool{}, map[string]bool{}
	for _, u := range list {
		if len(out) == n {
			return out
		}
		if k := u[strings.LastIndexByte(u, '/')+1:]; !kinds[k] {
			kinds[k], picked[u] = true, true
			out = append(out, u)
		}
	}
	for _, u := range list {
		if len(out) == n {
			break
		}
		if !picked[u] {
			picked[u] = true
			out = append(out, u)
		}
	}
	return out
}
