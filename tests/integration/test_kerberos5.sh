#!/usr/bin/env bash
# kerberos5 against a throwaway MIT KDC (tests/fixtures/kdc.sh), realm TEST.EXAMPLE:
# good/bad password, unknown principal, explicit and lower-case realm (with and
# without krb5_uppercase_realm), realm mismatch, forced instance (krb5_imap_instance),
# krb5_conv_krb4_instance, a keytab without the verification key, configuration
# errors at start-up and at SIGHUP, a stopped KDC (bounded time) and its return
# without a daemon restart, a KDC that accepts and never answers (krb5_timeout), and
# that no ticket cache / replay cache file appears anywhere.
# Verdicts through Debian's /usr/sbin/testsaslauthd and ours; exact reply texts
# through the raw client. The same cases then run against Debian's Cyrus saslauthd
# (2.1.28: no krb5_uppercase_realm, no realm-mismatch check); every difference in
# the exact replies is printed as a "DIFF:" line (expected ones pass as checks).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$SOURCE_DIR/tests/fixtures/kdc.sh"

require_root
require_kdc_tools
require_cmd "$PYTHON" "$CYRUS_TESTSASLAUTHD"
require_ours kerberos5
[[ -x "$OURS_TESTSASLAUTHD" ]] || skip_test "$OURS_TESTSASLAUTHD not built"
USE_CYRUS=1
if [[ ! -x "$CYRUS_SASLAUTHD" || "$("$CYRUS_SASLAUTHD" -v 2>&1)" != *kerberos5* ]]; then
	log "Cyrus saslauthd without kerberos5: reference cases skipped"
	USE_CYRUS=0
fi
T0=$(now_ms)

REALM=TEST.EXAMPLE
SERVER=saslauthd.test.example
ALICE_PW='Alice-Pw-1'
ADMIN_PW='Admin-Pw-2'
BOB_PW='Bob-Ops-3'
DOWN_BOUND_MS=10000 # a stopped KDC must give NO within this

# --------------------------------------------------------------- ticket files, before
# Files a Kerberos client could leave: FILE ccaches (default /tmp/krb5cc_<uid>,
# Cyrus 2.1.2x /tmp/k5cc_<pid> or <rundir>/.tf/k5cc_*), replay caches (/var/tmp).
ticket_files() {
	{
		find /tmp /var/tmp -maxdepth 1 \( -name 'krb5cc*' -o -name 'k5cc*' -o -name 'krb5_*.rcache*' \
			-o -name 'tkt*' -o -name '*.rcache2' \) 2>/dev/null
		find "$SCRATCH" \( -name 'krb5cc*' -o -name 'k5cc*' -o -name '*.rcache*' -o -name '.tf' \) 2>/dev/null
	} | sort
}
TICKETS_BEFORE=$(ticket_files)
[[ -z "$TICKETS_BEFORE" ]] || log "ticket-like files present before the test: $TICKETS_BEFORE"

# new_ticket_files: what ticket_files lists now and did not list at the start.
new_ticket_files() { comm -13 <(printf '%s\n' "$TICKETS_BEFORE") <(ticket_files) | sed '/^$/d' | tr '\n' ' '; }

# run_dir_extras <dir>: files in a run directory other than the daemon's own.
run_dir_extras() {
	find "$1" -mindepth 1 ! -name mux ! -name mux.accept ! -name saslauthd.pid ! -name 'saslauthd.pid.lock' ! -name saslauthd.stats \
		-printf '%P ' 2>/dev/null || true
}

