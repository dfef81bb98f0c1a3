package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"flag"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// genMain writes a deterministic WARC file like the ones amber writes: one
// gzip member per record, a warcinfo record, then request/response pairs
// for HTML pages and images, and some revisits. HTML is deflated in its
// member (or, when served gzip-encoded, stored, as amber stores
// incompressible bodies); images are stored. Digests are sha1 base32, the
// payload digest over the de-chunked entity body.
func genMain(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("o", "bench.warc.gz", "output `FILE`")
	size := fs.Int64("size", 1<<30, "stop after this many `BYTES` of file")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same file")
	fs.Parse(args)

	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	g := newGenerator(f, *seed)
	if err := g.run(*size); err != nil {
		return err
	}
	if err := g.w.Flush(); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes, %d records (%d pages, %d images, %d revisits); block bytes: %.0f%% images, %.0f%% HTML\n",
		*out, g.written, g.records, g.pages, g.images, g.revisits,
		100*float64(g.imageBytes)/float64(g.imageBytes+g.htmlBytes), 100*float64(g.htmlBytes)/float64(g.imageBytes+g.htmlBytes))
	return nil
}

type generator struct {
	w        *bufio.Writer
	rng      *rand.Rand
	src      *rand.ChaCha8
	deflate  *gzip.Writer
	store    *gzip.Writer
	member   bytes.Buffer
	date     time.Time
	infoID   string
	words    []string
	imageRef []imageRef // earlier images, for revisits

	written, imageBytes, htmlBytes        int64
	records, pages, images, revisits, ids int
}

type imageRef struct{ uri, id, date, digest, head string }

