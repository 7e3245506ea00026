#!/usr/bin/env bash
# ldap mechanism: TLS client certificates and cipher lists (ldap_tls_cert, ldap_tls_key,
# ldap_tls_ciphers) against a slapd that demands a client certificate on ldaps:// and
# StartTLS (own CA's cert → OK; none, another CA's, missing or mismatched key → NO with a
# reason; GnuTLS priority strings that can and cannot be negotiated), and the SASL user
# bind (fastbind with ldap_use_sasl; DIGEST-MD5 and PLAIN over ldap://, StartTLS and
# ldapi://; group checks after it) against slapd's own SASL (cleartext userPassword
# through slapd's auxprop, authz-regexp from uid=<user>[,cn=<realm>],cn=<mech>,cn=auth).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/slapd.sh" # also tls.sh

require_root
require_ours ldap
require_cmd ldapwhoami
SASL_PLUGINS=""
for d in /usr/lib/x86_64-linux-gnu/sasl2 /usr/lib/aarch64-linux-gnu/sasl2 /usr/lib64/sasl2 /usr/lib/sasl2; do
	if [[ -e "$d/libplain.so" ]]; then SASL_PLUGINS="$d"; break; fi
done
[[ -n "$SASL_PLUGINS" ]] || skip_test "libsasl2-modules (PLAIN) not installed"

# The TLS listeners (ldaps:// and StartTLS on ldap://) require a certificate from the test
# CA. slapd's SASL: any mechanism over plain ldap:// (sasl-secprops none), identities
# uid=<user>[,cn=<realm>],cn=<mech>,cn=auth mapped to the user's entry; passwords come
# from userPassword (slapd's internal auxprop; DIGEST-MD5 needs them in clear text).
# shellcheck disable=SC2034 # read by slapd.sh
SLAPD_EXTRA_CONF="TLSVerifyClient demand
sasl-secprops none
sasl-realm example.com
authz-regexp \"uid=([^,@]*)(@[^,]*)?,(cn=[^,]*,)?cn=[^,]*,cn=auth\" \"uid=\$1,ou=people,dc=example,dc=com\""
start_slapd
. "$FIXTURES_DIR/ldap/common.sh"

TLSD="$SLAPD_DIR/tls"
# make_client_cert <ca name> <cert name>: a TLS client certificate signed by that CA.
make_client_cert() {
	local ca="$1" name="$2"
	printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n' >"$TLSD/$name.ext"
	openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$name" \
		-keyout "$TLSD/$name.key" -out "$TLSD/$name.csr" 2>/dev/null || die "CSR $name"
	openssl x509 -req -in "$TLSD/$name.csr" -CA "$TLSD/$ca.pem" -CAkey "$TLSD/$ca.key" \
		-CAcreateserial -days "$TLS_TEST_DAYS" -extfile "$TLSD/$name.ext" -out "$TLSD/$name.pem" 2>/dev/null ||
		die "cannot sign client certificate $name"
	chmod 0644 "$TLSD/$name.key"
}
make_client_cert ca client
make_client_cert wrongca rogue

# The daemon reads only the keys; nothing of the environment's ldap.conf may help it.
export LDAPNOINIT=1

# last_reason: the daemon's most recent "Authentication failed" line.
last_reason() { grep 'Authentication failed' "$SCRATCH/ours.log" | tail -n 1; }

TLSB=("ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 3" "ldap_tls_check_peer: yes"
	"ldap_tls_cacert_file: $SLAPD_CA")
CERT=("ldap_tls_cert: $TLSD/client.pem" "ldap_tls_key: $TLSD/client.key")

# ---------------------------------------------------------------- client certificates
with_ours cert -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "${CERT[@]}"
expect OK "ldaps, client cert from the CA: good password" alice alice-pw
expect NO "ldaps, client cert from the CA: bad password" alice wrong
expect NO "ldaps, client cert from the CA: unknown user" nosuch nosuch-pw
check_match "ldaps, client cert: bad password is a wrong password" 'alice: invalid credentials$' \
	"$(grep 'Authentication failed for alice' "$SCRATCH/ours.log")"

with_ours nocert -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}"
expect NO "ldaps, no client cert: NO" alice alice-pw
check_match "ldaps, no client cert: reason says the server closed TLS, names the client cert" \
	"server unavailable: ldaps://127\\.0\\.0\\.1:$SLAPD_TLS_PORT/: .*closed the TLS session: client certificate \\(ldap_tls_cert/ldap_tls_key\\) missing" \
	"$(last_reason)"

with_ours rogue -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" \
	"ldap_tls_cert: $TLSD/rogue.pem" "ldap_tls_key: $TLSD/rogue.key"
