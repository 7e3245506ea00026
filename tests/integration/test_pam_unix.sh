#!/usr/bin/env bash
# The pam mechanism against the REAL system PAM (no pam_wrapper): a throwaway
# system user with a known password and a throwaway /etc/pam.d service with
# pam_unix for auth and account. Right/wrong password, unknown user, locked
# account, expired account, forced password change; ours and Debian's Cyrus
# saslauthd -a pam side by side. The users and the service file are removed
# whatever happens (also ones left behind by a killed earlier run).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd useradd userdel chpasswd usermod chage getent "$PYTHON" "$CYRUS_TESTSASLAUTHD"
require_ours pam
T0=$(now_ms)

PAMD=/etc/pam.d
[[ -d "$PAMD" ]] || skip_test "no $PAMD"
[[ -n "$(find /lib /usr/lib -name pam_unix.so -print -quit 2>/dev/null)" ]] || skip_test "pam_unix.so not installed"

MARK="saslauthd-test"
# Leftovers of killed runs: users whose comment names a dead test PID, and their
# service files.
while IFS=: read -r name _ _ _ gecos _; do
	if [[ "$gecos" =~ ^$MARK\ pid\ ([0-9]+)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
		log "removing user $name left by test run ${BASH_REMATCH[1]}"
		userdel "$name" 2>/dev/null || true
		rm -f "$PAMD/sasltest-${BASH_REMATCH[1]}"
	fi
done < <(getent passwd)

SERVICE="sasltest-$$"
GOOD="sasltest$$" LOCKED="sasltestl$$" EXPIRED="sasltestx$$" MUSTCHANGE="sasltestc$$"
NOBODY="sasltestn$$"
USERS=("$GOOD" "$LOCKED" "$EXPIRED" "$MUSTCHANGE")
PASSWORD="Pam-unix-$$-pw"

remove_fixtures() {
	local u
	for u in "${USERS[@]}"; do
		if getent passwd "$u" >/dev/null; then userdel "$u" >/dev/null 2>&1 || log "userdel $u failed"; fi
	done
	rm -f "$PAMD/$SERVICE"
}
# Registered before anything is created, so a failure half-way still cleans up.
on_cleanup remove_fixtures

printf '%s\n' "# throwaway service of tests/integration/test_pam_unix.sh (pid $$)" \
	"auth required pam_unix.so nodelay" "account required pam_unix.so" >"$PAMD/$SERVICE"
for u in "${USERS[@]}"; do
	getent passwd "$u" >/dev/null && die "user $u already exists"
	useradd -M -N -d /nonexistent -s /usr/sbin/nologin -c "$MARK pid $$" "$u"
	printf '%s:%s\n' "$u" "$PASSWORD" | chpasswd
done
getent passwd "$NOBODY" >/dev/null && die "user $NOBODY exists"
usermod -L "$LOCKED"
chage -E 1 "$EXPIRED"
chage -d 0 "$MUSTCHANGE"
check "fixture: user $GOOD exists" "$GOOD" "$(getent passwd "$GOOD" | cut -d: -f1)"

OK_LINE='0: OK "Success."'
NO_LINE='0: NO "authentication failed"'
tsa() { timeout 20 "$CYRUS_TESTSASLAUTHD" -f "$1" -s "$SERVICE" -u "$2" -p "$3" 2>&1 || true; }

start_ours "$SCRATCH/ours" -a pam
OURS_PID=$DAEMON_PID
start_cyrus "$SCRATCH/cyrus" -a pam
CY_PID=$DAEMON_PID

for who in ours cyrus; do
	sock="$SCRATCH/$who/mux"
	check "$who: right password" "$OK_LINE" "$(tsa "$sock" "$GOOD" "$PASSWORD")"
	check "$who: wrong password" "$NO_LINE" "$(tsa "$sock" "$GOOD" "x$PASSWORD")"
	check "$who: unknown user" "$NO_LINE" "$(tsa "$sock" "$NOBODY" "$PASSWORD")"
	check "$who: locked account" "$NO_LINE" "$(tsa "$sock" "$LOCKED" "$PASSWORD")"
	check "$who: expired account" "$NO_LINE" "$(tsa "$sock" "$EXPIRED" "$PASSWORD")"
	check "$who: password change required" "$NO_LINE" "$(tsa "$sock" "$MUSTCHANGE" "$PASSWORD")"
done

# Exact replies, ours against Cyrus.
for c in "right:$GOOD:$PASSWORD:OK" "wrong:$GOOD:x$PASSWORD:NO PAM auth error" \
	"unknown:$NOBODY:$PASSWORD:NO PAM auth error" "locked:$LOCKED:$PASSWORD:NO PAM auth error" \
	"expired:$EXPIRED:$PASSWORD:NO PAM acct error" "mustchange:$MUSTCHANGE:$PASSWORD:NO PAM acct error" \
	"expired-wrong:$EXPIRED:x$PASSWORD:NO PAM auth error"; do
	IFS=: read -r id u p want <<<"$c"
	ours=$(auth_reply "$SCRATCH/ours/mux" "$u" "$p" "$SERVICE")
	cy=$(auth_reply "$SCRATCH/cyrus/mux" "$u" "$p" "$SERVICE")
	check "reply $id: ours" "$want" "$ours"
	check "reply $id: same as Cyrus" "$cy" "$ours"
done

check_match "ours log: expired account reason" \
	"auth failure: \[user=$EXPIRED\] \[service=$SERVICE\] \[realm=\] \[mech=pam\] \[reason=PAM acct error: [^]]+\]" \
	"$(grep -a "user=$EXPIRED\].*acct" "$SCRATCH/ours.log" | tail -n 1)"
check_match "ours log: wrong password reason" \
	"auth failure: \[user=$GOOD\] \[service=$SERVICE\] \[realm=\] \[mech=pam\] \[reason=PAM auth error: [^]]+\]" \
	"$(grep -a "auth failure: \[user=$GOOD\]" "$SCRATCH/ours.log" | tail -n 1)"

# A password change in between is seen at once (no state kept across requests).
printf '%s:%s\n' "$GOOD" "new-$PASSWORD" | chpasswd
check "ours: new password after chpasswd" "$OK_LINE" "$(tsa "$SCRATCH/ours/mux" "$GOOD" "new-$PASSWORD")"
check "ours: old password after chpasswd" "$NO_LINE" "$(tsa "$SCRATCH/ours/mux" "$GOOD" "$PASSWORD")"

stop_pid "$CY_PID"
stop_pid "$OURS_PID"
check_no_sanitizer_reports "$SCRATCH/ours.log"

remove_fixtures
leftover=""
for u in "${USERS[@]}"; do getent passwd "$u" >/dev/null && leftover+="$u "; done
[[ -e "$PAMD/$SERVICE" ]] && leftover+="$PAMD/$SERVICE"
check "cleanup: users and service file removed" "" "$leftover"
log "test_pam_unix.sh took $(($(now_ms) - T0)) ms"
finish
