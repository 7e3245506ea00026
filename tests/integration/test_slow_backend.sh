#!/usr/bin/env bash
# A slow back-end (httpform against tests/fixtures/httpd.py, where one user's login is
# answered only after SLOW_S seconds) must not cost other clients their answers: a
# request that sat complete in the socket while the worker was inside another client's
# mechanism call is answered, not dropped by the request deadline.
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
start_ours "$RUN" -n 1 -a httpform -O "$SCRATCH/httpform.conf"
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

check_no_sanitizer_reports "$SCRATCH/ours.log"
finish
