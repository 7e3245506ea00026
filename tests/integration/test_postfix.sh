#!/usr/bin/env bash
# Postfix end to end, the way a mail admin checks a saslauthd: a throwaway Postfix
# (its own config_directory and queue_directory in the scratch directory, nothing
# in /etc/postfix touched) whose smtpd runs chrooted in its queue directory, as in
# Debian's master.cf, with smtpd_sasl_type = cyrus and sasl/smtpd.conf saying
# pwcheck_method: saslauthd, mech_list: PLAIN LOGIN. Our daemon listens on
# <queue_directory>/var/run/saslauthd/mux (-m <queue>/var/run/saslauthd), which
# smtpd sees as /var/run/saslauthd/mux. swaks drives AUTH PLAIN and AUTH LOGIN:
#
#   -a sasldb -O <file> (user made with our saslpasswd2; smtpd's libsasl2 splits
#      alice@example.org into login and realm; smtpd_sasl_local_domain supplies
#      the realm of a bare login)
#   -a pam -c, detached like Debian's init script runs it, pam_wrapper preloaded
#      into our daemon only (pam_matrix, PAM service "smtp")
#   our daemon stopped: AUTH gets a temporary error (4xx), never 235; started
#      again: 235
#   saslauthd_path naming the run directory instead of .../mux: a temporary error
#
# Good password: 235, wrong password or unknown user: 535.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
# shellcheck source=tests/fixtures/pam.sh
. "$FIXTURES_DIR/pam.sh"
# shellcheck source=tests/fixtures/postfix.sh
. "$FIXTURES_DIR/postfix.sh"

require_root
require_postfix
require_cmd "$PYTHON" pgrep
require_ours sasldb pam
[[ -x "$OURS_SASLPASSWD2" ]] || skip_test "$OURS_SASLPASSWD2 not built"
require_pam_wrapper
T0=$(now_ms)

# ---------------------------------------------------------------- Postfix

{ read -r PORT; read -r PORT_LOCAL; read -r PORT_NOMUX; } < <(free_tcp_ports 3)
# The shipped snippets (contrib/postfix): main.cf lines after the fixture's own
# (later lines win), and smtpd.conf as the instance's sasl/smtpd.conf.
SNIPPET_DIR="$SOURCE_DIR/contrib/postfix"
mapfile -t main_cf_lines < <(grep -Ev '^[[:space:]]*(#|$)' "$SNIPPET_DIR/main.cf")
postfix_setup "$SCRATCH/postfix" "$PORT" "${main_cf_lines[@]}"
install -m 0644 "$SNIPPET_DIR/smtpd.conf" "$PF_CONF/sasl/smtpd.conf"
# Same smtpd, but a bare login gets the realm example.org from Postfix.
postfix_add_smtpd "$PORT_LOCAL" -o smtpd_sasl_local_domain=example.org
# Same smtpd, but its smtpd.conf (sasl/nomux.conf) names the directory, not the socket.
postfix_add_smtpd "$PORT_NOMUX" -o smtpd_sasl_path=nomux
PF_SASL_APP=nomux postfix_smtpd_conf /var/run/saslauthd
RUN="$PF_SASLAUTHD_RUNDIR"
printf '# smtpd.conf: %s\n' "$(grep -v '^#' "$PF_CONF/sasl/smtpd.conf" | tr '\n' ';')"
postfix_start
check "Postfix master runs (smtpd on 127.0.0.1:$PORT)" yes "$(yesno pid_alive "$PF_MASTER_PID")"

# auth_case <description> <expected reply regex> <mech> <user> <password> [port]
# One swaks session; prints the server's reply to AUTH and checks it.
auth_case() {
	local desc="$1" re="$2" out reply
	out=$(swaks_auth "$3" "$4" "$5" "${6:-}")
	reply=$(swaks_reply "$out")
	printf '  swaks --auth %-5s %-22s -> %s\n' "$3" "$4/$5" "${reply:-<no reply>}"
	if [[ -z "$reply" ]]; then printf '%s\n' "$out" | sed 's/^/    | /' | tail -n 15; fi
	check_match "$desc" "$re" "$reply"
}

