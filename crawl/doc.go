// Package crawl fetches pages and everything they need to render and
// records every HTTP exchange for the WARC files.
//
// The pieces, in the order a URL meets them:
//
//   - A frontier.Frontier (frontier.Bolt, frontier.Memory, frontier.Redis)
//     holds the queue, where each URL goes queued → leased → done or
//     failed, the seen set keyed by Canonicalize, robots.txt as fetched,
//     the payload-digest index for revisits, and the pages outbox. Run
//     reaches it through frontier.WithRetry, so that a transient error of
//     the store is retried with backoff.
//   - Run's workers (four per request in flight) take their entries from
//     the scheduler, which claims them in batches, as leases that it
//     extends while it holds them (buffered, fetched, awaiting their
//     checkpoint) and releases when the run stops before fetching them;
//     an outcome whose lease was lost is refused by the frontier and
//     counted (Result.LostLeases), never recorded twice. Admission (the
//     filters, caps and trap rules) decides what is queued, the tally
//     counts what was done (Result), fetchLog writes the crawl log. The
//     workers apply robots.txt, and fetch through colly. colly's requests go through
//     hostLimiter — a queue per host served by up to PerHost fetchers, and a
//     bound on requests in flight in all — to the recording capture.Transport.
//   - capture.Transport speaks HTTP/1.1 on its own kept-alive connections and
//     records each exchange at the net.Conn, above TLS and below HTTP
//     parsing, so the response block is the message as received (chunk
//     framing and content encoding intact); it computes the payload digest
//     over the de-chunked body as the bytes stream in.
//   - extract.HTML (on htmlScanner, which finds tags as x/net/html's
//     tokenizer does without tokenizing the text between them) and
//     extract.CSS find requisites (img srcset and lazy variants, CSS imports
//     and fonts, media, frames, SVG sprites...) and links, reading a page as
//     a browser with scripting off does (<noscript> content is markup);
//     Scope, depth and include/exclude filters decide which links are pages
//     to follow. Links and requisites do not block each other in the seen
//     set; the trap guard applies to pages only.
//   - The links a response leads to are durable in the frontier before its
//     records are written (a response, or a revisit when its payload was
//     archived before, and the request); a checkpoint fsyncs the WARC files
//     and only then finishes the URLs. A crashed crawl therefore resumes
//     with nothing lost and nothing stored twice.
//
// The package prints nothing and parses no flags; cmd/amber does.
package crawl
