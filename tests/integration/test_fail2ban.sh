#!/usr/bin/env bash
# Issue 11 (logs): every auth failure line keeps [remote=] and [reason=] whatever the field
# lengths (each field is capped and the cut marked), and contrib/fail2ban's filter finds the
# client address in lines this daemon wrote, checked with Debian's fail2ban-regex.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_cmd "$PYTHON"
require_cmd fail2ban-regex
require_ours sasldb
F2B_COMMON=/etc/fail2ban/filter.d/common.conf
[[ -r "$F2B_COMMON" ]] || skip_test "fail2ban's common.conf not installed"

DB="$SCRATCH/sasldb2"
sasldb_add "$DB" alice example.org alice-pw
R="$SCRATCH/run"
start_ours "$R" -a sasldb -O "$DB" -n 2

# refused <login> <service> <realm> [address]: the reply's first word for a wrong password.
refused() { auth_reply "$R/mux" "$1" wrong-pw "$2" "$3" "${@:4}" | cut -c1-2; }
LONG=$(printf 'x%.0s' $(seq 1000))
LONG_DOMAIN=$(printf 'd%.0s' $(seq 1000))

check "IPv4 client: NO" NO "$(refused alice smtp example.org '192.0.2.7;51012')"
check "IPv4 client again: NO" NO "$(refused alice smtp example.org '192.0.2.7;51013')"
check "IPv6 client: NO" NO "$(refused alice imap example.org '2001:db8::5;993')"
check "1000-byte login and realm, 1000-byte service: NO" NO \
	"$(refused "$LONG" "$LONG" "$LONG_DOMAIN" '198.51.100.9;2525')"
check "4-field request (no address): NO" NO "$(refused alice smtp example.org)"
check "right password: OK" OK "$(auth_reply "$R/mux" alice alice-pw smtp example.org '203.0.113.1;1')"

# The lines as written, in the order written (one per failure).
mapfile -t FAILURES < <(grep -a 'auth failure: ' "$SCRATCH/ours.log")
check "one failure line per refused request" 5 "${#FAILURES[@]}"
long_line=""
for line in "${FAILURES[@]}"; do
	[[ "$line" == *198.51.100.9* ]] && long_line=$line
done
check_match "the long-field line keeps [remote=] and [reason=] at its end" \
	'\[remote=198\.51\.100\.9;2525\] \[mech=sasldb\] \[reason=[^]]+\]$' "$long_line"
check_match "the cut login is marked with what was left out" \
	'\[user=x{200,}\.\.\.\(\+[0-9]+ bytes\)\]' "$long_line"
check_match "the cut realm is marked" '\[realm=d+\.\.\.\(\+[0-9]+ bytes\)\]' "$long_line"
check "the long-field line fits in the 1,024-byte log line" yes "$(yesno test "${#long_line}" -lt 1100)"

# What syslog(3) writes to /var/log/auth.log for these messages: "<date> <host>
# saslauthd[<pid>]: " before the daemon's text (its foreground form is "saslauthd[<pid>] :").
SYSLOG="$SCRATCH/auth.log"
stamp=$(LC_ALL=C date '+%b %e %H:%M:%S')
for line in "${FAILURES[@]}"; do
	ident=${line%% :*}
	printf '%s mx %s:                 : %s\n' "$stamp" "$ident" "${line#* :}"
done >"$SYSLOG"

mkdir -p "$SCRATCH/fail2ban/filter.d"
cp "$F2B_COMMON" "$SOURCE_DIR/contrib/fail2ban/filter.d/saslauthd.conf" "$SCRATCH/fail2ban/filter.d/"
regex_report() { fail2ban-regex -c "$SCRATCH/fail2ban" -v "$1" saslauthd 2>&1; }
report=$(regex_report "$SYSLOG")
check_match "fail2ban-regex: 4 of 5 lines matched (the 4-field line has no address)" \
	'Lines: 5 lines, 0 ignored, 4 matched, 1 missed' "$report"
hosts=$(sed -n 's/^|  *\([0-9a-f.:]*[0-9a-f]\)  .*/\1/p' <<<"$report" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
check "fail2ban-regex found each client address" "192.0.2.7x2 198.51.100.9x1 2001:db8::5x1 " "$hosts"
check_match "... and the missed line is the one without [remote=]" \
	'auth failure: \[user=alice\] \[service=smtp\] \[realm=example\.org\] \[mech=sasldb\]' \
	"$(sed -n '/Missed line/,$ { /auth failure/p }' <<<"$report")"
# The daemon's foreground lines (no date) match too.
check_match "fail2ban-regex on the foreground log: 4 matched" '4 matched' \
	"$(regex_report "$SCRATCH/ours.log")"
check_no_sanitizer_reports "$SCRATCH/ours.log"

finish
