#!/usr/bin/env bash
# Issue 12, finding 3: unprivileged workers inherit no writable descriptor of root's.
# A --user nobody worker (detached and in the foreground) holds neither the pid file,
# its lock, the accept lock nor a file the launcher had open; the master closed the
# launcher's file too; and with -n 0 the root verifier of a per-connection child does
# not hold the client's connection. Logins still work (right password OK, wrong NO).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$PYTHON" pgrep ss
require_ours sasldb shadow
getent passwd nobody >/dev/null || skip_test "no user nobody"

DB="$SCRATCH/sasldb2"
sasldb_add "$DB" alice example.org alice-pw
chmod 0644 "$DB"
LAUNCHER_FILE="$SCRATCH/launcher-file"
: >"$LAUNCHER_FILE"

# fd_targets <pid>: where its descriptors point, one a line.
fd_targets() {
	local f
	for f in /proc/"$1"/fd/*; do readlink "$f" 2>/dev/null || true; done
}

# root_files_held <pid> <run dir>: the run-directory files and the launcher's file it holds.
root_files_held() {
	fd_targets "$1" | grep -E "^($2/(saslauthd\.pid|saslauthd\.pid\.lock|mux\.accept)|$LAUNCHER_FILE)$" |
		sort | tr '\n' ' ' | sed 's/ $//' || true
}

# workers <master>: its children.
workers() { pgrep -P "$1" | sort -n; }
worker_count_is() { [[ "$(pgrep -c -P "$1" || true)" == "$2" ]]; }
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- detached, --user
R="$SCRATCH/detached"
mkdir -m 0755 "$R"
(
	exec 7>>"$LAUNCHER_FILE"
	timeout 20 "$OURS_SASLAUTHD" -a sasldb -O "$DB" -m "$R" -n 2 --user nobody </dev/null >/dev/null 2>&1
) && rc=0 || rc=$?
check "detached --user nobody starts" 0 "$rc"
MASTER=$(cat "$R/saslauthd.pid" 2>/dev/null || true)
[[ -n "$MASTER" ]] && register_pid "$MASTER"
check_cmd "detached: two workers run" wait_until 10 worker_count_is "$MASTER" 2
check "detached: right password OK" OK "$(saslclient req "$R/mux" alice alice-pw imap example.org)"
check "detached: wrong password NO" NO "$(saslclient req "$R/mux" alice wrong imap example.org)"
check "detached: the master holds the pid file, not the launcher's file" "$R/mux.accept $R/saslauthd.pid" \
	"$(root_files_held "$MASTER" "$R")"
for w in $(workers "$MASTER"); do
	check "detached: worker $w runs as nobody" "$(id -u nobody)" "$(uid_of "$w")"
	check "detached: worker $w holds no pid file, lock or launcher file" "" "$(root_files_held "$w" "$R")"
done
stop_pid "$MASTER"

# ---------------------------------------------------------------- foreground, --user
R="$SCRATCH/fg"
exec 7>>"$LAUNCHER_FILE"
start_ours "$R" -a sasldb -O "$DB" -n 2 --user nobody
exec 7>&-
MASTER=$DAEMON_PID
check_cmd "foreground: two workers run" wait_until 10 worker_count_is "$MASTER" 2
check "foreground: the master holds the pid lock and accept lock only" \
	"$R/mux.accept $R/saslauthd.pid.lock" "$(root_files_held "$MASTER" "$R")"
for w in $(workers "$MASTER"); do
	check "foreground: worker $w holds no pid lock, accept lock or launcher file" "" \
		"$(root_files_held "$w" "$R")"
done
stop_pid "$MASTER"

# ---------------------------------------------------------------- -n 0 --user: verifier
R="$SCRATCH/perconn"
start_ours "$R" -a shadow -n 0 --user nobody
MASTER=$DAEMON_PID
# A client that sends half a request keeps its per-connection child (and that
# child's root verifier) waiting for the rest.
saslclient stall "$R/mux" '\x00\x05ali' --timeout 8 >"$SCRATCH/stall.out" &
STALL=$!
register_pid "$STALL"
has_verifier() { local c; c=$(first_child "$MASTER"); [[ -n "$c" && -n "$(first_child "$c")" ]]; }
check_cmd "-n 0: the connection child and its verifier run" wait_until 5 has_verifier
CHILD=$(first_child "$MASTER")
VERIFIER=$(first_child "$CHILD")
check "-n 0: the connection child runs as nobody" "$(id -u nobody)" "$(uid_of "$CHILD")"
check "-n 0: the verifier runs as root" 0 "$(uid_of "$VERIFIER")"
conn_holders=$(ss -xp 2>/dev/null | grep -F "$R/mux" | grep -v LISTEN || true)
check_match "-n 0: the connection child holds the client connection" "pid=$CHILD," "$conn_holders"
check "-n 0: the root verifier does not hold the client connection" "" \
	"$(grep -o "pid=$VERIFIER," <<<"$conn_holders" || true)"
check "-n 0: the verifier holds no run-directory file" "" "$(root_files_held "$VERIFIER" "$R")"
wait "$STALL" 2>/dev/null || true
# A real request on -n 0 still gets a verdict (unknown user: refused).
check_match "-n 0: a request is still answered" '^NO' "$(saslclient req "$R/mux" nosuchuser-$$ pw imap "")"
stop_pid "$MASTER"

finish
