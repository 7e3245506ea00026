#!/usr/bin/env bash
# ldap mechanism against a throwaway slapd: bind/fastbind/custom x good/bad/unknown, every
# password scheme, groups (attr and filter), tokens with and without -r, filter and DN
# injection, ldaps:// and StartTLS with and without peer checks, SASL EXTERNAL over
# ldapi://, configuration errors at start-up and SIGHUP.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/slapd.sh"

require_root
require_ours ldap
start_slapd
. "$FIXTURES_DIR/ldap/common.sh"

BASE=(
	"ldap_servers: $SLAPD_URI"
	"ldap_search_base: $LDAP_PEOPLE"
	"ldap_timeout: 3"
)
SCHEME_USERS=(alice bob carol dave erin gina)
if [[ "$SLAPD_HAS_ARGON2" == 1 ]]; then SCHEME_USERS+=(frank); else log "SKIP argon2 users: slapd argon2 module unavailable"; fi

# ---------------------------------------------------------------- bind
with_ours bind -- "${BASE[@]}"
for u in "${SCHEME_USERS[@]}"; do expect OK "bind: $u good" "$u" "$u-pw"; done
expect NO "bind: bad password" alice wrong
expect NO "bind: unknown user" nosuch nosuch-pw
expect NO "bind: two entries match" twin twin-pw
expect OK "bind: uid matching ignores case" ALICE alice-pw

with_ours bindsvc -- "${BASE[@]}" "ldap_bind_dn: $SLAPD_SERVICE_DN" "ldap_password: $SLAPD_SERVICE_PW"
expect OK "bind+service dn: good" bob bob-pw
expect NO "bind+service dn: bad" bob alice-pw
expect NO "bind+service dn: unknown" nosuch x
check_match "bind: reasons in the log" 'reason=invalid credentials' "$(cat "$SCRATCH/ours.log")"
check_match "bind: user not found reason" 'reason=user not found' "$(cat "$SCRATCH/ours.log")"

with_ours badsvc -- "${BASE[@]}" "ldap_bind_dn: $SLAPD_SERVICE_DN" "ldap_password: wrong"
expect NO "wrong service password: NO" alice alice-pw
check_match "wrong service password: logged as server failure" 'service bind failed: Invalid credentials' "$(cat "$SCRATCH/ours.log")"

# ---------------------------------------------------------------- fastbind
with_ours fast -- "${BASE[@]}" "ldap_auth_method: fastbind" "ldap_filter: uid=%u,$LDAP_PEOPLE"
for u in alice carol erin; do expect OK "fastbind: $u good" "$u" "$u-pw"; done
expect NO "fastbind: bad password" alice wrong
expect NO "fastbind: unknown user" nosuch nosuch-pw
expect NO "fastbind: DN injection with ','" "alice,ou=people" alice-pw
expect NO "fastbind: DN injection with '+'" "alice+cn=alice" alice-pw

# ---------------------------------------------------------------- custom
with_ours custom -- "${BASE[@]}" "ldap_auth_method: custom" "ldap_bind_dn: $SLAPD_ADMIN_DN" "ldap_password: $SLAPD_ADMIN_PW"
for u in "${SCHEME_USERS[@]}" hank; do expect OK "custom: $u good" "$u" "$u-pw"; done
for u in "${SCHEME_USERS[@]}"; do expect NO "custom: $u bad" "$u" "$u-pw-x"; done
expect NO "custom: unknown user" nosuch nosuch-pw
bob_hash="$(ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H "$SLAPD_LDAPI_URI" -b "uid=bob,$LDAP_PEOPLE" userPassword | sed -n 's/^userPassword:: //p' | base64 -d)"
expect NO "custom: the stored {SSHA} string is no password" bob "$bob_hash"
with_ours customanon -- "${BASE[@]}" "ldap_auth_method: custom"
expect NO "custom, anonymous service cannot read userPassword" alice alice-pw

# ---------------------------------------------------------------- groups
GROUPS_ATTR=("ldap_group_dn: cn=staff,ou=groups,$SLAPD_SUFFIX")
GROUPS_FILTER=("ldap_group_match_method: filter" "ldap_group_search_base: ou=groups,$SLAPD_SUFFIX"
	"ldap_group_filter: (&(cn=admins)(member=%D))")
