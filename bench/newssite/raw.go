package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// serveRaw serves h on ln with a minimal HTTP/1.1 server: one goroutine
// per connection reads a request, answers it with one vectored write of
// the prepared header and body parts, and reads the next. It answers the
// same bytes as ServeHTTP (apart from header order) at a fraction of
// net/http's CPU per request, so that on a two-core machine the benchmark
// measures the crawler rather than the server. `-server stdlib` selects
// net/http instead.
func (h *host) serveRaw(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go h.serveConn(c)
	}
}

const idleTimeout = 120 * time.Second

func (h *host) serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	var hdr []byte
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		req, err := readRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		var parts [][]byte
		hdr, parts = h.respond(hdr[:0], req)
		bufs := net.Buffers(append([][]byte{hdr}, parts...))
		if _, err := bufs.WriteTo(c); err != nil || req.close {
			return
		}
	}
}

// rawRequest is what the server needs of a request.
type rawRequest struct {
	method, path string
	gzip, close  bool
}

// readRequest reads one request line and its headers. A request body
// (which GET and HEAD do not have) is read and dropped.
func readRequest(br *bufio.Reader) (rawRequest, error) {
	var r rawRequest
	line, err := readLine(br)
	if err != nil {
		return r, err
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !strings.HasPrefix(proto, "HTTP/1.") {
		return r, errors.New("malformed request line")
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return r, err
	}
	r.method, r.path = method, u.Path
	r.close = proto == "HTTP/1.0"
	var bodyLen int64
	for {
		l, err := readLine(br)
		if err != nil {
			return r, err
		}
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return r, errors.New("malformed header")
		}
		value = strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Accept-Encoding"):
			r.gzip = r.gzip || acceptsGzipValue(value)
		case strings.EqualFold(name, "Connection"):
			if strings.EqualFold(value, "close") {
				r.close = true
			} else if strings.EqualFold(value, "keep-alive") {
				r.close = false
			}
		case strings.EqualFold(name, "Content-Length"):
			bodyLen, _ = strconv.ParseInt(value, 10, 64)
		}
	}
	if bodyLen > 0 {
		if _, err := io.CopyN(io.Discard, br, bodyLen); err != nil {
			return r, err
		}
	}
	return r, nil
}

func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errors.New("line too long")
		}
		if len(b) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return string(bytes.TrimRight(b, "\r\n")), nil
}

// respond appends the status line and headers to hdr and returns them with
// the body parts to write after them.
func (h *host) respond(hdr []byte, r rawRequest) ([]byte, [][]byte) {
	res := h.res[r.path]
	var (
		status, ctype string
		parts         [][]byte
		n             int
	)
	switch {
	case r.method != "GET" && r.method != "HEAD":
		status, ctype = "405 Method Not Allowed\r\nAllow: GET, HEAD", "text/plain; charset=utf-8"
		parts = [][]byte{methodNotAllowed}
		n, res = len(methodNotAllowed), nil
	case res == nil:
		status, ctype = "404 Not Found", "text/html; charset=utf-8"
		parts, n = [][]byte{notFound}, len(notFound)
	default:
		status, ctype = "200 OK", res.ctype
		parts, n = res.parts, res.length
	}
	hdr = append(hdr, "HTTP/1.1 "...)
	hdr = append(hdr, status...)
	hdr = append(hdr, "\r\nContent-Type: "...)
	hdr = append(hdr, ctype...)
	hdr = append(hdr, "\r\nDate: "...)
	hdr = append(hdr, httpDate()...)
	hdr = append(hdr, "\r\n"...)
	if res != nil {
		hdr = append(hdr, "Last-Modified: "+lastModified[0]+"\r\nCache-Control: "+cacheControl[0]+"\r\n"...)
		if res.gz != nil {
			hdr = append(hdr, "Vary: Accept-Encoding\r\n"...)
			if r.gzip {
				hdr = append(hdr, "Content-Encoding: gzip\r\n"...)
				parts, n = [][]byte{res.gz}, len(res.gz)
			}
		}
	}
	hdr = append(hdr, "Content-Length: "...)
	hdr = strconv.AppendInt(hdr, int64(n), 10)
	hdr = append(hdr, "\r\n"...)
	if r.close {
		hdr = append(hdr, "Connection: close\r\n"...)
	}
	hdr = append(hdr, "\r\n"...)
	if r.method == "HEAD" {
		parts = nil
	}
	return hdr, parts
}

var methodNotAllowed = []byte("method not allowed\n")

var notFound = []byte("<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><h1>Not found</h1><p><a href=\"/\">Home</a></p></body></html>\n")

// httpDate is the current time in the Date header's format, formatted once
// a second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.s
	}
	d := &dateCache{unix: now, s: time.Unix(now, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")}
	cachedDate.Store(d)
	return d.s
}

type dateCache struct {
	unix int64
	s    string
}

var cachedDate atomic.Pointer[dateCache]
