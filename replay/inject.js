"use strict";
// amber replay's first script in every replayed HTML page (inject.go says
// what it is for). It runs before any script of the page, and again in
// every frame the page makes itself.
(function () {
  var names = ["RTCPeerConnection", "webkitRTCPeerConnection", "mozRTCPeerConnection", "RTCDataChannel",
    "RTCIceTransport", "RTCDtlsTransport", "RTCSctpTransport", "RTCRtpSender", "RTCRtpReceiver",
    "RTCRtpTransceiver", "RTCIceCandidate", "RTCSessionDescription", "RTCCertificate", "RTCRtpScriptTransform"];
  var tag = '__AMBER_INJECT_TAG__';
  // An archival path: /TIMESTAMP[MOD]/URL. A script-built URL already in
  // the archive (relative URLs resolve against the archival URL) is left
  // as it is.
  var archivalPath = /^\/(\d{4,14})([a-z]{2}_)?\/(https?:\/.*)$/i;
  var plain = /^(?:data|blob|javascript|about|mailto|tel|sms|filesystem):/i;

  // URL-valued attributes, as the server rewrites them (rewrite.go).
  var urlAttrs = { src: 1, href: 1, poster: 1, background: 1, action: 1, formaction: 1, lowsrc: 1, icon: 1, "xlink:href": 1,
    "data-src": 1, "data-lazy-src": 1, "data-original": 1, "data-url": 1, "data-bg": 1, "data-background": 1, "data-poster": 1 };
  var srcsetAttrs = { srcset: 1, imagesrcset: 1, "data-srcset": 1, "data-lazy-srcset": 1 };

  function install(w) {
    try {
      if (!w || w.__amberReplay) return;
      Object.defineProperty(w, "__amberReplay", { value: true });
    } catch (e) { return; } // a cross-origin window: the page cannot reach into it either
    for (var i = 0; i < names.length; i++) {
      try { delete w[names[i]]; } catch (e) {}
      try { Object.defineProperty(w, names[i], { value: undefined, writable: false, configurable: false }); } catch (e) {}
    }

    // --- URLs into the archive ---

    // rw returns the archival URL of a URL the page uses: resolved
    // against the page's original URL (the archival URL of its base says
    // which), at the page's timestamp. What loads nothing from a server,
    // and what is in the archive already, is returned as it is.
    function rw(raw) {
      if (raw === null || raw === undefined) return raw;
      var s;
      try { s = String(raw); } catch (e) { return raw; }
      var t = s.trim();
      if (t === "" || t.charAt(0) === "#" || plain.test(t)) return raw;
      var doc = w.document, baseURI = doc && doc.baseURI, here = w.location.origin, b, m;
      try { b = new w.URL(baseURI); } catch (e) { return raw; }
      m = archivalPath.exec(b.pathname + b.search);
      if (!m || b.origin !== here) return raw;
      var abs;
      try { abs = new w.URL(t, baseURI); } catch (e) { return raw; }
      if (abs.origin === here) {
        var p = abs.pathname + abs.search;
        if (archivalPath.test(p) || p.indexOf("/_amber/") === 0) return raw;
      }
      var orig = m[3].replace(/^(https?:)\/(?!\/)/i, "$1//");
      try { abs = new w.URL(t, orig); } catch (e) { return raw; }
      if (abs.protocol !== "http:" && abs.protocol !== "https:") return raw;
      return here + "/" + m[1] + "mp_/" + abs.href;
    }

    // A srcset: each candidate's URL, descriptors and separators kept.
    function rwSrcset(v) {
      if (v === null || v === undefined) return v;
      v = String(v);
      var out = "", i = 0, n = v.length, j, ws = /[\s,]/, sp = /\s/;
      while (i < n) {
        for (j = i; j < n && ws.test(v.charAt(j)); j++);
        out += v.slice(i, j);
        if ((i = j) >= n) break;
        for (j = i; j < n && !sp.test(v.charAt(j)); j++);
        var u = v.slice(i, j), trail = /,+$/.exec(u);
        if (trail) u = u.slice(0, u.length - trail[0].length);
        out += rw(u) + (trail ? trail[0] : "");
        i = j;
        if (trail) continue;
        for (var depth = 0; j < n; j++) {
          var c = v.charAt(j);
          if (c === "(") depth++;
          else if (c === ")") depth--;
          else if (c === "," && depth <= 0) break;
        }
        out += v.slice(i, j);
        i = j;
      }
      return out;
    }

    // CSS text: url() and @import strings.
    var cssURL = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)"'\s]*))\s*\)/gi;
    var cssImport = /(@import\s+)(["'])([^"']*)\2/gi;
    function rwCSS(v) {
      if (v === null || v === undefined || typeof v === "object" && !(v instanceof w.String)) return v;
      v = String(v);
      if (v.indexOf("url(") < 0 && v.indexOf("URL(") < 0 && v.indexOf("@import") < 0) return v;
      return v.replace(cssURL, function (all, dq, sq, bare) {
        var u = dq !== undefined ? dq : sq !== undefined ? sq : bare;
        var r = rw(u);
        return r === u ? all : 'url("' + String(r).replace(/["\\]/g, "\\$&") + '")';
      }).replace(cssImport, function (all, at, q, u) {
        var r = rw(u);
        return r === u ? all : at + q + r + q;
      });
    }

    // Markup (innerHTML, document.write, srcdoc...): the URL attributes
    // of its tags and the text of its <style> elements, by pattern, so
    // that a string written in parts (document.write) is kept as it is
    // everywhere else.
    var tagRe = /<[a-zA-Z][^\s\/>]*(?:\s(?:[^>"']|"[^"]*"|'[^']*')*)?>/g;
    var attrRe = /(\s)([^\s"'>\/=]+)(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)/g;
    var styleRe = /(<style\b[^>]*>)([\s\S]*?)(<\/style)/gi;
    function rwHTML(v) {
      if (v === null || v === undefined) return v;
      try { v = String(v); } catch (e) { return v; }
      if (!/(?:src|href|poster|background|action|data|style|icon)/i.test(v)) return v;
      v = v.replace(tagRe, function (t) {
        var name = /^<([^\s\/>]+)/.exec(t)[1].toLowerCase();
        return t.replace(attrRe, function (all, s, k, eq, val) {
          var key = k.toLowerCase(), q = val.charAt(0), inner = val, f;
          if (q === '"' || q === "'") inner = val.slice(1, -1); else q = "";
          if (urlAttrs[key] || key === "data" && name === "object") f = rw;
          else if (srcsetAttrs[key]) f = rwSrcset;
          else if (key === "style") f = rwCSS;
          else if (key === "srcdoc" && name === "iframe") f = function (d) { return withTag(d); };
          else return all;
          var out = f(inner);
          if (out === inner) return all;
          if (!q) q = '"';
          return s + k + eq + q + String(out).split(q).join(q === '"' ? "&quot;" : "&#39;") + q;
        });
      });
      return v.replace(styleRe, function (all, open, css, close) { return open + rwCSS(css) + close; });
    }
    function withTag(v) {
      v = rwHTML(String(v));
      return v.indexOf(tag) === 0 ? v : tag + v;
    }

    // --- hooks ---

    function sweep() {
      try { for (var i = 0; i < w.length; i++) install(w[i]); } catch (e) {}
    }
    // wrap replaces a method; before may change its arguments.
    function wrap(proto, name, before) {
      var f = proto && proto[name];
      if (typeof f !== "function") return;
      try {
        Object.defineProperty(proto, name, { configurable: false, writable: false, enumerable: false,
          value: function () {
            var args = Array.prototype.slice.call(arguments);
            if (before) { try { before.call(this, args); } catch (e) {} }
            try { return f.apply(this, args); } finally { sweep(); }
          } });
      } catch (e) {}
    }
    function getter(proto, prop, toWindow) {
      var d = proto && Object.getOwnPropertyDescriptor(proto, prop);
      if (!d || !d.get) return;
      var get = d.get;
      try {
        Object.defineProperty(proto, prop, { configurable: false, enumerable: d.enumerable, set: d.set,
          get: function () { var v = get.call(this); try { install(toWindow(v)); } catch (e) {} return v; } });
      } catch (e) {}
    }
    // setter replaces a property's setter; map may change the value.
    function setter(proto, prop, map) {
      var d;
      for (var p = proto; p && !d; p = Object.getPrototypeOf(p)) d = Object.getOwnPropertyDescriptor(p, prop);
      if (!d || !d.set) return;
      var set = d.set;
      try {
        Object.defineProperty(proto, prop, { configurable: false, enumerable: d.enumerable, get: d.get,
          set: function (v) {
            if (map) { try { v = map.call(this, v); } catch (e) {} }
            try { return set.call(this, v); } finally { sweep(); }
          } });
      } catch (e) {}
    }
    // construct wraps a constructor of w; before may change its arguments.
    function construct(name, before) {
      var C = w[name];
      if (typeof C !== "function") return;
      try {
        var P = new w.Proxy(C, {
          construct: function (target, args, nt) {
            args = Array.prototype.slice.call(args);
            try { before(args); } catch (e) {}
            return Reflect.construct(target, args, nt === P ? target : nt);
          },
          apply: function (target, self, args) { return Reflect.apply(target, self, args); }
        });
        Object.defineProperty(w, name, { value: P, writable: true, configurable: true, enumerable: false });
      } catch (e) {}
    }
    var first = function (args) { if (args.length > 0 && !(args[0] instanceof w.Request)) args[0] = rw(args[0]); };
    var same = function (v) { return v; }, view = function (d) { return d && d.defaultView; };
    var rawSetAttr = w.Element.prototype.setAttribute;
    var rawSetAttrNS = w.Element.prototype.setAttributeNS;

    // rewriteAttr gives the archival value of attribute k of element el,
    // or the value as it is.
    function rewriteAttr(el, k, v) {
      k = String(k).toLowerCase();
      var name = el.localName;
      if (k === "srcdoc" && name === "iframe") return withTag(v);
      if (urlAttrs[k] || k === "data" && name === "object") return rw(v);
      if (srcsetAttrs[k]) return rwSrcset(v);
      if (k === "style") return rwCSS(v);
      return v;
    }
    // fix points the URL attributes of el and the elements in it into
    // the archive: those set in ways no hook sees (Attr.value, a node
    // from DOMParser or another document).
    var attrSel = "[src],[href],[srcset],[poster],[data],[action],[style],[background],[imagesrcset],[formaction],style";
    function fixAttr(el, name) {
      var v = el.getAttribute(name);
      if (v === null || String(name).toLowerCase() === "srcdoc") return; // a srcdoc loads this script itself
      var r = rewriteAttr(el, name, v);
      if (r !== v) { try { rawSetAttr.call(el, name, r); } catch (e) {} }
    }
    function fixOne(el) {
      if (!el || el.nodeType !== 1) return;
      var attrs = el.attributes, list = [];
      for (var i = 0; attrs && i < attrs.length; i++) list.push(attrs[i].name);
      for (i = 0; i < list.length; i++) fixAttr(el, list[i]);
      if (el.localName === "style") {
        var css = el.textContent, out = rwCSS(css);
        if (out !== css) el.textContent = out;
      }
    }
    function fix(node) {
      if (!node || (node.nodeType !== 1 && node.nodeType !== 11)) return;
      fixOne(node);
      if (node.querySelectorAll) {
        var all = node.querySelectorAll(attrSel);
        for (var i = 0; i < all.length; i++) fixOne(all[i]);
      }
    }
    var fixArgs = function (args) {
      for (var i = 0; i < args.length; i++) if (args[i] && typeof args[i] === "object") fix(args[i]);
    };

    try {
      [w.HTMLIFrameElement, w.HTMLFrameElement, w.HTMLObjectElement].forEach(function (c) {
        if (!c) return;
        getter(c.prototype, "contentWindow", same);
        getter(c.prototype, "contentDocument", view);
      });

      // Element properties that load something.
      [["HTMLImageElement", "src", rw], ["HTMLImageElement", "srcset", rwSrcset], ["HTMLImageElement", "lowsrc", rw],
        ["HTMLSourceElement", "src", rw], ["HTMLSourceElement", "srcset", rwSrcset],
        ["HTMLScriptElement", "src", rw], ["HTMLLinkElement", "href", rw], ["HTMLLinkElement", "imageSrcset", rwSrcset],
        ["HTMLIFrameElement", "src", rw], ["HTMLFrameElement", "src", rw], ["HTMLEmbedElement", "src", rw],
        ["HTMLObjectElement", "data", rw], ["HTMLMediaElement", "src", rw], ["HTMLVideoElement", "poster", rw],
        ["HTMLTrackElement", "src", rw], ["HTMLInputElement", "src", rw], ["HTMLInputElement", "formAction", rw],
        ["HTMLButtonElement", "formAction", rw], ["HTMLFormElement", "action", rw],
        ["HTMLAnchorElement", "href", rw], ["HTMLAreaElement", "href", rw], ["HTMLBaseElement", "href", rw],
        ["HTMLBodyElement", "background", rw], ["HTMLTableElement", "background", rw],
        ["HTMLIFrameElement", "srcdoc", withTag]].forEach(function (e) {
        var c = w[e[0]];
        if (c) setter(c.prototype, e[1], e[2]);
      });

      // Markup.
      setter(w.Element.prototype, "innerHTML", function (v) {
        var n = this.localName;
        if (n === "script" || n === "textarea" || n === "title" || n === "xmp") return v;
        return n === "style" ? rwCSS(v) : rwHTML(v);
      });
      setter(w.Element.prototype, "outerHTML", rwHTML);
      if (w.ShadowRoot) setter(w.ShadowRoot.prototype, "innerHTML", rwHTML);
      wrap(w.Element.prototype, "insertAdjacentHTML", function (a) { a[1] = rwHTML(a[1]); });
      wrap(w.Element.prototype, "setHTMLUnsafe", function (a) { a[0] = rwHTML(a[0]); });
      if (w.Range) wrap(w.Range.prototype, "createContextualFragment", function (a) { a[0] = rwHTML(a[0]); });
      ["write", "writeln"].forEach(function (n) {
        wrap(w.Document.prototype, n, function (a) { for (var i = 0; i < a.length; i++) a[i] = rwHTML(a[i]); });
      });
      setter(w.Node.prototype, "textContent", function (v) { return this.localName === "style" ? rwCSS(v) : v; });
      setter(w.HTMLElement.prototype, "innerText", function (v) { return this.localName === "style" ? rwCSS(v) : v; });

      // Attributes.
      Object.defineProperty(w.Element.prototype, "setAttribute", { configurable: false, writable: false, enumerable: false,
        value: function (n, v) {
          try { v = rewriteAttr(this, n, v); } catch (e) {}
          try { return rawSetAttr.call(this, n, v); } finally { sweep(); }
        } });
      Object.defineProperty(w.Element.prototype, "setAttributeNS", { configurable: false, writable: false, enumerable: false,
        value: function (ns, n, v) {
          try { v = rewriteAttr(this, String(n).replace(/^.*:/, "") === "href" ? "href" : n, v); } catch (e) {}
          try { return rawSetAttrNS.call(this, ns, n, v); } finally { sweep(); }
        } });

      // Insertions: the nodes are fixed before they are in the page.
      ["appendChild", "insertBefore", "replaceChild"].forEach(function (n) {
        wrap(w.Node.prototype, n, function (a) {
          if (this.localName === "style" && a[0] && a[0].nodeType === 3) a[0].data = rwCSS(a[0].data);
          fixArgs(a);
        });
      });
      ["append", "prepend", "before", "after", "replaceWith", "replaceChildren", "insertAdjacentElement"].forEach(function (n) {
        wrap(w.Element.prototype, n, fixArgs);
      });
      ["append", "prepend", "replaceChildren"].forEach(function (n) {
        wrap(w.Document.prototype, n, fixArgs);
        wrap(w.DocumentFragment.prototype, n, fixArgs);
      });

      // Style from script.
      var style = w.document.documentElement && w.document.documentElement.style;
      var decl = style ? Object.getPrototypeOf(style) : w.CSSStyleDeclaration && w.CSSStyleDeclaration.prototype;
      if (decl) {
        ["background", "backgroundImage", "borderImage", "borderImageSource", "listStyle", "listStyleImage", "content",
          "cursor", "mask", "maskImage", "webkitMaskImage", "webkitMaskBoxImage", "shapeOutside", "filter", "cssText"].forEach(function (p) {
          setter(decl, p, rwCSS);
        });
        wrap(decl, "setProperty", function (a) { a[1] = rwCSS(a[1]); });
      }
      if (w.CSSStyleSheet) {
        wrap(w.CSSStyleSheet.prototype, "insertRule", function (a) { a[0] = rwCSS(a[0]); });
        wrap(w.CSSStyleSheet.prototype, "addRule", function (a) { a[1] = rwCSS(a[1]); });
        wrap(w.CSSStyleSheet.prototype, "replace", function (a) { a[0] = rwCSS(a[0]); });
        wrap(w.CSSStyleSheet.prototype, "replaceSync", function (a) { a[0] = rwCSS(a[0]); });
      }
      construct("FontFace", function (a) { if (typeof a[1] === "string") a[1] = rwCSS(a[1]); });

      // Requests from script.
      var rawFetch = w.fetch;
      if (typeof rawFetch === "function") {
        Object.defineProperty(w, "fetch", { configurable: true, writable: true, enumerable: true,
          value: function fetch(input, init) {
            try {
              if (input instanceof w.Request) {
                var u = rw(input.url);
                if (u !== input.url) input = new w.Request(u, input);
              } else {
                input = rw(input);
              }
            } catch (e) {}
            return rawFetch.call(w, input, init);
          } });
      }
      construct("Request", first);
      wrap(w.XMLHttpRequest && w.XMLHttpRequest.prototype, "open", function (a) { a[1] = rw(a[1]); });
      wrap(w.Navigator && w.Navigator.prototype, "sendBeacon", function (a) { a[0] = rw(a[0]); });
      construct("EventSource", first);
      construct("Audio", first);
      construct("Worker", first);
      construct("SharedWorker", first);
      if (w.ServiceWorkerContainer) {
        // A service worker of an archived page would outlive the replay in
        // the browser's profile and answer for the archive.
        Object.defineProperty(w.ServiceWorkerContainer.prototype, "register", { configurable: false, writable: false,
          value: function () { return Promise.reject(new w.DOMException("amber replay does not run the service workers of archived pages", "SecurityError")); } });
      }
      ["pushState", "replaceState"].forEach(function (n) {
        wrap(w.History.prototype, n, function (a) { if (a.length > 2 && a[2] !== undefined && a[2] !== null) a[2] = rw(a[2]); });
      });

      // Whatever still sets a URL no hook sees is pointed into the archive
      // as soon as it is in the page (its first request, if any, was
      // stopped by the Content-Security-Policy).
      new w.MutationObserver(function (records) {
        for (var i = 0; i < records.length; i++) {
          var r = records[i];
          if (r.type === "attributes") fixAttr(r.target, r.attributeName);
          else for (var j = 0; j < r.addedNodes.length; j++) fix(r.addedNodes[j]);
        }
        sweep();
      }).observe(w.document, { childList: true, subtree: true, attributes: true,
        attributeFilter: ["src", "href", "srcset", "poster", "data", "action", "style", "background", "imagesrcset", "formaction"] });
    } catch (e) {}
    sweep();
  }
  install(window);

  var archival = /^\/(\d{14})[a-z]{2}_\/(.+)$/;
  var direct = window.parent !== window && window.parent === window.top;
  var escaping = { _top: 1, _parent: 1, _blank: 1 };
  // A click on a link to an archived page: the page of the frame asks
  // the top frame to open it as a top frame of its own (so a PDF, which
  // Chromium shows in no sandboxed frame, opens too); a link of a frame
  // further down navigates its frame, also for target=_top or _blank,
  // which the sandbox would block. Clicks the page handles itself
  // (defaultPrevented), with a modifier key or another button are left
  // to the page and the browser.
  window.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    var a = e.target && e.target.closest && e.target.closest("a[href], area[href]");
    if (!a || a.hasAttribute("download")) return;
    var t = String(a.target || "").toLowerCase();
    if (t && t !== "_self" && !escaping[t]) return; // a named frame
    var u;
    try { u = new URL(a.href); } catch (x) { return; }
    if (u.origin !== location.origin) return;
    if (u.hash && u.pathname === location.pathname && u.search === location.search) return; // within the page
    var m = archival.exec(u.pathname + u.search);
    if (direct && m) {
      e.preventDefault();
      try { window.parent.postMessage({ amberReplay: 1, navigate: "/" + m[1] + "/" + m[2] + u.hash }, location.origin); } catch (x) {}
    } else if (escaping[t]) {
      e.preventDefault();
      location.href = a.href;
    }
  });
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f && escaping[String(f.target).toLowerCase()]) f.target = "_self";
  }, true);

  if (direct) {
    var send = function () {
      try {
        window.parent.postMessage({ amberReplay: 1, path: location.pathname + location.search + location.hash, title: document.title }, location.origin);
      } catch (e) {}
    };
    send();
    document.addEventListener("DOMContentLoaded", send);
    window.addEventListener("hashchange", send);
  }
})();
