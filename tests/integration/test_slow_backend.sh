#!/usr/bin/env bash
# A slow back-end (httpform against tests/fixtures/httpd.py, where one user's login is
# answered only after SLOW_S seconds) must not cost other clients their answers: a
# request that sat complete in the socket while the worker was inside another client's
# mechanism call is answered, not dropped by the request deadline; a request arriving
# while every worker is deciding is answered promptly by a worker the pool grows;
# the pool grows up to --max-workers and no further, shrinks after --worker-idle, and
# SIGHUP and SIGTERM work with a grown pool.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_ours httpform
require_cmd "$PYTHON"

SLOW_S=6
OK_R="OK remote authentication successful"
cat >"$SCRATCH/users.json" <<'JSON'
{"fast": "Fast-Pw-1", "slow": "Slow-Pw-2"}
JSON
PORT=$(free_tcp_port)
start_bg httpd "$SCRATCH/httpd.log" "$PYTHON" "$FIXTURES_DIR/httpd.py" "$PORT" form \
	--users "$SCRATCH/users.json" --slow-user "slow:$SLOW_S" </dev/null
wait_for_tcp_port "$PORT" 10 127.0.0.1 "$DAEMON_PID" >/dev/null || die "httpd did not start"
printf '%s\n' "httpform_host: 127.0.0.1" "httpform_port: $PORT" "httpform_uri: /login" \
	"httpform_data: user=%u&pass=%p" "httpform_timeout: 30" >"$SCRATCH/httpform.conf"

# bg_req <name> <sock> <login> <password> [saslclient options]: one timed request in the
# background, its reply and elapsed_ms in $SCRATCH/<name>.out.
bg_req() {
	local name="$1" sock="$2" login="$3" pw="$4"
	shift 4
	start_bg "client $name" "$SCRATCH/$name.out" "$PYTHON" "$SASLCLIENT_PY" req "$sock" \
		"$login" "$pw" imap "" --time --timeout 40 "$@" </dev/null
}
reply_of() { head -n1 "$SCRATCH/$1.out"; }
ms_of() { sed -n 's/^elapsed_ms=//p' "$SCRATCH/$1.out"; }
done_all() {
	local n
	for n in "$@"; do grep -q '^elapsed_ms=' "$SCRATCH/$n.out" 2>/dev/null || return 1; done
}

# ------------------------------------------------------------ the deadline measures the client's sending
# -n 1: X connects; Y's request starts a 6 s mechanism call; X sends its whole request
# 0.8 s after connecting, while the only worker is still inside Y's call.
RUN="$SCRATCH/run1"
start_ours "$RUN" -n 1 --max-workers 1 -a httpform -O "$SCRATCH/httpform.conf"
DPID=$DAEMON_PID
check "fast login answered" "$OK_R" "$(saslclient req "$RUN/mux" fast Fast-Pw-1 imap "")"
bg_req x "$RUN/mux" fast Fast-Pw-1 --delay-split 0:0.8
sleep 0.3
bg_req y "$RUN/mux" slow Slow-Pw-2
wait_until 40 done_all x y || true
check "Y (slow back-end) answered" "$OK_R" "$(reply_of y)"
check "X, complete in the socket during Y's call, answered (after $(ms_of x) ms)" "$OK_R" "$(reply_of x)"
check "nobody dropped for a deadline that ran while the worker was busy" "" \
	"$(grep 'client sent no complete request in time' "$SCRATCH/ours.log" || true)"
stop_pid "$DPID"

# ------------------------------------------------------------ a pool that grows and shrinks
MAXW=4
IDLE_S=2
PROMPT_MS=2000
RUN="$SCRATCH/run2"
OURS_LOG="$SCRATCH/pool.log" start_ours "$RUN" -n 1 --max-workers "$MAXW" --worker-idle "$IDLE_S" \
	-a httpform -O "$SCRATCH/httpform.conf"
DPID=$DAEMON_PID
metric() { "$OURS_SASLAUTHD" --stats -m "$RUN" | awk -v m="$1" 'index($0, m) == 1 { print $2 }'; }
check "one worker to begin with" 1 "$(count_children "$DPID")"
bg_req s0 "$RUN/mux" slow Slow-Pw-2
sleep 0.5
out=$(saslclient req "$RUN/mux" fast Fast-Pw-1 imap "" --time --timeout 20)
ms=$(sed -n 's/^elapsed_ms=//p' <<<"$out")
check "a request while the only worker is inside a slow call: answered" "$OK_R" "$(head -n1 <<<"$out")"
check "... promptly, by a worker the pool grew ($ms ms, limit $PROMPT_MS)" yes \
	"$( ((ms <= PROMPT_MS)) && echo yes || echo no)"