func newGenerator(w io.Writer, seed uint64) *generator {
	var key [32]byte
	for i := range key {
		key[i] = byte(seed >> (8 * (i % 8)))
	}
	g := &generator{
		w:    bufio.NewWriterSize(w, 1<<20),
		rng:  rand.New(rand.NewPCG(seed, 0x616d626572)),
		src:  rand.NewChaCha8(key),
		date: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
	g.deflate, _ = gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	g.store, _ = gzip.NewWriterLevel(nil, gzip.NoCompression)
	for _, w := range strings.Fields(vocabulary) {
		g.words = append(g.words, w)
	}
	return g
}

const vocabulary = `the of and to in a is that for it as was with be by on not he this are or his from at which but have an
they you were her she there their one all we can been has more if no when will would who so what out up into do
harbour bridge storm council minister election report city weather market school hospital police court river
train festival museum library archive record evidence source statement interview article editor journalist
<p> </p> <a href="/news/2026/11/story.html"> </a> <em> </em> <strong> </strong> <li> </li> <div class="para">`

func (g *generator) id() string {
	g.ids++
	b := make([]byte, 16)
	g.src.Read(b)
	return fmt.Sprintf("<urn:uuid:%x-%x-%x-%x-%x>", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func b32(h hash.Hash) string { return "sha1:" + base32.StdEncoding.EncodeToString(h.Sum(nil)) }

func sha1Of(parts ...[]byte) string {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	return b32(h)
}

// record writes one record as a gzip member.
func (g *generator) record(fields [][2]string, block []byte, stored bool) error {
	var head bytes.Buffer
	head.WriteString("WARC/1.1\r\n")
	for _, f := range fields {
		head.WriteString(f[0] + ": " + f[1] + "\r\n")
	}
	fmt.Fprintf(&head, "WARC-Block-Digest: %s\r\n", sha1Of(block))
	fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(block))
	zw := g.deflate
	if stored {
		zw = g.store
	}
	g.member.Reset()
	zw.Reset(&g.member)
	zw.Write(head.Bytes())
	zw.Write(block)
	zw.Write([]byte("\r\n\r\n"))
	if err := zw.Close(); err != nil {
		return err
	}
	n, err := g.w.Write(g.member.Bytes())
	g.written += int64(n)
	g.records++
	return err
}

func (g *generator) run(size int64) error {
	g.infoID = g.id()
	info := []byte("software: amber-bench-gen\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n")
	if err := g.record([][2]string{{"WARC-Type", "warcinfo"}, {"WARC-Record-ID", g.infoID}, {"WARC-Date", g.date.Format(time.RFC3339)},
		{"WARC-Filename", "bench.warc.gz"}, {"Content-Type", "application/warc-fields"}}, info, false); err != nil {
		return err
	}
	for n := 0; g.written < size; n++ {
		g.date = g.date.Add(time.Duration(g.rng.IntN(2000)) * time.Millisecond)
		var err error
		switch r := g.rng.IntN(100); {
		case r < 55:
			err = g.page(n)
		case r < 58 && len(g.imageRef) > 0:
			err = g.revisit()
		default:
			err = g.image(n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// exchange writes a response and its request.
func (g *generator) exchange(uri string, respHead, body []byte, chunked bool, payload string, stored bool) (string, error) {
	block := append(append([]byte(nil), respHead...), body...)
	respID, reqID := g.id(), g.id()
	date := g.date.Format(time.RFC3339)
	if err := g.record([][2]string{{"WARC-Type", "response"}, {"WARC-Record-ID", respID}, {"WARC-Date", date},
		{"WARC-Target-URI", uri}, {"Content-Type", "application/http;msgtype=response"}, {"WARC-IP-Address", "127.0.0.1"},
		{"WARC-Concurrent-To", reqID}, {"WARC-Warcinfo-ID", g.infoID}, {"WARC-Payload-Digest", payload}}, block, stored); err != nil {
		return "", err
	}
	req := []byte("GET " + strings.TrimPrefix(uri, "http://news.example") + " HTTP/1.1\r\nHost: news.example\r\nUser-Agent: amber/0.1\r\nAccept-Encoding: gzip\r\n\r\n")
	err := g.record([][2]string{{"WARC-Type", "request"}, {"WARC-Record-ID", reqID}, {"WARC-Date", date},
		{"WARC-Target-URI", uri}, {"Content-Type", "application/http;msgtype=request"}, {"WARC-IP-Address", "127.0.0.1"},
		{"WARC-Concurrent-To", respID}, {"WARC-Warcinfo-ID", g.infoID}, {"WARC-Payload-Digest", sha1Of()}}, req, false)
	return respID, err
}

// page writes an HTML page of 20-120 kB: identity-encoded (deflated in its
// member), a third of them chunked; or gzip-encoded (stored).
func (g *generator) page(n int) error {
	g.pages++
	var html bytes.Buffer
	html.WriteString("<!doctype html><html><head><title>Story</title></head><body>\n")
	target := 20<<10 + g.rng.IntN(100<<10)
	for html.Len() < target {
		html.WriteString(g.words[g.rng.IntN(len(g.words))])
		if g.rng.IntN(12) == 0 {
			html.WriteString(".\n")
		} else {
			html.WriteByte(' ')
		}
	}
	html.WriteString("</body></html>\n")
	body := html.Bytes()
	uri := fmt.Sprintf("http://news.example/news/2026/11/story-%d.html", n)
	g.htmlBytes += int64(len(body))
	switch r := g.rng.IntN(6); {
	case r < 2: // gzip-encoded, Content-Length: stored, as amber stores it
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
		zw.Write(body)
		zw.Close()
		head := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", gz.Len())
		_, err := g.exchange(uri, head, gz.Bytes(), false, sha1Of(gz.Bytes()), true)
		return err
	case r < 4: // chunked
		var chunked bytes.Buffer
		for rest := body; len(rest) > 0; {
			c := min(len(rest), 8192)
			fmt.Fprintf(&chunked, "%x\r\n", c)
			chunked.Write(rest[:c])
			chunked.WriteString("\r\n")
			rest = rest[c:]
		}
		chunked.WriteString("0\r\n\r\n")
		head := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n")
		_, err := g.exchange(uri, head, chunked.Bytes(), true, sha1Of(body), false)
		return err
	default:
		head := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", len(body))
		_, err := g.exchange(uri, head, body, false, sha1Of(body), false)
		return err
	}
}

// image writes a JPEG-like (incompressible) body of 5 kB to 1 MB, mostly
// small: the size is log-uniform.
func (g *generator) image(n int) error {
	g.images++
	size := int(5e3 * math.Pow(200, g.rng.Float64()))
	body := make([]byte, size)
	g.src.Read(body)
	copy(body, "\xff\xd8\xff\xe0\x00\x10JFIF")
	g.imageBytes += int64(size)
	uri := fmt.Sprintf("http://cdn.news.example/img/%d.jpg", n)
	head := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\nCache-Control: max-age=86400\r\n\r\n", size)
	digest := sha1Of(body)
	id, err := g.exchange(uri, head, body, false, digest, true)
	if err == nil && len(g.imageRef) < 1000 {
		g.imageRef = append(g.imageRef, imageRef{uri, id, g.date.Format(time.RFC3339), digest, string(head)})
	}
	return err
}

// revisit writes an identical-payload-digest revisit of an earlier image:
// its block is the HTTP head only.
func (g *generator) revisit() error {
	g.revisits++
	ref := g.imageRef[g.rng.IntN(len(g.imageRef))]
	return g.record([][2]string{{"WARC-Type", "revisit"}, {"WARC-Record-ID", g.id()}, {"WARC-Date", g.date.Format(time.RFC3339)},
		{"WARC-Target-URI", ref.uri}, {"Content-Type", "application/http;msgtype=response"},
		{"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"},
		{"WARC-Refers-To", ref.id}, {"WARC-Refers-To-Target-URI", ref.uri}, {"WARC-Refers-To-Date", ref.date},
		{"WARC-Warcinfo-ID", g.infoID}, {"WARC-Payload-Digest", ref.digest}}, []byte(ref.head), false)
}