expect NO "ldaps, client cert from another CA: NO" alice alice-pw
check_match "ldaps, client cert from another CA: reason" 'closed the TLS session: client certificate .*not accepted' "$(last_reason)"

with_ours stcert -- "ldap_servers: $SLAPD_URI" "ldap_start_tls: yes" "${TLSB[@]}" "${CERT[@]}"
expect OK "StartTLS, client cert from the CA: good password" bob bob-pw
expect NO "StartTLS, client cert from the CA: bad password" bob wrong
with_ours stnocert -- "ldap_servers: $SLAPD_URI" "ldap_start_tls: yes" "${TLSB[@]}"
expect NO "StartTLS, no client cert: NO" bob bob-pw
check_match "StartTLS, no client cert: reason" "ldap://127\\.0\\.0\\.1:$SLAPD_PORT/: .*client certificate \\(ldap_tls_cert/ldap_tls_key\\) missing" "$(last_reason)"

with_ours nokey -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "ldap_tls_cert: $TLSD/client.pem" \
	"ldap_tls_key: $SCRATCH/missing.key"
expect NO "ldaps, client key file missing: NO" alice alice-pw
check_match "ldaps, client key file missing: reason names the file" "cannot set up TLS: ldap_tls_key $SCRATCH/missing.key: No such file" "$(last_reason)"
with_ours wrongkey -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "ldap_tls_cert: $TLSD/client.pem" \
	"ldap_tls_key: $TLSD/rogue.key"
expect NO "ldaps, key that does not match the cert: NO" alice alice-pw
check_match "ldaps, key that does not match the cert: reason" 'cannot set up TLS: the TLS library rejected the certificate' "$(last_reason)"

# ---------------------------------------------------------------- cipher lists (GnuTLS priority strings)
# Debian's libldap uses GnuTLS: ldap_tls_ciphers is a GnuTLS priority string.
TLS12_RSA='NONE:+VERS-TLS1.2:+AES-128-GCM:+ECDHE-RSA:+AEAD:+SIGN-ALL:+COMP-NULL:+GROUP-ALL:+CTYPE-X509'
TLS12_ECDSA='NONE:+VERS-TLS1.2:+AES-128-GCM:+ECDHE-ECDSA:+AEAD:+SIGN-ALL:+COMP-NULL:+GROUP-ALL:+CTYPE-X509'
for ciphers in NORMAL SECURE128 "$TLS12_RSA" 'NORMAL:-VERS-TLS1.3'; do
	with_ours ciph -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "${CERT[@]}" "ldap_tls_ciphers: $ciphers"
	expect OK "ldaps, ldap_tls_ciphers $ciphers: OK" carol carol-pw
done
with_ours ciphst -- "ldap_servers: $SLAPD_URI" "ldap_start_tls: yes" "${TLSB[@]}" "${CERT[@]}" "ldap_tls_ciphers: $TLS12_RSA"
expect OK "StartTLS, TLS 1.2 ECDHE-RSA AES-128-GCM only: OK" carol carol-pw
with_ours ciphno -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "${CERT[@]}" "ldap_tls_ciphers: $TLS12_ECDSA"
expect NO "ldaps, only ECDSA key exchange against an RSA server: NO" carol carol-pw
check_match "ldaps, no common cipher suite: reason carries the TLS error" \
	"ldaps://127\\.0\\.0\\.1:$SLAPD_TLS_PORT/: Can't contact LDAP server \\(.*TLS.*\\)" "$(last_reason)"
with_ours ciphstno -- "ldap_servers: $SLAPD_URI" "ldap_start_tls: yes" "${TLSB[@]}" "${CERT[@]}" "ldap_tls_ciphers: $TLS12_ECDSA"
expect NO "StartTLS, no common cipher suite: NO" carol carol-pw
check_match "StartTLS, no common cipher suite: reason" 'start tls failed \(.*\) \(.*TLS.*\)' "$(last_reason)"
# SECURE256 also raises the certificate profile: a 2048-bit RSA server key is too weak.
with_ours ciph256 -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "${CERT[@]}" "ldap_tls_ciphers: SECURE256"
expect NO "ldaps, SECURE256 against a 2048-bit RSA server: NO" carol carol-pw
log "SECURE256: $(last_reason)"
with_ours ciphbad -- "ldap_servers: $SLAPD_TLS_URI" "${TLSB[@]}" "${CERT[@]}" "ldap_tls_ciphers: NO-SUCH-PRIORITY"
expect NO "ldaps, unparsable cipher string: NO" carol carol-pw
check_match "ldaps, unparsable cipher string: reason names ldap_tls_ciphers" \
	'cannot set up TLS: the TLS library rejected ldap_tls_ciphers "NO-SUCH-PRIORITY"' "$(last_reason)"