for k in 1 2 3 4 5; do bg_req "s$k" "$RUN/mux" slow Slow-Pw-2; done
wait_until 10 sh -c "[ \$(pgrep -P $DPID | wc -l) -ge $MAXW ]" || true
# Checked while the first slow call (6 s) is still running.
busy_is_max() { [[ "$(metric 'saslauthd_workers{mech="httpform",state="busy"}')" == "$MAXW" ]]; }
wait_until 3 busy_is_max || true
check "--stats: every worker busy" "$MAXW" "$(metric 'saslauthd_workers{mech="httpform",state="busy"}')"
check_match "--stats: requests waiting" '^[1-9]' "$(metric 'saslauthd_requests_waiting')"
most=0
for _ in $(seq 1 10); do
	n=$(count_children "$DPID")
	((n > most)) && most=$n
	sleep 0.1
done
check "six slow calls at once: the pool grew to --max-workers and no further" "$MAXW" "$most"
wait_until 40 done_all s0 s1 s2 s3 s4 s5 || true
bad=0
for k in 0 1 2 3 4 5; do [[ "$(reply_of "s$k")" == "$OK_R" ]] || bad=$((bad + 1)); done
check "all six slow logins answered OK" 0 "$bad"
wait_until $((IDLE_S + 10)) sh -c "[ \$(pgrep -P $DPID | wc -l) -eq 1 ]" || true
check "idle for --worker-idle ${IDLE_S}s: the pool is back to -n 1" 1 "$(count_children "$DPID")"
check_match "--stats: pool growth counted" '^[3-9]' "$(metric 'saslauthd_pool_grown_total')"
check "--stats: as many retired as grown" "$(metric 'saslauthd_pool_grown_total')" "$(metric 'saslauthd_pool_retired_total')"
check "fast login after the pool shrank" "$OK_R" "$(saslclient req "$RUN/mux" fast Fast-Pw-1 imap "")"

# SIGHUP with a grown pool: every slow call in flight is still answered.
for k in 1 2 3 4; do bg_req "h$k" "$RUN/mux" slow Slow-Pw-2; done
wait_until 10 sh -c "[ \$(pgrep -P $DPID | wc -l) -eq $MAXW ]" || true
check "grown again before SIGHUP" "$MAXW" "$(count_children "$DPID")"
kill -HUP "$DPID"
wait_until 40 done_all h1 h2 h3 h4 || true
bad=0
for k in 1 2 3 4; do [[ "$(reply_of "h$k")" == "$OK_R" ]] || bad=$((bad + 1)); done
check "SIGHUP with a grown pool: the four calls in flight answered OK" 0 "$bad"
check "SIGHUP: the daemon still serves" "$OK_R" "$(saslclient req "$RUN/mux" fast Fast-Pw-1 imap "")"
wait_until 10 sh -c "[ \$(pgrep -P $DPID | wc -l) -eq 1 ]" || true
check "SIGHUP: back to the floor of 1 worker" 1 "$(count_children "$DPID")"

# SIGTERM with a grown pool: the master and every worker are gone in bounded time.
for k in 1 2 3 4; do bg_req "t$k" "$RUN/mux" slow Slow-Pw-2; done
wait_until 10 sh -c "[ \$(pgrep -P $DPID | wc -l) -eq $MAXW ]" || true
read -r -a workers <<<"$(child_pids "$DPID")"
check "grown again before SIGTERM" "$MAXW" "${#workers[@]}"
t0=$(now_ms)
kill -TERM "$DPID"
wait_until 15 sh -c "! kill -0 $DPID 2>/dev/null" || true
gone_ms=$(($(now_ms) - t0))
check "SIGTERM with a grown pool: master gone within 15 s ($gone_ms ms)" no "$(pid_alive "$DPID" && echo yes || echo no)"
left=0
for w in "${workers[@]}"; do if pid_alive "$w"; then left=$((left + 1)); fi; done
check "SIGTERM: no worker left behind" 0 "$left"
check "SIGTERM: the socket is removed" no "$([[ -S "$RUN/mux" ]] && echo yes || echo no)"
wait_until 40 done_all t1 t2 t3 t4 || true

check_no_sanitizer_reports "$SCRATCH/ours.log" "$SCRATCH/pool.log"
finish