# --------------------------------------------------------------- KDC and principals
start_kdc "$REALM"
kdc_add_user alice "$ALICE_PW"
kdc_add_user alice/admin "$ADMIN_PW"
kdc_add_user bob/ops "$BOB_PW"
kdc_add_service_keytab "host/$SERVER" "$SCRATCH/good.keytab"
kdc_add_service_keytab host/other.test.example "$SCRATCH/other.keytab"
# krb5_servername unset: the library's name for this host (no canonicalisation in the
# test krb5.conf, so the host name lower-cased; no [domain_realm] entry for it, so the
# referral realm, taken as the default realm).
LOCALHOST_NAME=$(hostname | tr '[:upper:]' '[:lower:]')
kdc_add_service_keytab "host/$LOCALHOST_NAME" "$SCRATCH/local.keytab"
check "keytab holds host/$SERVER" 1 \
	"$(klist -k "$SCRATCH/good.keytab" 2>/dev/null | grep -c -m1 "host/$SERVER@$REALM" || true)"

# write_conf <file> <keytab> [extra lines...]
write_conf() {
	local f="$1" kt="$2"
	shift 2
	{
		printf '# kerberos5 test configuration\n'
		printf 'krb5_keytab: %s\n' "$kt"
		printf 'krb5_servername: %s\n' "$SERVER"
		printf 'krb5_imap_instance: admin\n'
		printf 'krb5_conv_krb4_instance: yes\n'
		printf '%s\n' "$@"
	} >"$f"
}
write_conf "$SCRATCH/main.conf" "$SCRATCH/good.keytab"
write_conf "$SCRATCH/upper.conf" "$SCRATCH/good.keytab" 'krb5_uppercase_realm: yes'
write_conf "$SCRATCH/nokey.conf" "$SCRATCH/other.keytab"
printf 'krb5_keytab: %s\n' "$SCRATCH/local.keytab" >"$SCRATCH/local.conf"
printf 'krb5_keytab %s\n' "$SCRATCH/good.keytab" >"$SCRATCH/bad.conf"

OK_LINE='0: OK "Success." rc=0'
NO_LINE='0: NO "authentication failed" rc=255'

# verdict <debian|ours> <socket> <login> <password> <service> <realm>
verdict() {
	local bin out rc=0 args=()
	if [[ "$1" == debian ]]; then bin="$CYRUS_TESTSASLAUTHD"; else bin="$OURS_TESTSASLAUTHD"; fi
	args=(-f "$2" -u "$3" -p "$4" -s "$5")
	[[ -z "$6" ]] || args+=(-r "$6")
	out=$(timeout 40 "$bin" "${args[@]}" 2>&1) || rc=$?
	printf '%s rc=%s' "$out" "$rc"
}

# reply <socket> <login> <password> <service> <realm>: the exact reply text.
reply() { saslclient req --timeout 40 "$1" "$2" "$3" "$4" "$5"; }

