#!/usr/bin/env bash
# Mechanism chaining (-a MECH1,MECH2,...): sasldb then shadow (nss_wrapper), also under
# --user (shadow through the root verifier); ldap (the test slapd) then pam (pam_wrapper,
# pam_matrix). Users in one, in the other, in both with different passwords (both work: a
# NO moves on, see saslauthd(8)), in neither. slapd stopped: FAIL then OK is OK, FAIL then
# NO is the FAIL's answer (not cached, counted as fail). [mech=] in the log lines, the
# chain-steps counter, -O reaching each mechanism (one for all, one each), --check
# probing each, and start-up errors for bad chains.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
# shellcheck source=tests/fixtures/pam.sh
. "$FIXTURES_DIR/pam.sh"
# shellcheck source=tests/fixtures/slapd.sh
. "$FIXTURES_DIR/slapd.sh"

require_root
require_cmd mkpasswd "$PYTHON" "$CYRUS_SASLPASSWD2"
require_nss_wrapper
require_pam_wrapper
require_ours sasldb shadow ldap pam
T0=$(now_ms)

REALM=example.org
# ask <run dir> <login> <password>: the raw reply (service imap, realm example.org).
ask() { saslclient req "$1/mux" "$2" "$3" imap "$REALM"; }
metric() { "$OURS_SASLAUTHD" --stats -m "$1" | awk -v m="$2" '$1 == m { print $2 }'; }
# log_has <log> <fixed text>: yes/no.
log_has() { if grep -aqF -- "$2" "$1"; then echo yes; else echo no; fi; }

# ---------------------------------------------------------------- sasldb then shadow
DB=$SCRATCH/sasldb2
sasldb_add "$DB" onlydb "$REALM" db-pw
sasldb_add "$DB" both "$REALM" both-db-pw
PW="$SCRATCH/passwd" SP="$SCRATCH/shadow" GR="$SCRATCH/group"
printf 'testusers:x:4000:\n' >"$GR"
: >"$PW"
: >"$SP"
uid=4000
add_local() {
	local h
	h=$(make_hash sha512crypt "$2")
	uid=$((uid + 1))
	printf '%s:x:%d:4000:test:/nonexistent:/bin/false\n' "$1" "$uid" >>"$PW"
	printf '%s:%s:19000:0:99999:7:::\n' "$1" "$h" >>"$SP"
}
add_local onlysh sh-pw
add_local both both-sh-pw
# --user below resolves its identity through the same NSS files.
getent passwd nobody >>"$PW"
getent group sasl nogroup >>"$GR"
use_nss_wrapper "$PW" "$GR" "$SP"

# sasldb_shadow_cases <label> <run dir>
sasldb_shadow_cases() {
	local l="$1" r="$2"
	check "$l: only in sasldb" OK "$(ask "$r" onlydb db-pw)"
	check "$l: only in shadow" OK "$(ask "$r" onlysh sh-pw)"
	check "$l: in both, sasldb's password" OK "$(ask "$r" both both-db-pw)"
	check "$l: in both, shadow's password" OK "$(ask "$r" both both-sh-pw)"
	check "$l: in both, wrong password" 'NO Incorrect password' "$(ask "$r" both wrong)"
	check "$l: only in sasldb, wrong password" 'NO Invalid username' "$(ask "$r" onlydb wrong)"
	check "$l: only in shadow, sasldb's user's password" 'NO Incorrect password' "$(ask "$r" onlysh db-pw)"
	check "$l: in neither (shadow's reply: the last NO)" 'NO Invalid username' "$(ask "$r" nosuch x)"
}

RUN=$SCRATCH/sdb
OURS_LOG=$SCRATCH/sdb.log start_ours "$RUN" -a sasldb,shadow -O "$DB" -n 2
sasldb_shadow_cases "sasldb,shadow" "$RUN"
LOGF=$SCRATCH/sdb.log
check "sasldb,shadow: an OK from sasldb names sasldb" yes \
	"$(log_has "$LOGF" "auth success: [user=onlydb] [service=imap] [realm=$REALM] [mech=sasldb]")"
