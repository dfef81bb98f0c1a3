// Package proxy is amber's in-process HTTP proxy for a browser it drives:
// every request the browser makes is sent on with an http.RoundTripper the
// caller gives (the crawl's recording transport), and the response goes
// back to the browser as that RoundTripper gave it.
//
// The browser's HTTPS requests come as CONNECT tunnels. The proxy answers
// them itself and terminates TLS with a leaf certificate for the host (a
// DNS name or an IP address as subject alternative name), signed on first
// use by a CA whose key is made in memory when the proxy starts (CA) and
// is never written to disk or installed anywhere. Only a browser told to
// trust it (Chromium: --ignore-certificate-errors-spki-list with
// CA.LeafSPKIHash) accepts those certificates; the origin is then reached
// by the RoundTripper with its own, normal certificate checks, and a
// failure there (an untrusted origin) is the browser's 502.
//
// What the proxy does to an exchange is what forwarding needs and no
// more: hop-by-hop fields (RFC 9110, section 7.6.1) are dropped both ways,
// the target goes on as a URL; no header is added (not even Go's
// User-Agent or Date), the body is streamed back as it arrives, and a body
// cut at the origin reaches the browser cut. It speaks HTTP/1.1 only (no
// h2 in ALPN, no h2c); keep-alive works both in and outside tunnels.
// WebSocket and other Upgrade requests are answered 501.
//
// Everything a client can make it hold is bounded (Options): connections
// at once, the size of a request head (431) and body (413), the time to
// send a head, to finish a TLS handshake, between requests, and for any
// write to a client that stops reading. The proxy's own answers (400,
// 413, 431, 501, 502, 504) have a one-line text/plain body starting
// "amber proxy:" and the header X-Amber-Proxy: error.
package proxy