# The cases: id, daemon (main/upper/nokey/local), login, password, service, realm,
# expected reply from ours, expected reply from Cyrus 2.1.28.
CASES=(
	"good|main|alice|$ALICE_PW|smtp||OK|OK"
	"bad-password|main|alice|wrong-$ALICE_PW|smtp||NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"unknown-principal|main|nobody|$ALICE_PW|smtp||NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"realm-explicit|main|alice|$ALICE_PW|smtp|$REALM|OK|OK"
	"realm-explicit-bad-password|main|alice|x|smtp|$REALM|NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"realm-lower-case|main|alice|$ALICE_PW|smtp|test.example|NO saslauthd realm mismatch|NO krb5_get_init_creds_password failed"
	"realm-other|main|alice|$ALICE_PW|smtp|OTHER.EXAMPLE|NO saslauthd realm mismatch|NO krb5_get_init_creds_password failed"
	"realm-in-login-other|main|alice@OTHER|$ALICE_PW|smtp||NO saslauthd realm mismatch|NO krb5_get_init_creds_password failed"
	"realm-in-login-dot-converted|main|alice@OTHER.EXAMPLE|$ALICE_PW|smtp||NO saslauthd internal error|NO saslauthd internal error"
	"uppercase-realm-lower-case|upper|alice|$ALICE_PW|smtp|test.example|OK|NO krb5_get_init_creds_password failed"
	"uppercase-realm-upper-case|upper|alice|$ALICE_PW|smtp|$REALM|OK|OK"
	"uppercase-realm-bad-password|upper|alice|x|smtp|test.example|NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"forced-instance|main|alice|$ADMIN_PW|imap||OK|OK"
	"forced-instance-user-password|main|alice|$ALICE_PW|imap||NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"forced-instance-given|main|alice/admin|$ADMIN_PW|imap||OK|OK"
	"forced-instance-other|main|alice/root|$ADMIN_PW|imap||NO saslauthd principal name error|NO saslauthd principal name error"
	"forced-instance-with-realm|main|alice|$ADMIN_PW|imap|$REALM|OK|OK"
	"instance-without-forcing|main|alice/admin|$ADMIN_PW|smtp||OK|OK"
	"conv-krb4-instance|main|bob.ops|$BOB_PW|smtp||OK|OK"
	"conv-krb4-instance-bad|main|bob.ops|x|smtp||NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"keytab-without-key|nokey|alice|$ALICE_PW|smtp||NO krb5_verify_init_creds failed|NO krb5_verify_init_creds failed"
	"keytab-without-key-bad-password|nokey|alice|x|smtp||NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"default-servername|local|alice|$ALICE_PW|smtp||OK|OK"
	"default-servername-realm|local|alice|$ALICE_PW|smtp|$REALM|OK|OK"
	"default-servername-bad-password|local|alice|x|smtp||NO krb5_get_init_creds_password failed|NO krb5_get_init_creds_password failed"
	"default-servername-other-realm|local|alice|$ALICE_PW|smtp|OTHER|NO saslauthd realm mismatch|NO krb5_get_init_creds_password failed"
	"malformed-principal|main|al@ice|$ALICE_PW|smtp|$REALM|NO saslauthd internal error|NO saslauthd internal error"
)

declare -A REPLIES

# run_cases <who: ours|cyrus> (sockets <rundir prefix>-{main,upper,nokey,local}/mux)
run_cases() {
	local who="$1" id daemon login pw svc realm exp_ours exp_cyrus exp sock got line drv
	for line in "${CASES[@]}"; do
		IFS='|' read -r id daemon login pw svc realm exp_ours exp_cyrus <<<"$line"
		sock="$SCRATCH/$who-$daemon/mux"
		if [[ "$who" == ours ]]; then exp="$exp_ours"; else exp="$exp_cyrus"; fi
		got=$(reply "$sock" "$login" "$pw" "$svc" "$realm")
		REPLIES["$who|$id"]="$got"
		check "$who $id: reply" "$exp" "$got"
		for drv in debian ours; do
			if [[ "$exp" == OK ]]; then line="$OK_LINE"; else line="$NO_LINE"; fi
			check "$who $id: $drv testsaslauthd" "$line" \
				"$(verdict "$drv" "$sock" "$login" "$pw" "$svc" "$realm")"
		done
	done
}

# timed_reply <socket> <login> <password> <service> <realm>: "<reply>|<ms>".
timed_reply() {
	local out ms
	out=$(saslclient req --time --timeout 60 "$@")
	ms=$(sed -n 's/^elapsed_ms=//p' <<<"$out")
	printf '%s|%s' "$(head -n 1 <<<"$out")" "$ms"
}

# start_failure <binary> <rundir> <conf>: "<exit status>|<output>" of a start that should fail.
start_failure() {
	local out rc=0
	mkdir -p "$2"
	out=$(timeout 20 env ${DAEMON_ENV[@]+"${DAEMON_ENV[@]}"} "$1" -d -m "$2" -a kerberos5 -O "$3" </dev/null 2>&1) || rc=$?
	printf '%s|%s' "$rc" "$(tr '\n' ' ' <<<"$out")"
}

