#!/usr/bin/env bash
# SysV init scripts driving our daemon, detached, the way Debian runs it.
#
# Part 1, our contrib/init.d/saslauthd (DAEMON and DEFAULTS_DIR pointed at the
# build and the scratch directory; nothing installed): start (two enabled
# instances, a disabled one and editor/dpkg leftovers ignored, run directory
# root:sasl 0710, pid file in it), start again (already running), status,
# reload (SIGHUP: same master, every worker recycled, still answers), one
# instance stopped/restarted on its own, stop (SIGTERM, pid file and socket
# gone), status codes, a stale pid file naming an unrelated live process (not
# killed), and refusals (-d in OPTIONS, no -m).
#
# Part 2, Debian's own /etc/init.d/saslauthd (sasl2-bin) driving OUR binary: in a
# private mount namespace (unshare -m) our binary is bind-mounted over
# /usr/sbin/saslauthd and a scratch directory over /etc/default, so nothing
# outside the namespace changes, whatever happens (the namespace goes away with
# its last process). start, Debian's testsaslauthd gets OK, status, reload,
# stop.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd start-stop-daemon pgrep install getent
require_ours sasldb
[[ -x "$OURS_SASLPASSWD2" ]] || skip_test "$OURS_SASLPASSWD2 not built"
[[ -x "$OURS_TESTSASLAUTHD" ]] || skip_test "$OURS_TESTSASLAUTHD not built"
INIT="$SOURCE_DIR/contrib/init.d/saslauthd"
[[ -r "$INIT" ]] || die "$INIT missing"
T0=$(now_ms)
# The LSB functions hand /etc/init.d scripts to systemctl on a systemd host.
export SYSTEMCTL_SKIP_REDIRECT=1

DB="$SCRATCH/sasldb2"
printf '%s' alice-pw | "$OURS_SASLPASSWD2" -f "$DB" -p -c -u example.org alice
OK_LINE='0: OK "Success."'

# auth <socket> <password> [debian]: testsaslauthd's answer for alice@example.org.
auth() {
	local bin=$OURS_TESTSASLAUTHD
	[[ "${3:-}" == debian ]] && bin=$CYRUS_TESTSASLAUTHD
	timeout 20 "$bin" -f "$1" -s smtp -r example.org -u alice -p "$2" 2>&1 || true
}
# live_in_session <sid>: processes (not zombies) left in a daemon's session.
live_in_session() {
	local p n=0
	for p in $(pgrep -s "$1" 2>/dev/null || true); do
		if pid_alive "$p"; then n=$((n + 1)); fi
	done
	echo "$n"
}
session_gone() { [[ $(live_in_session "$1") -eq 0 ]]; }
pidfile_pid() { tr -dc '0-9' <"$1" 2>/dev/null || true; }
comm_of() { cat "/proc/$1/comm" 2>/dev/null || true; }
# track <pid file>: stop that daemon by PID at exit, whatever happens.
track() {
	local p
	p=$(pidfile_pid "$1")
	if [[ -n "$p" ]]; then register_pid "$p"; fi
}
# recycled <master> <workers before> <count>: every old worker gone, count back.
recycled() {
	local now w
	now=" $(child_pids "$1") "
	[[ $(count_children "$1") -eq $3 ]] || return 1
	for w in $2; do
		[[ "$now" == *" $w "* ]] && return 1
	done
	return 0
}

# ================================================================ part 1: ours

DEF="$SCRATCH/etc default"  # a space: the script must not split it
RUN_MAIN="$SCRATCH/run/main" RUN_SECOND="$SCRATCH/run/deep/second"
mkdir -p "$DEF" "$SCRATCH/run"
# main_defaults <run dir>: the main instance's defaults file, as Debian ships it.
main_defaults() {
	cat <<EOF
START=yes
DESC="SASL Authentication Daemon"
NAME="saslauthd"
MECHANISMS="sasldb"
MECH_OPTIONS="$DB"
THREADS=3
OPTIONS="-c -m $1"
EOF
}
main_defaults "$RUN_MAIN" >"$DEF/saslauthd"
cat >"$DEF/saslauthd-second" <<EOF
START=yes
NAME="second"
MECHANISMS="sasldb"
MECH_OPTIONS="$DB"
THREADS=2
OPTIONS="-m $RUN_SECOND"
EOF
cat >"$DEF/saslauthd-off" <<EOF
NAME="off"
START=no
MECHANISMS="sasldb"
MECH_OPTIONS="$DB"
OPTIONS="-m $SCRATCH/run/off"
EOF
# Not instances: an editor backup and a dpkg leftover.
for f in 'saslauthd-second~' saslauthd.dpkg-old; do
	printf 'START=yes\nMECHANISMS=sasldb\nMECH_OPTIONS="%s"\nOPTIONS="-m %s"\n' "$DB" "$SCRATCH/run/leftover" >"$DEF/$f"