check "sasldb,shadow: an OK from shadow names shadow" yes \
	"$(log_has "$LOGF" "auth success: [user=onlysh] [service=imap] [realm=$REALM] [mech=shadow]")"
check "sasldb,shadow: a failure names the chain, with the last NO's reason" yes \
	"$(log_has "$LOGF" "auth failure: [user=nosuch] [service=imap] [realm=$REALM] [mech=sasldb,shadow] [reason=Invalid username]")"
check "sasldb,shadow: each step logged at debug level" yes \
	"$(log_has "$LOGF" "chain sasldb,shadow: step 1/2 sasldb: NO (user not found)")"
# Steps beyond the first: onlysh, both/shadow-pw, both/wrong, onlydb/wrong, onlysh/db-pw, nosuch.
check "sasldb,shadow: chain steps counted" 6 "$(metric "$RUN" 'saslauthd_chain_steps_total{mech="sasldb,shadow"}')"
check "sasldb,shadow: OKs counted once per request" 4 "$(metric "$RUN" 'saslauthd_requests_total{mech="sasldb,shadow",result="ok"}')"
check "sasldb,shadow: NOs counted once per request" 4 "$(metric "$RUN" 'saslauthd_requests_total{mech="sasldb,shadow",result="no"}')"
check "sasldb,shadow: no password in the log" "" "$(grep -a -e both-db-pw -e both-sh-pw -e sh-pw "$LOGF" || true)"
stop_pid "$DAEMON_PID"

# The same under --user: workers read sasldb as nobody:sasl, shadow decides in the root
# verifier (one per worker, for the chain's mechanisms that need root).
chown root:sasl "$DB"
chmod 0640 "$DB"
chmod 0755 "$SCRATCH"
RUN=$SCRATCH/sdb-user
OURS_LOG=$SCRATCH/sdb-user.log start_ours "$RUN" -a sasldb,shadow -O "$DB" -n 1 --user nobody:sasl
sasldb_shadow_cases "sasldb,shadow --user" "$RUN"
worker=$(first_child "$DAEMON_PID")
check "--user: the worker runs as nobody" "$(id -u nobody)" "$(awk '$1 == "Uid:" { print $2 }' "/proc/$worker/status")"
check "--user: one root verifier beside it" 0 "$(awk '$1 == "Uid:" { print $2 }' "/proc/$(first_child "$worker")/status")"
stop_pid "$DAEMON_PID"
# -n 0 (a process per connection) under --user: each child starts its own verifier.
RUN=$SCRATCH/sdb-n0
OURS_LOG=$SCRATCH/sdb-n0.log start_ours "$RUN" -a sasldb,shadow -O "$DB" -n 0 --user nobody:sasl
check "-n 0 --user: sasldb's user" OK "$(ask "$RUN" onlydb db-pw)"
check "-n 0 --user: shadow's user" OK "$(ask "$RUN" onlysh sh-pw)"
check "-n 0 --user: in neither" 'NO Invalid username' "$(ask "$RUN" nosuch x)"
stop_pid "$DAEMON_PID"

# The other order gives the same verdicts (a NO moves on either way).
RUN=$SCRATCH/shdb
OURS_LOG=$SCRATCH/shdb.log start_ours "$RUN" -a shadow,sasldb -O "$DB" -n 1
check "shadow,sasldb: in both, sasldb's password" OK "$(ask "$RUN" both both-db-pw)"
check "shadow,sasldb: in both, shadow's password" OK "$(ask "$RUN" both both-sh-pw)"
check "shadow,sasldb: in neither (sasldb's reply: the last NO)" 'NO' "$(ask "$RUN" nosuch x)"
stop_pid "$DAEMON_PID"
no_nss_wrapper

