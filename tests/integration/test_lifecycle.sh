#!/usr/bin/env bash
# Daemon lifecycle as init scripts see it: -v, exit statuses, detaching with the pid
# file, the single-instance guard, workers replaced when they die, SIGHUP, SIGTERM
# cleanup, start-up errors reported by the launcher, -n 0.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_ours getpwent
require_nss_wrapper
require_cmd mkpasswd pgrep

passwd=$SCRATCH/passwd group=$SCRATCH/group
: >"$passwd"
write_passwd_line "$passwd" alice "$(make_hash sha512crypt 'alice-pw')" 2001
echo "users:x:2001:" >"$group"
# The daemon looks up group sasl (for a run directory it creates) through nss_wrapper.
getent group sasl >>"$group" || true

ours() { run_nss "$passwd" "$group" "" "$OURS_SASLAUTHD" "$@"; }
auth() { "$OURS_TESTSASLAUTHD" -f "$1/mux" -u alice -p "$2" 2>&1 || true; }

# -v: Cyrus's exact shape, on stderr, exit 0.
out=$("$OURS_SASLAUTHD" -v 2>&1 >/dev/null; echo "rc=$?")
check_match "-v first line" '^saslauthd [0-9.]+' "$(sed -n 1p <<<"$out")"
check_match "-v mechanism line" '^authentication mechanisms: .*getpwent.*shadow' "$(sed -n 2p <<<"$out")"
check "-v third line is empty" "" "$(sed -n 3p <<<"$out")"
check "-v exit status" "rc=0" "$(tail -n1 <<<"$out")"

# Usage errors exit non-zero (Cyrus: 0), configuration errors 1.
for args in "-n 2" "-a nosuchmech" "-a getpwent -m relative/dir" "-a getpwent -n five" \
	"-a getpwent -a shadow" "-a getpwent -s 0"; do
	rc=0
	# shellcheck disable=SC2086
	"$OURS_SASLAUTHD" $args -m "$SCRATCH/never" >/dev/null 2>&1 || rc=$?
	[[ "$args" == *relative* ]] && { rc=0; "$OURS_SASLAUTHD" $args >/dev/null 2>&1 || rc=$?; }
	check "exit status for: $args" 1 "$rc"
done

# Detached start: the launcher returns once the socket listens.
run=$SCRATCH/run/deep/dir
rc=0
ours -a getpwent -m "$run" -n 3 2>"$SCRATCH/launch.err" || rc=$?
check "detached start exits 0" 0 "$rc"
master=$(cat "$run/saslauthd.pid" 2>/dev/null || true)
register_pid "$master"
check_match "pid file holds the master pid and a newline" '^[0-9]+$' "$master"
check "pid file ends in a newline" "$(printf '%s\n' "$master" | od -c | tail -n2)" "$(od -c <"$run/saslauthd.pid" | tail -n2)"
check "pid file mode" "600" "$(stat -c %a "$run/saslauthd.pid")"
check "socket is a socket with mode 777" "socket 777" "$(stat -c '%F %a' "$run/mux" | sed 's/^socket.* /socket /')"
if getent group sasl >/dev/null; then
	check "a run directory we create is root:sasl 0710" "root:sasl 710" "$(stat -c '%U:%G %a' "$run")"
fi
check "accept lock file exists with mode 600" "600" "$(stat -c %a "$run/mux.accept")"
check "pid lock file removed by the launcher" "absent" "$([[ -e $run/saslauthd.pid.lock ]] && echo present || echo absent)"
check "answers at once after the launcher returned" '0: OK "Success."' "$(auth "$run" alice-pw)"
check "wrong password refused" '0: NO "authentication failed"' "$(auth "$run" wrong)"
wait_until 5 test "$(count_children "$master")" -eq 3 || true
check "three workers" 3 "$(count_children "$master")"

# Single-instance guard: a second start in the same directory fails with status 2.
rc=0
ours -a getpwent -m "$run" -n 3 >/dev/null 2>"$SCRATCH/second.err" || rc=$?
check "second instance exits 2" 2 "$rc"
check_match "second instance says why" 'Another instance|another instance' "$(cat "$SCRATCH/second.err")"
check "first instance still serves" '0: OK "Success."' "$(auth "$run" alice-pw)"

# A worker killed by a signal is replaced; nothing fails meanwhile.
before=$(child_pids "$master")
victim=$(first_child "$master")
kill -KILL "$victim"
wait_until 5 sh -c "[ \$(pgrep -P $master | wc -l) -eq 3 ] && ! pgrep -P $master | grep -qx $victim" || true
check "killed worker replaced (3 workers, victim gone)" "3 no" "$(count_children "$master") $(yesno child_of "$master" "$victim")"
check "serves after a worker died" '0: OK "Success."' "$(auth "$run" alice-pw)"

# SIGHUP: the master stays, every worker is recycled, service continues.
before=$(child_pids "$master")
kill -HUP "$master"
wait_until 5 sh -c "[ \$(pgrep -P $master | wc -l) -eq 3 ] && [ \"\$(pgrep -P $master | sort | tr '\n' ' ')\" != '$before' ]" || true
after=$(child_pids "$master")
check "master survives SIGHUP" yes "$(yesno pid_alive "$master")"
check "workers recycled on SIGHUP" yes "$([[ "$after" != "$before" && $(count_children "$master") -eq 3 ]] && echo yes || echo no)"
check "serves after SIGHUP" '0: OK "Success."' "$(auth "$run" alice-pw)"

# SIGTERM: exit within the bound, removing what it created.
kill -TERM "$master"
wait_until 10 sh -c "! kill -0 $master 2>/dev/null" || true
check "master exits on SIGTERM" no "$(yesno pid_alive "$master")"
left=$(cd "$run" && ls -A)
check "run directory emptied (mux, mux.accept, pid file)" "" "$left"

# Start-up errors reach the terminal: a regular file where the socket goes is kept.
bad=$SCRATCH/badrun
mkdir -p "$bad"
echo "precious" >"$bad/mux"
rc=0
ours -a getpwent -m "$bad" -n 1 2>"$SCRATCH/bad.err" || rc=$?
check "start with a non-socket at mux fails" 1 "$rc"
check_match "launcher prints the reason" 'not a socket' "$(cat "$SCRATCH/bad.err")"
check "the file at mux is untouched" precious "$(cat "$bad/mux")"

# --socket-mode / --socket-group.
if getent group sasl >/dev/null; then
	start_ours "$SCRATCH/runm" -a getpwent -n 1 --socket-mode 0660 --socket-group sasl
	check "--socket-mode and --socket-group applied to mux" "660 sasl" "$(stat -c '%a %G' "$SCRATCH/runm/mux")"
	stop_pid "$DAEMON_PID"
fi
rc=0
"$OURS_SASLAUTHD" -a getpwent -d -m "$SCRATCH/never" --socket-mode 999 >/dev/null 2>&1 || rc=$?
check "--socket-mode with a non-octal value refused" 1 "$rc"

# -n 0: one child per connection.
use_nss_wrapper "$passwd" "$group"
start_ours "$SCRATCH/run0" -a getpwent -n 0
ok=0
for _ in 1 2 3 4 5 6 7 8; do
	[[ "$(auth "$SCRATCH/run0" alice-pw)" == '0: OK "Success."' ]] && ok=$((ok + 1))
done
check "-n 0 serves every request" 8 "$ok"
check "-n 0 refuses a wrong password" '0: NO "authentication failed"' "$(auth "$SCRATCH/run0" nope)"

finish