# hang listener: accepts TCP connections and UDP datagrams, never answers.
HANG_PORT=$(free_tcp_port)
start_bg hang-kdc "$SCRATCH/hang.log" "$PYTHON" -c '
import select, socket, sys
port = int(sys.argv[1])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port)); t.listen(64)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port))
held = []
while True:
    r, _, _ = select.select([t, u], [], [])
    for s in r:
        if s is t:
            held.append(t.accept()[0])
        else:
            s.recvfrom(65536)
' "$HANG_PORT" </dev/null
HANG_PID=$DAEMON_PID
wait_for_tcp_port "$HANG_PORT" "$START_TIMEOUT" 127.0.0.1 "$HANG_PID" || die "hang listener did not start"
sed "s/kdc = 127.0.0.1:$KDC_PORT/kdc = 127.0.0.1:$HANG_PORT/" "$KDC_DIR/krb5.conf" >"$SCRATCH/hang-krb5.conf"
write_conf "$SCRATCH/hang.conf" "$SCRATCH/good.keytab" 'krb5_timeout: 3'

# ================================================================ ours
log "=== ours"
start_ours "$SCRATCH/ours-main" -a kerberos5 -O "$SCRATCH/main.conf"
cp "$SCRATCH/main.conf" "$SCRATCH/ours-upper.conf" # gets krb5_uppercase_realm by SIGHUP below
start_ours "$SCRATCH/ours-upper" -a kerberos5 -O "$SCRATCH/ours-upper.conf"
OURS_UPPER_PID=$DAEMON_PID
start_ours "$SCRATCH/ours-nokey" -a kerberos5 -O "$SCRATCH/nokey.conf"

# Reload: without the key, then with it (SIGHUP), then a rejected file (kept settings).
check "ours before reload: lower-case realm" "NO saslauthd realm mismatch" \
	"$(reply "$SCRATCH/ours-upper/mux" alice "$ALICE_PW" smtp test.example)"
cp "$SCRATCH/upper.conf" "$SCRATCH/ours-upper.conf"
kill -HUP "$OURS_UPPER_PID"
lower_ok() { [[ "$(reply "$SCRATCH/ours-upper/mux" alice "$ALICE_PW" smtp test.example)" == OK ]]; }
if wait_until 10 lower_ok; then r=OK; else r="still refused"; fi
check "ours after SIGHUP with krb5_uppercase_realm: lower-case realm" OK "$r"

start_ours "$SCRATCH/ours-local" -a kerberos5 -O "$SCRATCH/local.conf"
run_cases ours

# -n 0: one child per connection (no worker_init); the library context is made there.
start_ours "$SCRATCH/ours-n0" -n 0 -a kerberos5 -O "$SCRATCH/main.conf"
check "ours -n 0: good password" OK "$(reply "$SCRATCH/ours-n0/mux" alice "$ALICE_PW" smtp "")"
check "ours -n 0: bad password" "NO krb5_get_init_creds_password failed" \
	"$(reply "$SCRATCH/ours-n0/mux" alice x smtp "")"
check "ours -n 0: forced instance" OK "$(reply "$SCRATCH/ours-n0/mux" alice "$ADMIN_PW" imap "")"

# Log lines: "auth_krb5: <step>: <library message> (<code>)", never the password.
OLOG="$SCRATCH/ours.log"
check_match "ours logs the wrong password as auth_krb5: <step>: <message> (<code>)" \
	'auth_krb5: krb5_get_init_creds_password: Preauthentication failed \(-1765328360\)' "$(cat "$OLOG")"
check_match "ours logs the missing verification key" \
	'auth_krb5: krb5_verify_init_creds: .*\(-?[0-9]+\)' "$(cat "$OLOG")"
check_match "ours: auth failure reason of a wrong password is the library's message" \
	'auth failure: \[user=alice\] \[service=smtp\] \[realm=\] \[mech=kerberos5\] \[reason=Preauthentication failed\]' \
	"$(cat "$OLOG")"
check "ours never logs a password" "" \
	"$(grep -F -e "$ALICE_PW" -e "$ADMIN_PW" -e "$BOB_PW" "$OLOG" || true)"