done

# ours_init <action> [instance]: our init script against the build; sets
# OURS_INIT_RC and out (its output).
OURS_INIT_RC=0 out=""
init_with() {
	local dir="$1"
	shift
	OURS_INIT_RC=0
	timeout 90 env DAEMON="$OURS_SASLAUTHD" DEFAULTS_DIR="$dir" "$INIT" "$@" >"$SCRATCH/init.out" 2>&1 ||
		OURS_INIT_RC=$?
	out=$(cat "$SCRATCH/init.out")
}
ours_init() { init_with "$DEF" "$@"; }

printf '# our init script: %s (DAEMON=%s DEFAULTS_DIR=%s)\n' "$INIT" "$OURS_SASLAUTHD" "$DEF"
t=$(now_ms)
ours_init start
track "$RUN_MAIN/saslauthd.pid"
track "$RUN_SECOND/saslauthd.pid"
printf '%s\n' "$out" | sed 's/^/  | /'
printf '# start took %d ms\n' $(($(now_ms) - t))
check "start: exit 0" 0 "$OURS_INIT_RC"
MAIN=$(pidfile_pid "$RUN_MAIN/saslauthd.pid")
SECOND=$(pidfile_pid "$RUN_SECOND/saslauthd.pid")
check "start: instance saslauthd running, pid file in its run dir, named saslauthd" "yes saslauthd" \
	"$(yesno pid_alive "$MAIN") $(comm_of "$MAIN")"
check "start: instance saslauthd-second running (nested run dir created)" yes \
	"$(yesno pid_alive "$SECOND")"
check "start: run dir root:sasl 0710" "root:sasl 710" "$(stat -c '%U:%G %a' "$RUN_MAIN" 2>&1)"
check "start: START=no instance and editor/dpkg leftovers not started" "no no" \
	"$(yesno test -e "$SCRATCH/run/off") $(yesno test -e "$SCRATCH/run/leftover")"
check_match "start: message says the disabled instance is disabled" 'off is disabled' "$out"
check "start: workers (THREADS=3)" 3 "$(count_children "$MAIN")"
check "answers (our testsaslauthd)" "$OK_LINE" "$(auth "$RUN_MAIN/mux" alice-pw)"
check "answers (Debian's testsaslauthd)" "$OK_LINE" "$(auth "$RUN_MAIN/mux" alice-pw debian)"
check "second instance answers" "$OK_LINE" "$(auth "$RUN_SECOND/mux" alice-pw)"
check_match "wrong password refused" '^0: NO ' "$(auth "$RUN_MAIN/mux" wrong)"

ours_init start
check_match "start again: exit 0, already running" "^0 .*already running" "$OURS_INIT_RC $out"
check "start again: same master" "$MAIN" "$(pidfile_pid "$RUN_MAIN/saslauthd.pid")"

ours_init status
printf '%s\n' "$out" | sed 's/^/  | /'
check "status: exit 0 (all enabled instances running)" 0 "$OURS_INIT_RC"
check_match "status: names the master pid" "saslauthd is running \\(pid $MAIN\\)" "$out"

before=$(child_pids "$MAIN")
ours_init reload
check "reload: exit 0" 0 "$OURS_INIT_RC"
wait_until 10 recycled "$MAIN" "$before" 3 || true
check "reload: same master" yes "$(yesno pid_alive "$MAIN")"
check "reload (SIGHUP): every worker recycled, still 3" yes "$(yesno recycled "$MAIN" "$before" 3)"
check "reload: still answers" "$OK_LINE" "$(auth "$RUN_MAIN/mux" alice-pw)"
ours_init force-reload
check "force-reload: exit 0" 0 "$OURS_INIT_RC"

# One instance on its own.
ours_init stop-instance second
check "stop-instance second: exit 0, process gone, pid file gone" "0 no no" \
	"$OURS_INIT_RC $(yesno pid_alive "$SECOND") $(yesno test -e "$RUN_SECOND/saslauthd.pid")"
check "first instance untouched" "yes $OK_LINE" "$(yesno pid_alive "$MAIN") $(auth "$RUN_MAIN/mux" alice-pw)"
ours_init status-instance second
check "status-instance second after stop: 3" 3 "$OURS_INIT_RC"
ours_init status
check "status with an enabled instance down: 3" 3 "$OURS_INIT_RC"
ours_init restart-instance saslauthd-second
track "$RUN_SECOND/saslauthd.pid"
SECOND2=$(pidfile_pid "$RUN_SECOND/saslauthd.pid")
check "restart-instance saslauthd-second: exit 0, new master answers" "0 yes $OK_LINE" \
	"$OURS_INIT_RC $([[ -n "$SECOND2" && "$SECOND2" != "$SECOND" ]] && pid_alive "$SECOND2" && echo yes || echo no) $(auth "$RUN_SECOND/mux" alice-pw)"
