#!/usr/bin/env bash
# 2,000 stalled clients (idle, 3 bytes of a header, one byte a second; reopened as soon
# as they are dropped) do not stop good requests: first with room for all of them, then
# with a descriptor limit that forces the daemon to drop the oldest incomplete
# connections to take new ones (counted in --stats, one log line per burst).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$CYRUS_SASLPASSWD2" "$PYTHON" prlimit
require_ours sasldb

FLOOD=2000
FLOOD_PY="$FIXTURES_DIR/stall_flood.py"
# A good request must be answered within this, however busy the stall makes things.
SLOW_LIMIT_MS=5000
GOOD='Fl-Good-pw-2b7d'
DB="$SCRATCH/sasldb2"
sasldb_add "$DB" floodusr example.com "$GOOD"
(($(ulimit -Hn) >= FLOOD + 200)) || skip_test "hard descriptor limit $(ulimit -Hn) is below $((FLOOD + 200))"

timed() {
	local out ms
	out=$(saslclient req "$1" floodusr "$2" imap example.com --time --timeout 30)
	ms=$(sed -n 's/^elapsed_ms=//p' <<<"$out")
	printf '%s %s\n' "$(head -n1 <<<"$out")" "${ms:-99999}"
}

# flood_round <label> <socket>: good and wrong requests while the flood holds the daemon.
flood_round() {
	local label="$1" sock="$2" k verdict ms slow=0 wrong=0
	start_bg "flood $label" "$SCRATCH/flood-$label.out" "$PYTHON" "$FLOOD_PY" "$sock" "$FLOOD" 20 </dev/null
	FLOOD_PID=$DAEMON_PID
	wait_until 60 grep -q '^ready' "$SCRATCH/flood-$label.out" || true
	check "$label: $FLOOD stalled connections open" ready "$(head -n1 "$SCRATCH/flood-$label.out")"
	sleep 6 # past the 5 s request deadline: drops and reopenings are under way
	for k in $(seq 1 10); do
		read -r verdict ms < <(timed "$sock" "$GOOD")
		[[ "$verdict" == OK ]] || wrong=$((wrong + 1))
		((ms <= SLOW_LIMIT_MS)) || slow=$((slow + 1))
		log "$label: good request $k: $verdict in $ms ms"
		sleep 0.3
	done
	check "$label: 10 good requests during the flood all OK" 0 "$wrong"
	check "$label: ... each within ${SLOW_LIMIT_MS} ms" 0 "$slow"
	read -r verdict ms < <(timed "$sock" wrong-pw)
	check "$label: wrong password refused during the flood ($ms ms)" NO "$verdict"
	stop_pid "$FLOOD_PID"
}

# ------------------------------------------------------------ room for every stalled client
start_ours "$SCRATCH/run" -a sasldb -O "$DB" -n 5
DPID=$DAEMON_PID
flood_round roomy "$SCRATCH/run/mux"
check "roomy: the daemon is still running" yes "$(pid_alive "$DPID" && echo yes || echo no)"
stop_pid "$DPID"

# ------------------------------------------------------------ 300 descriptors per process, 2 workers
printf '#!/bin/sh\nexec prlimit --nofile=300:300 -- %q "$@"\n' "$OURS_SASLAUTHD" >"$SCRATCH/limited"
chmod +x "$SCRATCH/limited"
OURS_SASLAUTHD="$SCRATCH/limited" OURS_LOG="$SCRATCH/limited.log" start_ours "$SCRATCH/run2" -a sasldb -O "$DB" -n 2
DPID=$DAEMON_PID
t0=$(now_ms)
flood_round limited "$SCRATCH/run2/mux"
secs=$(((($(now_ms) - t0) + 999) / 1000))
dropped=$("$OURS_SASLAUTHD" --stats -m "$SCRATCH/run2" | awk '/^saslauthd_stalled_dropped_total/ { print $2 }')
check "limited: oldest incomplete connections were dropped (--stats: $dropped)" yes \
	"$( ((${dropped:-0} > 0)) && echo yes || echo no)"
lines=$(grep -c 'connection limit (.*) reached' "$SCRATCH/limited.log" || true)
check "limited: one log line per burst per worker ($lines lines in ${secs}s)" yes \
	"$( ((lines >= 1 && lines <= 2 * (secs / 10 + 1))) && echo yes || echo no)"
check "limited: the daemon is still running" yes "$(pid_alive "$DPID" && echo yes || echo no)"
check "limited: good request after the flood" OK "$(saslclient req "$SCRATCH/run2/mux" floodusr "$GOOD" imap example.com)"
stop_pid "$DPID"

check_no_sanitizer_reports "$SCRATCH/ours.log" "$SCRATCH/limited.log"
finish
