#!/usr/bin/env bash
# ldap mechanism under faults: fail-over past a closed port and a server that accepts but
# never answers (within ldap_timeout), slapd killed mid-run (NO within the timeout), slapd
# restarted (works again without restarting the daemon), password changed in LDAP (the old
# one refused on the very next request, every method).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/slapd.sh"

require_root
require_ours ldap
start_slapd
. "$FIXTURES_DIR/ldap/common.sh"

TIMEOUT_S=4
CLOSED_PORT="$(free_tcp_port)"
HANG_PORT="$(free_tcp_port)"
start_bg blackhole "$SCRATCH/blackhole.log" "$PYTHON" "$FIXTURES_DIR/ldap/blackhole.py" "$HANG_PORT" </dev/null
wait_for_tcp_port "$HANG_PORT" 10

# ---------------------------------------------------------------- fail-over
for method in bind fastbind custom; do
	mapfile -t extra < <(method_lines "$method")
	with_ours "fo-$method" -- "ldap_servers: ldap://127.0.0.1:$CLOSED_PORT/ ldap://127.0.0.1:$HANG_PORT/ $SLAPD_URI" \
		"ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: $TIMEOUT_S" ${extra[@]+"${extra[@]}"}
	read -r reply ms <<<"$(auth_reply --time "$SOCK" alice alice-pw)"
	check "failover ($method): closed port, then hung server, then slapd: OK" OK "$reply"
	[[ $ms -lt $((TIMEOUT_S * 1000)) ]] && r=yes || r=no
	check "failover ($method): elapsed ${ms} ms under ldap_timeout" yes "$r"
	echo "MEASURED failover $method first request: ${ms} ms"
	read -r reply ms <<<"$(auth_reply --time "$SOCK" alice alice-pw)"
	check "failover ($method): next request on the kept connection" OK "$reply"
	echo "MEASURED failover $method second request: ${ms} ms"
done

# ---------------------------------------------------------------- slapd killed / restarted
for method in bind fastbind custom; do
	mapfile -t extra < <(method_lines "$method")
	with_ours "kill-$method" -- "ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: $TIMEOUT_S" ${extra[@]+"${extra[@]}"}
	for i in 1 2 3; do expect OK "kill ($method): warm-up $i" bob bob-pw; done
	kill -KILL "$SLAPD_PID"
	_wait_gone 5 "$SLAPD_PID" || true
	read -r reply ms <<<"$(auth_reply --time "$SOCK" bob bob-pw)"
	check "kill ($method): NO while slapd is down" NO "$reply"
	[[ $ms -lt $((TIMEOUT_S * 1000)) ]] && r=yes || r=no
	check "kill ($method): answered within ldap_timeout (${ms} ms)" yes "$r"
	echo "MEASURED slapd killed, $method: NO after ${ms} ms"
	check_match "kill ($method): logged as server unavailable" 'reason=server unavailable' "$(tail -n 5 "$SCRATCH/ours.log")"
	restart_slapd
	for i in 1 2 3; do expect OK "restart ($method): works again, request $i (no daemon restart)" bob bob-pw; done
done

# ---------------------------------------------------------------- password change
n=0
for method in bind fastbind custom; do
	mapfile -t extra < <(method_lines "$method")
	with_ours "pw-$method" -- "ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" ${extra[@]+"${extra[@]}"}
	n=$((n + 1))
	old="hank-old-$n" new="hank-new-$n"
	ldap_set_password hank "$old"
	# Every worker (-n 2) gets the old password once, so each has bound as hank.
	for i in 1 2 3 4; do expect OK "pwchange ($method): old password works before, $i" hank "$old"; done
	ldap_set_password hank "$new"
	for i in 1 2 3 4; do expect NO "pwchange ($method): old password refused right after, $i" hank "$old"; done
	expect OK "pwchange ($method): new password works" hank "$new"
done

check_no_sanitizer_reports "$SCRATCH/ours.log"
finish
