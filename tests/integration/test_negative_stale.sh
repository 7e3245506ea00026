#!/usr/bin/env bash
# --negative-ttl and --stale-ttl against a throwaway slapd (ldap_auth_method bind), binds
# counted by slapd's monitor back-end. Negative: a wrong password stays refused from the
# cache (no bind) even after it is made right behind the daemon's back, until the TTL
# ends; another password is still bound. Stale: slapd stopped, a cached user whose entry
# expired (-t) still gets OK within --stale-ttl, a wrong password and an uncached user
# NO; after the stale time NO; slapd back: normal again. Both refused without -c.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/slapd.sh"

require_root
require_ours ldap
require_cmd ldapsearch
SLAPD_EXTRA_CONF=$'moduleload back_monitor\ndatabase monitor\naccess to * by * read'
start_slapd
. "$FIXTURES_DIR/ldap/common.sh"

CONF=("ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 2")

# binds: completed bind operations so far (the search itself binds once: subtracted).
_binds_seen=0
binds() {
	local n
	n=$(ldapsearch -x -LLL -H "$SLAPD_URI" -b 'cn=Bind,cn=Operations,cn=Monitor' -s base \
		monitorOpCompleted | sed -n 's/^monitorOpCompleted: //p')
	[[ -n "$n" ]] || die "slapd's monitor back-end gave no bind count"
	printf '%s' "$n"
}
# count_binds: BINDS = binds made by saslauthd since the previous call (or _binds_seen).
count_binds() {
	local now
	now=$(binds)
	BINDS=$((now - _binds_seen - 1))
	_binds_seen=$now
}
stats_value() { "$OURS_SASLAUTHD" --stats -m "$(dirname "$SOCK")" | sed -n "s/^$1{mech=\"ldap\"} //p"; }

# ---------------------------------------------------------------- options
for opt in --negative-ttl --stale-ttl; do
	rc=0
	err=$("$OURS_SASLAUTHD" -a ldap -m "$SCRATCH/never" "$opt" 5 -d 2>&1) || rc=$?
	check "$opt without -c refused (exit 1)" 1 "$rc"
	check_match "$opt without -c: the error says so" "needs the credential cache: add -c" "$err"
done
rc=0
"$OURS_SASLAUTHD" -a ldap -m "$SCRATCH/never" -c --stale-ttl 86401 -d >/dev/null 2>&1 || rc=$?
check "--stale-ttl above a day refused" 1 "$rc"

# ---------------------------------------------------------------- negative
with_ours neg -c --negative-ttl 4 -- "${CONF[@]}"
expect OK "warm-up: alice with her password" alice alice-pw
_binds_seen=$(binds)
expect NO "negative: a wrong password" alice wrong-one
count_binds
check "negative: ... was bound at slapd" 1 "$BINDS"
expect NO "negative: the same wrong password again" alice wrong-one
count_binds
check "negative: ... answered from the cache, no bind" 0 "$BINDS"
expect NO "negative: another wrong password" alice wrong-two
count_binds
check "negative: ... goes to slapd" 1 "$BINDS"
ldap_set_password alice wrong-one
_binds_seen=$(binds)
expect NO "negative: made right behind the daemon's back, still refused within the TTL" alice wrong-one
count_binds
check "negative: ... without a bind" 0 "$BINDS"
check "negative: hits counted" 2 "$(stats_value saslauthd_negative_cache_hits_total)"
check_match "negative: logged as an auth failure with its reason" \
	'auth failure: \[user=alice\] \[service=imap\] \[realm=\] \[mech=ldap\] \[reason=same wrong password again \(negative cache\)\]' \
	"$(cat "$SCRATCH/ours.log")"
sleep 5 # past --negative-ttl 4
expect OK "negative: after the TTL the new password is asked for and right" alice wrong-one
count_binds
check "negative: ... with a bind" 1 "$BINDS"
ldap_set_password alice alice-pw

# ---------------------------------------------------------------- stale
with_ours stale -c -t 2 --stale-ttl 6 -- "${CONF[@]}"
t0=$(now_ms)
expect OK "stale: alice logs in (cached)" alice alice-pw
sleep 3 # -t 2: expired
stop_slapd
expect OK "stale: slapd down, alice's expired entry answers OK" alice alice-pw
expect NO "stale: slapd down, a wrong password is NO" alice wrong
expect NO "stale: slapd down, an uncached user is NO" bob bob-pw
check "stale: hits counted" 1 "$(stats_value saslauthd_stale_cache_hits_total)"
check_match "stale: one notice line says the back-end failed" \
	'auth success \(stale\): \[user=alice\] \[service=imap\] \[realm=\] \[mech=ldap\] \[reason=back-end failed, answered from an expired cache entry: [^]]+\]' \
	"$(cat "$SCRATCH/ours.log")"
check "stale: the only failure line while slapd is down and alice asks is the wrong password's" 1 \
	"$(grep -c 'auth failure: \[user=alice\].*\[reason=server unavailable' "$SCRATCH/ours.log" || true)"
# Past -t 2 + --stale-ttl 6 (whole seconds: 1 s margin).
while (($(now_ms) < t0 + 9500)); do sleep 0.2; done
expect NO "stale: after the stale time alice is NO" alice alice-pw
restart_slapd
expect OK "stale: slapd back, alice OK" alice alice-pw
expect NO "stale: slapd back, a wrong password NO" alice wrong
expect OK "stale: slapd back, bob OK" bob bob-pw

# ---------------------------------------------------------------- off by default
with_ours plain -c -t 1 -- "${CONF[@]}"
expect OK "without --stale-ttl: alice cached" alice alice-pw
expect NO "without --negative-ttl: a wrong password" alice wrong
_binds_seen=$(binds)
expect NO "without --negative-ttl: the same wrong password is bound again" alice wrong
count_binds
check "... one bind" 1 "$BINDS"
sleep 2
stop_slapd
expect NO "without --stale-ttl: slapd down, alice's expired entry does not answer" alice alice-pw

stop_pid "$CUR_PID"
check_no_sanitizer_reports "$SCRATCH/ours.log"
finish
