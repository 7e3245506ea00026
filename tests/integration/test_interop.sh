#!/usr/bin/env bash
# Interoperability with the real Cyrus tools and daemon (Debian's sasl2-bin):
#  * a sasldb file made by Debian's saslpasswd2 is served by our daemon (-O),
#    checked with Debian's testsaslauthd;
#  * our testsaslauthd works against Cyrus's daemon (the real server);
#  * our testsaslauthd -a ADDR (5-field form) against both daemons.
# Cyrus's sasldb only reads /etc/sasldb2: the accounts are added there with
# Debian's saslpasswd2 (backed up first, restored at exit) and ours serves a copy.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$CYRUS_SASLAUTHD" "$CYRUS_TESTSASLAUTHD" "$CYRUS_SASLPASSWD2" "$PYTHON"
require_ours sasldb
[[ -x "$OURS_TESTSASLAUTHD" ]] || skip_test "$OURS_TESTSASLAUTHD not built"
T0=$(now_ms)

OK_LINE='0: OK "Success." rc=0'
NO_LINE='0: NO "authentication failed" rc=255'
UTF8_PW=$'p\xc3\xa4ssw\xc3\xb6rd \xe2\x82\xac'

backup_etc_sasldb2
sasldb_add /etc/sasldb2 ialice example.com 'Interop-secret'
sasldb_add /etc/sasldb2 ibob "" 'Bob-host-pw'   # empty realm: the host name, as saslauthd uses
sasldb_add /etc/sasldb2 iutf example.com "$UTF8_PW"
sasldb_add /etc/sasldb2 ilong example.com "$(printf 'L%.0s' {1..256})"
cp /etc/sasldb2 "$SCRATCH/sasldb2"
check "Debian's sasldblistusers2 lists the accounts" 4 \
	"$("$CYRUS_SASLDBLISTUSERS2" -f "$SCRATCH/sasldb2" | grep -c '^i[a-z]*@')"

# tsa <debian|ours> <socket> <testsaslauthd args...>: "<output> rc=<status>"
tsa() {
	local bin out rc=0
	if [[ "$1" == debian ]]; then bin="$CYRUS_TESTSASLAUTHD"; else bin="$OURS_TESTSASLAUTHD"; fi
	out=$(timeout 20 "$bin" -f "$2" "${@:3}" 2>&1 </dev/null) || rc=$?
	printf '%s rc=%s' "$out" "$rc"
}

start_ours "$SCRATCH/run-ours" -a sasldb -O "$SCRATCH/sasldb2"
OURS_PID=$DAEMON_PID
start_cyrus "$SCRATCH/run-cyrus" -a sasldb
CYRUS_PID=$DAEMON_PID
OURS_SOCK="$SCRATCH/run-ours/mux"
CYRUS_SOCK="$SCRATCH/run-cyrus/mux"

# -------------------------------------------- Debian's testsaslauthd -> our daemon (Debian-made sasldb)
# and our testsaslauthd -> Cyrus's daemon (and, for symmetry, every other pairing)
for client in debian ours; do
	for server in ours cyrus; do
		if [[ "$server" == ours ]]; then s="$OURS_SOCK"; else s="$CYRUS_SOCK"; fi
		p="$client testsaslauthd -> $server saslauthd"
		check "$p: right password" "$OK_LINE" "$(tsa "$client" "$s" -u ialice -p Interop-secret -r example.com)"
		check "$p: wrong password" "$NO_LINE" "$(tsa "$client" "$s" -u ialice -p Interop-secreT -r example.com)"
		check "$p: wrong realm" "$NO_LINE" "$(tsa "$client" "$s" -u ialice -p Interop-secret -r example.org)"
		check "$p: unknown user" "$NO_LINE" "$(tsa "$client" "$s" -u nobody -p Interop-secret -r example.com)"
		check "$p: user@realm is not split (login 'ialice@example.com')" "$NO_LINE" \
			"$(tsa "$client" "$s" -u ialice@example.com -p Interop-secret)"
		check "$p: default realm = host name" "$OK_LINE" "$(tsa "$client" "$s" -u ibob -p Bob-host-pw -s smtp)"
		check "$p: UTF-8 password with a space" "$OK_LINE" "$(tsa "$client" "$s" -u iutf -p "$UTF8_PW" -r example.com)"
		check "$p: 256-byte password" "$OK_LINE" \
			"$(tsa "$client" "$s" -u ilong -p "$(printf 'L%.0s' {1..256})" -r example.com)"
		check "$p: -R 3 (three connections)" $'0: OK "Success."\n1: OK "Success."\n2: OK "Success." rc=0' \
			"$(tsa "$client" "$s" -u ialice -p Interop-secret -r example.com -R 3)"
	done
done

# -------------------------------------------- our testsaslauthd -a ADDR: the 5-field form, against both
for server in ours cyrus; do
	if [[ "$server" == ours ]]; then s="$OURS_SOCK"; else s="$CYRUS_SOCK"; fi
	p="ours testsaslauthd -a 127.0.0.1 (5 fields) -> $server saslauthd"
	check "$p: right password" "$OK_LINE" "$(tsa ours "$s" -u ialice -p Interop-secret -r example.com -a 127.0.0.1)"
	check "$p: wrong password" "$NO_LINE" "$(tsa ours "$s" -u ialice -p wrong -r example.com -a 127.0.0.1)"
	check "$p: with a port, IPv6" "$OK_LINE" \
		"$(tsa ours "$s" -u ialice -p Interop-secret -r example.com -a '2001:db8::7;51234')"
done
# Ours logs the client address of 5-field requests (Cyrus 2.1.28 ignores the field).
check "our daemon logged the 5-field client address" yes \
	"$(yesno grep -q 'remote=127.0.0.1' "$SCRATCH/ours.log")"
# Cyrus 2.1.28 did see a 5-field request and still answered: its log has no remote=.
check "Cyrus 2.1.28 ignores the 5th field (no remote= in its log)" no \
	"$(yesno grep -q 'remote=' "$SCRATCH/cyrus.log")"

# -------------------------------------------- transport errors look the same
check "Debian testsaslauthd, no daemon: connect error, rc 255" "0:  rc=255" \
	"$(timeout 20 "$CYRUS_TESTSASLAUTHD" -f "$SCRATCH/nonexistent/mux" -u a -p b 2>/dev/null; echo " rc=$?")"
check "our testsaslauthd, no daemon: connect error, rc 255" "0:  rc=255" \
	"$(timeout 20 "$OURS_TESTSASLAUTHD" -f "$SCRATCH/nonexistent/mux" -u a -p b 2>/dev/null; echo " rc=$?")"

check "our daemon still running" yes "$(yesno pid_alive "$OURS_PID")"
check "Cyrus daemon still running" yes "$(yesno pid_alive "$CYRUS_PID")"
log "total $(($(now_ms) - T0)) ms"
check_no_sanitizer_reports "$SCRATCH/ours.log"
finish
