#!/usr/bin/env bash
# The serving core against Cyrus saslauthd and against the floor (bench/floor.c: N
# processes that only accept, read one request and answer OK), alternating rounds with
# saslauthd-loadgen, same flags for Cyrus and ours:
#   sasldb   -a sasldb -n WORKERS, both on /etc/sasldb2 (backed up and restored)
#   cache    the same with -c: every request after the first per user is a cache hit
#   stalled  ours only (Cyrus stops answering at a few dozen stalled clients): p50/p99 of
#            4 clients without and with STALLED stalled connections
#            (tests/fixtures/stall_flood.py: idle, partial header, one byte a second)
#   rss      an idle worker's resident memory, ours and Cyrus's (sasldb)
#   slow     rimap to Dovecot behind bench/delay_proxy.py (each server response held
#            SLOW_MS, default 20 ms), 64 clients, -n WORKERS for both; ours grows up to
#            --max-workers (SLOW_OURS_FLAGS adds flags to ours only, e.g.
#            "--max-workers 64")
#   slow-ldap the issue's own measurement: the test slapd behind the same proxy,
#            ldap_auth_method bind (a search and a bind per login: several round trips),
#            64 clients, -n WORKERS for both
#
# usage: bench/core-compare.sh [-c "16"] [-d 5] [-w 1] [-r 3] [-n 5] [CASE...]
# env: BUILD_DIR (default build), LOADGEN, CYRUS, STALLED (default 5000), SLOW_MS (20)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOURCE_DIR="$ROOT"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
. "$ROOT/tests/fixtures/lib.sh"
. "$ROOT/tests/fixtures/dovecot.sh"
. "$ROOT/bench/lib.sh"
CONCURRENCY=16
bench_parse_args "$@"
CASES=("${BENCH_REST[@]+"${BENCH_REST[@]}"}")
((${#CASES[@]})) || CASES=(sasldb cache stalled rss slow slow-ldap)
SLOW_MS=${SLOW_MS:-20}
STALLED=${STALLED:-5000}
FLOOR="$BUILD_DIR/bin/saslauthd-floor"
[[ -x "$FLOOR" ]] || die "no floor server at $FLOOR"
require_root

NUSERS=20
REQS="$SCRATCH/requests"
backup_etc_sasldb2
rm -f /etc/sasldb2
for i in $(seq -w 1 "$NUSERS"); do
	sasldb_add /etc/sasldb2 "benchu$i" bench.example "Pw-$i-secret"
	printf 'OK\tbenchu%s\tPw-%s-secret\tsmtp\tbench.example\n' "$i" "$i" >>"$REQS"
done

start_floor() {
	mkdir -p "$SCRATCH/floor-run"
	start_bg floor "$SCRATCH/floor.log" "$FLOOR" "$SCRATCH/floor-run/mux" "$WORKERS" </dev/null
	FLOOR_PID=$DAEMON_PID
	wait_for_socket "$SCRATCH/floor-run/mux" 10 "$FLOOR_PID"
}

# pair <label> <flags...>: Cyrus and ours with the same flags, plus the floor, one table.
pair() {
	local label=$1
	shift
	echo "## $label (-n $WORKERS $*)"
	quiet_start cyrus "$SCRATCH/cyrus-run" -a sasldb -n "$WORKERS" "$@"
	CYRUS_PID=$DAEMON_PID
	quiet_start ours "$SCRATCH/ours-run" -a sasldb -n "$WORKERS" "$@"
	OURS_PID=$DAEMON_PID
	start_floor
	BENCH_IMPLS="cyrus ours floor" bench_table "$REQS"
	stop_pid "$OURS_PID"
	stop_pid "$CYRUS_PID"
	stop_pid "$FLOOR_PID"
}

# rss_kb <master pid>: the resident memory of its first worker.
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$(first_child "$1")/status"; }

stalled_case() {
	local out4
	echo "## stalled: 4 clients, without and with $STALLED stalled connections (ours, -n $WORKERS)"
	quiet_start ours "$SCRATCH/ours-run" -a sasldb -n "$WORKERS"
	OURS_PID=$DAEMON_PID
	out4=$("$LOADGEN" -s "$SCRATCH/ours-run/mux" -f "$REQS" -c 4 -d "$DURATION" -w "$WARMUP" -t 10 -q || true)
	echo "no stall:   $out4"
	start_bg flood "$SCRATCH/flood.out" "$PYTHON" "$FIXTURES_DIR/stall_flood.py" \
		"$SCRATCH/ours-run/mux" "$STALLED" $((DURATION + WARMUP + 30)) </dev/null
	FLOOD_PID=$DAEMON_PID
	wait_until 60 grep -q '^ready' "$SCRATCH/flood.out" || die "the flood did not start"
	sleep 6 # past the request deadline: drops and reconnections under way
	out4=$("$LOADGEN" -s "$SCRATCH/ours-run/mux" -f "$REQS" -c 4 -d "$DURATION" -w "$WARMUP" -t 10 -q || true)
	echo "with stall: $out4"
	stop_pid "$FLOOD_PID"
	stop_pid "$OURS_PID"
}

rss_case() {
	echo "## idle worker RSS (sasldb, kB)"
	quiet_start cyrus "$SCRATCH/cyrus-run" -a sasldb -n 2
	CYRUS_PID=$DAEMON_PID
	quiet_start ours "$SCRATCH/ours-run" -a sasldb -n 2
	OURS_PID=$DAEMON_PID
	"$LOADGEN" -s "$SCRATCH/cyrus-run/mux" -f "$REQS" -c 2 -n 200 -q >/dev/null || true
	"$LOADGEN" -s "$SCRATCH/ours-run/mux" -f "$REQS" -c 2 -n 200 -q >/dev/null || true
	sleep 1
	# Cyrus's master serves too; its children are the comparable processes.
	printf 'cyrus %s\nours  %s\n' "$(rss_kb "$CYRUS_PID")" "$(rss_kb "$OURS_PID")"
	stop_pid "$OURS_PID"
	stop_pid "$CYRUS_PID"
}

# start_delay_proxy <upstream port>: the proxy holding each server response SLOW_MS; sets
# PROXY_PORT and PROXY_PID.
start_delay_proxy() {
	PROXY_PORT=$(free_tcp_port)
	start_bg proxy "$SCRATCH/proxy-$1.log" "$PYTHON" "$ROOT/bench/delay_proxy.py" "$PROXY_PORT" \
		127.0.0.1 "$1" "$SLOW_MS" </dev/null
	PROXY_PID=$DAEMON_PID
	wait_for_tcp_port "$PROXY_PORT" 10 127.0.0.1 "$PROXY_PID" >/dev/null
}

# slow_pair <requests> <flags...>: Cyrus and ours with the same flags and -n WORKERS (ours
# also SLOW_OURS_FLAGS) against the back-end behind the delay proxy, 64 clients; then
# both and the proxy are stopped.
slow_pair() {
	local reqs=$1
	shift
	quiet_start cyrus "$SCRATCH/cyrus-run" "$@" -n "$WORKERS"
	CYRUS_PID=$DAEMON_PID
	# shellcheck disable=SC2086 # word-split on purpose
	quiet_start ours "$SCRATCH/ours-run" "$@" -n "$WORKERS" ${SLOW_OURS_FLAGS:-}
	OURS_PID=$DAEMON_PID
	CONCURRENCY=64 BENCH_IMPLS="cyrus ours" bench_table "$reqs"
	echo "ours' workers at the end: $(count_children "$OURS_PID")"
	stop_pid "$OURS_PID"
	stop_pid "$CYRUS_PID"
	stop_pid "$PROXY_PID"
}

slow_case() {
	local imap users="$SCRATCH/imap-users" reqs="$SCRATCH/slow-requests"
	echo "## slow back-end: rimap to Dovecot behind a proxy holding each response ${SLOW_MS} ms, 64 clients, -n $WORKERS"
	require_dovecot
	for i in $(seq -w 1 "$NUSERS"); do
		dovecot_user "$users" "benchu$i" "Pw-$i-secret"
		printf 'OK\tbenchu%s\tPw-%s-secret\timap\t\n' "$i" "$i" >>"$reqs"
	done
	imap=$(free_tcp_port)
	start_dovecot "$SCRATCH/dovecot" "$users" plain "$imap"
	start_delay_proxy "$imap"
	slow_pair "$reqs" -a rimap -O "127.0.0.1/$PROXY_PORT"
}

slow_ldap_case() {
	local conf="$SCRATCH/slow-ldap.conf" reqs="$SCRATCH/ldap-requests" i
	echo "## slow back-end: ldap (bind) to slapd behind a proxy holding each response ${SLOW_MS} ms, 64 clients, -n $WORKERS"
	LDAP_USERS=()
	for i in $(seq -w 1 "$NUSERS"); do
		LDAP_USERS+=("bu$i:ssha")
		printf 'OK\tbu%s\tbu%s-pw\tsmtp\t\n' "$i" "$i" >>"$reqs"
	done
	. "$FIXTURES_DIR/slapd.sh"
	start_slapd >/dev/null 2>&1 || die "slapd did not start"
	start_delay_proxy "$SLAPD_PORT"
	printf '%s\n' "ldap_servers: ldap://127.0.0.1:$PROXY_PORT" \
		"ldap_search_base: ou=people,$SLAPD_SUFFIX" "ldap_bind_dn: $SLAPD_SERVICE_DN" \
		"ldap_password: $SLAPD_SERVICE_PW" >"$conf"
	slow_pair "$reqs" -a ldap -O "$conf"
	stop_slapd
}

for c in "${CASES[@]}"; do
	case $c in
	sasldb) pair sasldb ;;
	cache) pair "cache hits" -c ;;
	stalled) stalled_case ;;
	rss) rss_case ;;
	slow) slow_case ;;
	slow-ldap) slow_ldap_case ;;
	*) die "unknown case $c" ;;
	esac
done
