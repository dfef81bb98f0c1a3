#!/usr/bin/env bash
# Crawl benchmark: `amber archive --scope host` and GNU wget (--warc-file -r
# -l inf -p) on the same synthetic news site (bench/newssite), one after the
# other in one run. See bench/README.md.
#
#   bench/crawl.sh                    # 2,000 articles (~1.1 GB served)
#   ARTICLES=200 bench/crawl.sh       # quick run
#   SEEDS=1 bench/crawl.sh            # the 2,000 article URLs as a seed list
#
# Environment:
#   ARTICLES     number of articles (default 2000)
#   OUT          output directory (default bench/out)
#   TOOLS        which crawlers to run, in order (default "amber wget")
#   SEEDS        1: give the tools the list of article URLs instead of the
#                front page (amber --seeds FILE, wget -i FILE -p), no link
#                followed; completeness is against the articles and what
#                they need
#   AMBER_FLAGS  scope flags for amber (default "--scope host"; with
#                SEEDS=1, none)
#   AMBER_EXTRA  more flags for amber (e.g. "--concurrency 16")
#   CDN_HOST, EXTERNAL_HOST
#                host names in the URLs of the CDN and the external pages
#                (default 127.0.0.1, told apart by port only); "localhost"
#                makes them other hosts to wget too (needs localhost to
#                resolve to 127.0.0.1 only)
#   AMBER_BIN    use this amber binary instead of building ./cmd/amber
#   SAMPLE       missing URLs to list per tool and kind (default 8)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
ARTICLES=${ARTICLES:-2000}
OUT=${OUT:-bench/out}
TOOLS=${TOOLS:-amber wget}
SEEDS=${SEEDS:-0}
if [ "$SEEDS" = 1 ]; then
	AMBER_FLAGS=${AMBER_FLAGS-}
else
	AMBER_FLAGS=${AMBER_FLAGS---scope host}
fi
AMBER_EXTRA=${AMBER_EXTRA:-}
SAMPLE=${SAMPLE:-8}

say() { printf 'crawl.sh: %s\n' "$*" >&2; }

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 1

# Tools from Debian, installed when missing.
command -v wget >/dev/null || (apt-get update && apt-get install -y wget) || { say "cannot install wget"; exit 1; }
[ -x /usr/bin/time ] || (apt-get update && apt-get install -y time) || { say "cannot install time"; exit 1; }

say "building newssite, warcurls and amber"
go build -o "$OUT/newssite-bin" ./bench/newssite || exit 1
go build -o "$OUT/warcurls-bin" ./bench/warcurls || exit 1
amber_built=1
if [ -n "${AMBER_BIN:-}" ]; then
	cp "$AMBER_BIN" "$OUT/amber-bin" || exit 1
elif ! go build -o "$OUT/amber-bin" ./cmd/amber 2>"$OUT/amber-build.log"; then
	amber_built=0
	say "amber does not build (see $OUT/amber-build.log); it is skipped:"
	head -5 "$OUT/amber-build.log" >&2
fi

rm -rf "$OUT/amber" "$OUT/wget"
mkdir -p "$OUT/wget"

say "generating and serving a site of $ARTICLES articles"
seedflag=()
[ "$SEEDS" = 1 ] && seedflag=(-seeds "$OUT/seeds.txt")
"$OUT/newssite-bin" -articles "$ARTICLES" "${seedflag[@]}" -cdn-host "${CDN_HOST:-127.0.0.1}" -external-host "${EXTERNAL_HOST:-127.0.0.1}" -manifest "$OUT/manifest.txt" >"$OUT/newssite.out" 2>"$OUT/newssite.log" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT
for _ in $(seq 600); do
	[ -n "$(sed -n 3p "$OUT/newssite.out" 2>/dev/null)" ] && break
	kill -0 "$SERVER" 2>/dev/null || { say "newssite exited:"; cat "$OUT/newssite.log" >&2; exit 1; }
	sleep 0.2
