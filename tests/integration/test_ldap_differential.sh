#!/usr/bin/env bash
# The same corpus against Cyrus (/usr/sbin/saslauthd -a ldap) and ours, with the same -O
# file per configuration, against one slapd. Every reply must be the same bytes except the
# deliberate differences marked in the corpus (column "ours"), which are printed as DIFF lines.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/slapd.sh"

require_root
require_ours ldap
require_cmd "$CYRUS_SASLAUTHD"
[[ "$("$CYRUS_SASLAUTHD" -v 2>&1)" == *ldap* ]] || skip_test "Cyrus saslauthd without ldap"
start_slapd
. "$FIXTURES_DIR/ldap/common.sh"

B=("ldap_servers: $SLAPD_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_timeout: 3")
ADMIN=("ldap_bind_dn: $SLAPD_ADMIN_DN" "ldap_password: $SLAPD_ADMIN_PW")
conf_lines() {
	case $1 in
	bind) printf '%s\n' "${B[@]}" "ldap_unknown_key: typo" ;;
	fastbind) printf '%s\n' "${B[@]}" "ldap_auth_method: fastbind" "ldap_filter: uid=%u,$LDAP_PEOPLE" ;;
	custom) printf '%s\n' "${B[@]}" "${ADMIN[@]}" "ldap_auth_method: custom" ;;
	gattr) printf '%s\n' "${B[@]}" "ldap_group_dn: cn=staff,ou=groups,$SLAPD_SUFFIX" ;;
	gfilter) printf '%s\n' "${B[@]}" "ldap_group_match_method: filter" "ldap_group_search_base: ou=groups,$SLAPD_SUFFIX" "ldap_group_filter: (&(cn=admins)(member=%D))" ;;
	tokens) printf '%s\n' "ldap_servers: $SLAPD_URI" "ldap_search_base: ou=people,dc=%2,dc=%1" "ldap_filter: (&(uid=%U)(objectClass=%s))" "ldap_default_realm: example.com" ;;
	ldaps) printf '%s\n' "ldap_servers: $SLAPD_TLS_URI" "ldap_search_base: $LDAP_PEOPLE" "ldap_tls_check_peer: yes" "ldap_tls_cacert_file: $SLAPD_CA" ;;
	esac
}

# config|login|password|service|realm|ours (expected reply where we differ on purpose, else -)
CORPUS="$SCRATCH/corpus.tsv"
{
	for c in bind fastbind gattr gfilter ldaps; do
		for u in alice bob carol dave erin gina; do printf '%s|%s|%s|imap||-\n' "$c" "$u" "$u-pw"; done
		printf '%s|alice|wrong|imap||-\n%s|nosuch|x|imap||-\n%s|twin|twin-pw|imap||-\n' "$c" "$c" "$c"
		printf '%s|*|alice-pw|imap||-\n%s|*)(uid=*|alice-pw|imap||-\n%s|ALICE|alice-pw|imap|example.com|-\n' "$c" "$c" "$c"
	done
	printf 'fastbind|alice,ou=people|alice-pw|imap||-\n'
	for u in alice bob carol dave hank; do printf 'custom|%s|%s-pw|imap||-\n' "$u" "$u"; done
	# SHA-2 and argon2: Cyrus compares them as cleartext, so the right password fails ...
	printf 'custom|erin|erin-pw|imap||OK\ncustom|gina|gina-pw|imap||OK\n'
	if [[ "$SLAPD_HAS_ARGON2" == 1 ]]; then printf 'custom|frank|frank-pw|imap||OK\n'; fi
	printf 'custom|bob|wrong|imap||-\ncustom|nosuch|x|imap||-\ncustom|*|hank-pw|imap||-\n'
	printf 'tokens|alice|alice-pw|inetOrgPerson|example.com|-\ntokens|alice|alice-pw|inetOrgPerson||-\n'
	printf 'tokens|alice|alice-pw|inetOrgPerson|example.org|-\ntokens|alice|alice-pw|imap|example.com|-\n'
} >"$CORPUS"
# ... and the stored hash string itself works as a password with Cyrus.
erin_hash="$(ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H "$SLAPD_LDAPI_URI" -b "uid=erin,$LDAP_PEOPLE" userPassword | sed -n 's/^userPassword:: //p' | base64 -d)"
printf 'custom|erin|%s|imap||NO\n' "$erin_hash" >>"$CORPUS"

