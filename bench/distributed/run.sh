#!/usr/bin/env bash
# Distributed-crawl benchmark: one latency-bound site (many hosts on
# loopback addresses, a fixed delay per response, small pages) crawled by
# 1, 2 and 4 amber workers sharing one redis-server, and by one worker on
# the embedded bbolt state. See bench/distributed/README.md.
#
#   bench/distributed/run.sh                           # 32 hosts x 25 chains x 10 pages (~4-5 min)
#   HOSTS=8 CHAINS=5 DEPTH=4 bench/distributed/run.sh  # quick run (~30 s)
#
# Environment:
#   HOSTS, CHAINS, DEPTH   the site: hosts, seeds per host, pages per seed's chain
#   DELAY, BODY            delay before every response (50ms), filler bytes per page (1500)
#   CONCURRENCY, PER_HOST  amber --concurrency (8) and --per-host (2) of every worker
#   RUNS                   which crawls, in order (default "bbolt 1 2 4": a number is
#                          that many workers on Redis)
#   MEMORY                 1 (default): then a crawl by MEM_WORKERS (4) workers seeded with
#                          every page, held at the server until seeding is done, for Redis
#                          memory per queued and per finished URL and the split of commands
#                          into round trips and commands run inside scripts (MONITOR)
#   PROFILE                1: every worker writes a CPU profile (OUT/RUN/wN.prof)
#   AMBER_BIN              use this amber binary instead of building ./cmd/amber
#   AMBER_EXTRA            more flags for every worker
#   OUT                    output directory (default bench/out/distributed)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
HOSTS=${HOSTS:-32}
CHAINS=${CHAINS:-25}
DEPTH=${DEPTH:-10}
DELAY=${DELAY:-50ms}
BODY=${BODY:-1500}
CONCURRENCY=${CONCURRENCY:-8}
PER_HOST=${PER_HOST:-2}
RUNS=${RUNS:-bbolt 1 2 4}
MEMORY=${MEMORY:-1}
MEM_WORKERS=${MEM_WORKERS:-4}
PROFILE=${PROFILE:-0}
AMBER_EXTRA=${AMBER_EXTRA:-}
OUT=${OUT:-bench/out/distributed}

