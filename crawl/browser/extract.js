// Run by finish (page.go) after the behaviour: scrolls back to the top for
// the screenshot and returns the rendered DOM's URLs, title and text.
(async () => {
  window.scrollTo(0, 0);
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const links = [], requisites = [], srcsets = [];
  const MAX_ELEMENTS = 50000; // computed-style reads per document
  const abs = (list, value, base) => {
    if (!value) return;
    try {
      const u = new URL(value, base);
      if (u.protocol === 'http:' || u.protocol === 'https:') {
        u.hash = '';
        list.push(u.href);
      }
    } catch (e) {}
  };
  const linkRels = /\b(canonical|next|prev|alternate|prerender)\b/i;
  const cssURL = /url\(\s*(['"]?)(.*?)\1\s*\)/g;
  const walk = (doc, depth) => {
    const base = doc.baseURI;
    const attr = (sel, name, list) => {
      for (const el of doc.querySelectorAll(sel)) abs(list, el.getAttribute(name), base);
    };
    attr('a[href], area[href]', 'href', links);
    for (const el of doc.querySelectorAll('link[href]')) {
      abs(linkRels.test(el.rel) && !/stylesheet|icon/i.test(el.rel) ? links : requisites, el.getAttribute('href'), base);
      if (el.getAttribute('imagesrcset')) srcsets.push([base, el.getAttribute('imagesrcset')]);
    }
    for (const img of doc.querySelectorAll('img')) {
      abs(requisites, img.currentSrc, base);
      abs(requisites, img.getAttribute('src'), base);
      if (img.getAttribute('srcset')) srcsets.push([base, img.getAttribute('srcset')]);
    }
    for (const s of doc.querySelectorAll('source[srcset]')) srcsets.push([base, s.getAttribute('srcset')]);
    attr('script[src], iframe[src], frame[src], embed[src], source[src], video[src], audio[src], track[src], input[type=image][src]', 'src', requisites);
    attr('video[poster]', 'poster', requisites);
    attr('object[data]', 'data', requisites);
    const all = doc.querySelectorAll('*');
    const view = doc.defaultView;
    for (let i = 0; view && i < all.length && i < MAX_ELEMENTS; i++) {
      const bg = view.getComputedStyle(all[i]).backgroundImage;
      if (bg && bg !== 'none') for (const m of bg.matchAll(cssURL)) abs(requisites, m[2], base);
    }
    if (depth < 5) {
      for (const f of doc.querySelectorAll('iframe, frame')) {
        let inner = null;
        try { inner = f.contentDocument; } catch (e) {} // another origin
        if (inner && inner.documentElement) {
          abs(requisites, inner.location.href, base);
          walk(inner, depth + 1);
        }
      }
    }
  };
  walk(document, 0);
  const text = document.body ? document.body.innerText : '';
  return {
    url: location.href,
    title: document.title,
    text: text.length > 4194304 ? text.slice(0, 4194304) : text,
    links, requisites, srcsets,
  };
})()
