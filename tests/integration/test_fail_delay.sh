#!/usr/bin/env bash
# --fail-delay: every reply other than OK is written after the delay plus up to 50 % jitter,
# successes at once; the worker holds the delayed reply and goes on serving (-n 1: a
# success is answered during another client's delay; 32 clients failing continuously
# leave the good clients at least half their throughput); refusals are delayed too; -n 0
# children sleep the delay; a stopping worker answers its delayed replies within its 1 s
# grace; bad values are refused. Against a sasldb file (Cyrus's saslpasswd2).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_ours sasldb
require_cmd "$CYRUS_SASLPASSWD2"
LOADGEN="$BUILD_DIR/bin/saslauthd-loadgen"
[[ -x "$LOADGEN" ]] || die "$LOADGEN missing"

DB="$SCRATCH/sasldb2"
sasldb_add "$DB" good example.org good-pw
sasldb_add "$DB" victim example.org victim-pw

# reply_ms <mux> <login> <password>: "<reply> <elapsed ms>".
reply_ms() { auth_reply --time "$1" "$2" "$3" imap example.org; }
# timed <mux> <login> <password>: sets R (the reply) and MS (its elapsed ms).
timed() {
	local out
	out=$(reply_ms "$@")
	R=${out% *}
	MS=${out##* }
}

# ---------------------------------------------------------------- option values
for bad in 11 abc 0.0005 -1 1e0 "" 1.2.3; do
	rc=0
	"$OURS_SASLAUTHD" -a sasldb -O "$DB" -m "$SCRATCH/never" --fail-delay "$bad" -d >"$SCRATCH/bad.out" 2>&1 || rc=$?
	check "--fail-delay '$bad' refused (exit 1)" 1 "$rc"
done
check_match "the refusal names the bound" 'fail-delay must be seconds 0\.\.10' "$(cat "$SCRATCH/bad.out")"
check_match "-h documents --fail-delay" '--fail-delay <seconds>' "$("$OURS_SASLAUTHD" -h 2>&1 || true)"

# ---------------------------------------------------------------- timing, one worker
DELAY_MS=500
start_ours "$SCRATCH/one" -a sasldb -O "$DB" -n 1 --max-workers 1 --fail-delay 0.5
MUX="$SCRATCH/one/mux"
timed "$MUX" victim wrong; r=$R ms=$MS
check "wrong password: NO" NO "$r"
check "wrong password answered after >= ${DELAY_MS} ms (took $ms ms)" yes "$(yesno test "$ms" -ge "$DELAY_MS")"
check "... and <= delay*1.5 + 1500 ms slack" yes "$(yesno test "$ms" -le $((DELAY_MS * 3 / 2 + 1500)))"
timed "$MUX" good good-pw; r=$R ms=$MS
check "right password: OK" OK "$r"
check "right password answered at once (took $ms ms, < 250)" yes "$(yesno test "$ms" -lt 250)"
timed "$MUX" nosuch whatever; r=$R ms=$MS
check "unknown user: NO, delayed (took $ms ms)" "NO yes" "$r $(yesno test "$ms" -ge "$DELAY_MS")"
# A refusal before the mechanism is a failure to the guesser too.
out=$(auth_reply --time "$MUX" victim "" imap example.org)
check_match "empty password refused, delayed too" '^NO .* ([5-9][0-9]{2}|[0-9]{4,})$' "$out"
timed "$MUX" "$(head -c 2000 /dev/zero | tr '\0' a)" pw
check_match "over-long field refused, delayed too (took $MS ms)" 'longer than 1024 bytes' "$R"
check "... after >= ${DELAY_MS} ms" yes "$(yesno test "$MS" -ge "$DELAY_MS")"
stats=$("$OURS_SASLAUTHD" --stats -m "$SCRATCH/one")
check_match "delayed replies counted" 'saslauthd_fail_delayed_total\{mech="sasldb"\} [4-9]' "$stats"

# The worker is not held: during a 2 s delay its only worker answers another client.
stop_pid "$DAEMON_PID"
start_ours "$SCRATCH/held" -a sasldb -O "$DB" -n 1 --max-workers 1 --fail-delay 2
MUX="$SCRATCH/held/mux"
t0=$(now_ms)
reply_ms "$MUX" victim wrong >"$SCRATCH/bg.out" &
bg=$!
sleep 0.3
timed "$MUX" good good-pw; r=$R ms=$MS
t_ok=$(now_ms)
wait "$bg"
t_no=$(now_ms)
read -r rno msno <"$SCRATCH/bg.out"
check "-n 1: success during another client's delay: OK" OK "$r"
check "-n 1: ... answered at once (took $ms ms, < 500)" yes "$(yesno test "$ms" -lt 500)"
check "-n 1: ... before the failure's reply" yes "$(yesno test "$t_ok" -lt "$t_no")"
check "-n 1: the failure still NO after >= 2000 ms (took $msno ms)" "NO yes" "$rno $(yesno test "$msno" -ge 2000)"
log "held check: started $t0, success at +$((t_ok - t0)) ms, failure at +$((t_no - t0)) ms"

# A stopping worker answers its delayed failures within its stop grace, not dropped.
stop_pid "$DAEMON_PID"
start_ours "$SCRATCH/stop" -a sasldb -O "$DB" -n 1 --max-workers 1 --fail-delay 8
MUX="$SCRATCH/stop/mux"
reply_ms "$MUX" victim wrong >"$SCRATCH/stop.out" &
bg=$!
sleep 0.5
kill -TERM "$DAEMON_PID"
wait "$bg" || true
read -r rno msno <"$SCRATCH/stop.out" || true
check "SIGTERM: the delayed failure is still answered NO" NO "${rno:-none}"
check "SIGTERM: ... within the 1 s stop grace, not the 8 s delay (took ${msno:-?} ms)" yes \
	"$(yesno test "${msno:-99999}" -lt 4000)"
stop_pid "$DAEMON_PID"

# ---------------------------------------------------------------- throughput under failures
# 4 good clients alone, then with 32 clients failing continuously; one worker, never
# recycled: at these rates --max-requests 1000 recycles a worker several times a second,
# and a recycling worker accepts nothing while it finishes its delayed replies (see
# saslauthd(8)), which would measure the recycling, not the delay.
start_ours "$SCRATCH/tp" -a sasldb -O "$DB" -n 1 --max-workers 1 --max-requests 0 --fail-delay 0.5
MUX="$SCRATCH/tp/mux"
printf 'OK\tgood\tgood-pw\timap\texample.org\n' >"$SCRATCH/good.req"
printf 'NO\tvictim\twrong\timap\texample.org\n' >"$SCRATCH/bad.req"
rps() { sed -n 's/^RESULT rps=\([0-9.]*\) .*/\1/p' <<<"$1"; }
alone=$("$LOADGEN" -q -s "$MUX" -f "$SCRATCH/good.req" -c 4 -w 0.5 -d 3)
"$LOADGEN" -q -s "$MUX" -f "$SCRATCH/bad.req" -c 32 -t 30 -d 7 >"$SCRATCH/failing.out" 2>&1 &
failers=$!
register_pid "$failers"
sleep 1.5 # every failing client has a delayed reply outstanding
loaded=$("$LOADGEN" -q -s "$MUX" -f "$SCRATCH/good.req" -c 4 -d 3)
wait "$failers" || true
failing=$(cat "$SCRATCH/failing.out")
a=$(rps "$alone")
l=$(rps "$loaded")
f=$(rps "$failing")
ratio=$(awk -v a="$a" -v l="$l" 'BEGIN { printf "%.2f", (a > 0 ? l / a : 0) }')
printf 'FIGURES fail-delay 0.5 s, -n 1 --max-requests 0, 4 good clients: alone %s req/s, with 32 failing clients %s req/s (%sx); failing clients %s req/s\n' \
	"$a" "$l" "$ratio" "$f"
printf 'FIGURES good alone:  %s\nFIGURES good loaded: %s\nFIGURES failing:     %s\n' "$alone" "$loaded" "$failing"
check "good clients all OK while 32 clients fail" yes "$(yesno grep -q ' err=0 wrong=0 ' <<<"$loaded")"
check "failing clients all answered NO" yes "$(yesno grep -q ' ok=0 .* err=0 wrong=0 ' <<<"$failing")"
check "good clients keep >= 0.5x their throughput alone (${ratio}x)" yes \
	"$(yesno awk -v r="$ratio" 'BEGIN { exit !(r >= 0.5) }')"
# 32 clients each waiting 0.5-0.75 s per reply: at most 64 failures a second.
check "failing clients are slowed to <= 70 req/s ($f)" yes "$(yesno awk -v f="$f" 'BEGIN { exit !(f > 0 && f <= 70) }')"
stop_pid "$DAEMON_PID"

# ---------------------------------------------------------------- -n 0
start_ours "$SCRATCH/zero" -a sasldb -O "$DB" -n 0 --fail-delay 0.5
MUX="$SCRATCH/zero/mux"
timed "$MUX" victim wrong; r=$R ms=$MS
check "-n 0: NO after >= 500 ms (took $ms ms)" "NO yes" "$r $(yesno test "$ms" -ge 500)"
timed "$MUX" good good-pw; r=$R ms=$MS
check "-n 0: OK at once (took $ms ms)" "OK yes" "$r $(yesno test "$ms" -lt 250)"
stop_pid "$DAEMON_PID"

# ---------------------------------------------------------------- off by default
start_ours "$SCRATCH/off" -a sasldb -O "$DB" -n 1
timed "$SCRATCH/off/mux" victim wrong; r=$R ms=$MS
check "without --fail-delay a failure is answered at once (took $ms ms)" "NO yes" "$r $(yesno test "$ms" -lt 250)"

check_no_sanitizer_reports "$SCRATCH/ours.log" 2>/dev/null || true
finish