# Log forging: a login with a newline must not start a line of its own.
reply "$SCRATCH/ours-main/mux" $'alice\nforged: auth success' x smtp "" >/dev/null
check "ours: library message quoting the login is escaped" "" "$(grep '^forged' "$OLOG" || true)"

kill -HUP "$OURS_UPPER_PID"
printf 'krb5_timeout: soon\n' >>"$SCRATCH/ours-upper.conf"
kill -HUP "$OURS_UPPER_PID"
sleep 0.5
printf 'krb5_keytab %s\n' "$SCRATCH/good.keytab" >"$SCRATCH/ours-upper.conf"
kill -HUP "$OURS_UPPER_PID"
sleep 0.5
check "ours survives SIGHUP with a rejected file" yes "$(yesno pid_alive "$OURS_UPPER_PID")"
check_match "ours logs the rejected reload" \
	'reload of mechanism kerberos5 failed, keeping the old settings: auth_krb5_init .*ours-upper.conf:1: no colon separator' \
	"$(cat "$OLOG")"
check_match "ours logs a bad krb5_timeout at reload" 'auth_krb5_init .*krb5_timeout must be' "$(cat "$OLOG")"
check "ours after rejected reload keeps krb5_uppercase_realm" OK \
	"$(reply "$SCRATCH/ours-upper/mux" alice "$ALICE_PW" smtp test.example)"

# Start-up with a rejected or missing file fails, saying why.
r=$(start_failure "$OURS_SASLAUTHD" "$SCRATCH/ours-bad" "$SCRATCH/bad.conf")
check "ours start with a rejected file: exit 1" 1 "${r%%|*}"
check_match "ours start with a rejected file: message" \
	'failed to initialize mechanism kerberos5: auth_krb5_init .*bad.conf:1: no colon separator' "$r"
r=$(start_failure "$OURS_SASLAUTHD" "$SCRATCH/ours-missing" "$SCRATCH/missing.conf")
check "ours start with a missing file: exit 1" 1 "${r%%|*}"
check_match "ours start with a missing file: message" 'auth_krb5_init .*missing.conf: No such file' "$r"

