#!/usr/bin/env bash
# Robustness of OUR daemon (Cyrus fails several of these by design: it has no
# read timeouts): truncated and malformed requests, stalled clients, 4- and
# 5-field clients, a 4-field client that half-closes, 200 concurrent clients,
# 50 stalled connections held open while good requests are still answered
# within 1 s, stalled connections dropped by the daemon within 15 s, and no
# test password ever written to the -d / -V log.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$CYRUS_SASLPASSWD2" "$PYTHON"
# ROBUST_MECH=getpwent runs the same test on getpwent under nss_wrapper (default sasldb).
MECH="${ROBUST_MECH:-sasldb}"
require_ours "$MECH"
T0=$(now_ms)

# How long a stalled client may stay connected before our daemon drops it.
DROP_LIMIT=15
# How fast a good request must be answered while 50 stalled clients are connected.
FAST_LIMIT_MS=1000

# Distinctive passwords: none of them may ever show up in a log.
GOOD='Rb-Good-pw-7c1e9f'
WRONG='Rb-Wrong-pw-5d2c0a'
PARTIAL='Rb-Partial-pw-93ab'
FIVE='Rb-Five-pw-1f0e'
NULPW='Rb-Nul-pw-4e4e'
LONGPW="Rb-Long-pw-$(printf 'Q%.0s' {1..300})"
CONCPW='Rb-Concurrent-pw'
PASSWORDS=("$GOOD" "$WRONG" "$PARTIAL" "$FIVE" "$NULPW" "$LONGPW" "$CONCPW")

if [[ "$MECH" == sasldb ]]; then
	DB="$SCRATCH/sasldb2"
	sasldb_add "$DB" robuser example.com "$GOOD"
	sasldb_add "$DB" longuser example.com "$LONGPW"
	sasldb_add "$DB" conc example.com "$CONCPW"
	MECH_ARGS=(-a sasldb -O "$DB")
	WRONG_REPLY="NO"
else
	require_nss_wrapper
	: >"$SCRATCH/passwd"
	write_passwd_line "$SCRATCH/passwd" robuser "$(make_hash sha512crypt "$GOOD")" 5001
	write_passwd_line "$SCRATCH/passwd" longuser "$(make_hash sha512crypt "$LONGPW")" 5002
	write_passwd_line "$SCRATCH/passwd" conc "$(make_hash sha512crypt "$CONCPW")" 5003
	echo "users:x:5000:" >"$SCRATCH/group"
	use_nss_wrapper "$SCRATCH/passwd" "$SCRATCH/group"
	MECH_ARGS=(-a "$MECH")
	WRONG_REPLY="NO Incorrect password"
fi

RUN="$SCRATCH/run"
SOCK="$RUN/mux"
start_ours "$RUN" "${MECH_ARGS[@]}" -V
DPID=$DAEMON_PID

good() { saslclient req "$SOCK" robuser "$GOOD" imap example.com "$@"; }

# cs <text>: the text as a counted string, in saslclient's escape syntax.
cs() {
	"$PYTHON" -c 'import sys; b = sys.argv[1].encode(); print("\\x%02x\\x%02x" % (len(b) >> 8, len(b) & 255) + sys.argv[1].replace("\\", "\\\\"))' "$1"
}
REQ4="$(cs robuser)$(cs "$GOOD")$(cs imap)$(cs example.com)"

# ---------------------------------------------------------------- basics
check "good request (4 fields)" "OK" "$(good)"
check "good request (5 fields)" "OK" "$(saslclient req "$SOCK" robuser "$GOOD" imap example.com '192.0.2.7;51234')"
check "wrong password refused" "$WRONG_REPLY" "$(saslclient req "$SOCK" robuser "$WRONG" imap example.com)"
check "wrong password refused (5 fields)" "$WRONG_REPLY" \
	"$(saslclient req "$SOCK" robuser "$FIVE" imap example.com '192.0.2.7;1')"
check "4-field client that half-closes after sending" "OK" "$(good --shut-wr)"
check "5-field client that half-closes after sending" "OK" \
	"$(saslclient req "$SOCK" robuser "$GOOD" imap example.com '127.0.0.1;1' --shut-wr)"
check "request split in two writes 300 ms apart" "OK" "$(good --delay-split 7:0.3)"
check "4 fields + 1 byte of a 5th length, then silence: answered" "OK" \
	"$(saslclient raw "$SOCK" "$REQ4"'\x00' --timeout "$DROP_LIMIT")"
