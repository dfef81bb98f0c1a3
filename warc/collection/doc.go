// Package collection opens, recovers and finishes collection directories:
// the WACZ layout, unzipped, that amber archive writes into (see
// warc.Collection for the files).
//
// A run into a collection goes Open → Recover → (write WARC files) →
// Finish:
//
//   - Recover puts right what a run that died (SIGKILL, a crash, a power
//     cut) left behind, before a new run writes anything: temporary files
//     no process holds, WARC files still named .open (cut back to their
//     last complete record), WARC files the dead run closed but did not
//     list (indexed, their URLs and digests handed to the crawl state, their
//     pages listed), and an index or a page list that is missing (rebuilt
//     from the WARC files).
//   - Finish adds the run's index lines to indexes/index.cdxj, lists the
//     pages of the crawl state's pages outbox in pages/pages.jsonl, and
//     rewrites datapackage.json; the outbox is cleared only once both are
//     on disk, so a crash anywhere in Finish loses no page.
//
// IsPage is the one rule for what is a page (a line of pages.jsonl); the
// crawl, recovery and the replay server's fallback all use it.
//
// The package knows nothing of crawling: what it needs of the crawl state
// is the State interface (crawl.CollectionState adapts a frontier).
package collection
