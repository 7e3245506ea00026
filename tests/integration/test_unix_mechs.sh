#!/usr/bin/env bash
# getpwent and shadow under nss_wrapper: users hashed with every scheme mkpasswd
# (libxcrypt) offers, good/bad/unknown, locked (!hash), '*', '*NP*', expired
# account, expired password, the day boundaries of both expiry rules.
# Verdicts are driven with Debian's /usr/sbin/testsaslauthd and with our
# testsaslauthd; exact reply texts with the raw client. Cyrus's daemon runs the
# same cases as the reference (when USE_CYRUS_REFERENCE=0, only ours).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd mkpasswd "$PYTHON" "$CYRUS_TESTSASLAUTHD"
require_nss_wrapper
require_ours getpwent shadow
[[ -x "$OURS_TESTSASLAUTHD" ]] || skip_test "$OURS_TESTSASLAUTHD not built"
T0=$(now_ms)

TODAY=$(($(date -u +%s) / 86400))
PW="$SCRATCH/passwd" SP="$SCRATCH/shadow" GR="$SCRATCH/group"
printf 'testusers:x:4000:\n' >"$GR"
: >"$PW"
: >"$SP"
uid=4000

# add_user <login> <passwd field> <shadow field> [lstchg] [max] [expire]
add_user() {
	uid=$((uid + 1))
	printf '%s:%s:%d:4000:test:/nonexistent:/bin/false\n' "$1" "$2" "$uid" >>"$PW"
	printf '%s:%s:%s::%s:::%s:\n' "$1" "$3" "${4:-}" "${5:-}" "${6:-}" >>"$SP"
}

