// Checks CDXJ lines against the WARC files they index, with warcio (the
// reader ReplayWeb.page is built on), as a replay tool uses them:
//
//   node warcio-lines.mjs LINES.json
//
// LINES.json: [{"file": "...", "lines": ["KEY TS {JSON}", ...]}, ...].
// For each line: it must split into key, timestamp and a JSON object that
// JSON.parse reads, with url, offset and length; the bytes [offset,
// offset+length) of the file, read alone, must start a gzip member or a
// WARC/ version line and hold one record whose
// WARC-Target-URI is the line's url. Prints one JSON line per problem and
// a summary line {"checked": N}.
import { readFileSync } from "node:fs";
import { WARCParser } from "warcio";

const files = JSON.parse(readFileSync(process.argv[2], "utf8"));
let checked = 0;
const problem = (p) => process.stdout.write(JSON.stringify(p) + "\n");
for (const { file, lines } of files) {
  const data = readFileSync(file);
  for (const line of lines || []) {
    const m = /^(\S+) (\d{14}) (\{.*\})$/.exec(line);
    if (!m) {
      problem({ file, line, error: "does not split into key, timestamp and JSON" });
      continue;
    }
    let obj;
    try {
      obj = JSON.parse(m[3]);
    } catch (e) {
      problem({ file, line, error: "JSON: " + e });
      continue;
    }
    const offset = Number(obj.offset), length = Number(obj.length);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || length <= 0) {
      problem({ file, line, error: "no offset and length" });
      continue;
    }
    const start = data.subarray(offset, offset + 5);
    if (!(start[0] === 0x1f && start[1] === 0x8b) && start.toString("latin1") !== "WARC/") {
      problem({ file, line, error: "offset is not the start of a record (a gzip member or a WARC/ line)" });
      continue;
    }
    try {
      const parser = new WARCParser([data.subarray(offset, offset + length)]);
      const rec = await parser.parse();
      if (!rec) throw new Error("no record there");
      await rec.readFully(false);
      if (rec.warcTargetURI !== obj.url) {
        throw new Error(`record of ${rec.warcTargetURI}`);
      }
    } catch (e) {
      problem({ file, line, error: String(e) });
      continue;
    }
    checked++;
  }
}
process.stdout.write(JSON.stringify({ checked }) + "\n");
