#!/usr/bin/env bash
# saslauthd --check for the network mechanisms against real peers: a throwaway slapd,
# Dovecot, MIT KDC and web server. For each mechanism, --check exits 0 with "result: OK"
# while its peer runs, and exits 1 with a line that says what is wrong when the LDAP
# configuration has a syntax error, the LDAP service password is wrong, or the LDAP
# server, the IMAP server, the KDC or the web server is down. --check never starts a
# daemon: no socket appears in the run directory.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/tls.sh"
. "$FIXTURES_DIR/slapd.sh"
. "$FIXTURES_DIR/dovecot.sh"
. "$FIXTURES_DIR/kdc.sh"

require_root
require_ours ldap rimap kerberos5 httpform
require_slapd
require_dovecot
require_kdc_tools
require_cmd openssl
T0=$(now_ms)

RUN="$SCRATCH/run" # -m for every --check: must stay without a socket
STDERR_LOG="$SCRATCH/check-stderr.log"
: >"$STDERR_LOG"

# conf <name> <line...>: write $SCRATCH/<name>.conf, print its path.
conf() {
	local name="$1"
	shift
	printf '%s\n' "$@" >"$SCRATCH/$name.conf"
	printf '%s' "$SCRATCH/$name.conf"
}

# run_check <args...>: our saslauthd --check; sets OUT (stdout) and RC. stderr (sanitizer
# reports, if any) is appended to $STDERR_LOG.
run_check() {
	RC=0
	OUT=$(timeout 60 "$OURS_SASLAUTHD" --check -m "$RUN" "$@" 2>>"$STDERR_LOG") || RC=$?
}

# report_line <label>: the "  ok|FAIL <label> ..." line of the last output.
report_line() { grep -E "^  (ok|FAIL) +$1 " <<<"$OUT" || true; }

# usable <description> <back-end text regex> <args...>: exit 0, "result: OK" as the last
# line, and "  ok   back-end <text>" with the text matching (anchored at both ends).
usable() {
	local desc="$1" re="$2"
	shift 2
	run_check "$@"
	check "$desc: exit 0" 0 "$RC"
	check "$desc: result: OK" "result: OK" "$(tail -n 1 <<<"$OUT")"
	check_match "$desc: back-end line" "^  ok +back-end +$re\$" "$(report_line back-end)"
}

# broken <description> <line label> <text regex> <args...>: exit 1, "result: FAIL ..." as
# the last line, and "  FAIL <label> <text>" with the text matching (anchored at both ends).
broken() {
	local desc="$1" what="$2" re="$3"
	shift 3
	run_check "$@"
	check "$desc: exit 1" 1 "$RC"
	check_match "$desc: result: FAIL" '^result: FAIL' "$(tail -n 1 <<<"$OUT")"
	check_match "$desc: clear $what line" "^  FAIL +$what +$re\$" "$(report_line "$what")"
}

# show <title>: the last --check output, in the test log.
show() {
	printf -- '--- %s: saslauthd --check (exit %s)\n%s\n---\n' "$1" "$RC" "$OUT"
}

# ------------------------------------------------------------------------- ldap
start_slapd
LDAP_PEOPLE="ou=people,$SLAPD_SUFFIX"
SLAPD_HOSTPORT="127.0.0.1:$SLAPD_PORT"
DEAD=$(free_tcp_port)
LDAP_BASE=("ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 3")
SVC=("ldap_bind_dn: $SLAPD_SERVICE_DN" "ldap_password: $SLAPD_SERVICE_PW")

good_ldap=$(conf ldap-good "${LDAP_BASE[@]}" "${SVC[@]}")
usable "ldap, service bind" "ldap://$SLAPD_HOSTPORT/: service bind as $SLAPD_SERVICE_DN: ok" \
	-a ldap -O "$good_ldap"
usable "ldap, first server down, second answers" \
	"ldap://127.0.0.1:$DEAD/: Can't contact LDAP server; ldap://$SLAPD_HOSTPORT/: service bind as $SLAPD_SERVICE_DN: ok" \
	-a ldap -O "$(conf ldap-failover "ldap_servers: ldap://127.0.0.1:$DEAD/ $SLAPD_URI" \
		"ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 3" "${SVC[@]}")"
