// Package extract finds what a fetched document links to: bytes in,
// links out. HTML (HTML, ReadHTML) gives the requisites a browser loads to
// render the page and the links to other pages, read as a browser with
// scripting off reads the markup; CSS (CSS, ReadCSS) the url()s, @imports
// and image-set()s of a style sheet; Sitemap the pages and sitemaps a
// sitemap lists. Nothing here fetches, decides scope or knows a crawl.
package extract
