package replay

import (
	_ "embed"
	"strings"
)

// injectJS (inject.js) runs first in every replayed HTML page, before any
// script of the page, and in every frame the page makes itself.
//
// It points the URLs that the page's scripts build into the archive, as
// pywb's wombat.js does: fetch, Request, XMLHttpRequest, sendBeacon,
// EventSource, Worker and SharedWorker, Audio and FontFace; the URL
// properties of elements (img src and srcset, script src, link href,
// iframe src, media src and poster, source, track, embed, object data,
// links and forms) and setAttribute; markup written by innerHTML,
// outerHTML, insertAdjacentHTML, document.write, srcdoc and
// createContextualFragment; and CSS set from script (element styles,
// cssText, setProperty, <style> text, insertRule and replace). A URL is
// resolved against the page's original URL, not the replay server's
// (fetch("/api/x") is the site's /api/x), and becomes /TIMESTAMPmp_/URL
// at the page's timestamp, so every request the page makes goes to the
// replay server, where the Content-Security-Policy wants it. Whatever no
// hook sees (Attr.value, nodes from a DOMParser) is rewritten by a
// MutationObserver as soon as it is in the page; its first request, if
// it made one, was blocked by the CSP. A page's own service worker is
// refused: it would outlive the replay in the browser's profile.
//
// Why not a service worker, as ReplayWeb.page uses: a request's URL is
// checked against the page's Content-Security-Policy before a service
// worker sees it, so a worker could route requests to other hosts only
// if the CSP let the page reach the live web; and a worker does not see
// the first load, a hard reload (Shift+Reload bypasses it) or a request
// made while it is being replaced. Rewriting in the page keeps every
// request on the replay server under the CSP that already guarantees
// nothing reaches the live web.
//
// It also removes WebRTC, whose STUN and TURN requests no CSP governs in
// the browsers in use (the CSP webrtc directive is unknown to Chromium
// 156), from the page and from every frame the page makes itself:
// about:blank frames get no replayed HTML, so no copy of this script, and
// are reached through window[i], contentWindow and contentDocument, so it
// hooks what inserts elements and sweeps the frames after each insertion
// (and at each parser pause, by a MutationObserver); a srcdoc gets this
// script prepended. It turns target=_top/_parent/_blank links and forms
// to archived pages into navigations of the frame (the sandbox would
// block them), and tells the top frame where the frame is.
//
//go:embed inject.js
var injectSource string

var injectJS = strings.ReplaceAll(injectSource, "__AMBER_INJECT_TAG__", injectTag)
