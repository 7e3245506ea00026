#!/usr/bin/env bash
# systemd integration without a running systemd: the units (and the template units of
# a multi-instance setup) pass systemd-analyze verify; an instance's ExecStart, run as
# systemd would run saslauthd@NAME, reads its own defaults and is socket-activated;
# readiness, reload and stop are announced on NOTIFY_SOCKET; a socket handed
# over by socket activation (systemd-socket-activate) is served and left in place;
# under the journal (JOURNAL_STREAM) log lines are not mirrored to stderr.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_ours getpwent
require_nss_wrapper
require_cmd systemd-analyze systemd-socket-activate "$PYTHON"
[[ "$(ldd "$OURS_SASLAUTHD")" == *libsystemd* ]] || skip_test "built without libsystemd (WITH_SYSTEMD=OFF)"

passwd=$SCRATCH/passwd group=$SCRATCH/group
: >"$passwd"
write_passwd_line "$passwd" alice "$(make_hash sha512crypt 'alice-pw')" 2001
echo "users:x:2001:" >"$group"
auth() { "$OURS_TESTSASLAUTHD" -f "$1" -u alice -p "$2" 2>&1 || true; }

# ---------------------------------------------------------------- unit files
units=$SCRATCH/units
mkdir -p "$units"
sed "s#/usr/sbin/saslauthd#$OURS_SASLAUTHD#" "$SOURCE_DIR/contrib/systemd/saslauthd.service" >"$units/saslauthd.service"
cp "$SOURCE_DIR/contrib/systemd/saslauthd.socket" "$units/"
out=$(systemd-analyze verify "$units/saslauthd.service" "$units/saslauthd.socket" 2>&1; echo "rc=$?")
check "systemd-analyze verify accepts both units" "rc=0" "$(tail -n1 <<<"$out")"
check "systemd-analyze verify prints no warning" "" "$(grep -v '^rc=' <<<"$out" || true)"

# ---------------------------------------------------------------- sd_notify
notify=$SCRATCH/notify.sock
cat >"$SCRATCH/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        out.write(msg.replace("\n", " ") + "\n")
PY
start_bg notify-listener "$SCRATCH/notify.out" "$PYTHON" "$SCRATCH/notify.py" "$notify" "$SCRATCH/messages"
wait_until 5 test -S "$notify"
run=$SCRATCH/run
mkdir -p "$run"
start_bg ours-notify "$SCRATCH/ours-notify.log" env NOTIFY_SOCKET="$notify" \
	$(nss_wrapper_env "$passwd" "$group") "$OURS_SASLAUTHD" -f -a getpwent -n 2 -m "$run"
daemon=$DAEMON_PID
wait_until 10 grep -q READY=1 "$SCRATCH/messages" || true
check_match "READY=1 with a status once listening" 'READY=1 STATUS=mechanism getpwent, 2 workers' "$(cat "$SCRATCH/messages" 2>/dev/null)"
check "the socket answers once READY=1 was sent" '0: OK "Success."' "$(auth "$run/mux" alice-pw)"
kill -HUP "$daemon"
wait_until 5 grep -q 'READY=1 STATUS=reloaded' "$SCRATCH/messages" || true
check_match "SIGHUP: RELOADING=1 then READY=1" 'RELOADING=1.*READY=1 STATUS=reloaded' "$(tr '\n' ' ' <"$SCRATCH/messages")"
kill -TERM "$daemon"
wait_until 10 grep -q STOPPING=1 "$SCRATCH/messages" || true
check_match "SIGTERM: STOPPING=1" 'STOPPING=1' "$(cat "$SCRATCH/messages")"
wait_until 10 sh -c "! kill -0 $daemon 2>/dev/null" || true
check "-f without -d logs to stderr too (not under the journal)" yes \
	"$(yesno grep -q 'listening on socket' "$SCRATCH/ours-notify.log")"

# ---------------------------------------------------------------- JOURNAL_STREAM
start_bg ours-journal "$SCRATCH/ours-journal.log" env JOURNAL_STREAM=8:1234 \
	$(nss_wrapper_env "$passwd" "$group") "$OURS_SASLAUTHD" -f -a getpwent -n 1 -m "$SCRATCH/runj"
wait_for_socket "$SCRATCH/runj/mux" 10 "$DAEMON_PID" || true
check "under the journal: serves" '0: OK "Success."' "$(auth "$SCRATCH/runj/mux" alice-pw)"
stop_pid "$DAEMON_PID"
check "under the journal: nothing mirrored to stderr" "" "$(cat "$SCRATCH/ours-journal.log")"