OK_RE='^235 '
BAD_RE='^535 '
TEMP_RE='^4[0-9][0-9] '

# ---------------------------------------------------------------- -a sasldb

DB="$SCRATCH/sasldb2"
printf '%s' alice-pw | "$OURS_SASLPASSWD2" -f "$DB" -p -c -u example.org alice
printf '%s' bob-pw | "$OURS_SASLPASSWD2" -f "$DB" -p -c -u example.org bob
chmod 0640 "$DB"

OURS_LOG="$SCRATCH/ours-sasldb.log"
start_ours "$RUN" -a sasldb -O "$DB"
SASLDB_PID=$DAEMON_PID
printf '# -a sasldb -O %s, socket %s\n' "$DB" "$RUN/mux"
auth_case "sasldb PLAIN good password: 235" "$OK_RE" PLAIN alice@example.org alice-pw
auth_case "sasldb PLAIN wrong password: 535" "$BAD_RE" PLAIN alice@example.org wrong-pw
auth_case "sasldb LOGIN good password: 235" "$OK_RE" LOGIN alice@example.org alice-pw
auth_case "sasldb LOGIN wrong password: 535" "$BAD_RE" LOGIN alice@example.org alice-pw-x
auth_case "sasldb PLAIN unknown user: 535" "$BAD_RE" PLAIN mallory@example.org alice-pw
auth_case "sasldb PLAIN right password, wrong realm: 535" "$BAD_RE" PLAIN alice@example.net alice-pw
auth_case "sasldb PLAIN bare login, smtpd_sasl_local_domain=example.org: 235" "$OK_RE" PLAIN bob bob-pw "$PORT_LOCAL"
auth_case "sasldb LOGIN bare login, smtpd_sasl_local_domain=example.org, wrong password: 535" "$BAD_RE" LOGIN bob alice-pw "$PORT_LOCAL"
auth_case "saslauthd_path without /mux: temporary failure, not 235" "$TEMP_RE" PLAIN alice@example.org alice-pw "$PORT_NOMUX"

check_match "maillog names the cause of the 454" 'cannot connect to saslauthd server' "$(cat "$PF_LOG")"
# What reached the daemon: login and realm apart, service smtp.
check_match "daemon saw login alice, realm example.org, service smtp" \
	'auth success: \[user=alice\] \[service=smtp\] \[realm=example\.org\] \[mech=sasldb\]' \
	"$(cat "$OURS_LOG")"
check_match "daemon saw bare login bob with Postfix's realm example.org" \
	'auth success: \[user=bob\] \[service=smtp\] \[realm=example\.org\]' "$(cat "$OURS_LOG")"
# smtpd really was chrooted: its root is the queue directory.
smtpd_root=""
for p in $(pgrep -x smtpd -s "$PF_MASTER_PID" || true); do
	smtpd_root=$(readlink "/proc/$p/root" || true)
	break
done
check "smtpd runs chrooted in its queue_directory" "$PF_QUEUE" "$smtpd_root"
stop_pid "$SASLDB_PID"

# ---------------------------------------------------------------- -a pam -c, detached

PAMSVC="$SCRATCH/pam.d" PASSDB="$SCRATCH/passdb"
printf '%s\n' "carol:carol-pw:smtp" "dave:dave-pw:imap" >"$PASSDB"
pam_service "$PAMSVC" smtp "auth required $PAM_MATRIX_SO passdb=$PASSDB" "account required $PAM_MATRIX_SO passdb=$PASSDB"
use_pam_wrapper "$PAMSVC"