ours_init status-instance nosuch
check_match "unknown instance: non-zero, says so" "^[1-9].*does not exist" "$OURS_INIT_RC $out"
ours_init start-instance ../../etc/passwd
check "instance name with a path: refused" 1 "$OURS_INIT_RC"

t=$(now_ms)
ours_init stop
printf '%s\n' "$out" | sed 's/^/  | /'
printf '# stop took %d ms\n' $(($(now_ms) - t))
check "stop: exit 0" 0 "$OURS_INIT_RC"
check "stop: both masters and their workers gone" "no no 0" \
	"$(yesno pid_alive "$MAIN") $(yesno pid_alive "$SECOND2") $(wait_until 5 session_gone "$MAIN"; live_in_session "$MAIN")"
check "stop: pid file and socket removed" "no no" \
	"$(yesno test -e "$RUN_MAIN/saslauthd.pid") $(yesno test -e "$RUN_MAIN/mux")"
ours_init status
check "status after stop: 3" 3 "$OURS_INIT_RC"
ours_init stop
check_match "stop when stopped: exit 0, not running" "^0 .*not running" "$OURS_INIT_RC $out"
ours_init reload
check "reload when stopped: exit 0" 0 "$OURS_INIT_RC"

# A stale pid file naming a live process that is not saslauthd.
start_bg unrelated "$SCRATCH/sleep.log" sleep 120 </dev/null
SLEEPER=$DAEMON_PID
mkdir -p "$RUN_MAIN"
printf '%s\n' "$SLEEPER" >"$RUN_MAIN/saslauthd.pid"
ours_init status-instance saslauthd
check "status with a stale pid file: 1 (dead, pid file exists)" 1 "$OURS_INIT_RC"
ours_init stop-instance saslauthd
check "stop with a stale pid file: exit 0, unrelated process alive, pid file removed" "0 yes no" \
	"$OURS_INIT_RC $(yesno pid_alive "$SLEEPER") $(yesno test -e "$RUN_MAIN/saslauthd.pid")"
printf '%s\n' "$SLEEPER" >"$RUN_MAIN/saslauthd.pid"
ours_init start-instance saslauthd
track "$RUN_MAIN/saslauthd.pid"
MAIN=$(pidfile_pid "$RUN_MAIN/saslauthd.pid")
check "start over a stale pid file: exit 0, daemon runs and answers" "0 saslauthd $OK_LINE" \
	"$OURS_INIT_RC $(comm_of "$MAIN") $(auth "$RUN_MAIN/mux" alice-pw)"
ours_init stop-instance saslauthd
check "and stops" "0 no yes" "$OURS_INIT_RC $(yesno pid_alive "$MAIN") $(yesno pid_alive "$SLEEPER")"
stop_pid "$SLEEPER"

# Refusals, in a defaults directory of their own.
BAD="$SCRATCH/default-bad"
mkdir -p "$BAD"
printf 'START=yes\nMECHANISMS=sasldb\nOPTIONS="-c -d -m %s"\n' "$SCRATCH/run/fg" >"$BAD/saslauthd-fg"
printf 'START=yes\nMECHANISMS=sasldb\nOPTIONS="-c -n 2"\n' >"$BAD/saslauthd-nom"
printf 'START=yes\nMECHANISMS=sasldb\nOPTIONS="-cVf -m %s"\n' "$SCRATCH/run/fg2" >"$BAD/saslauthd-fg2"
bad_init() { init_with "$BAD" "$@"; }
bad_init start-instance fg
check_match "-d in OPTIONS: refused, nothing started" "^1 .*foreground.*" "$OURS_INIT_RC $(pgrep -f -- "-m $SCRATCH/run/fg" | wc -l) $out"
bad_init start-instance fg2
check "-f bundled in OPTIONS (-cVf): refused" 1 "$OURS_INIT_RC"
bad_init start-instance nom
check_match "no -m in OPTIONS: refused with a message" "^1 .*-m" "$OURS_INIT_RC $out"

# ================================================================ part 2: Debian's script

