#!/usr/bin/env bash
# saslauthd --stats: counters shared by all workers, in Prometheus text format.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_ours sasldb
require_cmd pgrep "$PYTHON"

db=$SCRATCH/sasldb2
printf 'Stat-Pass' | "$OURS_SASLPASSWD2" -p -c -f "$db" -u example.org statuser
run=$SCRATCH/run
start_ours "$run" -a sasldb -O "$db" -n 3
master=$DAEMON_PID
auth() { "$OURS_TESTSASLAUTHD" -f "$run/mux" -u statuser -r example.org -p "$1" >/dev/null 2>&1 || true; }
metric() { "$OURS_SASLAUTHD" --stats -m "$run" | awk -v m="$1" '$1 == m { print $2 }'; }

for _ in 1 2 3 4 5; do auth Stat-Pass; done
for _ in 1 2; do auth wrong; done
saslclient req "$run/mux" "" pw imap "" >/dev/null          # refused: empty login
saslclient raw "$run/mux" '\x00\x05ab' --shut-wr >/dev/null 2>&1 || true   # dropped mid-request
kill -KILL "$(first_child "$master")"
wait_until 5 sh -c "[ \$(pgrep -P $master | wc -l) -eq 3 ]" || true
sleep 0.2

check "ok counted" 5 "$(metric 'saslauthd_requests_total{mech="sasldb",result="ok"}')"
check "no counted" 2 "$(metric 'saslauthd_requests_total{mech="sasldb",result="no"}')"
check "refused counted" 1 "$(metric 'saslauthd_refused_total{mech="sasldb"}')"
check "dropped counted" 1 "$(metric 'saslauthd_dropped_total{mech="sasldb"}')"
check "worker death counted" 1 "$(metric 'saslauthd_worker_deaths_total{mech="sasldb"}')"
check "worker starts: 3 plus the replacement" 4 "$(metric 'saslauthd_worker_starts_total{mech="sasldb"}')"
check "latency histogram counts every decided request" 7 \
	"$(metric 'saslauthd_request_duration_seconds_count{mech="sasldb"}')"
check "+Inf bucket equals the count" 7 \
	"$(metric 'saslauthd_request_duration_seconds_bucket{mech="sasldb",le="+Inf"}')"
stop_pid "$master"
rc=0
"$OURS_SASLAUTHD" --stats -m "$run" >/dev/null 2>&1 || rc=$?
check "--stats after shutdown: the file is gone, exit 1" 1 "$rc"

finish
