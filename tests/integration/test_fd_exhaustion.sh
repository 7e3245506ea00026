#!/usr/bin/env bash
# Descriptor exhaustion: with the descriptor limit reached (prlimit on the running
# process), a worker and the -n 0 master back off instead of spinning on accept(): no
# busy loop (CPU ticks over a few seconds), a bounded number of "socket accept failure"
# reports, and requests are answered again once descriptors are free.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$CYRUS_SASLPASSWD2" "$PYTHON" prlimit pgrep
require_ours sasldb

GOOD='Fd-Good-pw-41c2'
DB="$SCRATCH/sasldb2"
sasldb_add "$DB" fduser example.com "$GOOD"
# Out of 300 ticks in 3 s of spinning; an idle back-off costs next to nothing.
MAX_TICKS=30
MEASURE_S=3

good() { saslclient req "$1" fduser "$GOOD" imap example.com --timeout "${2:-10}"; }
failures() { grep -c 'socket accept failure' "$1" || true; }

# check_backs_off <label> <pid> <log> <failures before> <t0 ms>: over MEASURE_S seconds
# the process out of descriptors uses at most MAX_TICKS, and reported accept failures at
# least once and at most once a second since t0.
check_backs_off() {
	local label="$1" pid="$2" logf="$3" before="$4" t0="$5" ticks0 ticks n secs
	sleep 0.5
	ticks0=$(cpu_ticks "$pid")
	sleep "$MEASURE_S"
	ticks=$(($(cpu_ticks "$pid") - ticks0))
	check "$label out of descriptors does not spin ($ticks ticks in ${MEASURE_S}s, limit $MAX_TICKS)" yes \
		"$( ((ticks <= MAX_TICKS)) && echo yes || echo no)"
	n=$(($(failures "$logf") - before))
	secs=$(((($(now_ms) - t0) + 999) / 1000))
	check "$label: accept failures reported at most once a second ($n reports in ${secs}s)" yes \
		"$( ((n >= 1 && n <= secs + 1)) && echo yes || echo no)"
}

# ------------------------------------------------------------ a worker (-n 1), 60 clients, 40 descriptors
RUN="$SCRATCH/run"
start_ours "$RUN" -a sasldb -O "$DB" -n 1
DPID=$DAEMON_PID
check "good request before" OK "$(good "$RUN/mux")"
WPID=$(first_child "$DPID")
prlimit --pid "$WPID" --nofile=40:40
check "worker limited to 40 descriptors" 40 "$(prlimit --pid "$WPID" --nofile -o SOFT --noheadings | tr -d ' ')"
before=$(failures "$SCRATCH/ours.log")
start_bg "hold 60" "$SCRATCH/hold.out" "$PYTHON" "$SASLCLIENT_PY" hold "$RUN/mux" 60 4 --timeout 20 </dev/null
HOLD_PID=$DAEMON_PID
wait_until 20 grep -q '^ready' "$SCRATCH/hold.out" || true
check "60 clients connected" ready "$(head -n1 "$SCRATCH/hold.out")"
check_backs_off worker "$WPID" "$SCRATCH/ours.log" "$before" "$(now_ms)"
wait_until 30 grep -q '^held' "$SCRATCH/hold.out" || true
stop_pid "$HOLD_PID"
check "good request once the clients are gone" OK "$(good "$RUN/mux")"
check "wrong password still refused" NO "$(saslclient req "$RUN/mux" fduser wrong imap example.com)"
check "the same worker serves (it never died)" "$WPID" "$(first_child "$DPID")"
stop_pid "$DPID"

# ------------------------------------------------------------ the -n 0 master with no descriptor left
OURS_LOG="$SCRATCH/ours0.log" start_ours "$SCRATCH/run0" -a sasldb -O "$DB" -n 0
DPID=$DAEMON_PID
check "-n 0: good request before" OK "$(good "$SCRATCH/run0/mux")"
# A soft limit at the lowest free descriptor number: every number below it is taken,
# so accept() fails with EMFILE (the hard limit stays, so the soft one can come back).
lowest_free=$(find "/proc/$DPID/fd" -mindepth 1 -printf '%f\n' | sort -n |
	awk 'BEGIN { n = 0 } $1 == n { n++ } END { print n }')
prlimit --pid "$DPID" --nofile="$lowest_free:"
before=$(failures "$SCRATCH/ours0.log")
start_bg "waiting client" "$SCRATCH/wait.out" "$PYTHON" "$SASLCLIENT_PY" req "$SCRATCH/run0/mux" \
	fduser "$GOOD" imap example.com --timeout 30 </dev/null
CPID=$DAEMON_PID
check_backs_off "-n 0 master" "$DPID" "$SCRATCH/ours0.log" "$before" "$(now_ms)"
check "-n 0: the waiting client has no answer yet" "" "$(cat "$SCRATCH/wait.out")"
prlimit --pid "$DPID" --nofile=1024:
wait_until 10 grep -q . "$SCRATCH/wait.out" || true
check "-n 0: the waiting client is answered once descriptors are back" OK "$(cat "$SCRATCH/wait.out")"
stop_pid "$CPID"
check "-n 0: good request afterwards" OK "$(good "$SCRATCH/run0/mux")"
stop_pid "$DPID"

check_no_sanitizer_reports "$SCRATCH/ours.log" "$SCRATCH/ours0.log"
finish