DEB_INIT=/etc/init.d/saslauthd
DEB_RUN="$SCRATCH/deb-run"
part2() {
	if [[ ! -x "$DEB_INIT" || ! -x "$CYRUS_SASLAUTHD" || ! -x "$CYRUS_TESTSASLAUTHD" ]]; then
		printf 'SKIP: part 2: Debian sasl2-bin (%s) not installed\n' "$DEB_INIT"
		return 0
	fi
	if ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null ||
		! unshare --mount --propagation private true 2>/dev/null; then
		printf 'SKIP: part 2: cannot create a private mount namespace (unshare -m)\n'
		return 0
	fi
	local debdef="$SCRATCH/deb-default" ready="$SCRATCH/ns-ready" holder out rc pid before host_v
	mkdir -p "$debdef"
	main_defaults "$DEB_RUN" >"$debdef/saslauthd"
	host_v=$(first_line "$CYRUS_SASLAUTHD" -v)
	# The namespace holder: bind mounts visible to it and its descendants only.
	# shellcheck disable=SC2016 # expanded by the inner sh
	start_bg ns-holder "$SCRATCH/ns.log" unshare --mount --propagation private \
		sh -c 'mount --bind "$1" /usr/sbin/saslauthd && mount --bind "$2" /etc/default && : >"$3" && exec sleep 280' \
		sh "$OURS_SASLAUTHD" "$debdef" "$ready" </dev/null
	holder=$DAEMON_PID
	if ! wait_until 10 test -e "$ready"; then
		check "namespace with our binary over /usr/sbin/saslauthd" ready "$(cat "$SCRATCH/ns.log")"
		return 0
	fi
	# ns <command...>: run inside the holder's mount namespace.
	ns() { timeout 90 nsenter --target "$holder" --mount -- env SYSTEMCTL_SKIP_REDIRECT=1 "$@"; }
	check "inside the namespace /usr/sbin/saslauthd is ours" "$(first_line "$OURS_SASLAUTHD" -v)" \
		"$(first_line ns /usr/sbin/saslauthd -v)"
	check "outside, /usr/sbin/saslauthd is still Debian's" "$host_v" "$(first_line "$CYRUS_SASLAUTHD" -v)"

	printf "# Debian's %s, /usr/sbin/saslauthd = ours (namespace of pid %s)\n" "$DEB_INIT" "$holder"
	rc=0
	out=$(ns "$DEB_INIT" start 2>&1) || rc=$?
	track "$DEB_RUN/saslauthd.pid"
	printf '%s\n' "$out" | sed 's/^/  | /'
	pid=$(pidfile_pid "$DEB_RUN/saslauthd.pid")
	check "Debian start: exit 0" 0 "$rc"
	check "Debian start: our daemon runs, pid file in the run dir" "yes yes" \
		"$(yesno pid_alive "$pid") $(yesno cmp -s "/proc/$pid/exe" "$OURS_SASLAUTHD")"
	check "Debian start: run dir root:sasl 0710" "root:sasl 710" "$(stat -c '%U:%G %a' "$DEB_RUN" 2>&1)"
	check "Debian's testsaslauthd: OK" "$OK_LINE" "$(auth "$DEB_RUN/mux" alice-pw debian)"
	check_match "Debian's testsaslauthd, wrong password: NO" '^0: NO ' "$(auth "$DEB_RUN/mux" nope debian)"
	rc=0
	out=$(ns "$DEB_INIT" start 2>&1) || rc=$?
	check_match "Debian start again: already running, same pid" "^0 $pid .*already running" \
		"$rc $(pidfile_pid "$DEB_RUN/saslauthd.pid") $out"
	rc=0
	out=$(ns "$DEB_INIT" status 2>&1) || rc=$?
	check_match "Debian status: 0, running" '^0 .*running' "$rc $out"
	before=$(child_pids "$pid")
	rc=0
	out=$(ns "$DEB_INIT" reload 2>&1) || rc=$?
	wait_until 10 recycled "$pid" "$before" 3 || true
	check "Debian reload: exit 0, same master, workers recycled" "0 yes yes" \
		"$rc $(yesno pid_alive "$pid") $(yesno recycled "$pid" "$before" 3)"
	check "Debian's testsaslauthd after reload: OK" "$OK_LINE" "$(auth "$DEB_RUN/mux" alice-pw debian)"
	t=$(now_ms)
	rc=0
	out=$(ns "$DEB_INIT" stop 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/  | /'
	printf '# Debian stop took %d ms\n' $(($(now_ms) - t))
	check "Debian stop: exit 0, daemon and workers gone, pid file and socket gone" "0 no 0 no no" \
		"$rc $(yesno pid_alive "$pid") $(wait_until 5 session_gone "$pid"; live_in_session "$pid") $(yesno test -e "$DEB_RUN/saslauthd.pid") $(yesno test -e "$DEB_RUN/mux")"
	rc=0
	out=$(ns "$DEB_INIT" status 2>&1) || rc=$?
	check_match "Debian status after stop: 3, not running" '^3 .*not running' "$rc $out"
	stop_pid "$holder"
	check "outside, /usr/sbin/saslauthd is still Debian's afterwards" "$host_v" "$(first_line "$CYRUS_SASLAUTHD" -v)"
}
part2

printf '# test_initscript: %d ms\n' $(($(now_ms) - T0))
finish
