// Package capture records HTTP exchanges byte for byte, as they cross the
// wire: Transport is an http.RoundTripper that speaks HTTP/1.1 on its own
// kept-alive connections and tees each one at the net.Conn, above TLS and
// below HTTP parsing, into a Block its BlockMaker supplies (a WARC record
// under construction). The response block is the message as received,
// chunk framing and content encoding intact; the payload digest is taken
// over the de-chunked body while the bytes stream in.
//
// It knows nothing of crawling: what to fetch, when, and what to do with
// an Exchange are the caller's (package crawl, and the browser's proxy).
package capture
