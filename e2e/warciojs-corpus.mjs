// Writes the warcio.js part of amber's corpus of archives other tools
// wrote (testdata/others), with warcio.js's own record builder and
// serializer, as a browser-based crawler built on it writes them:
//
//   node e2e/warciojs-corpus.mjs testdata/others
//
// Dates and record ids are fixed, so the files come out the same each time
// (gzip output may differ between zlib versions; the records do not).
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { WARCRecord, WARCSerializer } from "warcio";

const enc = new TextEncoder();
let n = 0;
const id = () => `<urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, "0")}>`;

async function* body(s) {
  yield typeof s === "string" ? enc.encode(s) : s;
}

function record(opts, payload) {
  opts.warcHeaders = { "WARC-Record-ID": id(), ...(opts.warcHeaders || {}) };
  return WARCRecord.create(opts, body(payload));
}

const page = `<!doctype html><title>warcio.js page</title>
<form method=post action="/search"><input name=q value=amber></form>
<p>Archived by warcio.js.</p>`;
const results = `<!doctype html><title>results</title><p>3 results for amber</p>`;
const api = `{"items":[{"title":"found by POST"}]}`;

function base32(buf) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

// The payload digest of the page, in the form the serializer writes, for
// the revisit (warcio.js leaves a revisit's digest to its caller).
function pageDigest(opts) {
  if (opts.digest?.algo === "sha-1") {
    return "sha1:" + base32(createHash("sha1").update(page).digest());
  }
  return "sha256:" + createHash("sha256").update(page).digest("hex");
}

// The records a browser-based crawler writes for one page, a form POST and
// an XHR POST, a screenshot-like resource, a revisit and a metadata record.
function records(version, opts) {
  const date = "2026-12-01T10:00:00Z";
  const url = "https://warcio.example/";
  const rec = (o, p) => record({ warcVersion: version, date, ...o }, p);
  return [
    WARCRecord.createWARCInfo({ filename: "warciojs", warcVersion: version, date, warcHeaders: { "WARC-Record-ID": id() } },
      { software: "warcio.js", format: `WARC File Format ${version.slice(5)}` }),
    rec({ url, type: "response", httpHeaders: { "Content-Type": "text/html; charset=utf-8", "Content-Length": String(enc.encode(page).length) } }, page),
    rec({ url, type: "request", statusline: "GET / HTTP/1.1", httpHeaders: { Host: "warcio.example" } }, ""),
    rec({ url: url + "search", type: "request", statusline: "POST /search HTTP/1.1",
      httpHeaders: { Host: "warcio.example", "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "8" } }, "q=amber&"),
    rec({ url: url + "search", type: "response", httpHeaders: { "Content-Type": "text/html", "Content-Length": String(results.length) } }, results),
    rec({ url: url + "api/items", type: "response", httpHeaders: { "Content-Type": "application/json", "Content-Length": String(api.length) } }, api),
    rec({ url: url + "api/items", type: "request", statusline: "POST /api/items HTTP/1.1",
      httpHeaders: { Host: "warcio.example", "Content-Type": "application/json" } }, '{"query":"amber","page":1}'),
    rec({ url: "urn:text:" + url, type: "resource", warcHeaders: { "Content-Type": "text/plain" } }, "warcio.js page Archived by warcio.js."),
    rec({ url: url + "again", type: "revisit", refersToUrl: url, refersToDate: date,
      warcHeaders: { "WARC-Payload-Digest": pageDigest(opts) }, httpHeaders: { "Content-Type": "text/html; charset=utf-8" } }, ""),
    rec({ url, type: "metadata", warcHeaders: { "Content-Type": "application/json" } }, '{"note":"metadata by warcio.js"}'),
  ];
}

async function write(file, version, opts) {
  const parts = [];
  n = 0;
  for (const r of records(version, opts)) {
    parts.push(await WARCSerializer.serialize(r, opts));
  }
  writeFileSync(file, Buffer.concat(parts.map((p) => Buffer.from(p))));
}

const dir = process.argv[2] || ".";
// warcio.js's defaults: WARC/1.0, sha256 digests in hex with the sha256: label.
await write(join(dir, "warciojs-post-sha256.warc.gz"), "WARC/1.0", { gzip: true });
// The other digest form it writes: sha1, base32, WARC/1.1, uncompressed.
await write(join(dir, "warciojs-sha1-plain.warc"), "WARC/1.1", { gzip: false, digest: { algo: "sha-1", prefix: "sha1:", base32: true } });
