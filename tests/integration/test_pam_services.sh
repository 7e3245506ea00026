#!/usr/bin/env bash
# Issue 12, finding 1: the client names the PAM service. Against the REAL system PAM
# (Debian's /etc/pam.d/su starts with pam_rootok, so Cyrus answers OK to root with any
# password on service su): system services, their case variants and path tricks are
# refused; an ordinary (throwaway) service still reaches PAM; --pam-services narrows
# the choice to an allow-list and is checked at start-up.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$PYTHON"
require_ours pam
[[ -f /etc/pam.d/su ]] || skip_test "no /etc/pam.d/su"
grep -q '^auth[[:space:]].*pam_rootok' /etc/pam.d/su || skip_test "/etc/pam.d/su does not trust root"

PAMD=/etc/pam.d
# Throwaway services of killed earlier runs.
for f in "$PAMD"/sasltest-svc-*; do
	[[ -e "$f" ]] || continue
	pid=${f##*-}
	kill -0 "$pid" 2>/dev/null || rm -f "$f"
done
SERVICE="sasltest-svc-$$"
on_cleanup 'rm -f "$PAMD/$SERVICE"'
# Trusts root like su does: only its name differs.
printf '%s\n' "# throwaway service of tests/integration/test_pam_services.sh (pid $$)" \
	"auth sufficient pam_rootok.so" "auth required pam_deny.so" "account required pam_permit.so" \
	>"$PAMD/$SERVICE"

REFUSED='NO PAM service not allowed'
R="$SCRATCH/run"
start_ours "$R" -a pam -n 1
P1=$DAEMON_PID
for svc in su SU su-l runuser runuser-l sudo login sshd passwd chsh '../pam.d/su' './su' \
	'.' 'su/' '\x01'; do
	check "root, any password, service [$svc] is refused" "$REFUSED" \
		"$(saslclient req "$R/mux" root not-the-password "$svc" "")"
done
check "a mail service still reaches PAM (root via pam_rootok)" "OK" \
	"$(saslclient req "$R/mux" root anything "$SERVICE" "")"
check_match "the refusal is logged with its reason" \
	'auth failure: \[user=root\] \[service=su\].*\[reason=PAM service not allowed: su: a system service' \
	"$(cat "$SCRATCH/ours.log")"
stop_pid "$P1"

# An allow-list: only its names, whatever the deny-list says.
R2="$SCRATCH/run2"
start_ours "$R2" -a pam -n 1 --pam-services "smtp,$SERVICE"
P2=$DAEMON_PID
check "--pam-services: a listed service works" "OK" \
	"$(saslclient req "$R2/mux" root anything "$SERVICE" "")"
check "--pam-services: listed names ignore case like Linux-PAM" "OK" \
	"$(saslclient req "$R2/mux" root anything "${SERVICE^^}" "")"
check "--pam-services: an unlisted service is refused" "$REFUSED" \
	"$(saslclient req "$R2/mux" root anything imap "")"
check "--pam-services: su is refused" "$REFUSED" \
	"$(saslclient req "$R2/mux" root anything su "")"
check "--pam-services: an empty service is refused" "$REFUSED" \
	"$(saslclient req "$R2/mux" root anything "" "")"
stop_pid "$P2"

# Start-up checks.
out=$(timeout 10 "$OURS_SASLAUTHD" -d -m "$SCRATCH/run3" -a pam --pam-services 'smtp,../su' 2>&1) && rc=0 || rc=$?
check "--pam-services with a path is a start-up error" "1" "$rc"
check_match "... naming the bad entry" 'not a plain service name: \.\./su' "$out"
out=$(timeout 10 "$OURS_SASLAUTHD" -d -m "$SCRATCH/run3" -a sasldb --pam-services smtp 2>&1) && rc=0 || rc=$?
check "--pam-services without -a pam is a usage error" "1" "$rc"
check_match "... saying so" 'applies to -a pam only' "$out"

finish