# ---------------------------------------------------------------- ldap then pam
start_slapd
CONF=$SCRATCH/ldap.conf
printf '%s\n' "ldap_servers: $SLAPD_URI" "ldap_search_base: ou=people,$SLAPD_SUFFIX" "ldap_timeout: 3" >"$CONF"
SVC=$SCRATCH/pam.d PDB=$SCRATCH/passdb
# pam_matrix: paul and pete only in PAM; alice in both (the directory has alice-pw).
printf '%s\n' paul:paul-pw:imap pete:pete-pw:imap alice:alice-pam-pw:imap >"$PDB"
pam_service "$SVC" imap "auth required $PAM_MATRIX_SO passdb=$PDB" "account required $PAM_MATRIX_SO passdb=$PDB"
use_pam_wrapper "$SVC"

RUN=$SCRATCH/lp
LOGF=$SCRATCH/lp.log
OURS_LOG=$LOGF start_ours "$RUN" -a ldap,pam -O "$CONF" -n 2 -c
LP_PID=$DAEMON_PID
check "ldap,pam: only in the directory" OK "$(ask "$RUN" bob bob-pw)"
check "ldap,pam: only in the directory (carol, cached with -c)" OK "$(ask "$RUN" carol carol-pw)"
check "ldap,pam: only in PAM" OK "$(ask "$RUN" paul paul-pw)"
check "ldap,pam: in both, the directory's password" OK "$(ask "$RUN" alice alice-pw)"
check "ldap,pam: in both, PAM's password" OK "$(ask "$RUN" alice alice-pam-pw)"
check "ldap,pam: in both, wrong password" 'NO PAM auth error' "$(ask "$RUN" alice wrong)"
check "ldap,pam: in neither" 'NO PAM auth error' "$(ask "$RUN" nosuch x)"
check "ldap,pam: PAM's OK names pam" yes \
	"$(log_has "$LOGF" "auth success: [user=paul] [service=imap] [realm=$REALM] [mech=pam]")"
check "ldap,pam: the directory's OK names ldap" yes \
	"$(log_has "$LOGF" "auth success: [user=bob] [service=imap] [realm=$REALM] [mech=ldap]")"

# The directory goes away: ldap says FAIL, the chain moves on.
stop_slapd
check "slapd stopped: FAIL then OK (pete, not cached, in PAM) is OK" OK "$(ask "$RUN" pete pete-pw)"
check "slapd stopped: pete's OK names pam" yes \
	"$(log_has "$LOGF" "auth success: [user=pete] [service=imap] [realm=$REALM] [mech=pam]")"
check "slapd stopped: cached carol still OK (-c)" OK "$(ask "$RUN" carol carol-pw)"
FAIL_REPLY=$(ask "$RUN" dave dave-pw)
check "slapd stopped: FAIL then NO is the FAIL's answer, not PAM's NO" yes \
	"$([[ "$FAIL_REPLY" == NO* && "$FAIL_REPLY" != *'PAM auth error'* ]] && echo yes || echo no)"