# Every scheme mkpasswd knows (first word of each line after the heading).
mapfile -t SCHEMES < <(mkpasswd -m help | awk 'NR > 1 && NF { print $1 }')
((${#SCHEMES[@]} >= 6)) || die "mkpasswd -m help listed only: ${SCHEMES[*]}"
declare -A SCHEME_PW
for s in "${SCHEMES[@]}"; do
	SCHEME_PW[$s]="Pw-$s-9"
	h=$(make_hash "$s" "${SCHEME_PW[$s]}")
	[[ -n "$h" ]] || die "mkpasswd -m $s made no hash"
	add_user "s_$s" "$h" "$h" 19000 99999
done
log "schemes: ${SCHEMES[*]}"

H=$(make_hash sha512crypt secret)
add_user plain "$H" "$H" 19000 99999
add_user locked "!$H" "!$H" 19000
add_user star '*' '*' 19000
add_user np '*NP*' '*NP*'
add_user xonly x "$H" 19000
add_user expired "$H" "$H" 19000 "" 1
add_user expiredy "$H" "$H" 19000 "" $((TODAY - 1))
add_user expiret "$H" "$H" 19000 "" "$TODAY"
add_user pwexpired "$H" "$H" 1 1
add_user pwexpiredy "$H" "$H" $((TODAY - 11)) 10
add_user pwexpiret "$H" "$H" $((TODAY - 10)) 10
add_user mustchange "$H" "$H" 0 99999

use_nss_wrapper "$PW" "$GR" "$SP"
check "nss_wrapper serves the test users" \
	"plain" "$(run_nss "$PW" "$GR" "$SP" getent passwd plain | cut -d: -f1)"

OK_LINE='0: OK "Success." rc=0'
NO_LINE='0: NO "authentication failed" rc=255'

# verdict <driver: debian|ours> <socket> <login> <password>
verdict() {
	local bin out rc=0
	if [[ "$1" == debian ]]; then bin="$CYRUS_TESTSASLAUTHD"; else bin="$OURS_TESTSASLAUTHD"; fi
	out=$(timeout 20 "$bin" -f "$2" -u "$3" -p "$4" -s imap 2>&1) || rc=$?
	printf '%s rc=%s' "$out" "$rc"
}

run_cases() {
	local who="$1" mech="$2" sock="$3" drv s exp
	for drv in debian ours; do
		for s in "${SCHEMES[@]}"; do
			check "$who $mech $drv-testsaslauthd: $s right password" "$OK_LINE" \
				"$(verdict "$drv" "$sock" "s_$s" "${SCHEME_PW[$s]}")"
			check "$who $mech $drv-testsaslauthd: $s wrong password" "$NO_LINE" \
				"$(verdict "$drv" "$sock" "s_$s" "x${SCHEME_PW[$s]}")"
		done
		check "$who $mech $drv-testsaslauthd: unknown user" "$NO_LINE" "$(verdict "$drv" "$sock" nosuchuser secret)"
		check "$who $mech $drv-testsaslauthd: locked (!hash), right password" "$NO_LINE" "$(verdict "$drv" "$sock" locked secret)"
		check "$who $mech $drv-testsaslauthd: '*' account" "$NO_LINE" "$(verdict "$drv" "$sock" star '*')"
		exp="$OK_LINE"
		[[ "$mech" == shadow ]] && exp="$NO_LINE"
		check "$who $mech $drv-testsaslauthd: expired account, right password" "$exp" "$(verdict "$drv" "$sock" expired secret)"
		check "$who $mech $drv-testsaslauthd: expired password, right password" "$exp" "$(verdict "$drv" "$sock" pwexpired secret)"
	done

	# Exact reply texts (the raw client shows what testsaslauthd hides).
	local r="saslclient req $sock"
	check "$who $mech reply: good" "OK" "$($r plain secret imap '')"
	check "$who $mech reply: wrong password" "NO Incorrect password" "$($r plain wrong imap '')"
	check "$who $mech reply: locked" "NO Incorrect password" "$($r locked secret imap '')"
	check "$who $mech reply: locked, password given with the !" "NO Incorrect password" "$($r locked '!secret' imap '')"
	check "$who $mech reply: '*'" "NO Incorrect password" "$($r star '*' imap '')"
	check "$who $mech reply: must change (lstchg 0) is not checked" "OK" "$($r mustchange secret imap '')"
	if [[ "$mech" == shadow ]]; then
		check "$who $mech reply: expired account" "NO Account expired" "$($r expired secret imap '')"
		check "$who $mech reply: expired yesterday" "NO Account expired" "$($r expiredy secret imap '')"
		check "$who $mech reply: expires today (not yet)" "OK" "$($r expiret secret imap '')"
		check "$who $mech reply: expired account, wrong password" "NO Incorrect password" "$($r expired wrong imap '')"
		check "$who $mech reply: expired password" "NO Password expired" "$($r pwexpired secret imap '')"
		check "$who $mech reply: password expired yesterday" "NO Password expired" "$($r pwexpiredy secret imap '')"
		check "$who $mech reply: password expires today (not yet)" "OK" "$($r pwexpiret secret imap '')"
		check "$who $mech reply: expired password, wrong password" "NO Incorrect password" "$($r pwexpired wrong imap '')"
		check "$who $mech reply: *NP*" "NO Insufficient permission to access NIS authentication database (saslauthd)" \
			"$($r np x imap '')"
		check "$who $mech reply: 'x' in passwd, hash in shadow" "OK" "$($r xonly secret imap '')"
	else
		# getpwent only looks at the passwd entry: no expiry, no shadow.
		check "$who $mech reply: expired account is not checked" "OK" "$($r expired secret imap '')"
		check "$who $mech reply: expired password is not checked" "OK" "$($r pwexpired secret imap '')"
		check "$who $mech reply: *NP*" "NO Incorrect password" "$($r np x imap '')"
		check "$who $mech reply: 'x' in passwd" "NO Incorrect password" "$($r xonly secret imap '')"
	fi
}

DAEMONS=(ours)
[[ "${USE_CYRUS_REFERENCE:-1}" == 1 ]] && DAEMONS+=(cyrus)
for who in "${DAEMONS[@]}"; do
	for mech in getpwent shadow; do
		"start_$who" "$SCRATCH/run-$who-$mech" -a "$mech"
		pid=$DAEMON_PID
		t=$(now_ms)
		run_cases "$who" "$mech" "$SCRATCH/run-$who-$mech/mux"
		check "$who $mech daemon still running" yes "$(yesno pid_alive "$pid")"
		log "$who $mech: $(($(now_ms) - t)) ms"
		stop_pid "$pid"
	done
done
no_nss_wrapper
log "total $(($(now_ms) - T0)) ms"
check_no_sanitizer_reports "$SCRATCH/ours.log"
finish
