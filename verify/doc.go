// Package verify checks WARC files and amber collections for damage.
//
// Paths takes collection directories, WARC files and directories of WARC
// files. For every record of every type it checks the framing (version
// line, header syntax, mandatory fields, Content-Length against the block,
// the CRLF CRLF after it, gzip CRC and truncation, one gzip member per
// record, bytes after the last record), the field syntax, and recomputes the
// block digest and the payload digest (warc.RecordDigester): for an HTTP
// message the entity body after removing chunked transfer coding, content
// coding kept, as the WARC specification defines it. All hashes are fed
// from one streaming pass over each file, so memory does not grow with the
// size of a record. A bad digest does not stop a file; framing the reader
// cannot get past (a broken gzip stream) does, and the finding says where.
//
// Checks that need more than one record run once every file has been read,
// on a few words kept per record: a revisit's payload digest must belong to
// a response of its WARC-Refers-To-Target-URI somewhere in the files
// checked (a warning otherwise), and, in a collection, every line of the
// CDXJ index must point at a record at that offset and length with that
// URL, timestamp and digest, and every response and revisit must have one.
//
// A payload digest that matches the body as transmitted, chunk framing
// included (what wget and nlnwa/gowarc write), is reported as a warning, not
// as damage. For a collection, datapackage.json is the fixity manifest: every
// file it lists must exist with its size and sha256, and every file under
// archive/ and indexes/ must be listed; state/ is never looked at.
//
// Results are Findings with a Severity, the file, the offset of the record,
// its WARC-Record-ID and target URI, collected per file in a Report in a
// stable order whatever the parallelism.
package verify
