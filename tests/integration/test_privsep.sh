#!/usr/bin/env bash
# Privilege separation (--user): workers run unprivileged; shadow keeps working through
# a root verifier beside each worker; sasldb works with group access only; a dead
# verifier is replaced without failing requests; bad --user values stop the start.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_ours shadow sasldb
require_cmd useradd userdel chpasswd setpriv pgrep

user="sasltps$$"
on_cleanup "userdel $user >/dev/null 2>&1 || true"
useradd -M -N -d /nonexistent -s /usr/sbin/nologin "$user"
echo "$user:Priv-Pass-1" | chpasswd
nobody_uid=$(id -u nobody)
shadow_gid=$(getent group shadow | cut -d: -f3)
auth() { "$OURS_TESTSASLAUTHD" -f "$1/mux" -u "$2" -p "$3" 2>&1 || true; }
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- shadow
run=$SCRATCH/shadow
start_ours "$run" -a shadow -n 2 --user nobody
master=$DAEMON_PID
check "shadow via the verifier: right password" '0: OK "Success."' "$(auth "$run" "$user" Priv-Pass-1)"
check "shadow via the verifier: wrong password" '0: NO "authentication failed"' "$(auth "$run" "$user" wrong)"
workers=$(pgrep -P "$master" | sort | tr '\n' ' ')
for w in $workers; do
	check "worker $w runs as nobody" "$nobody_uid" "$(status_field "$w" Uid)"
	check "worker $w has no capabilities" "0000000000000000" "$(status_field "$w" CapEff)"
	groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$w/status")
	check "worker $w is not in group shadow" no "$([[ " $groups " == *" $shadow_gid "* ]] && echo yes || echo no)"
	verifier=$(first_child "$w")
	check "worker $w has one root verifier" 0 "$(status_field "$verifier" Uid)"
done
check "that identity cannot read /etc/shadow" denied \
	"$(setpriv --reuid=nobody --regid=nogroup --clear-groups cat /etc/shadow >/dev/null 2>&1 && echo readable || echo denied)"
check "the daemon's log never shows the password" "" "$(grep -a 'Priv-Pass-1' "$SCRATCH/ours.log" || true)"

# A verifier that dies takes its worker with it; the master replaces the pair and
# no request fails meanwhile.
victim_worker=$(first_child "$master")
kill -KILL "$(first_child "$victim_worker")"
wait_until 5 sh -c "! kill -0 $victim_worker 2>/dev/null" || true
ok=0
for _ in 1 2 3 4 5 6; do
	[[ "$(auth "$run" "$user" Priv-Pass-1)" == '0: OK "Success."' ]] && ok=$((ok + 1))
done
check "verifier killed: every following request still succeeds" 6 "$ok"
wait_until 5 sh -c "[ \$(pgrep -P $master | wc -l) -eq 2 ]" || true
check "verifier killed: pool back to 2 workers" 2 "$(pgrep -P "$master" | wc -l)"
stop_pid "$master"

# ---------------------------------------------------------------- sasldb: group access only
db=$SCRATCH/sasldb2
printf 'Db-Pass-1' | "$OURS_SASLPASSWD2" -p -c -f "$db" -u example.org dbuser
chown root:sasl "$db"
chmod 0640 "$db"
chmod 0755 "$SCRATCH"
start_ours "$SCRATCH/sasldb-ok" -a sasldb -O "$db" -n 1 --user nobody:sasl
check "sasldb as nobody:sasl with a root:sasl 0640 file" '0: OK "Success."' \
	"$("$OURS_TESTSASLAUTHD" -f "$SCRATCH/sasldb-ok/mux" -u dbuser -r example.org -p Db-Pass-1 2>&1 || true)"
stop_pid "$DAEMON_PID"
OURS_LOG=$SCRATCH/denied.log start_ours "$SCRATCH/sasldb-no" -a sasldb -O "$db" -n 1 --user nobody
check "sasldb as nobody without the group: refused" '0: NO "authentication failed"' \
	"$("$OURS_TESTSASLAUTHD" -f "$SCRATCH/sasldb-no/mux" -u dbuser -r example.org -p Db-Pass-1 2>&1 || true)"
check_match "... and the log says why" 'Permission denied' "$(cat "$SCRATCH/denied.log")"
stop_pid "$DAEMON_PID"

# ---------------------------------------------------------------- bad --user values
for spec in root nosuchuser-xyz nobody:nosuchgroup-xyz; do
	rc=0
	"$OURS_SASLAUTHD" -a shadow -d -m "$SCRATCH/bad" --user "$spec" >/dev/null 2>"$SCRATCH/bad.err" || rc=$?
	check "--user $spec refused at start" 1 "$rc"
done

finish
