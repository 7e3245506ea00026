#!/usr/bin/env bash
# Throttling (--throttle-addr, --throttle-user, --throttle-exempt) against sasldb and the
# test slapd: IPv4, IPv6 by /64, 4-field requests, logins across addresses, exemptions,
# the same wrong password counted once, the window sliding past, the count exact over
# many deciders, and throttled requests never reaching the back-end (slapd's binds).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/slapd.sh"

require_root
require_ours sasldb ldap
require_cmd "$CYRUS_SASLPASSWD2"

DB=$SCRATCH/sasldb2
REALM=ex.org
for u in alice bob carol; do sasldb_add "$DB" "$u" "$REALM" "$u-pw"; done

# run_daemon <name> <args...>: ours on sasldb; sets MUX and PID.
run_daemon() {
	local name=$1
	shift
	OURS_LOG=$SCRATCH/$name.log start_ours "$SCRATCH/$name" -a sasldb -O "$DB" "$@"
	MUX=$SCRATCH/$name/mux
	PID=$DAEMON_PID
}
# ask <login> <password> [address]: the reply (5-field with an address, else 4-field).
ask() { auth_reply "$MUX" "$1" "$2" imap "$REALM" ${3:+"$3;4711"}; }
# counter <name> <metric regex>: a counter's value from --stats.
counter() {
	"$OURS_SASLAUTHD" --stats -m "$SCRATCH/$1" | sed -n -E "s/^$2 ([0-9]+)$/\\1/p"
}
# fail <login> <address|""> <password...>: send each wrong password, expect NO each time.
fail() {
	local login=$1 addr=$2 pw got=""
	shift 2
	for pw in "$@"; do got+="$(ask "$login" "$pw" "$addr") "; done
	check "$login from ${addr:-no address}: $# wrong passwords refused" \
		"$(printf 'NO %.0s' "$@")" "$got"
}

# ---------------------------------------------------------------- bad settings
# start_error <args...>: the first line a start with these settings prints (exit 1).
start_error() {
	local out rc=0
	out=$("$OURS_SASLAUTHD" -a sasldb -O "$DB" -m "$SCRATCH/never" "$@" 2>&1) || rc=$?
	printf '%s %s\n' "$rc" "${out%%$'\n'*}"
}
check_match "0 failures refused" '^1 .*--throttle-addr: "0/60": FAILURES must be a number 1\.\.100' \
	"$(start_error --throttle-addr 0/60)"
check_match "0 seconds refused" '^1 .*--throttle-user: "5/0": SECONDS must be a number 1\.\.86400' \
	"$(start_error --throttle-user 5/0)"
check_match "no slash refused" '^1 .*"10" is not FAILURES/SECONDS' "$(start_error --throttle-addr 10)"
check_match "bad CIDR refused" '^1 .*--throttle-exempt: "10\.0\.0\.0/33" is not an address or CIDR range' \
	"$(start_error --throttle-addr 3/60 --throttle-exempt 192.0.2.0/24,10.0.0.0/33)"
check_match "exemption without a rule refused" '^1 .*--throttle-exempt needs --throttle-addr or --throttle-user' \
	"$(start_error --throttle-exempt 192.0.2.0/24)"
check_match "bad store refused" '^1 .*--policy-store: "http://x" is not redis://' \
	"$(start_error --throttle-addr 3/60 --policy-store http://x)"
check "nothing was started" no "$(yesno test -e "$SCRATCH/never/mux")"

# ---------------------------------------------------------------- by address
run_daemon addr -n 3 --throttle-addr 3/60 --throttle-exempt 203.0.113.0/24,2001:db8:ee::/48
fail alice 192.0.2.10 w1 w2
check "two failures of three: the right password still works" OK "$(ask alice alice-pw 192.0.2.10)"
fail alice 192.0.2.10 w3
check "three failures: the right password is refused" NO "$(ask alice alice-pw 192.0.2.10)"
check "the address is throttled for every login" NO "$(ask carol carol-pw 192.0.2.10)"
check "IPv4-mapped IPv6 form of the same address: throttled" NO "$(ask bob bob-pw ::ffff:192.0.2.10)"
check "another address is not" OK "$(ask alice alice-pw 192.0.2.11)"
check "4-field requests are not address-throttled" OK "$(ask alice alice-pw)"
check_match "refusal logged as an auth failure with its reason" \
	'auth failure: \[user=alice\] \[service=imap\] \[realm=ex.org\] \[remote=192.0.2.10;4711\] \[mech=sasldb\] \[reason=throttled by address\]' \
	"$(cat "$SCRATCH/addr.log")"

