// Package warc reads and writes WARC/1.1 files and the collection around
// them.
//
//   - Writer writes records as one gzip member each, into files created as
//     ….warc.gz.open and renamed when closed, each starting with a warcinfo
//     record; it hashes blocks as they are written (Builder), spools large
//     ones to disk, and makes the CDXJ line of every indexed record.
//   - Reader reads records one gzip member at a time with their exact
//     offsets and lengths, never holding a block in memory, and reports
//     framing damage as *FormatError; RecordDigester recomputes block and
//     payload digests in the same pass.
//   - RepairOpen cuts a file a crash left open back to its last complete
//     record; Repair salvages the intact records of a damaged file.
//   - SURT, CDXJLine, IndexWARC and IndexLine make CDXJ as pywb and
//     ReplayWeb.page read it.
//   - Collection is the WACZ layout unzipped (archive/, indexes/, pages/,
//     logs/, datapackage.json); PackWACZ zips it into a WACZ 1.1.1 file.
//
// The package knows nothing about crawling.
package warc
