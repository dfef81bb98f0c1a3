// Package verify checks WARC files and amber collections for damage.
//
// Paths takes collection directories, WARC files and directories of WARC
// files. For every WARC record it checks the framing (version line, header
// syntax, Content-Length against the block, the CRLF CRLF after it, one gzip
// member per record, gzip CRC and truncation, bytes after the last record),
// the mandatory fields, and recomputes the block digest and, for HTTP request
// and response records, the payload digest: the hash of the entity body after
// removing chunked transfer encoding, content encoding kept, as the WARC
// specification defines it. All hashes are fed from one streaming pass over
// each block, so memory does not grow with the size of a record.
//
// A payload digest that matches the body as transmitted, chunk framing
// included (what wget and nlnwa/gowarc write), is reported as a warning, not
// as damage. For a collection, datapackage.json is the fixity manifest: every
// file it lists must exist with its size and sha256, and every file under
// archive/ and indexes/ must be listed.
//
// Results are Findings with a Severity, the file, the offset of the record
// and its WARC-Record-ID, collected per file in a Report in a stable order
// whatever the parallelism.
package verify