usable "ldap, StartTLS with the right CA" "ldap://$SLAPD_HOSTPORT/: StartTLS, service bind as $SLAPD_SERVICE_DN: ok" \
	-a ldap -O "$(conf ldap-stls "${LDAP_BASE[@]}" "${SVC[@]}" "ldap_start_tls: yes" \
		"ldap_tls_check_peer: yes" "ldap_tls_cacert_file: $SLAPD_CA")"
usable "ldap, no bind DN: anonymous, root DSE" \
	"ldap://$SLAPD_HOSTPORT/: anonymous service bind \\(no ldap_bind_dn\\): ok, root DSE read: ok" \
	-a ldap -O "$(conf ldap-anon "${LDAP_BASE[@]}")"

bad_ldap=$(conf ldap-syntax "ldap_servers: $SLAPD_URI" "ldap_search_base $LDAP_PEOPLE")
broken "ldap, syntax error in the file" configuration "cannot use LDAP configuration $bad_ldap:2: no colon separator.*" \
	-a ldap -O "$bad_ldap"
show "ldap, syntax error at line 2"
check "ldap, syntax error: back-end not contacted" 0 "$(grep -c 'back-end' <<<"$OUT" || true)"

broken "ldap, wrong service password" back-end \
	"ldap://$SLAPD_HOSTPORT/: service bind as $SLAPD_SERVICE_DN: Invalid credentials" \
	-a ldap -O "$(conf ldap-badpw "${LDAP_BASE[@]}" "ldap_bind_dn: $SLAPD_SERVICE_DN" "ldap_password: wrong")"
show "ldap, wrong ldap_password"
check "ldap, wrong password: password not printed" 0 "$(grep -c -e wrong -e "$SLAPD_SERVICE_PW" <<<"$OUT" || true)"

stop_slapd
broken "ldap, server down" back-end "no LDAP server usable: ldap://$SLAPD_HOSTPORT/: Can't contact LDAP server" \
	-a ldap -O "$good_ldap"
show "ldap, server down"

# ------------------------------------------------------------------------- rimap
TLS="$SCRATCH/tls"
make_test_ca "$TLS" ca
make_server_cert "$TLS" ca server "DNS:localhost,IP:127.0.0.1"
dovecot_user "$SCRATCH/imap-users" alice 'Alice-Secret-1'
IMAP_PORT=$(free_tcp_port)
IMAPS_PORT=$(free_tcp_port)
start_dovecot "$SCRATCH/dovecot" "$SCRATCH/imap-users" plain "$IMAP_PORT" "$IMAPS_PORT" \
	"$TLS/server.pem" "$TLS/server.key"
IMAP_DEAD=$(free_tcp_port)

usable "rimap, Cyrus form" "imap://127.0.0.1:$IMAP_PORT: greeting \\* OK .*" -a rimap -O "127.0.0.1/$IMAP_PORT"
usable "rimap, imaps with the right CA" "imaps://127.0.0.1:$IMAPS_PORT: greeting \\* OK .* \\(over TLS\\)" \
	-a rimap -O "imaps://127.0.0.1:$IMAPS_PORT?cafile=$TLS/ca.pem"
usable "rimap, STARTTLS" "imap\\+starttls://127.0.0.1:$IMAP_PORT: greeting \\* OK .*, then STARTTLS ok" \
	-a rimap -O "imap+starttls://127.0.0.1:$IMAP_PORT?cafile=$TLS/ca.pem"
usable "rimap, first server down" \
	"imap://127.0.0.1:$IMAP_DEAD: connect 127.0.0.1: Connection refused; imap://127.0.0.1:$IMAP_PORT: greeting \\* OK .*" \
	-a rimap -O "127.0.0.1/$IMAP_DEAD 127.0.0.1/$IMAP_PORT"