with_ours gattr -- "${BASE[@]}" "${GROUPS_ATTR[@]}"
expect OK "group attr: member" alice alice-pw
expect NO "group attr: not a member" carol carol-pw
expect NO "group attr: member, bad password" bob nope
check_match "group: reason" 'reason=not in group' "$(cat "$SCRATCH/ours.log")"
with_ours gfilter -- "${BASE[@]}" "${GROUPS_FILTER[@]}"
expect OK "group filter: member" carol carol-pw
expect NO "group filter: not a member" bob bob-pw
with_ours gfast -- "${BASE[@]}" "${GROUPS_ATTR[@]}" "ldap_auth_method: fastbind" "ldap_filter: uid=%u,$LDAP_PEOPLE"
expect OK "group attr + fastbind: member" bob bob-pw
expect NO "group attr + fastbind: not a member" dave dave-pw
with_ours gcustom -- "${BASE[@]}" "${GROUPS_FILTER[@]}" "ldap_auth_method: custom" "ldap_bind_dn: $SLAPD_ADMIN_DN" "ldap_password: $SLAPD_ADMIN_PW"
expect OK "group filter + custom: member" alice alice-pw
expect NO "group filter + custom: not a member" gina gina-pw

# ---------------------------------------------------------------- tokens
with_ours tok -- "ldap_servers: $SLAPD_URI" "ldap_search_base: ou=people,dc=%2,dc=%1" \
	"ldap_filter: (&(uid=%U)(objectClass=%s)(mail=%U@%r))" "ldap_default_realm: example.com"
expect OK "tokens: realm example.com, service as objectClass" alice alice-pw inetOrgPerson example.com
expect OK "tokens: empty realm uses ldap_default_realm" alice alice-pw inetOrgPerson ""
expect NO "tokens: other realm, other base" alice alice-pw inetOrgPerson example.org
expect NO "tokens: service that is no objectClass" alice alice-pw imap example.com
with_ours tokr -r -- "ldap_servers: $SLAPD_URI" "ldap_search_base: ou=people,dc=%2,dc=%1" \
	"ldap_filter: (&(uid=%U)(mail=%u))"
expect OK "tokens -r: %u = user@realm, %U = user, %1/%2 from the login's domain" alice alice-pw imap example.com
expect NO "tokens -r: wrong realm" alice alice-pw imap example.org
expect OK "tokens -r: user@domain login" alice@example.com alice-pw imap ""
with_ours tokd -- "ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_filter: (mail=%U@%d)"
expect OK "tokens: %U@%d from a user@domain login" alice@example.com alice-pw
expect NO "tokens: %d is empty without a domain" alice alice-pw imap example.com

# ---------------------------------------------------------------- injection
with_ours inj -- "${BASE[@]}"
for login in '*' '*)(uid=*' 'alice)(uid=*' 'al*' 'admin\29' 'alice)(|(uid=*'; do
	expect NO "injection (bind): $login" "$login" alice-pw
done
with_ours injc -- "${BASE[@]}" "ldap_auth_method: custom" "ldap_bind_dn: $SLAPD_ADMIN_DN" "ldap_password: $SLAPD_ADMIN_PW"
for login in '*' 'hank)(uid=*' 'h*'; do expect NO "injection (custom): $login" "$login" hank-pw; done

# ---------------------------------------------------------------- TLS
TLSB=("ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 3")
with_ours tls1 -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "ldap_tls_check_peer: yes" "ldap_tls_cacert_file: $SLAPD_CA"
expect OK "ldaps, check_peer on, right CA" alice alice-pw
with_ours tls2 -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "ldap_tls_check_peer: yes" "ldap_tls_cacert_file: $SLAPD_WRONG_CA"
expect NO "ldaps, check_peer on, wrong CA" alice alice-pw
with_ours tls3 -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "ldap_tls_check_peer: no" "ldap_tls_cacert_file: $SLAPD_WRONG_CA"
expect OK "ldaps, check_peer off, wrong CA" alice alice-pw
check_match "check_peer off warns at start" 'ldap_tls_check_peer is off' "$(cat "$SCRATCH/ours.log")"
with_ours stls1 -- "ldap_servers: $SLAPD_URI" "${TLSB[@]}" "ldap_start_tls: yes" "ldap_tls_check_peer: yes" "ldap_tls_cacert_file: $SLAPD_CA"
expect OK "StartTLS, check_peer on, right CA" bob bob-pw
with_ours stls2 -- "ldap_servers: $SLAPD_URI" "${TLSB[@]}" "ldap_start_tls: yes" "ldap_tls_check_peer: yes" "ldap_tls_cacert_file: $SLAPD_WRONG_CA"
expect NO "StartTLS, check_peer on, wrong CA" bob bob-pw
check_match "StartTLS failure logged" 'start tls failed' "$(cat "$SCRATCH/ours.log")"