# ---------------------------------------------------------------- socket activation
sock=$SCRATCH/activated/mux
mkdir -p "$SCRATCH/activated"
envs=()
while IFS= read -r e; do envs+=(-E "$e"); done < <(nss_wrapper_env "$passwd" "$group")
start_bg socket-activate "$SCRATCH/activate.log" systemd-socket-activate "${envs[@]}" -l "$sock" \
	"$OURS_SASLAUTHD" -d -a getpwent -n 2 -m "$SCRATCH/runa"
wait_until 10 test -S "$sock" || true
check "activated: first connection starts the daemon and is answered" '0: OK "Success."' "$(auth "$sock" alice-pw)"
check "activated: wrong password refused" '0: NO "authentication failed"' "$(auth "$sock" nope)"
check_match "activated: the daemon says it uses the passed socket" 'listening on socket passed by the service manager' "$(cat "$SCRATCH/activate.log")"
check "activated: no socket of its own in the run directory" "absent" "$([[ -e $SCRATCH/runa/mux ]] && echo present || echo absent)"
stop_pid "$DAEMON_PID"
check "activated: the service manager's socket is left in place at exit" "present" "$([[ -S $sock ]] && echo present || echo absent)"

# ---------------------------------------------------------------- template units
inst=mx
for u in service socket; do
	sed "s#/usr/sbin/saslauthd#$OURS_SASLAUTHD#" "$SOURCE_DIR/contrib/systemd/saslauthd@.$u" >"$units/saslauthd@.$u"
	ln -s "saslauthd@.$u" "$units/saslauthd@$inst.$u"
done
out=$(systemd-analyze verify "$units/saslauthd@$inst.service" "$units/saslauthd@$inst.socket" 2>&1; echo "rc=$?")
check "template: systemd-analyze verify accepts saslauthd@$inst.service and .socket" "rc=0" "$(tail -n1 <<<"$out")"
check "template: no warning" "" "$(grep -v '^rc=' <<<"$out" || true)"
check "template: an instance reads /etc/default/saslauthd-<instance>, required" \
	"EnvironmentFile=/etc/default/saslauthd-%i" "$(grep '^EnvironmentFile=' "$units/saslauthd@.service")"
check "template: an instance's socket is /run/saslauthd-<instance>/mux" \
	"ListenStream=/run/saslauthd-%i/mux" "$(grep '^ListenStream=' "$units/saslauthd@.socket")"
# Run saslauthd@mx's ExecStart as systemd would: %i expanded, $$ unescaped, the unit's
# Environment= defaults overridden by the instance's defaults file, socket-activated
# (on a scratch path, as a drop-in would set for a chroot) and with a notify socket.
exec_start=$(sed -n 's/^ExecStart=//p' "$units/saslauthd@.service")
exec_start=${exec_start//%i/$inst}
exec_start=${exec_start//\$\$/\$}
eval "cmd=($exec_start)"
mkdir -p "$SCRATCH/run-$inst" "$SCRATCH/sock-$inst"
printf 'START=yes\nMECHANISMS=getpwent\nTHREADS=2\nOPTIONS="-m %s"\n' "$SCRATCH/run-$inst" >"$SCRATCH/saslauthd-$inst"
mapfile -t inst_env < <(set -a; . "$SCRATCH/saslauthd-$inst"; printf '%s\n' "MECHANISMS=$MECHANISMS" \
	"THREADS=$THREADS" "OPTIONS=$OPTIONS" "NOTIFY_SOCKET=$notify"; nss_wrapper_env "$passwd" "$group")
envs=()
for e in "${inst_env[@]}"; do envs+=(-E "$e"); done
: >"$SCRATCH/messages"
start_bg "saslauthd@$inst" "$SCRATCH/inst.log" systemd-socket-activate "${envs[@]}" \
	-l "$SCRATCH/sock-$inst/mux" "${cmd[@]}"
wait_until 10 test -S "$SCRATCH/sock-$inst/mux" || true
check "instance $inst: activated and answered with its own defaults" '0: OK "Success."' \
	"$(auth "$SCRATCH/sock-$inst/mux" alice-pw)"
wait_until 10 grep -q READY=1 "$SCRATCH/messages" || true
check_match "instance $inst: READY=1 with its mechanism and worker count" \
	'READY=1 STATUS=mechanism getpwent, 2 workers' "$(cat "$SCRATCH/messages")"
check_match "instance $inst: its own run directory, from OPTIONS in its defaults file" \
	" -m $SCRATCH/run-$inst( |\$)" "$(tr '\0' ' ' <"/proc/$DAEMON_PID/cmdline")"
stop_pid "$DAEMON_PID"

finish
