#!/usr/bin/env bash
# Browser-mode benchmark: `amber archive --scope host` on the synthetic news
# site (bench/newssite), in HTTP mode and then with --browser, one after
# the other in one run. Prints pages per minute, the responses archived,
# amber's peak RSS (VmHWM of the amber process alone) and Chromium's peak
# memory (the largest sum of VmRSS over its processes seen by a sampler
# every 0.2 s; shared pages count once per process, so it is an upper
# bound), and runs amber verify on both collections.
#
#   bench/browser.sh                   # 200 articles
#   ARTICLES=20 bench/browser.sh       # quick run
#
# Environment:
#   ARTICLES     number of articles (default 200)
#   OUT          output directory (default bench/out/browser)
#   AMBER_EXTRA    more flags for both runs
#   BROWSER_EXTRA  more flags for the --browser run (e.g. "--browsers 2")
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
ARTICLES=${ARTICLES:-200}
OUT=${OUT:-bench/out/browser}
AMBER_EXTRA=${AMBER_EXTRA:-}
BROWSER_EXTRA=${BROWSER_EXTRA:-}

say() { printf 'browser.sh: %s\n' "$*" >&2; }

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 1
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null ||
	{ say "no Chromium on PATH (apt-get install chromium)"; exit 1; }

say "building newssite and amber"
go build -o "$OUT/newssite-bin" ./bench/newssite || exit 1
go build -o "$OUT/amber-bin" ./cmd/amber || exit 1
rm -rf "$OUT/http" "$OUT/browser"

"$OUT/newssite-bin" -articles "$ARTICLES" >"$OUT/newssite.out" 2>"$OUT/newssite.log" &
SERVER=$!
SAMPLER=
cleanup() {
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	kill "$SERVER" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
for _ in $(seq 600); do
	[ -n "$(sed -n 1p "$OUT/newssite.out" 2>/dev/null)" ] && break
	kill -0 "$SERVER" 2>/dev/null || { say "newssite exited:"; cat "$OUT/newssite.log" >&2; exit 1; }
	sleep 0.2
done
SITE=$(sed -n 1p "$OUT/newssite.out")
say "site $SITE, $ARTICLES articles"

# sample PID FILE TMP: until PID ends, writes "amber_hwm_kb
# chromium_peak_kb" to FILE (Chromium: the processes whose command line
# names a profile in TMP, the run's own TMPDIR).
sample() {
	local pid=$1 file=$2 hwm=0 peak=0 sum p h
	while kill -0 "$pid" 2>/dev/null; do
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ -n "$h" ] && hwm=$h
		sum=0
		for p in $(pgrep -f "$3/amber-chromium-" 2>/dev/null); do
			r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
			[ -n "$r" ] && sum=$((sum + r))
		done
		[ "$sum" -gt "$peak" ] && peak=$sum
		echo "$hwm $peak" >"$file"
		sleep 0.2
	done
}

run() {
	local name=$1
	shift
	local t0 t1 rc
	mkdir -p "$OUT/tmp-$name"
	t0=$(date +%s.%N)
	TMPDIR="$OUT/tmp-$name" "$OUT/amber-bin" archive -q --json --scope host $AMBER_EXTRA "$@" -o "$OUT/$name" "$SITE" >"$OUT/$name.json" 2>"$OUT/$name.stderr" &
	local pid=$!
	sample "$pid" "$OUT/$name.mem" "$OUT/tmp-$name" &
	SAMPLER=$!
	wait "$pid"
	rc=$?
	t1=$(date +%s.%N)
	wait "$SAMPLER" 2>/dev/null
	SAMPLER=
	local pages responses
	pages=$(sed -n 's/.*"pages": *\([0-9][0-9]*\).*/\1/p' "$OUT/$name.json" | head -1)
	responses=$(sed -n 's/.*"responses": *\([0-9][0-9]*\).*/\1/p' "$OUT/$name.json" | head -1)
	read -r hwm peak <"$OUT/$name.mem"
	"$OUT/amber-bin" verify -q "$OUT/$name" >/dev/null 2>"$OUT/$name.verify"
	local vrc=$?
	awk -v n="$name" -v rc="$rc" -v t0="$t0" -v t1="$t1" -v p="${pages:-0}" -v r="${responses:-0}" -v h="$hwm" -v c="$peak" -v v="$vrc" 'BEGIN {
		s = t1 - t0
		printf "%-8s exit %d  %4d pages  %6d responses  %7.1f s  %6.1f pages/min  amber peak RSS %5.0f MiB  Chromium peak %5.0f MiB  verify exit %d\n",
			n, rc, p, r, s, p * 60 / s, h / 1024, c / 1024, v }'
}

run http
run browser --browser $BROWSER_EXTRA