check "4 fields + part of a 5th field, then silence: answered" "OK" \
	"$(saslclient raw "$SOCK" "$REQ4"'\x00\x10192.0' --timeout "$DROP_LIMIT")"
check "5 fields followed by junk bytes" "OK" "$(saslclient raw "$SOCK" "$REQ4"'\x00\x00junkjunk')"
check_match "password with a NUL inside refused with a reason" '^NO .+' \
	"$(saslclient req "$SOCK" robuser "$NULPW"'\x00x' imap example.com)"
check "300-byte password accepted (over Cyrus's 256)" "OK" "$(saslclient req "$SOCK" longuser "$LONGPW" imap example.com)"

# ---------------------------------------------------------------- truncated requests (client closes)
for spec in '\x00' '\x00\x07rob' "$(cs robuser)"'\x00' "$(cs robuser)"'\x00\x20'"$PARTIAL" \
	"$(cs robuser)$(cs "$PARTIAL")$(cs imap)" "$(cs robuser)$(cs "$PARTIAL")$(cs imap)"'\x00\x0bexam'; do
	check "truncated request [$(printf '%.40s' "$spec")] then close: no reply, connection closed" "<EOF>" \
		"$(saslclient raw "$SOCK" "$spec" --shut-wr)"
done
check_match "length 65535 with 3 bytes, then close: refused or dropped" '^(NO .+|<EOF>)$' \
	"$(saslclient raw "$SOCK" '\xff\xffabc' --shut-wr)"
check_match "login ok, password length 65535 with 3 bytes, then close: refused or dropped" '^(NO .+|<EOF>)$' \
	"$(saslclient raw "$SOCK" "$(cs robuser)"'\xff\xffabc' --shut-wr)"
check_match "length 65535 with 3 bytes, client stays: refused with a reason" '^NO .+' \
	"$(saslclient raw "$SOCK" '\xff\xffabc' --timeout "$DROP_LIMIT")"
check "daemon answers after the truncated requests" "OK" "$(good)"

# ---------------------------------------------------------------- stalled clients are dropped
for spec in '' '\x00' "$(cs robuser)"'\x00\x20Rb-Partial' "$(cs robuser)$(cs "$PARTIAL")$(cs imap)"; do
	out=$(saslclient stall "$SOCK" "$spec" --timeout $((DROP_LIMIT + 5)))
	check_match "stalled client sending [$(printf '%.30s' "$spec")] is dropped within ${DROP_LIMIT}s ($out)" \
		"^closed ([0-9]|1[0-4])\.[0-9]+ " "$out"
done

# ---------------------------------------------------------------- 200 concurrent clients
{
	for i in $(seq 1 200); do
		case $((i % 4)) in
		0) printf 'c%d-ok4\t4\tconc\t%s\timap\texample.com\n' "$i" "$CONCPW" ;;
		1) printf 'c%d-no4\t4\tconc\t%sX\timap\texample.com\n' "$i" "$CONCPW" ;;
		2) printf 'c%d-ok5\t5\tconc\t%s\tsmtp\texample.com\t127.0.0.1;%d\n' "$i" "$CONCPW" "$i" ;;
		3) printf 'c%d-no5\t5\tnobody%d\t%s\tsmtp\texample.com\t\n' "$i" "$i" "$CONCPW" ;;
		esac
	done
} >"$SCRATCH/concurrent.tsv"
t=$(now_ms)
saslclient concurrent "$SOCK" "$SCRATCH/concurrent.tsv" --timeout 30 >"$SCRATCH/concurrent.out"
log "200 concurrent requests: $(($(now_ms) - t)) ms"
check "200 concurrent clients: replies" 200 "$(wc -l <"$SCRATCH/concurrent.out")"
wrong=$(awk -F'\t' '{ want = ($1 ~ /-ok/) ? "OK" : "NO"
	if (substr($2, 1, 2) != want || ($1 ~ /-ok/ && $2 != "OK")) printf "%s=%s ", $1, $2 }' "$SCRATCH/concurrent.out")
check "200 concurrent clients: every verdict right" "" "$wrong"