# Dovecot logs every session: each of ours ended by LOGOUT with no authentication attempt.
check "rimap: four sessions, each logged out without any auth attempt" 4 \
	"$(grep -c 'Aborted login by logging out (no auth attempts' "$SCRATCH/dovecot/dovecot.log" || true)"
check "rimap: no LOGIN reached Dovecot" 0 "$(grep -c -E 'Login: |auth failed|passwd-file' "$SCRATCH/dovecot/dovecot.log" || true)"

stop_pid "$DOVECOT_PID"
broken "rimap, IMAP server down" back-end "imap://127.0.0.1:$IMAP_PORT: connect 127.0.0.1: Connection refused" \
	-a rimap -O "127.0.0.1/$IMAP_PORT"
show "rimap, IMAP server down"

# ------------------------------------------------------------------------- kerberos5
REALM=TEST.EXAMPLE
SERVER=saslauthd.test.example
start_kdc "$REALM"
kdc_add_service_keytab "host/$SERVER" "$SCRATCH/good.keytab"
kdc_add_service_keytab host/other.test.example "$SCRATCH/other.keytab"
krb_good=$(conf krb-good "krb5_keytab: $SCRATCH/good.keytab" "krb5_servername: $SERVER")

usable "kerberos5" \
	"key for host/$SERVER@$REALM in FILE:$SCRATCH/good.keytab: ok; KDC for $REALM answers \\(Client '[^']+@$REALM' not found in Kerberos database\\)" \
	-a kerberos5 -O "$krb_good"
broken "kerberos5, keytab without the verification key" back-end \
	"no key for host/$SERVER@$REALM in FILE:$SCRATCH/other.keytab: .*; KDC for $REALM answers .*" \
	-a kerberos5 -O "$(conf krb-nokey "krb5_keytab: $SCRATCH/other.keytab" "krb5_servername: $SERVER")"

stop_kdc
T_KDC=$(now_ms)
broken "kerberos5, KDC down" back-end \
	"key for host/$SERVER@$REALM in FILE:$SCRATCH/good.keytab: ok; KDC for $REALM: KDC unreachable: .*" \
	-a kerberos5 -O "$krb_good"
show "kerberos5, KDC down"
check "kerberos5, KDC down: answered within krb5_timeout" yes "$( (( $(now_ms) - T_KDC < 12000 )) && echo yes || echo no)"

# ------------------------------------------------------------------------- httpform
HTTP_PORT=$(free_tcp_port)
printf '{"alice": "Alice-Secret-1"}\n' >"$SCRATCH/users.json"
start_bg httpd "$SCRATCH/httpd.log" "$PYTHON" "$FIXTURES_DIR/httpd.py" "$HTTP_PORT" form \
	--users "$SCRATCH/users.json" --record "$SCRATCH/requests.jsonl" </dev/null
HTTPD_PID=$DAEMON_PID
wait_for_tcp_port "$HTTP_PORT" 10 127.0.0.1 "$HTTPD_PID" || die "httpd did not start"
http_conf=$(conf http "httpform_host: 127.0.0.1" "httpform_port: $HTTP_PORT" "httpform_uri: /login" \
	"httpform_data: user=%u&pass=%p" "httpform_timeout: 5")

usable "httpform" "http://127.0.0.1:$HTTP_PORT/login: reachable, HEAD answered [0-9]{3}( .*)?" -a httpform -O "$http_conf"
check "httpform: no form (no credentials) was posted" 0 "$( { wc -l <"$SCRATCH/requests.jsonl"; } 2>/dev/null || echo 0)"

stop_pid "$HTTPD_PID"
broken "httpform, web server down" back-end "http://127.0.0.1:$HTTP_PORT/login: .*(Couldn't connect|Failed to connect).*" \
	-a httpform -O "$http_conf"
show "httpform, web server down"

# ------------------------------------------------------------------------- all of them
check "no daemon socket was created by --check" no "$(yesno test -e "$RUN/mux")"
check_no_sanitizer_reports "$STDERR_LOG"
log "took $(( $(now_ms) - T0 )) ms"
finish
