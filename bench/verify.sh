#!/usr/bin/env bash
# Verify benchmark: amber verify against the bare pipeline (gunzip + block
# sha1 + payload sha1, one goroutine) and against nlnwa/gowarc and
# internetarchive/gowarc read-and-validate loops, on two generated WARC
# files of mixed HTML and images, in one run. See bench/verify/README.md.
#
#   bench/verify.sh                  # two files of ~1 GB each
#   SIZE=200000000 bench/verify.sh   # quick run, ~200 MB each
#
# Environment:
#   SIZE       bytes of each generated file (default 1073741824)
#   REPEAT     runs of each measurement; the best counts (default 3)
#   OUT        output directory (default bench/out/verify)
#   PEERS      0 to skip nlnwa/gowarc and internetarchive/gowarc
#   AMBER_BIN  use this amber binary instead of building ./cmd/amber
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SIZE=${SIZE:-1073741824}
REPEAT=${REPEAT:-3}
OUT=${OUT:-bench/out/verify}
PEERS=${PEERS:-1}

say() { printf 'verify.sh: %s\n' "$*" >&2; }

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
[ -x /usr/bin/time ] || (apt-get update && apt-get install -y time) || { say "cannot install time"; exit 1; }

say "building amber and the benchmark program"
if [ -n "${AMBER_BIN:-}" ]; then
	cp "$AMBER_BIN" "$OUT/amber-bin"
else
	go build -o "$OUT/amber-bin" ./cmd/amber
fi
# The benchmark is a module of its own: the peers' dependencies stay out of
# amber's go.mod.
(cd bench/verify && go build -o "$OUT/verifybench" .)

# The generated files are kept and reused while SIZE and the generator are
# the same.
stamp="$SIZE $(cat bench/verify/gen.go | sha256sum | cut -c1-16)"
for seed in 1 2; do
	f="$OUT/bench-$seed.warc.gz"
	if [ ! -f "$f" ] || [ "$(cat "$f.stamp" 2>/dev/null)" != "$stamp" ]; then
		say "generating $f"
		"$OUT/verifybench" gen -o "$f" -size "$SIZE" -seed "$seed"
		echo "$stamp" >"$f.stamp"
	fi
done

peers=true
[ "$PEERS" = 0 ] && peers=false
say "measuring (each run $REPEAT times, interleaved)"
"$OUT/verifybench" run -amber "$OUT/amber-bin" -repeat "$REPEAT" -peers="$peers" \
	"$OUT/bench-1.warc.gz" "$OUT/bench-2.warc.gz" | tee "$OUT/results.txt"