check "slapd stopped: the failure line has ldap's reason and names the chain" yes \
	"$(grep -aF "auth failure: [user=dave] [service=imap] [realm=$REALM] [mech=ldap,pam] [reason=" "$LOGF" | grep -qa 'server unavailable' && echo yes || echo no)"
check "slapd stopped: FAIL then NO is not cached" yes \
	"$([[ "$(ask "$RUN" dave dave-pw)" == "$FAIL_REPLY" ]] && echo yes || echo no)"
check "slapd stopped: counted as fail, not no" 2 "$(metric "$RUN" 'saslauthd_requests_total{mech="ldap,pam",result="fail"}')"
check "slapd stopped: PAM was still asked for dave" yes \
	"$(log_has "$LOGF" "chain ldap,pam: step 2/2 pam: NO")"
restart_slapd
dave_ok() { [[ "$(ask "$RUN" dave dave-pw)" == OK ]]; }
wait_until 10 dave_ok || true
check "slapd back: the directory's uncached user is OK again" OK "$(ask "$RUN" dave dave-pw)"
check "slapd back: the directory's answer names ldap" yes \
	"$(log_has "$LOGF" "auth success: [user=dave] [service=imap] [realm=$REALM] [mech=ldap]")"
check "slapd back: PAM's user still OK" OK "$(ask "$RUN" paul paul-pw)"
stop_pid "$LP_PID"
no_nss_wrapper

# ---------------------------------------------------------------- -O for each mechanism
# As many -O as mechanisms: the n-th reaches the n-th (a sasldb file, then ldap's file).
RUN=$SCRATCH/each
OURS_LOG=$SCRATCH/each.log start_ours "$RUN" -a sasldb,ldap -O "$DB" -O "$CONF" -n 1
check "-O each: sasldb got its file" OK "$(ask "$RUN" onlydb db-pw)"
check "-O each: ldap got its file" OK "$(ask "$RUN" bob bob-pw)"
check "-O each: in neither" NO "$(ask "$RUN" nosuch x)"
# SIGHUP reloads every mechanism of the chain from its own -O; one that cannot keeps its
# old settings and says so.
EACH_PID=$DAEMON_PID
cp "$CONF" "$SCRATCH/ldap.conf.good"
echo "no colon here" >>"$CONF"
kill -HUP "$EACH_PID"
reload_refused() { grep -aqF "reload of mechanism ldap failed, keeping the old settings: " "$SCRATCH/each.log"; }
check "SIGHUP with a broken ldap file: ldap's reload refused, logged" yes "$(yesno wait_until 10 reload_refused)"
check "SIGHUP with a broken ldap file: sasldb still answers" OK "$(ask "$RUN" onlydb db-pw)"
check "SIGHUP with a broken ldap file: ldap still answers" OK "$(ask "$RUN" bob bob-pw)"
cp "$SCRATCH/ldap.conf.good" "$CONF"
stop_pid "$EACH_PID"
# One -O for two mechanisms that read the same file (ldap_* and sql_* keys side by side).
if [[ " $(ours_mechanisms) " == *" sql "* ]] && command -v sqlite3 >/dev/null; then
	LITE=$SCRATCH/mail.sqlite
	printf "CREATE TABLE mailbox (username TEXT NOT NULL, password TEXT NOT NULL);\nINSERT INTO mailbox VALUES ('vuser', '%s');\n" \
		"$(make_hash sha512crypt v-pw)" | sqlite3 "$LITE"
	SHARED=$SCRATCH/shared.conf
	cat "$CONF" >"$SHARED"
	printf '%s\n' "sql_engine: sqlite3" "sql_database: $LITE" \
		"sql_select: SELECT password FROM mailbox WHERE username = %u" >>"$SHARED"
	RUN=$SCRATCH/shared
	OURS_LOG=$SCRATCH/shared.log start_ours "$RUN" -a ldap,sql -O "$SHARED" -n 1
	check "-O once: ldap read it" OK "$(ask "$RUN" bob bob-pw)"
	check "-O once: sql read it" OK "$(ask "$RUN" vuser v-pw)"
	check "-O once: sql, wrong password" NO "$(ask "$RUN" vuser bob-pw)"
	check "-O once: ldap leaves sql's keys alone (no warning)" no "$(log_has "$SCRATCH/shared.log" "unknown key sql_")"
	stop_pid "$DAEMON_PID"
else
	log "SKIP -O once for ldap,sql: no sql mechanism or no sqlite3"
fi
# '' stands for a mechanism that takes none.
RUN=$SCRATCH/each2
use_nss_wrapper "$PW" "$GR" "$SP"
OURS_LOG=$SCRATCH/each2.log start_ours "$RUN" -a shadow,sasldb -O '' -O "$DB" -n 1
check "-O '' for shadow, the file for sasldb: shadow's user" OK "$(ask "$RUN" onlysh sh-pw)"
check "-O '' for shadow, the file for sasldb: sasldb's user" OK "$(ask "$RUN" onlydb db-pw)"
stop_pid "$DAEMON_PID"
no_nss_wrapper

# ---------------------------------------------------------------- --check
# report_line <what> <mechanism>: that line of the last --check report.
report_line() { grep -E "^  (ok|FAIL) +$1 +$2: " <<<"$out" || true; }
out=$("$OURS_SASLAUTHD" --check -m "$SCRATCH/chk" -a sasldb,ldap -O "$DB" -O "$CONF" 2>&1) && rc=0 || rc=$?
check "--check sasldb,ldap: exit 0" 0 "$rc"
check "--check: names both mechanisms with their -O" \
	"saslauthd --check: mechanisms sasldb (-O $DB), ldap (-O $CONF), asked in this order" "$(first_line echo "$out")"
check_match "--check: sasldb's configuration" '^  ok +configuration +sasldb: accepted$' "$(report_line configuration sasldb)"
check_match "--check: sasldb's back-end probed" '^  ok +back-end +sasldb: .*2 users' "$(report_line back-end sasldb)"
check_match "--check: ldap's back-end probed" '^  ok +back-end +ldap: ' "$(report_line back-end ldap)"
stop_slapd
out=$("$OURS_SASLAUTHD" --check -m "$SCRATCH/chk" -a sasldb,ldap -O "$DB" -O "$CONF" 2>&1) && rc=0 || rc=$?
check "--check with slapd down: exit 1" 1 "$rc"
check_match "--check with slapd down: ldap's back-end line fails" '^  FAIL +back-end +ldap: ' "$(report_line back-end ldap)"
check_match "--check with slapd down: sasldb still ok" '^  ok +back-end +sasldb: ' "$(report_line back-end sasldb)"
check "--check with slapd down: one problem" "result: FAIL (1 problem)" "$(tail -n 1 <<<"$out")"

# ---------------------------------------------------------------- bad chains stop the start
# start_fails <description> <expected message (regex)> <-a/-O args...>
start_fails() {
	local desc="$1" re="$2" out rc=0
	shift 2
	out=$(timeout 20 "$OURS_SASLAUTHD" -d -m "$SCRATCH/bad" "$@" 2>&1 </dev/null) || rc=$?
	check "$desc: exit 1" 1 "$rc"
	check_match "$desc: says why" "$re" "$out"
	check "$desc: no socket" no "$(yesno test -e "$SCRATCH/bad/mux")"
}
start_fails "unknown mechanism in the chain" 'unknown authentication mechanism: nosuch' -a sasldb,nosuch
start_fails "a mechanism named twice" 'mechanism sasldb is named twice' -a sasldb,shadow,SASLDB
start_fails "empty element" 'empty mechanism name' -a sasldb,,shadow
start_fails "trailing comma" 'empty mechanism name' -a sasldb,
start_fails "-O count neither 1 nor the chain's length" 'names 3 mechanisms but -O was given 2 times' \
	-a sasldb,shadow,ldap -O "$DB" -O "$CONF"
start_fails "one -O read as two different things" "one -O cannot be both sasldb's sasldb file and rimap's IMAP server list" \
	-a sasldb,rimap -O "$DB"
start_fails "an -O for a mechanism that takes none" 'goes to shadow, which takes no -O' \
	-a sasldb,shadow -O "$DB" -O /x
start_fails "a failing init stops the start" 'failed to initialize mechanism ldap' \
	-a sasldb,ldap -O "$DB" -O "$SCRATCH/no-such.conf"

check_no_sanitizer_reports "$SCRATCH"/*.log
log "test_chain took $(($(now_ms) - T0)) ms"
finish