# start_detached <args...>: our daemon as an init script starts it (no -d): the
# launcher returns once the socket listens; the master's PID comes from the pid file.
DETACHED_PID=""
start_detached() {
	local rc=0
	rm -f "$RUN/mux"
	timeout 20 env ${DAEMON_ENV[@]+"${DAEMON_ENV[@]}"} "$OURS_SASLAUTHD" -m "$RUN" "$@" </dev/null \
		>>"$SCRATCH/ours-detached.log" 2>&1 || rc=$?
	DETACHED_PID=$(cat "$RUN/saslauthd.pid" 2>/dev/null || true)
	DETACHED_PID=${DETACHED_PID//[!0-9]/}
	[[ -n "$DETACHED_PID" ]] && register_pid "$DETACHED_PID"
	check "detached start ($*): launcher exit 0, pid file, socket" "0 yes yes" \
		"$rc $(yesno pid_alive "$DETACHED_PID") $(yesno test -S "$RUN/mux")"
}

printf '# -a pam -c, detached, pam_wrapper in our daemon only (service smtp)\n'
start_detached -a pam -c -n 3
auth_case "pam PLAIN good password: 235" "$OK_RE" PLAIN carol carol-pw
auth_case "pam PLAIN wrong password: 535" "$BAD_RE" PLAIN carol wrong-pw
auth_case "pam LOGIN good password: 235" "$OK_RE" LOGIN carol carol-pw
auth_case "pam LOGIN wrong password: 535" "$BAD_RE" LOGIN carol dave-pw
auth_case "pam PLAIN account for another service (pam_matrix: imap): 535" "$BAD_RE" PLAIN dave dave-pw
auth_case "pam PLAIN unknown user: 535" "$BAD_RE" PLAIN nobody-here carol-pw
# Same answer again: -c must not turn a wrong password into a cached success.
auth_case "pam PLAIN good password again (-c): 235" "$OK_RE" PLAIN carol carol-pw
auth_case "pam PLAIN wrong password after a success (-c): 535" "$BAD_RE" PLAIN carol carol-pw-x

# ---------------------------------------------------------------- daemon down, up again

t=$(now_ms)
stop_pid "$DETACHED_PID" 10
check "daemon stopped by SIGTERM, socket and pid file removed" "no no no" \
	"$(yesno pid_alive "$DETACHED_PID") $(yesno test -e "$RUN/mux") $(yesno test -e "$RUN/saslauthd.pid")"
printf '# daemon stopped in %d ms\n' $(($(now_ms) - t))
auth_case "daemon down, PLAIN: temporary failure (4xx), not 235" "$TEMP_RE" PLAIN carol carol-pw
auth_case "daemon down, LOGIN: temporary failure (4xx), not 235" "$TEMP_RE" LOGIN carol carol-pw
start_detached -a pam -c -n 3
auth_case "daemon started again, PLAIN: 235" "$OK_RE" PLAIN carol carol-pw
auth_case "daemon started again, LOGIN wrong password: 535" "$BAD_RE" LOGIN carol wrong-pw
stop_pid "$DETACHED_PID" 10

# ---------------------------------------------------------------- stop Postfix

t=$(now_ms)
pf_sid=$PF_MASTER_PID
postfix_stop
# live_in_session <sid>: PIDs (not zombies) still in the master's session.
live_in_session() {
	local p
	for p in $(pgrep -s "$1" 2>/dev/null || true); do
		if pid_alive "$p"; then printf '%s ' "$p"; fi
	done
}
session_empty() { [[ -z "$(live_in_session "$1")" ]]; }
wait_until 10 session_empty "$pf_sid" || true
check "Postfix master and its children stopped by PID" "" "$(live_in_session "$pf_sid")"
printf '# Postfix stopped in %d ms\n' $(($(now_ms) - t))
check_no_sanitizer_reports "$OURS_LOG" "$SCRATCH/ours-detached.log"

printf '# test_postfix: %d ms\n' $(($(now_ms) - T0))
finish