fail bob 192.0.2.20 old-pw old-pw old-pw old-pw old-pw old-pw
check "the same wrong password six times counts once" OK "$(ask bob bob-pw 192.0.2.20)"
fail bob 192.0.2.20 other-1
check "then a second distinct one: two of three, still not throttled" OK "$(ask bob bob-pw 192.0.2.20)"

fail alice 2001:db8:1:2::10 v1
fail alice 2001:db8:1:2::20 v2
fail carol 2001:db8:1:2:ffff::1 v3
check "IPv6: three failures from one /64 throttle another address in it" NO \
	"$(ask alice alice-pw 2001:db8:1:2::99)"
check "IPv6: the neighbouring /64 is not throttled" OK "$(ask alice alice-pw 2001:db8:1:3::10)"

fail alice 203.0.113.5 e1 e2 e3 e4 e5
check "exempt IPv4 range: never throttled" OK "$(ask alice alice-pw 203.0.113.5)"
fail alice 2001:db8:ee:1::5 e1 e2 e3 e4 e5
check "exempt IPv6 range: never throttled" OK "$(ask alice alice-pw 2001:db8:ee:1::5)"
check "exempt addresses do not count toward their neighbours" OK "$(ask alice alice-pw 203.0.113.6)"

# SIGHUP recycles the workers; the counters live in the master's mapping and survive.
kill -HUP "$PID"
wait_until 10 grep -q 'SIGHUP received' "$SCRATCH/addr.log" || true
sleep 1
check "after SIGHUP the address is still throttled" NO "$(ask alice alice-pw 192.0.2.10)"
check "address refusals counted in --stats" 5 \
	"$(counter addr 'saslauthd_throttled_total\{mech="sasldb",rule="address"\}')"
check "no user refusals" 0 "$(counter addr 'saslauthd_throttled_total\{mech="sasldb",rule="user"\}')"
check "no password in the log" "" "$(grep -a -E -e 'alice-pw|bob-pw|carol-pw|old-pw' "$SCRATCH/addr.log" || true)"
stop_pid "$PID"

# ---------------------------------------------------------------- by login
run_daemon user -n 3 --throttle-user 3/60
fail bob 192.0.2.31 u1
fail bob 2001:db8:5::1 u2
fail bob "" u3
check "login throttled across addresses and forms" NO "$(ask bob bob-pw 192.0.2.99)"
check "login throttled for 4-field requests too" NO "$(ask bob bob-pw)"
check "another login from the same addresses is not" OK "$(ask carol carol-pw 192.0.2.31)"
check_match "logged as throttled by user" '\[user=bob\].*\[reason=throttled by user\]' "$(cat "$SCRATCH/user.log")"
check "user refusals counted in --stats" 2 \
	"$(counter user 'saslauthd_throttled_total\{mech="sasldb",rule="user"\}')"
stop_pid "$PID"

# ---------------------------------------------------------------- -n 0
# One process per connection: every child counts in the same shared table.
run_daemon n0 -n 0 --throttle-addr 2/60
fail alice 192.0.2.90 n1 n2
check "-n 0: two failures in two processes throttle the address" NO "$(ask alice alice-pw 192.0.2.90)"
check "-n 0: another address is fine" OK "$(ask alice alice-pw 192.0.2.91)"
stop_pid "$PID"

# ---------------------------------------------------------------- unprivileged workers
# --user: the workers that count are not root; the mapping was made by the root master.
chmod o+r "$DB"
run_daemon priv -n 2 --user nobody --throttle-addr 2/60
fail alice 192.0.2.95 p1 p2
check "--user nobody: throttled" NO "$(ask alice alice-pw 192.0.2.95)"
check "--user nobody: another address is fine" OK "$(ask alice alice-pw 192.0.2.96)"
stop_pid "$PID"