done
SITE=$(sed -n 1p "$OUT/newssite.out")
EXT=$(awk '$1 == "external" { print $2 }' "$OUT/newssite.out")
[ -n "$SITE" ] || { say "newssite did not start"; exit 1; }
cat "$OUT/newssite.log" >&2
say "site $SITE ($(wc -l <"$OUT/manifest.txt") URLs in the manifest)"
# What each tool is given: the front page, or the article list.
amber_in=("$SITE")
wget_in=(-r -l inf -p "$SITE")
if [ "$SEEDS" = 1 ]; then
	amber_in=(--seeds "$OUT/seeds.txt")
	wget_in=(-p -i "$OUT/seeds.txt")
	say "seeds: $(wc -l <"$OUT/seeds.txt") article URLs in $OUT/seeds.txt"
fi

TICK=$(getconf CLK_TCK)
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }

declare -A R # R[tool.key] = value

# measure TOOL CMD... runs CMD under /usr/bin/time -v and records the numbers.
measure() {
	local tool=$1
	shift
	local t0 t1 rc
	# Start each tool on a quiet machine: what the builds and the previous
	# tool wrote is on disk first, so its writeback is not charged to the
	# next tool's run.
	sync
	sleep 1
	t0=$(server_ticks)
	/usr/bin/time -v -o "$OUT/$tool.time" "$@" >"$OUT/$tool.stdout" 2>"$OUT/$tool.stderr"
	rc=$?
	t1=$(server_ticks)
	R[$tool.rc]=$rc
	R[$tool.server_cpu]=$(awk -v a="$t0" -v b="$t1" -v t="$TICK" 'BEGIN { printf "%.1f", (b - a) / t }')
	R[$tool.wall]=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$OUT/$tool.time")
	R[$tool.cpu]=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$OUT/$tool.time")
	R[$tool.rss]=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$OUT/$tool.time")
}

# completeness TOOL WARC... compares the WARC files with the manifest.
completeness() {
	local tool=$1
	shift
	if [ $# -eq 0 ]; then
		R[$tool.note]="${R[$tool.note]:-}no WARC file written; "
		return
	fi
	R[$tool.warc_bytes]=$(cat "$@" | wc -c)
	"$OUT/warcurls-bin" -manifest "$OUT/manifest.txt" -external "$EXT" -sample "$SAMPLE" "$@" >"$OUT/$tool.completeness" 2>"$OUT/$tool.warcurls.log" ||
		R[$tool.note]="${R[$tool.note]:-}warcurls: $(head -1 "$OUT/$tool.warcurls.log"); "
	local k v
	while read -r k v; do
		case $k in missing_*) ;; *) R[$tool.$k]=$v ;; esac
	done <"$OUT/$tool.completeness"
}