say() { printf 'distributed: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 1
command -v redis-server >/dev/null || (apt-get update && apt-get install -y redis-server) || die "cannot install redis-server"
[ -x /usr/bin/time ] || (apt-get update && apt-get install -y time) || die "cannot install time"
command -v curl >/dev/null || (apt-get update && apt-get install -y curl) || die "cannot install curl"

say "building the site and amber"
go build -o "$OUT/site-bin" ./bench/distributed/site || exit 1
if [ -n "${AMBER_BIN:-}" ]; then
	cp "$AMBER_BIN" "$OUT/amber-bin" || exit 1
else
	go build -o "$OUT/amber-bin" ./cmd/amber || exit 1
fi
AMBER=$OUT/amber-bin

SITE_PID=
REDIS_PID=
MON_PID=
cleanup() {
	# Only what this script started, by PID.
	[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null
	[ -n "$SITE_PID" ] && kill "$SITE_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$OUT/site-bin" -hosts "$HOSTS" -seeds-per-host "$CHAINS" -depth "$DEPTH" -delay "$DELAY" -body "$BODY" \
	-seeds "$OUT/seeds.txt" -all "$OUT/all.txt" >"$OUT/site.out" 2>"$OUT/site.log" &
SITE_PID=$!
for _ in $(seq 100); do
	[ -n "$(sed -n 4p "$OUT/site.out" 2>/dev/null)" ] && break
	kill -0 "$SITE_PID" 2>/dev/null || die "the site exited: $(cat "$OUT/site.log")"
	sleep 0.1
done
CTL=$(awk '$1 == "control" { print $2 }' "$OUT/site.out")
[ -n "$CTL" ] || die "the site did not start"
PAGES=$(awk '$1 == "pages" { print $2 }' "$OUT/site.out")
say "site: $HOSTS hosts, $PAGES pages ($(wc -l <"$OUT/seeds.txt") seeds), $DELAY a response"

# redis-server on a free 127.0.0.1 port (a port taken meanwhile: try another).
mkdir -p "$OUT/redis"
for _ in $(seq 20); do
	RPORT=$((20000 + RANDOM % 40000))
	rm -rf "$OUT/redis/appendonlydir" "$OUT/redis/"*.aof
	redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$OUT/redis" --appendonly yes --appendfsync everysec \
		--save "" --protected-mode yes --daemonize no >"$OUT/redis/log" 2>&1 &
	REDIS_PID=$!
	up=0
	for _ in $(seq 50); do
		kill -0 "$REDIS_PID" 2>/dev/null || break
		# Ours, not another redis-server that had the port already: this
		# script runs FLUSHALL.
		if [ "$(redis-cli -p "$RPORT" info server 2>/dev/null | awk -F: '$1 == "process_id" { print $2 + 0 }')" = "$REDIS_PID" ]; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ "$up" = 1 ] && break
	kill "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
done
[ -n "$REDIS_PID" ] || die "redis-server did not start: $(tail -3 "$OUT/redis/log")"
STATE=redis://127.0.0.1:$RPORT/0
say "redis-server $(redis-server --version | awk '{ print $3 }') on 127.0.0.1:$RPORT (pid $REDIS_PID, appendonly)"
rcli() { redis-cli -p "$RPORT" "$@"; }

# info FILE KEY prints the value of KEY in an INFO dump.
info() { awk -F: -v k="$2" '$1 == k { sub(/\r$/, "", $2); print $2 }' "$1"; }
# calls FILE CMD prints the calls of CMD in an INFO commandstats dump.
calls() { awk -F'[:=,]' -v k="cmdstat_$2" '$1 == k { v = $3 } END { print v + 0 }' "$1"; }
# mem FILE: used_memory of an INFO dump less the clients' buffers
# (the workers' connections, MONITOR) and the AOF buffer held at that moment.
mem() { echo $(($(info "$1" used_memory) - $(info "$1" mem_clients_normal) - $(info "$1" mem_aof_buffer))); }
stat() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

declare -A R # R[run.key]
ran=()

# crawl NAME WORKERS STATE SEEDS [SCOPE] starts WORKERS workers together
# (bbolt: STATE empty) and waits for them.
crawl() {
	local name=$1 n=$2 state=$3 seeds=$4 scope=${5:-host} dir=$OUT/$1 i t0 t1 rc=0
	local -a pids=() sflags=()
	rm -rf "$dir"
	mkdir -p "$dir"
	[ -n "$state" ] && sflags=(--state "$state" --crawl-id "$name")
	sync
	sleep 1
	curl -sf -XPOST "$CTL/reset" || die "site control: reset failed"
	if [ -n "$state" ]; then
		rcli flushall sync >/dev/null
		rcli info all >"$dir/info.before"
		# For MONITOR (the mem run): the workers' commands come between these.
		[ "$name" = mem ] && rcli echo bench-start >/dev/null
	fi
	t0=$(date +%s.%N)
	for i in $(seq "$n"); do
		local prof=()
		[ "$PROFILE" = 1 ] && prof=(--cpuprofile "$dir/w$i.prof")
		# shellcheck disable=SC2086 # AMBER_EXTRA is meant to split
		/usr/bin/time -f '%e %U %S' -o "$dir/w$i.time" "$AMBER" archive --json --scope "$scope" \
			--concurrency "$CONCURRENCY" --per-host "$PER_HOST" "${sflags[@]}" --worker-id "w$i" \
			-o "$dir/w$i" --seeds "$seeds" "${prof[@]}" $AMBER_EXTRA >"$dir/w$i.json" 2>"$dir/w$i.err" &
		pids+=($!)
	done
	if [ "$name" = mem ]; then hold_until_seeded "$dir"; fi
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || {
			rc=$?
			say "$name: worker w$((i + 1)) exited with $rc: $(grep -v '^[0-9.]* [0-9.]* [0-9.]*$' "$dir/w$((i + 1)).err" | tail -2 | tr '\n' ' ')"
		}
	done
	t1=$(date +%s.%N)
	[ "$name" = mem ] && rcli echo bench-end >/dev/null
	[ -n "$state" ] && rcli info all >"$dir/info.after"
	curl -sf "$CTL/stats" >"$dir/server.txt" || die "site control: stats failed"

	local urls=0 cpu=0 u f
	for i in $(seq "$n"); do
		u=$(grep -m1 -o '"responses": *[0-9]*' "$dir/w$i.json" | grep -o '[0-9]*$')
		f=$(grep -m1 -o '"failed": *[0-9]*' "$dir/w$i.json" | grep -o '[0-9]*$')
		urls=$((urls + ${u:-0} + ${f:-0}))
		cpu=$(awk -v c="$cpu" '{ print c + $2 + $3 }' "$dir/w$i.time" 2>/dev/null || echo "$cpu")
	done
	R[$name.rc]=$rc
	R[$name.workers]=$n
	R[$name.urls]=$urls
	R[$name.wall]=$(calc %.2f "$t1 - $t0")
	R[$name.rate]=$(calc %.1f "$urls / ($t1 - $t0)")
	R[$name.cpu]=$(calc %.2f "$cpu")
	R[$name.cpu_url]=$(calc %.3f "$cpu * 1000 / $urls")
	R[$name.most]=$(stat "$dir/server.txt" max_in_flight_per_host)
	R[$name.repeats]=$(stat "$dir/server.txt" repeats)
	R[$name.steady]=$(stat "$dir/server.txt" steady_rate)
	R[$name.requests]=$(stat "$dir/server.txt" requests)
	if [ -n "$state" ]; then
		local b=$dir/info.before a=$dir/info.after
		# The INFO before is counted in the dump after (MONITOR's polls are
		# counted by hold_until_seeded).
		local cmds=$(($(info "$a" total_commands_processed) - $(info "$b" total_commands_processed) - 1 - ${R[$name.polls]:-0}))
		local scripts=$(($(calls "$a" evalsha) + $(calls "$a" eval) - $(calls "$b" evalsha) - $(calls "$b" eval)))
		R[$name.cmds_url]=$(calc %.1f "$cmds / $urls")
		R[$name.scripts_url]=$(calc %.2f "$scripts / $urls")
		R[$name.mem_url]=$(calc %.0f "($(mem "$a") - $(mem "$b")) / $urls")
		R[$name.redis_cpu_url]=$(calc %.3f "($(info "$a" used_cpu_user) + $(info "$a" used_cpu_sys) - $(info "$b" used_cpu_user) - $(info "$b" used_cpu_sys)) * 1000 / $urls")
	fi
	ran+=("$name")
}

# hold_until_seeded DIR: with the gate of the site closed, waits until
# the workers have queued every seed, notes Redis's memory, and opens it.
hold_until_seeded() {
	local dir=$1 want q polls=0 last=-1 same=0
	want=$(wc -l <"$OUT/all.txt")
	for _ in $(seq 600); do
		q=$(rcli hmget "amber:{mem}:meta" q l | awk '{ s += $1 } END { print s + 0 }')
		polls=$((polls + 1))
		if [ "$q" -ge "$want" ] && [ "$q" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 3 ] && break
		else
			same=0
		fi
		last=$q
		sleep 0.2
	done
	rcli info memory >"$dir/info.queued"
	rcli memory usage "amber:{mem}:config" samples 0 >"$dir/config.bytes"
	rcli hmget "amber:{mem}:meta" q l >"$dir/queued.count"
	for k in url pages req leases; do
		printf 'amber:{mem}:%s %s\n' "$k" "$(rcli memory usage "amber:{mem}:$k" samples 0)"
	done >"$dir/keys.queued"
	polls=$((polls + 3 + 4 + 2)) # and the two ECHOs
	R[mem.polls]=$polls
	R[mem.queued]=$q
	curl -sf -XPOST "$CTL/open" || die "site control: open failed"
}

# A first crawl on a fresh redis-server costs it memory once (the scripts,
# buffers): a small crawl first, not measured.
case " $RUNS " in *" "[0-9]*) ;; *) [ "$MEMORY" = 1 ] || NOWARM=1 ;; esac
if [ -z "${NOWARM:-}" ]; then
	say "warm-up: 1 worker on Redis, $HOSTS pages"
	head -n "$HOSTS" "$OUT/seeds.txt" >"$OUT/warmup-seeds.txt"
	crawl warmup 1 "$STATE" "$OUT/warmup-seeds.txt" page
	ran=()
