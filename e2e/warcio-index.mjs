// Reads WARC files with warcio, the reader ReplayWeb.page uses, and prints
// one JSON line per file:
//
//   node warcio-index.mjs FILE.warc.gz...
//
//   {"file": "...", "records": 64, "types": {"response": 31, ...},
//    "responses": ["http://...", ...],   // target URI of every response record
//    "cdx": [{"urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset"}, ...],
//    "error": "..."}                      // only if warcio failed
//
// Every record's content is read in full (de-chunked and decoded as warcio
// does for replay), so a framing or encoding error surfaces here. The cdx
// lines are warcio's own index of the file (what `warcio index` writes).
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { WARCParser, CDXIndexer } from "warcio";

async function read(file) {
  const out = { file, records: 0, types: {}, responses: [], cdx: [] };
  try {
    const parser = new WARCParser(createReadStream(file));
    for await (const record of parser) {
      out.records++;
      out.types[record.warcType] = (out.types[record.warcType] || 0) + 1;
      if (record.warcType === "response") {
        out.responses.push(record.warcTargetURI);
      }
      await record.readFully(true);
    }
    const indexer = new CDXIndexer({ noSurt: false });
    const files = [{ filename: basename(file), reader: createReadStream(file) }];
    for await (const cdx of indexer.iterIndex(files)) {
      out.cdx.push(cdx);
    }
  } catch (err) {
    out.error = String(err && err.stack ? err.stack : err);
  }
  return out;
}

let failed = false;
for (const file of process.argv.slice(2)) {
  const result = await read(file);
  if (result.error) failed = true;
  process.stdout.write(JSON.stringify(result) + "\n");
}
process.exit(failed ? 1 : 0);
