#!/usr/bin/env bash
# Cyrus saslauthd vs ours, mechanism ldap, against one throwaway slapd (tests/fixtures/slapd.sh),
# the same -O file for both, for each auth method (bind, fastbind, custom) and concurrency.
# usage: bench/ldap-compare.sh [-c "1 4 16"] [-d SECONDS] [-w SECONDS] [-r ROUNDS] [-n WORKERS] [-b BUILD_DIR]
# Prints one table row per (method, concurrency, impl) and the ours/cyrus ratio. Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONCURRENCY="1 4 16" DURATION=5 WARMUP=1 ROUNDS=2 WORKERS=5 METHODS="bind fastbind custom"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
while [[ $# -gt 0 ]]; do
	case $1 in
	-c) CONCURRENCY=$2; shift ;;
	-d) DURATION=$2; shift ;;
	-w) WARMUP=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-n) WORKERS=$2; shift ;;
	-m) METHODS=$2; shift ;;
	-b) BUILD_DIR=$2; shift ;;
	*) echo "usage: $0 [-c LIST] [-d S] [-w S] [-r N] [-n N] [-m METHODS] [-b DIR]" >&2; exit 2 ;;
	esac
	shift
done
export BUILD_DIR SOURCE_DIR="$ROOT"
. "$ROOT/tests/fixtures/lib.sh"
LOADGEN="$BUILD_DIR/bin/saslauthd-loadgen"
[[ -x "$LOADGEN" && -x "$OURS_SASLAUTHD" ]] || die "build $BUILD_DIR first"
# 20 bench users, {SSHA} (what slappasswd makes by default): cheap for slapd and for custom.
LDAP_USERS=()
for i in $(seq -w 1 20); do LDAP_USERS+=("bu$i:ssha"); done
. "$FIXTURES_DIR/slapd.sh"
start_slapd >/dev/null 2>&1 || die "slapd"
PEOPLE="ou=people,$SLAPD_SUFFIX"

REQS="$SCRATCH/requests.tsv"
for i in $(seq -w 1 20); do
	for k in 1 2 3 4 5 6 7 8 9; do printf 'OK\tbu%s\tbu%s-pw\tsmtp\texample.com\n' "$i" "$i"; done
	printf 'NO\tbu%s\twrong\tsmtp\texample.com\n' "$i"
done >"$REQS"

conf_for() {
	printf '%s\n' "ldap_servers: $SLAPD_URI" "ldap_search_base: $PEOPLE"
	case $1 in
	bind) printf '%s\n' "ldap_bind_dn: $SLAPD_SERVICE_DN" "ldap_password: $SLAPD_SERVICE_PW" ;;
	fastbind) printf '%s\n' "ldap_auth_method: fastbind" "ldap_filter: uid=%u,$PEOPLE" ;;
	custom) printf '%s\n' "ldap_auth_method: custom" "ldap_bind_dn: $SLAPD_ADMIN_DN" "ldap_password: $SLAPD_ADMIN_PW" ;;
	esac
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print a[int((NR + 1) / 2)] }'; }

printf '%-9s %-5s %-6s %10s %8s %8s %5s %6s\n' method conc impl rps p50_us p99_us err wrong
for m in $METHODS; do
	conf="$SCRATCH/$m.conf"
	conf_for "$m" >"$conf"
	start_cyrus "$SCRATCH/cy-$m" -a ldap -O "$conf" -n "$WORKERS" 2>/dev/null
	cpid=$DAEMON_PID
	start_ours "$SCRATCH/ou-$m" -a ldap -O "$conf" -n "$WORKERS" 2>/dev/null
	opid=$DAEMON_PID
	for c in $CONCURRENCY; do
		declare -A RPS=()
		for impl in cyrus ours; do
			sock="$SCRATCH/cy-$m/mux"
			[[ $impl == ours ]] && sock="$SCRATCH/ou-$m/mux"
			: >"$SCRATCH/r-$impl"
			err=0 wrong=0
			for ((r = 0; r < ROUNDS; r++)); do
				line=$("$LOADGEN" -s "$sock" -f "$REQS" -c "$c" -d "$DURATION" -w "$WARMUP" -q 2>&1 | grep '^RESULT' || true)
				rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
				p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line")
				p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
				err=$((err + $(sed -n 's/.* err=\([0-9]*\).*/\1/p' <<<"$line")))
				wrong=$((wrong + $(sed -n 's/.* wrong=\([0-9]*\).*/\1/p' <<<"$line")))
				echo "$rps $p50 $p99" >>"$SCRATCH/r-$impl"
			done
			rps=$(cut -d' ' -f1 "$SCRATCH/r-$impl" | median)
			p50=$(cut -d' ' -f2 "$SCRATCH/r-$impl" | median)
			p99=$(cut -d' ' -f3 "$SCRATCH/r-$impl" | median)
			RPS[$impl]=$rps
			printf '%-9s %-5s %-6s %10s %8s %8s %5s %6s\n' "$m" "$c" "$impl" "$rps" "$p50" "$p99" "$err" "$wrong"
		done
		awk -v m="$m" -v c="$c" -v o="${RPS[ours]}" -v y="${RPS[cyrus]}" \
			'BEGIN { printf "%-9s %-5s %-6s %9.2fx\n", m, c, "ratio", (y > 0 ? o / y : 0) }'
	done
	stop_pid "$cpid"
	stop_pid "$opid"
done