# ---------------------------------------------------------------- SASL user bind
# slapd verifies SASL passwords itself from userPassword, which must be in clear text for
# that (alice and hank); bob's is {SSHA}, so slapd cannot check it.
check_match "slapd offers SASL PLAIN and DIGEST-MD5" 'DIGEST-MD5.*PLAIN|PLAIN.*DIGEST-MD5' \
	"$(ldapsearch -x -LLL -H "$SLAPD_URI" -b '' -s base supportedSASLMechanisms 2>&1 | tr '\n' ' ')"
sasl_cases() {
	local what="$1"
	expect OK "$what: good password" alice alice-pw
	expect OK "$what: good password (hank)" hank hank-pw
	expect NO "$what: wrong password" alice wrong
	expect NO "$what: another user's password" hank alice-pw
	expect NO "$what: unknown user" nosuch nosuch-pw
	expect OK "$what: realm in the request (alice@example.com)" alice alice-pw imap example.com
	expect NO "$what: hashed userPassword cannot be checked by slapd" bob bob-pw
	check_match "$what: wrong password is invalid credentials" 'Authentication failed for nosuch: invalid credentials$' \
		"$(grep 'Authentication failed for nosuch' "$SCRATCH/ours.log" | tail -n 1)"
}
with_ours sasl-dm -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: DIGEST-MD5" "ldap_timeout: 3"
sasl_cases "SASL DIGEST-MD5 over ldap://"
check_match "Debian testsaslauthd: OK" '^0: OK "Success\."' "$("$CYRUS_TESTSASLAUTHD" -f "$SOCK" -u alice -p alice-pw 2>&1)"
check_match "Debian testsaslauthd: NO" '^0: NO "authentication failed"' "$("$CYRUS_TESTSASLAUTHD" -f "$SOCK" -u alice -p bad 2>&1 || true)"

with_ours sasl-plain -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: PLAIN" "ldap_sasl_secprops: none" "ldap_timeout: 3"
sasl_cases "SASL PLAIN over ldap:// (secprops none)"
with_ours sasl-plaintls -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: PLAIN" "ldap_start_tls: yes" \
	"${TLSB[@]}" "${CERT[@]}"
sasl_cases "SASL PLAIN over StartTLS with a client cert"
with_ours sasl-plainldapi -- "ldap_servers: $SLAPD_LDAPI_URI" "ldap_use_sasl: yes" "ldap_mech: PLAIN" "ldap_timeout: 3"
expect OK "SASL PLAIN over ldapi://: good password" hank hank-pw
expect NO "SASL PLAIN over ldapi://: wrong password" hank wrong

# libldap's default secprops refuse PLAIN on an unencrypted connection: NO, and a reason
# that says so rather than "invalid credentials".
with_ours sasl-noplain -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: PLAIN" "ldap_timeout: 3"
expect NO "SASL PLAIN over ldap:// with default secprops: NO" alice alice-pw
check_match "SASL PLAIN refused by secprops: reason" 'server unavailable: SASL bind \(PLAIN\): Unknown authentication method \(.*no mechanism available' "$(last_reason)"
with_ours sasl-nomech -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: NO-SUCH-MECH" "ldap_timeout: 3"
expect NO "SASL with a mechanism nobody has: NO" alice alice-pw
check_match "SASL unknown mechanism: reason" 'SASL bind \(NO-SUCH-MECH\): ' "$(last_reason)"

# Group check after a SASL bind: the user's DN comes from "Who am I?".
with_ours sasl-group -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: DIGEST-MD5" "ldap_timeout: 3" \
	"ldap_group_dn: cn=staff,ou=groups,$SLAPD_SUFFIX"
expect OK "SASL + group: member (alice)" alice alice-pw
expect NO "SASL + group: not a member (hank)" hank hank-pw
check_match "SASL + group: reason" 'hank: not in group' "$(last_reason)"
# ... and with a SASL service identity (ldap_id), the group check runs as that identity.
with_ours sasl-groupsvc -- "ldap_servers: $SLAPD_URI" "ldap_use_sasl: yes" "ldap_mech: DIGEST-MD5" "ldap_timeout: 3" \
	"ldap_id: hank" "ldap_password: hank-pw" "ldap_group_dn: cn=staff,ou=groups,$SLAPD_SUFFIX"
expect OK "SASL + group, service ldap_id: member (alice)" alice alice-pw
expect NO "SASL + group, service ldap_id: member, wrong password" alice wrong
expect NO "SASL + group, service ldap_id: not a member (hank)" hank hank-pw
check_match "SASL + group, service ldap_id: reason" 'hank: not in group' "$(last_reason)"

check_no_sanitizer_reports "$SCRATCH/ours.log"
finish
