// Package browser drives headless Chromium (through
// github.com/chromedp/chromedp, over a DevTools pipe, not a port) to load
// pages whose content scripts assemble, for amber's browser mode.
//
// A Pool runs up to Options.Browsers Chromium processes, each started
// when first needed with a profile directory of its own (removed when it
// ends), in a process group of its own, and with every request sent to
// Options.Proxy — loopback addresses included — whose certificates it
// trusts through Options.TrustSPKI alone (see package proxy). Nothing is
// read from DevTools but the page's state: the bytes of every exchange
// are the proxy's.
//
// Capture loads one page in a new tab: it waits for the load event and
// for the network to go quiet (no request in flight, by DevTools network
// events, for Options.QuietTime), scrolls to the bottom one viewport at a
// time waiting for quiet after each step (lazy loaders need the time),
// waits again, all within Options.PageTimeout, and then scrolls back to
// the top and returns a Page: the final URL, title and rendered text, the
// rendered DOM's links and requisites (srcset candidates, computed CSS
// background images, same-origin frames included), the URLs the page
// requested, and a PNG screenshot of the viewport.
//
// A browser that dies (its process, its DevTools connection, or the
// page's renderer) or stops answering for Options.CommandTimeout is
// killed — its process group, and any process left with its profile —
// and replaced; the page is tried once more and then fails with a
// *PageError wrapping ErrCrashed or ErrHung. A navigation error
// (*chromedp.LoadError, such as net::ERR_CONNECTION_REFUSED) is the
// page's and is not retried.
package browser