# ---------------------------------------------------------------- the window slides
# 2 failures in 2 s: refused at once, accepted again once the failures are 2 s old.
run_daemon window -n 2 --throttle-addr 2/2
fail alice 198.51.100.1 x1 x2
check "window: throttled at once" NO "$(ask alice alice-pw 198.51.100.1)"
sleep 3
check "window: the failures have left the window" OK "$(ask alice alice-pw 198.51.100.1)"
stop_pid "$PID"

# ---------------------------------------------------------------- exact under concurrency
# 8 deciders, 19 simultaneous distinct failures against a limit of 20: exactly 19 are
# counted (not throttled yet), the 20th throttles. Per-process or lost counts would not.
run_daemon conc -n 8 --throttle-addr 20/60
for i in $(seq 19); do printf 'c%s\t5\talice\tbad-%s\timap\t%s\t198.51.100.50;%s\n' "$i" "$i" "$REALM" "$i"; done >"$SCRATCH/burst19"
check "19 simultaneous wrong passwords over 8 deciders: all NO" " 19 NO" \
	"$(saslclient concurrent "$MUX" "$SCRATCH/burst19" | cut -f2 | sort | uniq -c | tr -s ' ')"
check "19 counted, limit 20: not throttled" OK "$(ask alice alice-pw 198.51.100.50)"
fail alice 198.51.100.50 bad-20
check "the 20th failure throttles" NO "$(ask alice alice-pw 198.51.100.50)"
# 40 simultaneous from a fresh address: at most the limit plus the requests already
# admitted by the other deciders reach the mechanism, never 8x the limit.
before=$(counter conc 'saslauthd_requests_total\{mech="sasldb",result="no"\}')
for i in $(seq 40); do printf 'd%s\t5\tcarol\tbad-%s\timap\t%s\t198.51.100.60;%s\n' "$i" "$i" "$REALM" "$i"; done >"$SCRATCH/burst40"
saslclient concurrent "$MUX" "$SCRATCH/burst40" >/dev/null
after=$(counter conc 'saslauthd_requests_total\{mech="sasldb",result="no"\}')
reached=$((after - before))
log "40 simultaneous failures, limit 20, 8 deciders: $reached reached the mechanism"
check "40 simultaneous failures: between 20 and 27 reached the mechanism" yes \
	"$(yesno test "$reached" -ge 20 -a "$reached" -le 27)"
stop_pid "$PID"

# ---------------------------------------------------------------- never reaches the back-end
# shellcheck disable=SC2034 # read by start_slapd
SLAPD_DEBUG=stats
start_slapd
LDAP_PEOPLE="ou=people,$SLAPD_SUFFIX"
conf=$SCRATCH/ldap.conf
printf '%s\n' "ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 3" >"$conf"
OURS_LOG=$SCRATCH/ldap.log start_ours "$SCRATCH/ldap" -a ldap -O "$conf" -n 2 --throttle-addr 5/60
MUX=$SCRATCH/ldap/mux
# alice_binds: binds slapd has logged as alice's DN so far.
alice_binds() { grep -c "BIND dn=\"uid=alice,$LDAP_PEOPLE\"" "$SLAPD_DIR/slapd.log" || true; }
start_binds=$(alice_binds)
for i in $(seq 30); do ask alice "spray-$i" 192.0.2.77 >/dev/null; done
ask alice alice-pw 192.0.2.77 >/dev/null
wait_until 5 test "$(($(alice_binds) - start_binds))" -ge 5 || true
check "30 guesses and the right password from a throttled address: 5 binds reach slapd" 5 \
	"$(($(alice_binds) - start_binds))"
check "from another address the right password binds and succeeds" OK "$(ask alice alice-pw 192.0.2.78)"
check "that one reached slapd (the count above is not blind)" yes \
	"$(yesno test "$(($(alice_binds) - start_binds))" -gt 5)"

check_no_sanitizer_reports "$SCRATCH"/*.log
finish