# run_impl <impl> <config>: replies for that config's rows, one per line.
run_impl() {
	local impl="$1" c="$2" conf run batch
	conf="$SCRATCH/diff-$c.conf"
	conf_lines "$c" >"$conf"
	run="$SCRATCH/run-$impl-$c"
	if [[ $impl == cyrus ]]; then start_cyrus "$run" -a ldap -O "$conf" -n 2; else start_ours "$run" -a ldap -O "$conf" -n 2; fi
	local pid="$DAEMON_PID"
	batch="$SCRATCH/batch-$c"
	awk -F'|' -v c="$c" '$1 == c { printf "%d\t4\t%s\t%s\t%s\t%s\n", NR, $2, $3, $4, $5 }' "$CORPUS" | sed 's/\\/\\\\/g' >"$batch"
	saslclient batch "$run/mux" "$batch"
	stop_pid "$pid"
}

declare -A CY=() OU=()
for c in bind fastbind custom gattr gfilter tokens ldaps; do
	while IFS=$'\t' read -r id reply; do CY[$id]="$reply"; done < <(run_impl cyrus "$c")
	while IFS=$'\t' read -r id reply; do OU[$id]="$reply"; done < <(run_impl ours "$c")
done

same=0 diffs=0
nr=0
while IFS='|' read -r c login pw svc realm want; do
	nr=$((nr + 1))
	cy="${CY[$nr]:-<none>}" ou="${OU[$nr]:-<none>}"
	shown_pw="$pw"
	[[ ${#shown_pw} -gt 24 ]] && shown_pw="${pw:0:20}..."
	if [[ "$want" == - ]]; then
		check "same reply: $c $login/$shown_pw svc=$svc realm=$realm" "$cy" "$ou"
		[[ "$cy" == "$ou" ]] && same=$((same + 1))
	else
		check "deliberate difference: $c $login/$shown_pw" "$want" "$ou"
		echo "DIFF $c login=$login password=$shown_pw: cyrus=[$cy] ours=[$ou]"
		diffs=$((diffs + 1))
	fi
done <"$CORPUS"
echo "differential: $same identical replies, $diffs deliberate differences"

# Stateful: a password changed in LDAP while the daemon runs (one worker each, so the
# second request lands on the connection that bound with the old password).
for impl in cyrus ours; do
	conf_lines fastbind >"$SCRATCH/pw-$impl.conf"
	ldap_set_password hank "hank-old"
	if [[ $impl == cyrus ]]; then start_cyrus "$SCRATCH/pw-$impl" -a ldap -O "$SCRATCH/pw-$impl.conf" -n 1
	else start_ours "$SCRATCH/pw-$impl" -a ldap -O "$SCRATCH/pw-$impl.conf" -n 1; fi
	r1="$(saslclient req "$SCRATCH/pw-$impl/mux" hank hank-old imap "")"
	ldap_set_password hank "hank-new"
	r2="$(saslclient req "$SCRATCH/pw-$impl/mux" hank hank-old imap "")"
	r3="$(saslclient req "$SCRATCH/pw-$impl/mux" hank hank-new imap "")"
	stop_pid "$DAEMON_PID"
	echo "PWCHANGE fastbind $impl: old before=[$r1] old after change=[$r2] new=[$r3]"
	if [[ $impl == ours ]]; then check "ours: old password refused right after the change" "OK NO OK" "$r1 $r2 $r3"; fi
done
finish
