#!/usr/bin/env bash
# Throttling (--throttle-addr, --throttle-user, --policy-store), two cases:
#   overhead  ours on sasldb, 5-field requests that all succeed (nobody is throttled),
#             without throttling, with --throttle-addr 10/60 --throttle-user 10/60, and
#             the same with --policy-store on a local redis-server (when installed):
#             alternating rounds of saslauthd-loadgen, medians, ratio to "plain"
#   spray     password spraying: SPRAY (default 10000) distinct wrong passwords for one
#             login from one address against the test slapd (-a ldap, bind method),
#             16 clients; the user binds slapd logged (its stats log), Cyrus saslauthd
#             vs ours with --throttle-addr 10/60
#
# usage: bench/throttle-compare.sh [-c "16"] [-d 5] [-w 1] [-r 3] [-n 5] [CASE...]
# env: BUILD_DIR (default build), LOADGEN, CYRUS, SPRAY (10000). Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOURCE_DIR="$ROOT"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
. "$ROOT/tests/fixtures/lib.sh"
. "$ROOT/tests/fixtures/redis.sh"
. "$ROOT/bench/lib.sh"
CONCURRENCY=16
bench_parse_args "$@"
CASES=("${BENCH_REST[@]+"${BENCH_REST[@]}"}")
((${#CASES[@]})) || CASES=(overhead spray)
SPRAY=${SPRAY:-10000}
THROTTLE=(--throttle-addr 10/60 --throttle-user 10/60)
require_root

overhead_case() {
	local db=$SCRATCH/sasldb2 reqs=$SCRATCH/ok-requests impls="plain throttled" c r impl
	for i in $(seq -w 1 20); do
		sasldb_add "$db" "benchu$i" bench.example "Pw-$i-secret"
		printf 'OK\tbenchu%s\tPw-%s-secret\tsmtp\tbench.example\t192.0.2.%d;40000\n' "$i" "$i" "$((10#$i))" >>"$reqs"
	done
	quiet_start ours "$SCRATCH/plain-run" -a sasldb -O "$db" -n "$WORKERS"
	quiet_start ours "$SCRATCH/throttled-run" -a sasldb -O "$db" -n "$WORKERS" "${THROTTLE[@]}"
	if command -v redis-server >/dev/null; then
		start_redis ""
		quiet_start ours "$SCRATCH/redis-run" -a sasldb -O "$db" -n "$WORKERS" "${THROTTLE[@]}" \
			--policy-store "$REDIS_URI"
		impls+=" redis"
	fi
	echo "## overhead: sasldb, 5-field, all OK, -n $WORKERS; throttled = ${THROTTLE[*]}; redis = the same with --policy-store"
	printf '%-5s %-10s %10s %9s %9s %5s %6s %7s  %s\n' conc impl rps p50_us p99_us err wrong ratio "rps per round"
	for c in $CONCURRENCY; do
		declare -A all=()
		for ((r = 1; r <= ROUNDS; r++)); do
			for impl in $impls; do
				all[$impl]+="$(BENCH_LOADGEN_FLAGS=-5 _bench_round "$impl" "$c" "$reqs")"$'\n'
			done
		done
		local base
		base=$(printf '%s' "${all[plain]}" | awk '{print $1}' | _bench_median)
		for impl in $impls; do
			local rps
			rps=$(printf '%s' "${all[$impl]}" | awk '{print $1}' | _bench_median)
			printf '%-5s %-10s %10s %9s %9s %5s %6s %7s  %s\n' "$c" "$impl" "$rps" \
				"$(printf '%s' "${all[$impl]}" | awk '{print $2}' | _bench_median)" \
				"$(printf '%s' "${all[$impl]}" | awk '{print $3}' | _bench_median)" \
				"$(printf '%s' "${all[$impl]}" | awk '{s+=$4} END {print s+0}')" \
				"$(printf '%s' "${all[$impl]}" | awk '{s+=$5} END {print s+0}')" \
				"$(awk -v a="$rps" -v b="$base" 'BEGIN { if (b > 0) printf "%.3f", a / b }')" \
				"$(printf '%s' "${all[$impl]}" | awk '{printf "%s ", $1}')"
		done
		unset all
	done
}

# user_binds: the binds slapd has logged as the sprayed user's DN so far.
user_binds() { grep -c "BIND dn=\"uid=alice,ou=people,$SLAPD_SUFFIX\"" "$SLAPD_DIR/slapd.log" || true; }

# spray_run <impl> <loadgen flags...>: prints "<binds> <seconds> <loadgen result>".
spray_run() {
	local impl=$1 before t0 out
	shift
	before=$(user_binds)
	t0=$(now_ms)
	out=$("$LOADGEN" -s "$SCRATCH/$impl-run/mux" -f "$SCRATCH/spray" -c 16 -n "$SPRAY" -t 10 -q "$@" || true)
	sleep 1 # slapd's last log lines
	printf '%s %s %s\n' "$(($(user_binds) - before))" \
		"$(awk -v ms="$(($(now_ms) - t0 - 1000))" 'BEGIN { printf "%.1f", ms / 1000 }')" "$out"
}

spray_case() {
	# shellcheck disable=SC2034 # read by start_slapd
	SLAPD_DEBUG=stats
	# shellcheck source=tests/fixtures/slapd.sh
	. "$FIXTURES_DIR/slapd.sh"
	start_slapd >/dev/null 2>&1 || die "slapd"
	local conf=$SCRATCH/ldap.conf
	printf '%s\n' "ldap_servers: $SLAPD_URI" "ldap_search_base: ou=people,$SLAPD_SUFFIX" >"$conf"
	for i in $(seq "$SPRAY"); do
		printf 'NO\talice\tspray-%s\tsmtp\t\t198.51.100.66;%s\n' "$i" $((1024 + i % 60000))
	done >"$SCRATCH/spray"
	echo "## spray: $SPRAY distinct wrong passwords for one login from one address, 16 clients, -a ldap (bind), -n $WORKERS"
	quiet_start cyrus "$SCRATCH/cyrus-run" -a ldap -O "$conf" -n "$WORKERS"
	CYRUS_PID=$DAEMON_PID
	quiet_start ours "$SCRATCH/ours-run" -a ldap -O "$conf" -n "$WORKERS" --throttle-addr 10/60
	OURS_PID=$DAEMON_PID
	printf '%-40s %8s %8s  %s\n' impl binds seconds loadgen
	local binds secs rest
	read -r binds secs rest <<<"$(spray_run cyrus)"
	printf '%-40s %8s %8s  %s\n' "cyrus (4-field: it has no address)" "$binds" "$secs" "$rest"
	read -r binds secs rest <<<"$(spray_run ours -5)"
	printf '%-40s %8s %8s  %s\n' "ours --throttle-addr 10/60 (5-field)" "$binds" "$secs" "$rest"
	stop_pid "$OURS_PID"
	stop_pid "$CYRUS_PID"
}

for c in "${CASES[@]}"; do
	case $c in
	overhead) overhead_case ;;
	spray) spray_case ;;
	*) die "unknown case $c (overhead, spray)" ;;
	esac
done