fi

for r in $RUNS; do
	case $r in
	bbolt)
		say "bbolt: 1 worker on the embedded state"
		crawl bbolt 1 "" "$OUT/seeds.txt"
		;;
	[0-9]*)
		say "redis-$r: $r worker(s) on one Redis"
		crawl "redis-$r" "$r" "$STATE" "$OUT/seeds.txt"
		;;
	*) say "unknown run $r (bbolt or a number of workers)" ;;
	esac
done

if [ "$MEMORY" = 1 ]; then
	say "mem: $MEM_WORKERS workers seeded with all $PAGES pages, held until seeded"
	curl -sf -XPOST "$CTL/close" || die "site control: close failed"
	rm -f "$OUT/monitor.counts"
	# MONITOR: every command, "lua" for those a script ran.
	# Counted between the two ECHOs of crawl, without this script's own
	# commands (HMGET, INFO, MEMORY: the workers send none of them
	# themselves, only from scripts).
	# (redis-cli itself, not rcli: $! is then redis-cli's PID.)
	redis-cli -p "$RPORT" monitor > >(awk '
		/"echo" "bench-start"/ { on = 1; next }
		/"echo" "bench-end"/ { on = 0; next }
		!on { next }
		/^[0-9.]+ \[[0-9]+ lua\]/ { l++; next }
		/^[0-9.]+ \[/ {
			cmd = $4; gsub(/"/, "", cmd)
			if (cmd == "hmget" || cmd == "info" || cmd == "memory") next
			c++
			# The host-slot scripts take 12 keys, the frontier scripts 11.
			if (cmd == "evalsha" || cmd == "eval") { n = $6; gsub(/"/, "", n); cmd = cmd (n == 12 ? "-hostslot" : "-frontier") }
			by[cmd]++
		}
		END { print "client", c + 0; print "lua", l + 0; for (k in by) print "client_" k, by[k] }' >"$OUT/monitor.counts") 2>/dev/null &
	MON_PID=$!
	sleep 0.3
	R[mem.polls]=0
	crawl mem "$MEM_WORKERS" "$STATE" "$OUT/all.txt"
	# The keys of the crawl and what each holds, at the end.
	rcli --scan --pattern 'amber:{mem}:*' | sort | while read -r k; do
		printf '%s %s %s\n' "$k" "$(rcli memory usage "$k" samples 0)" "$(rcli type "$k")"
	done >"$OUT/mem/keys.txt"
	kill "$MON_PID" 2>/dev/null
	wait "$MON_PID" 2>/dev/null
	MON_PID=
	for _ in $(seq 100); do # awk writes when it has read MONITOR's last line
		grep -q '^lua ' "$OUT/monitor.counts" 2>/dev/null && break
		sleep 0.1
	done
	mv "$OUT/monitor.counts" "$OUT/mem/monitor.counts"
	d=$OUT/mem
	base=$(mem "$d/info.before")
	cfg=$(cat "$d/config.bytes")
	R[mem.per_queued]=$(calc %.0f "($(mem "$d/info.queued") - $base - $cfg) / ${R[mem.queued]}")
	R[mem.per_done]=$(calc %.0f "($(mem "$d/info.after") - $base - $cfg) / ${R[mem.urls]}")
	# Round trips: the commands the workers sent.
	client=$(stat "$d/monitor.counts" client)
	R[mem.trips_url]=$(calc %.2f "$client / ${R[mem.urls]}")
	R[mem.lua_url]=$(calc %.1f "$(stat "$d/monitor.counts" lua) / ${R[mem.urls]}")
fi

{
	printf 'site: %s hosts, %s pages (%s seeds), %s per response, %s-byte pages; workers: --concurrency %s --per-host %s\n\n' \
		"$HOSTS" "$PAGES" "$(wc -l <"$OUT/seeds.txt")" "$DELAY" "$BODY" "$CONCURRENCY" "$PER_HOST"
	printf '%-8s %4s %6s %7s %8s %8s %7s %9s %9s %8s %9s %9s %7s %7s\n' run exit urls wall_s 'urls/s' 'steady/s' cpu_s 'cpu_ms/url' 'cmds/url' 'evals/url' 'mem_B/url' 'redis_ms' 'host_max' repeats
	for r in "${ran[@]}"; do
		printf '%-8s %4s %6s %7s %8s %8s %7s %9s %9s %8s %9s %9s %7s %7s\n' "$r" "${R[$r.rc]}" "${R[$r.urls]}" "${R[$r.wall]}" \
			"${R[$r.rate]}" "${R[$r.steady]}" "${R[$r.cpu]}" "${R[$r.cpu_url]}" "${R[$r.cmds_url]:--}" "${R[$r.scripts_url]:--}" \
			"${R[$r.mem_url]:--}" "${R[$r.redis_cpu_url]:--}" "${R[$r.most]}" "${R[$r.repeats]}"
	done
	echo
	if [ -n "${R[redis-1.rate]:-}" ] && [ -n "${R[redis-4.rate]:-}" ]; then
		x=$(calc %.2f "${R[redis-4.rate]} / ${R[redis-1.rate]}")
		printf 'urls/s, 4 workers / 1:            %5s  (target >= 3)     %s\n' "$x" "$(awk -v x="$x" 'BEGIN { print (x >= 3 ? "met" : "MISSED") }')"
		printf 'steady urls/s, 4 workers / 1:     %5s\n' "$(calc %.2f "${R[redis-4.steady]} / ${R[redis-1.steady]}")"
	fi
	if [ -n "${R[redis-1.cpu_url]:-}" ] && [ -n "${R[bbolt.cpu_url]:-}" ]; then
		x=$(calc %.2f "${R[redis-1.cpu_url]} / ${R[bbolt.cpu_url]}")
		printf 'cpu/url, 1 worker Redis / bbolt:  %5s  (target <= 1.25)  %s\n' "$x" "$(awk -v x="$x" 'BEGIN { print (x <= 1.25 ? "met" : "MISSED") }')"
	fi
	most=0
	for r in "${ran[@]}"; do [ "${R[$r.most]:-0}" -gt "$most" ] && most=${R[$r.most]}; done
	printf 'most requests in flight on a host: %s  (--per-host %s)   %s\n' "$most" "$PER_HOST" "$([ "$most" -le "$PER_HOST" ] && echo met || echo EXCEEDED)"
	if [ "$MEMORY" = 1 ]; then
		printf '\nRedis memory (mem: %s workers, all pages as seeds): %s B per queued URL (%s queued), %s B per finished URL (%s URLs, all payloads distinct);\n' \
			"$MEM_WORKERS" "${R[mem.per_queued]}" "${R[mem.queued]}" "${R[mem.per_done]}" "${R[mem.urls]}"
		printf 'round trips per URL %s (%s), commands run by scripts per URL %s (MONITOR)\n' "${R[mem.trips_url]}" \
			"$(awk -v n="${R[mem.urls]}" '$1 ~ /^client_/ { sub(/^client_/, "", $1); printf "%s%s %.2f", sep, $1, $2 / n; sep = ", " }' "$OUT/mem/monitor.counts")" "${R[mem.lua_url]}"
		echo 'keys when seeded (bytes, MEMORY USAGE):'
		awk -v n="${R[mem.queued]}" '$2 != "" { printf "  %-28s %10d  %6.1f B/queued url\n", $1, $2, $2 / n }' "$OUT/mem/keys.queued"
		echo 'keys at the end (bytes, MEMORY USAGE):'
		awk -v n="${R[mem.urls]}" '{ printf "  %-28s %-5s %10d  %6.1f B/url\n", $1, $3, $2, $2 / n }' "$OUT/mem/keys.txt"
	fi
} | tee "$OUT/results.txt"
