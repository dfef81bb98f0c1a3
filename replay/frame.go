package replay

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
)

// Framed replay, after pywb. A Content-Security-Policy cannot stop a page
// from navigating its own top window (navigate-to was never shipped), so
// a page is never the top window:
//
//   - /TIMESTAMP/URL answers with a top frame of amber's own: the banner
//     and an <iframe sandbox> holding the page at /TIMESTAMPmp_/URL. The
//     sandbox has no allow-top-navigation and no allow-popups, so nothing
//     in the page (location, window.open, a <meta> refresh, a form or link
//     with target=_top or _blank, top.location from a frame buster)
//     navigates the top window or opens another. The top frame's
//     Content-Security-Policy says frame-src 'self': the parent's
//     frame-src governs every navigation of the child frame, by script,
//     meta refresh or redirect, so the frame never leaves the server
//     either; form-action 'self' covers forms.
//   - Links inside the page are rewritten to /TIMESTAMPmp_/URL. A click
//     on one makes the first script of every replayed page (injectJS)
//     ask the top frame to open /TIMESTAMP/URL, a top frame of its own
//     (target=_top and _blank included, which the sandbox would block);
//     the top frame opens nothing but archival paths of its own server.
//     A navigation by script stays in the frame, and injectJS tells the
//     top frame where the frame went, which puts /TIMESTAMP/URL in the
//     address bar (history.replaceState) and updates the banner.
//   - A document that cannot run script (a PDF, an image) is not framed:
//     Chromium shows no PDF in a sandboxed frame.
//   - A page opened as a top-level document at /TIMESTAMPmp_/URL (a link
//     opened in a new tab: Sec-Fetch-Dest: document) is redirected to its
//     top frame, /TIMESTAMP/URL. Every replayed page also carries the
//     sandbox in its own CSP (sandbox directive), so frames it makes
//     inherit nothing more.
//
// The frame has allow-same-origin (without it, the page would lose its
// origin: its fonts, fetches and storage would fail), so a script of the
// page can reach the top frame's DOM. The sandbox still applies to it: a
// navigation it starts, top.location included, is the frame's and is
// blocked. What the sandbox does not stop is a script written against
// amber replay itself (one that removes the sandbox attribute and reloads,
// or writes a refresh into the top document); that needs the page on an
// origin of its own, which a single-port server on 127.0.0.1 cannot give.

// frameSandbox is what the frame of a replayed page may do: run scripts
// with its origin, submit forms (form-action 'self' keeps them inside),
// show dialogs, download. Not: navigate the top window, open popups.
const frameSandbox = "allow-scripts allow-same-origin allow-forms allow-modals allow-downloads allow-pointer-lock"

// topFrameCSP is the Content-Security-Policy of the top frame: its own
// script and styles, and a frame that may only ever show the replay
// server. (The CSP 3 webrtc directive is left out: Chromium 156 does not
// know it.)
const topFrameCSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; " +
	"frame-src 'self'; child-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"

// permissionsPolicy turns off the device and peer features a replayed
// page has no business using. (There is no policy feature for
// RTCPeerConnection itself: injectJS removes it.)
const permissionsPolicy = "camera=(), microphone=(), display-capture=(), geolocation=(), usb=(), serial=(), hid=(), payment=()"

// Paths of amber's own scripts; no archival URL starts with /_amber/.
const (
	injectPath = "/_amber/inject.js"
	topPath    = "/_amber/top.js"
)

// injectTag is inserted first in every replayed HTML page. It is an
// external script (kept short, so a <meta charset> stays within the first
// 1024 bytes) that runs before any script of the page.
const injectTag = `<script src="` + injectPath + `"></script>`

// guard sets the headers every response of the replay server carries.
// X-DNS-Prefetch-Control: off stops the browser resolving the host names
// of links (an explicit off cannot be turned on again by the page).
func guard(h http.Header) {
	h.Set("X-DNS-Prefetch-Control", "off")
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("Referrer-Policy", "same-origin")
}

// serveScript serves amber's own scripts.
func serveScript(w http.ResponseWriter, r *http.Request, js string) {
	guard(w.Header())
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodHead {
		io.WriteString(w, js)
	}
}

// serveTopFrame answers /TIMESTAMP/URL: the banner and the page in its
// sandboxed frame.
func (h *Handler) serveTopFrame(w http.ResponseWriter, r *http.Request, c *Capture) {
	hdr := w.Header()
	guard(hdr)
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", topFrameCSP)
	hdr.Set("Memento-Datetime", c.Time.UTC().Format(http.TimeFormat))
	hdr.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s (archived)</title>
<style>html,body{height:100%%;margin:0}body{display:flex;flex-direction:column}#amber-replay-frame{flex:1 1 auto;display:block;width:100%%;border:0;margin:0}</style>
<script src="%s" defer></script>
</head><body>`, escapeText(c.URL), topPath)
	b.Write(banner(c))
	fmt.Fprintf(&b, `<iframe id="amber-replay-frame" name="amber-replay-frame" src="%s" sandbox="%s" allow="camera 'none'; microphone 'none'; display-capture 'none'; geolocation 'none'"></iframe>
</body></html>
`, html.EscapeString(archival(c.Timestamp(), modEmbed, c.URL)), frameSandbox)
	io.WriteString(w, b.String())
}

// topJS runs in the top frame: it follows the frame's navigations, keeping
// the address bar (/TIMESTAMP/URL) and the banner in step.
const topJS = `"use strict";
(function () {
  var frame = document.getElementById("amber-replay-frame");
  if (!frame) return;
  var archivalRe = /^\/(\d{14})[a-z]{2}_\/(.+)$/;
  var months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  function show(path, title) {
    var m = archivalRe.exec(path);
    if (!m) return;
    var ts = m[1], url = m[2];
    try { history.replaceState(null, "", "/" + ts + "/" + url); } catch (e) {}
    document.title = (title || url) + " (archived)";
    var u = document.getElementById("amber-replay-url");
    if (u) u.textContent = url;
    var t = document.getElementById("amber-replay-time");
    if (t) {
      t.dateTime = ts.slice(0, 4) + "-" + ts.slice(4, 6) + "-" + ts.slice(6, 8) + "T" + ts.slice(8, 10) + ":" + ts.slice(10, 12) + ":" + ts.slice(12, 14) + "Z";
      t.textContent = (+ts.slice(6, 8)) + " " + months[+ts.slice(4, 6) - 1] + " " + ts.slice(0, 4) + ", " + ts.slice(8, 10) + ":" + ts.slice(10, 12) + ":" + ts.slice(12, 14) + " UTC";
    }
  }
  var pageRe = /^\/(\d{14})\/(.+)$/;
  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || e.origin !== location.origin || !e.data || e.data.amberReplay !== 1) return;
    if (typeof e.data.navigate === "string") {
      // Only ever to an archived page on this server.
      if (pageRe.test(e.data.navigate)) location.href = e.data.navigate;
      return;
    }
    show(String(e.data.path), String(e.data.title || ""));
  });
  frame.addEventListener("load", function () {
    try {
      var l = frame.contentWindow.location;
      show(l.pathname + l.search + l.hash, frame.contentDocument && frame.contentDocument.title);
    } catch (e) {}
  });
})();
`