ran=()
for tool in $TOOLS; do
	case $tool in
	amber)
		[ "$amber_built" = 1 ] || { R[amber.note]="did not build"; continue; }
		# shellcheck disable=SC2086 # flags are meant to split
		say "amber archive $AMBER_FLAGS $AMBER_EXTRA -o $OUT/amber ${amber_in[*]}"
		# shellcheck disable=SC2086
		measure amber "$OUT/amber-bin" archive $AMBER_FLAGS $AMBER_EXTRA -o "$OUT/amber" "${amber_in[@]}"
		if [ "${R[amber.rc]}" = 2 ] && grep -qi 'unknown flag\|unknown shorthand' "$OUT/amber.stderr"; then
			say "amber does not know a flag yet: $(grep -i -m1 'unknown' "$OUT/amber.stderr")"
			say "(run with AMBER_FLAGS= to measure amber's default page scope instead)"
			R[amber.note]="unknown flag in '$AMBER_FLAGS'"
			continue
		fi
		[ "${R[amber.rc]}" = 0 ] || say "amber exited with ${R[amber.rc]}: $(tail -3 "$OUT/amber.stderr" | tr '\n' ' ')"
		shopt -s nullglob
		completeness amber "$OUT"/amber/archive/*.warc.gz "$OUT"/amber/archive/*.warc
		shopt -u nullglob
		ran+=(amber)
		;;
	wget)
		say "wget --warc-file=$OUT/wget/site ${wget_in[*]} --no-verbose -e robots=on --directory-prefix=$OUT/wget/files"
		measure wget wget --warc-file="$OUT/wget/site" "${wget_in[@]}" --no-verbose -e robots=on \
			--directory-prefix="$OUT/wget/files"
		# wget exits with 8 when a server answered with an error status.
		case ${R[wget.rc]} in 0 | 8) ;; *) say "wget exited with ${R[wget.rc]}: $(tail -3 "$OUT/wget.stderr" | tr '\n' ' ')" ;; esac
		shopt -s nullglob
		completeness wget "$OUT"/wget/*.warc.gz
		shopt -u nullglob
		ran+=(wget)
		;;
	*) say "unknown tool $tool (TOOLS is amber and/or wget)" ;;
	esac
done

pct() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else printf "-" }'; }
div() { awk -v a="${1:-0}" -v b="${2:-0}" -v f="${3:-%.1f}" 'BEGIN { if (b > 0) printf f, a / b; else printf "-" }'; }

{
	echo
	mode="the site from its front page"
	[ "$SEEDS" = 1 ] && mode="the $ARTICLES article URLs as seeds"
	echo "crawl benchmark: $mode; $ARTICLES articles, $(wc -l <"$OUT/manifest.txt") URLs in the manifest, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "site: $(sed 's/^newssite: //' "$OUT/newssite.log" | head -1)"
	echo
	printf '%-6s %5s %8s %7s %8s %9s %7s %8s %8s %8s %7s %8s\n' \
		tool exit wall_s cpu_s rss_MB warc_MB MB/s pages/s pages% res% extpg srv_cpu
	for tool in "${ran[@]}"; do
		warc_mb=$(div "${R[$tool.warc_bytes]:-0}" 1000000 %.1f)
		printf '%-6s %5s %8s %7s %8s %9s %7s %8s %8s %8s %7s %8s\n' "$tool" "${R[$tool.rc]}" "${R[$tool.wall]}" \
			"${R[$tool.cpu]}" "${R[$tool.rss]}" "$warc_mb" \
			"$(div "$warc_mb" "${R[$tool.wall]}")" "$(div "${R[$tool.pages_found]:-0}" "${R[$tool.wall]}")" \
			"$(pct "${R[$tool.pages_found]:-0}" "${R[$tool.pages_total]:-0}")" \
			"$(pct "${R[$tool.resources_found]:-0}" "${R[$tool.resources_total]:-0}")" \
			"${R[$tool.external]:--}" "${R[$tool.server_cpu]}"
	done
	for tool in $TOOLS; do
		[ -n "${R[$tool.note]:-}" ] && echo "$tool: ${R[$tool.note]}"
	done
	echo
	if [[ " ${ran[*]} " == *" amber "* && " ${ran[*]} " == *" wget "* ]]; then
		echo "amber/wget wall time: $(div "${R[amber.wall]}" "${R[wget.wall]}" %.3f) (amber at $(div "${R[wget.wall]}" "${R[amber.wall]}" %.2f)x wget's speed)"
	else
		echo "amber/wget wall time: - (needs both runs)"
	fi
	echo "(pages% / res%: share of the manifest's pages / resources with a response record in the tool's WARC;"
	echo " extpg: responses from the external host, which a host-scoped crawl must not fetch; srv_cpu: newssite CPU s during the run)"
	for tool in "${ran[@]}"; do
		[ -s "$OUT/$tool.completeness" ] || continue
		if grep -q '^missing_' "$OUT/$tool.completeness"; then
			echo
			echo "$tool: missing ($((${R[$tool.pages_total]:-0} - ${R[$tool.pages_found]:-0})) pages, $((${R[$tool.resources_total]:-0} - ${R[$tool.resources_found]:-0})) resources), a sample:"
			grep '^missing_' "$OUT/$tool.completeness" | sed 's/^missing_/  /'
		fi
	done
} | tee "$OUT/results.txt"
