#!/usr/bin/env bash
# Cyrus saslauthd vs ours, mechanism ldap, against one throwaway slapd (tests/fixtures/slapd.sh),
# the same -O file for both, for each auth method (bind, fastbind, custom) and concurrency.
# usage: bench/ldap-compare.sh [-c "1 4 16"] [-d SECONDS] [-w SECONDS] [-r ROUNDS] [-n WORKERS] [-m METHODS]
# env: BUILD_DIR (default build)
# Prints a table per method: one row per (concurrency, impl), rounds alternating between
# the two, and the ours/cyrus ratio. Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOURCE_DIR="$ROOT"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
. "$ROOT/tests/fixtures/lib.sh"
CONCURRENCY="1 4 16"
. "$ROOT/bench/lib.sh"
ROUNDS=2
METHODS="bind fastbind custom"
bench_parse_args "$@"
set -- "${BENCH_REST[@]+"${BENCH_REST[@]}"}"
while [[ $# -gt 0 ]]; do
	case $1 in
	-m) METHODS=$2; shift ;;
	*) echo "usage: $0 [-c LIST] [-d S] [-w S] [-r N] [-n N] [-m METHODS]" >&2; exit 2 ;;
	esac
	shift
done
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

for m in $METHODS; do
	conf="$SCRATCH/$m.conf"
	conf_for "$m" >"$conf"
	start_cyrus "$SCRATCH/cyrus-run" -a ldap -O "$conf" -n "$WORKERS" 2>/dev/null
	cpid=$DAEMON_PID
	start_ours "$SCRATCH/ours-run" -a ldap -O "$conf" -n "$WORKERS" 2>/dev/null
	opid=$DAEMON_PID
	echo "== method $m"
	bench_table "$REQS"
	stop_pid "$cpid"
	stop_pid "$opid"
done
