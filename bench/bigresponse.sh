#!/usr/bin/env bash
# Bounded memory: amber archives one page whose video is SIZE bytes (1 GiB
# by default), once with a Content-Length and once chunked, generated on the
# fly by bench/bigsite. Prints amber's peak RSS, the time, and whether the
# payload digests recorded for them (as indexed) match the bytes the server
# sent; then runs amber verify, which recomputes every digest from the WARC.
#
#   bench/bigresponse.sh            # 1 GiB
#   SIZE=104857600 bench/bigresponse.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1073741824}
OUT=${OUT:-bench/out/big}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
rm -rf "$OUT" && mkdir -p "$OUT"
go build -o "$OUT/amber" ./cmd/amber
go build -o "$OUT/bigsite" ./bench/bigsite
"$OUT/bigsite" -size "$SIZE" >"$OUT/site.url" 2>"$OUT/site.log" &
SITE_PID=$!
trap 'kill $SITE_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/site.url" ] && break; sleep 0.1; done
URL=$(head -1 "$OUT/site.url")

/usr/bin/time -v "$OUT/amber" archive -q --no-dedup -o "$OUT/coll" "$URL" 2>"$OUT/time.txt" || { cat "$OUT/time.txt"; exit 1; }
rss_kb=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$OUT/time.txt")
wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$OUT/time.txt")
echo "response size: $SIZE bytes (x2: Content-Length and chunked)"
echo "amber peak RSS: $((rss_kb / 1024)) MB, wall time $wall"

sent=$(sort -u "$OUT/site.log")
ok=1
while read -r path digest; do
  got=$(grep -F "\"url\": \"${URL%/}$path\"" "$OUT/coll/indexes/index.cdxj" | sed 's/.*"digest": "\([^"]*\)".*/\1/')
  if [ "$got" = "$digest" ]; then echo "payload digest of $path: $got (matches what the server sent)"; else echo "MISMATCH for $path: server $digest, WARC $got"; ok=0; fi
done <<<"$sent"
"$OUT/amber" verify "$OUT/coll" | tail -1
[ $ok = 1 ]