# KDC stopped: a bounded, quick NO; back again: OK without restarting the daemon.
stop_kdc
r=$(timed_reply "$SCRATCH/ours-main/mux" alice "$ALICE_PW" smtp "")
OURS_DOWN_MS=${r##*|}
check "ours KDC stopped: reply" "NO krb5_get_init_creds_password failed" "${r%|*}"
check "ours KDC stopped: answered within ${DOWN_BOUND_MS} ms (took ${OURS_DOWN_MS} ms)" yes \
	"$(yesno test "$OURS_DOWN_MS" -lt "$DOWN_BOUND_MS")"
check "ours KDC stopped: testsaslauthd" "$NO_LINE" "$(verdict ours "$SCRATCH/ours-main/mux" alice "$ALICE_PW" smtp "")"
check_match "ours KDC stopped: logged as unreachable" \
	"\[reason=KDC unreachable: Cannot contact any KDC for realm '$REALM'\]" "$(cat "$OLOG")"
restart_kdc
check "ours KDC back: OK without daemon restart" OK "$(reply "$SCRATCH/ours-main/mux" alice "$ALICE_PW" smtp "")"
check "ours KDC back: forced instance OK" OK "$(reply "$SCRATCH/ours-main/mux" alice "$ADMIN_PW" imap "")"

# A broken krb5.conf: start-up still succeeds (as Cyrus), every request is an internal error.
printf '[libdefaults\n garbage = {\n' >"$SCRATCH/garbage-krb5.conf"
SAVED_ENV=(${DAEMON_ENV[@]+"${DAEMON_ENV[@]}"})
DAEMON_ENV=("KRB5_CONFIG=$SCRATCH/garbage-krb5.conf")
start_ours "$SCRATCH/ours-garbage" -a kerberos5 -O "$SCRATCH/main.conf"
DAEMON_ENV=(${SAVED_ENV[@]+"${SAVED_ENV[@]}"})
check "ours broken krb5.conf: reply" "NO saslauthd internal error" \
	"$(reply "$SCRATCH/ours-garbage/mux" alice "$ALICE_PW" smtp "")"
check_match "ours broken krb5.conf: reason" \
	'\[reason=krb5_init_context: Improper format of Kerberos configuration file\]' "$(cat "$OLOG")"

# A KDC that accepts and never answers: krb5_timeout bounds the request.
DAEMON_ENV=("KRB5_CONFIG=$SCRATCH/hang-krb5.conf" "KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf")
start_ours "$SCRATCH/ours-hang" -a kerberos5 -O "$SCRATCH/hang.conf"
DAEMON_ENV=(${SAVED_ENV[@]+"${SAVED_ENV[@]}"})
r=$(timed_reply "$SCRATCH/ours-hang/mux" alice "$ALICE_PW" smtp "")
OURS_HANG_MS=${r##*|}
check "ours silent KDC: reply" "NO krb5_get_init_creds_password failed" "${r%|*}"
check "ours silent KDC: answered after krb5_timeout 3 s (took ${OURS_HANG_MS} ms)" yes \
	"$( ((OURS_HANG_MS >= 2900 && OURS_HANG_MS < 6000)) && echo yes || echo no)"
check_match "ours silent KDC: logged" \
	'auth_krb5: krb5_get_init_creds_password: no answer from the KDC within 3 s' "$(cat "$OLOG")"
check "ours silent KDC: the next request is bounded too" \
	"NO krb5_get_init_creds_password failed" "$(reply "$SCRATCH/ours-hang/mux" alice x smtp "" 2>&1 | head -1)"

check "ours: no ticket or replay cache files created" "" "$(new_ticket_files)"
for d in ours-main ours-upper ours-nokey ours-local ours-n0 ours-garbage ours-hang; do
	check "ours: nothing else in run dir $d" "" "$(run_dir_extras "$SCRATCH/$d")"
done
check_no_sanitizer_reports "$OLOG"

# ================================================================ Cyrus
if ((USE_CYRUS)); then
	log "=== cyrus"
	TICKETS_BEFORE=$(ticket_files)
	# Its timing against the silent KDC is measured in the background (about 30 s).
	DAEMON_ENV=("KRB5_CONFIG=$SCRATCH/hang-krb5.conf" "KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf")
	start_cyrus "$SCRATCH/cyrus-hang" -a kerberos5 -O "$SCRATCH/hang.conf"
	DAEMON_ENV=(${SAVED_ENV[@]+"${SAVED_ENV[@]}"})
	timed_reply "$SCRATCH/cyrus-hang/mux" alice "$ALICE_PW" smtp "" >"$SCRATCH/cyrus-hang.out" 2>&1 &
	CYRUS_HANG_JOB=$!

	start_cyrus "$SCRATCH/cyrus-main" -a kerberos5 -O "$SCRATCH/main.conf"
	start_cyrus "$SCRATCH/cyrus-upper" -a kerberos5 -O "$SCRATCH/upper.conf"
	start_cyrus "$SCRATCH/cyrus-nokey" -a kerberos5 -O "$SCRATCH/nokey.conf"
	start_cyrus "$SCRATCH/cyrus-local" -a kerberos5 -O "$SCRATCH/local.conf"
	run_cases cyrus

	DAEMON_ENV=("KRB5_CONFIG=$SCRATCH/garbage-krb5.conf")
	start_cyrus "$SCRATCH/cyrus-garbage" -a kerberos5 -O "$SCRATCH/main.conf"
	DAEMON_ENV=(${SAVED_ENV[@]+"${SAVED_ENV[@]}"})
	check "cyrus broken krb5.conf: reply" "NO saslauthd internal error" \
		"$(reply "$SCRATCH/cyrus-garbage/mux" alice "$ALICE_PW" smtp "")"

	r=$(start_failure "$CYRUS_SASLAUTHD" "$SCRATCH/cyrus-bad" "$SCRATCH/bad.conf")
	check "cyrus start with a rejected file: exit 1" 1 "${r%%|*}"
	CYRUS_BAD_START="$r"
	r=$(start_failure "$CYRUS_SASLAUTHD" "$SCRATCH/cyrus-missing" "$SCRATCH/missing.conf")
	check "cyrus start with a missing file: exit 1" 1 "${r%%|*}"

	stop_kdc
	r=$(timed_reply "$SCRATCH/cyrus-main/mux" alice "$ALICE_PW" smtp "")
	CYRUS_DOWN_MS=${r##*|}
	check "cyrus KDC stopped: reply" "NO krb5_get_init_creds_password failed" "${r%|*}"
	check "cyrus KDC stopped: answered within ${DOWN_BOUND_MS} ms (took ${CYRUS_DOWN_MS} ms)" yes \
		"$(yesno test "$CYRUS_DOWN_MS" -lt "$DOWN_BOUND_MS")"
	restart_kdc
	check "cyrus KDC back: OK without daemon restart" OK "$(reply "$SCRATCH/cyrus-main/mux" alice "$ALICE_PW" smtp "")"

	CYRUS_NEW_TICKETS=$(new_ticket_files)
	log "files Cyrus created: ${CYRUS_NEW_TICKETS:-none}"
	CYRUS_RUNDIR_EXTRAS=""
	for d in cyrus-main cyrus-upper cyrus-nokey cyrus-local cyrus-hang; do
		CYRUS_RUNDIR_EXTRAS+=$(run_dir_extras "$SCRATCH/$d")
	done

	if ! wait "$CYRUS_HANG_JOB"; then :; fi
	r=$(cat "$SCRATCH/cyrus-hang.out")
	CYRUS_HANG_MS=${r##*|}
	check "cyrus silent KDC: reply" "NO krb5_get_init_creds_password failed" "${r%|*}"

	# ------------------------------------------------------------ differences
	printf '# differences between ours and Cyrus %s (exact replies):\n' \
		"$("$CYRUS_SASLAUTHD" -v 2>&1 | sed -n 's/^saslauthd //p' | head -1)"
	ndiff=0
	for line in "${CASES[@]}"; do
		IFS='|' read -r id _ _ _ _ _ exp_ours exp_cyrus <<<"$line"
		o="${REPLIES[ours|$id]}" c="${REPLIES[cyrus|$id]}"
		if [[ "$o" != "$c" ]]; then
			ndiff=$((ndiff + 1))
			printf 'DIFF: %s: ours [%s] cyrus [%s]\n' "$id" "$o" "$c"
		fi
	done
	printf 'DIFF: KDC stopped: ours %s ms, cyrus %s ms (both NO)\n' "$OURS_DOWN_MS" "$CYRUS_DOWN_MS"
	printf 'DIFF: silent KDC: ours %s ms (krb5_timeout: 3), cyrus %s ms (no bound of its own)\n' \
		"$OURS_HANG_MS" "$CYRUS_HANG_MS"
	printf 'DIFF: ticket/replay cache files: ours none, cyrus [%s]; extra run-dir files: cyrus [%s]\n' \
		"${CYRUS_NEW_TICKETS:-none}" "${CYRUS_RUNDIR_EXTRAS:-none}"
	printf 'DIFF: rejected file at start: ours [%s] cyrus [%s]\n' \
		"$(grep -o 'auth_krb5_init[^|]*no colon separator' <<<"$(start_failure "$OURS_SASLAUTHD" "$SCRATCH/ours-bad" "$SCRATCH/bad.conf")" | head -1)" \
		"${CYRUS_BAD_START#*|}"
	check "only the documented reply differences (2.1.28 has no realm check, no krb5_uppercase_realm)" 5 "$ndiff"
fi

log "elapsed $(($(now_ms) - T0)) ms"
finish