# ---------------------------------------------------------------- 50 stalled connections held open
HOLD_SECONDS=$((DROP_LIMIT + 1))
start_bg "hold 50" "$SCRATCH/hold.out" "$PYTHON" "$SASLCLIENT_PY" hold "$SOCK" 50 "$HOLD_SECONDS" --timeout 20 </dev/null
HOLD_PID=$DAEMON_PID
if wait_until 20 grep -q '^ready' "$SCRATCH/hold.out"; then
	t_ready=$(now_ms)
	check "50 stalled connections opened" ready "$(head -n1 "$SCRATCH/hold.out")"
	# --time measures connect -> reply inside the client (no interpreter start-up).
	out=$(good --time)
	ms=$(sed -n 's/^elapsed_ms=//p' <<<"$out")
	check "good request while 50 stalled clients are connected" OK "$(head -n1 <<<"$out")"
	check "... answered within ${FAST_LIMIT_MS} ms (took $ms ms)" yes \
		"$(yesno test "$ms" -lt "$FAST_LIMIT_MS")"
	for k in 1 2 3 4 5; do
		sleep 0.2
		out=$(saslclient req "$SOCK" robuser "$WRONG" imap example.com --time)
		ms=$(sed -n 's/^elapsed_ms=//p' <<<"$out")
		check "wrong password refused while 50 clients stall (#$k, $ms ms)" "$WRONG_REPLY" "$(head -n1 <<<"$out")"
		check "... within ${FAST_LIMIT_MS} ms" yes "$(yesno test "$ms" -lt "$FAST_LIMIT_MS")"
	done
	# Keep going until the hold ends (past the drop deadline), answering good requests meanwhile.
	n=0 bad=0
	while (($(now_ms) - t_ready < (HOLD_SECONDS - 1) * 1000)); do
		if [[ "$(good)" == OK ]]; then n=$((n + 1)); else bad=$((bad + 1)); fi
		sleep 0.5
	done
	check "good requests kept working during the ${HOLD_SECONDS}s hold ($n answered)" "0 failed" "$bad failed"
	check "... and there were enough of them" yes "$( ((n >= 10)) && echo yes || echo "no ($n)")"
else
	check "50 stalled connections opened" ready "$(cat "$SCRATCH/hold.out")"
fi
wait_until 30 grep -q '^held' "$SCRATCH/hold.out" || true
check "the daemon dropped all 50 stalled connections within ${HOLD_SECONDS}s" "held 50 closed_by_server 50" \
	"$(grep '^held' "$SCRATCH/hold.out" || cat "$SCRATCH/hold.out")"
stop_pid "$HOLD_PID"
check "good request after the stalled clients" "OK" "$(good)"
check "daemon still running" yes "$(yesno pid_alive "$DPID")"
stop_pid "$DPID"

# ---------------------------------------------------------------- a second run with -d only
OURS_LOG="$SCRATCH/ours-d.log" start_ours "$SCRATCH/run2" "${MECH_ARGS[@]}"
DPID=$DAEMON_PID
S2="$SCRATCH/run2/mux"
check "-d only: good" OK "$(saslclient req "$S2" robuser "$GOOD" imap example.com)"
check "-d only: wrong" "$WRONG_REPLY" "$(saslclient req "$S2" robuser "$WRONG" imap example.com)"
check "-d only: truncated" "<EOF>" "$(saslclient raw "$S2" "$(cs robuser)"'\x00\x20'"$PARTIAL" --shut-wr)"
check "-d only: long password" OK "$(saslclient req "$S2" longuser "$LONGPW" imap example.com)"
check_match "-d only: NUL password" '^NO .+' "$(saslclient req "$S2" robuser "$NULPW"'\x00x' imap example.com)"
stop_pid "$DPID"
no_nss_wrapper

# ---------------------------------------------------------------- logs
for f in "$SCRATCH/ours.log" "$SCRATCH/ours-d.log"; do
	name=$(basename "$f")
	check "$name: the log records the requests (user name present)" yes \
		"$(yesno grep -q 'robuser' "$f")"
	for pw in "${PASSWORDS[@]}"; do
		check "$name: never contains password $(printf '%.20s' "$pw")" no \
			"$(yesno grep -qF -- "$pw" "$f")"
	done
	check "$name: never contains a password fragment (Rb-...-pw)" no \
		"$(yesno grep -qE 'Rb-[A-Za-z]+-pw' "$f")"
done

log "total $(($(now_ms) - T0)) ms"
check_no_sanitizer_reports "$SCRATCH/ours.log" "$SCRATCH/ours-d.log"
finish