# ---------------------------------------------------------------- SASL EXTERNAL
with_ours ext -- "ldap_servers: $SLAPD_LDAPI_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_use_sasl: yes" \
	"ldap_mech: EXTERNAL" "ldap_auth_method: custom" "${GROUPS_ATTR[@]}"
expect OK "SASL EXTERNAL service over ldapi, custom: member" bob bob-pw
expect NO "SASL EXTERNAL: bad password" bob alice-pw
expect NO "SASL EXTERNAL: not in group" dave dave-pw

# ---------------------------------------------------------------- configuration at start-up
stop_pid "$CUR_PID"
CUR_PID=""
OURS_LOG="$SCRATCH/unknown.log" with_ours unk -- "${BASE[@]}" "ldap_serverz: typo" "ldap_scope: subtree"
check_match "unknown key warned with file:line" 'unk.conf:4: unknown key ldap_serverz' "$(cat "$SCRATCH/unknown.log")"
check_match "bad enum warned with file:line" 'unk.conf:5: subtree is not a valid value for ldap_scope' "$(cat "$SCRATCH/unknown.log")"
expect OK "unknown key: still serves" alice alice-pw
stop_pid "$CUR_PID"
CUR_PID=""
bad="$(ldap_conf bad "ldap_servers: $SLAPD_URI" "ldap_search_base $LDAP_PEOPLE")"
rc=0
err="$(timeout 10 "$OURS_SASLAUTHD" -a ldap -O "$bad" -m "$SCRATCH/run-bad" -n 1 2>&1 >/dev/null)" || rc=$?
check "syntax error: exit 1" 1 "$rc"
check_match "syntax error: clear message on stderr" 'bad.conf:2: no colon separator' "$err"
check "syntax error: no socket left" no "$(yesno test -S "$SCRATCH/run-bad/mux")"
rc=0
err="$(timeout 10 "$OURS_SASLAUTHD" -a ldap -O "$SCRATCH/missing.conf" -m "$SCRATCH/run-miss" -n 1 2>&1 >/dev/null)" || rc=$?
check "missing file: exit 1" 1 "$rc"
check_match "missing file: message" 'missing.conf: No such file' "$err"

# ---------------------------------------------------------------- SIGHUP
with_ours hup -- "${BASE[@]}"
expect OK "before reload: carol OK" carol carol-pw
ldap_conf hup "${BASE[@]}" "${GROUPS_ATTR[@]}" >/dev/null
kill -HUP "$CUR_PID"
wait_until 5 bash -c "[[ \"\$(\"$PYTHON\" \"$SASLCLIENT_PY\" req \"$SOCK\" carol carol-pw imap '')\" == NO ]]" || true
expect NO "after reload: group check applies to carol" carol carol-pw
ldap_conf hup "${BASE[@]}" "broken line" >/dev/null
kill -HUP "$CUR_PID"
sleep 0.5
expect OK "broken file at reload: old settings kept (alice)" alice alice-pw
expect NO "broken file at reload: old settings kept (carol)" carol carol-pw
check_match "broken reload logged" 'keeping the old settings' "$(cat "$SCRATCH/ours.log")"

# Debian's and our testsaslauthd both see the same verdicts.
with_ours tools -- "${BASE[@]}"
check_match "Debian testsaslauthd OK" '^0: OK' "$("$CYRUS_TESTSASLAUTHD" -f "$SOCK" -u alice -p alice-pw 2>&1)"
check_match "Debian testsaslauthd NO" '^0: NO' "$("$CYRUS_TESTSASLAUTHD" -f "$SOCK" -u alice -p bad 2>&1 || true)"
check_match "our testsaslauthd OK" '^0: OK' "$("$OURS_TESTSASLAUTHD" -f "$SOCK" -u bob -p bob-pw 2>&1)"

check_no_sanitizer_reports "$SCRATCH/ours.log" "$SCRATCH/unknown.log"
finish
