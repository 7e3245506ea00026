#!/usr/bin/env bash
# --policy-store: two daemons (a fleet of two hosts) on one real redis-server share the
# throttling counters; Redis stopped (slow) or killed (down): both keep answering within
# a bound on their own counters, log it once and count the errors; Redis back: shared
# again.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"
. "$FIXTURES_DIR/redis.sh"

require_root
require_ours sasldb
require_cmd "$CYRUS_SASLPASSWD2"
require_redis
if "$OURS_SASLAUTHD" --check -a sasldb --throttle-addr 1/1 --policy-store redis://127.0.0.1:1 2>&1 |
	grep -q 'no Redis support'; then
	skip_test "built without Redis support (WITH_REDIS=OFF)"
fi

# Replies slower than this while Redis is stopped or gone fail the test (the bound per
# call is 50 ms; the rest is the client's start-up and a loaded machine).
BOUND_MS=1500
DB=$SCRATCH/sasldb2
REALM=ex.org
sasldb_add "$DB" alice "$REALM" alice-pw
start_redis

start_host() {
	OURS_LOG=$SCRATCH/$1.log start_ours "$SCRATCH/$1" -a sasldb -O "$DB" -n 2 \
		--throttle-addr 3/60 --policy-store "$REDIS_URI"
}
start_host hostA
start_host hostB
# ask <host> <password> <address>: the reply.
ask() { auth_reply "$SCRATCH/$1/mux" alice "$2" imap "$REALM" "$3;25"; }
# fail <host> <address> <password...>: each must be refused.
fail() {
	local host=$1 addr=$2 pw got=""
	shift 2
	for pw in "$@"; do got+="$(ask "$host" "$pw" "$addr") "; done
	check "$host, $addr: $# wrong passwords refused" "$(printf 'NO %.0s' "$@")" "$got"
}
# timed <host> <password> <address>: "<reply> <ms>"; check that ms is within BOUND_MS.
timed_check() {
	local desc=$1 want=$2 host=$3 out ms
	out=$(auth_reply --time "$SCRATCH/$host/mux" alice "$4" imap "$REALM" "$5;25")
	ms=${out##* }
	check "$desc" "$want" "${out% *}"
	check "$desc: answered within $BOUND_MS ms (took $ms)" yes "$(yesno test "$ms" -le "$BOUND_MS")"
}
counter() {
	"$OURS_SASLAUTHD" --stats -m "$SCRATCH/$1" | sed -n -E "s/^$2 ([0-9]+)$/\\1/p"
}

# ---------------------------------------------------------------- shared
fail hostA 192.0.2.40 w1 w2
fail hostB 192.0.2.40 w3
check "failures on both hosts add up: A refuses" NO "$(ask hostA alice-pw 192.0.2.40)"
check "and B refuses" NO "$(ask hostB alice-pw 192.0.2.40)"
check "another address is fine on B" OK "$(ask hostB alice-pw 192.0.2.41)"
check "one sorted set for the address, one member per wrong password" 3 \
	"$(redis_cli ZCARD saslauthd:throttle:addr:192.0.2.40)"
ttl=$(redis_cli TTL saslauthd:throttle:addr:192.0.2.40)
check "the set expires by itself (TTL 1..60 s, got $ttl)" yes "$(yesno test "$ttl" -ge 1 -a "$ttl" -le 60)"
check "the fleet's HMAC key exists (32 bytes)" 32 "$(redis_cli STRLEN saslauthd:policy:hmac-key)"
check "no password in Redis" "" "$(redis_cli --no-raw ZRANGE saslauthd:throttle:addr:192.0.2.40 0 -1 | grep -a -e w1 -e w2 -e w3 || true)"
fail hostA 192.0.2.42 same-old
fail hostB 192.0.2.42 same-old
check "the same wrong password on two hosts counts once (one HMAC key)" 1 \
	"$(redis_cli ZCARD saslauthd:throttle:addr:192.0.2.42)"
redis_cli DEL saslauthd:throttle:addr:192.0.2.40 >/dev/null
check "an administrator lifts a throttle with DEL" OK "$(ask hostA alice-pw 192.0.2.40)"
# The UNIX-socket form, with another database.
OURS_LOG=$SCRATCH/hostC.log start_ours "$SCRATCH/hostC" -a sasldb -O "$DB" -n 2 \
	--throttle-addr 3/60 --policy-store "redis://$REDIS_SOCKET?db=2"
fail hostC 192.0.2.70 u1 u2 u3
check "UNIX socket, db 2: throttled" NO "$(ask hostC alice-pw 192.0.2.70)"
check "UNIX socket, db 2: the set is in database 2" 3 \
	"$(redis_cli -n 2 ZCARD saslauthd:throttle:addr:192.0.2.70)"
check "UNIX socket, db 2: not in database 0" 0 "$(redis_cli ZCARD saslauthd:throttle:addr:192.0.2.70)"
stop_pid "$DAEMON_PID"
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" --throttle-addr 3/60 --policy-store "$REDIS_URI" 2>&1 || true)
check_match "--check: the store answers" 'ok +policy store +redis://127\.0\.0\.1:[0-9]+/0 answers' "$out"

# ---------------------------------------------------------------- slow (stopped)
kill -STOP "$REDIS_PID"
timed_check "Redis stopped: A answers a right password" OK hostA alice-pw 192.0.2.50
timed_check "Redis stopped: B answers a right password" OK hostB alice-pw 192.0.2.50
fail hostA 192.0.2.51 s1 s2 s3
timed_check "Redis stopped: A throttles on its own counters" NO hostA alice-pw 192.0.2.51
timed_check "Redis stopped: B, which did not see them, does not" OK hostB alice-pw 192.0.2.51
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" --throttle-addr 3/60 --policy-store "$REDIS_URI" 2>&1 || true)
check_match "--check reports the store that does not answer" 'FAIL +policy store +redis://' "$out"

# ---------------------------------------------------------------- down (killed)
kill -CONT "$REDIS_PID"
kill -KILL "$REDIS_PID"
_wait_gone 5 "$REDIS_PID" || true
sleep 3.5 # past the retry interval: the next request tries to reconnect
timed_check "Redis down: A answers" OK hostA alice-pw 192.0.2.52
timed_check "Redis down: B answers" OK hostB alice-pw 192.0.2.52
timed_check "Redis down: A still throttles on its own counters" NO hostA alice-pw 192.0.2.51
for h in hostA hostB; do
	check "$h: the outage logged once" 1 "$(grep -c 'policy store .* unavailable' "$SCRATCH/$h.log" || true)"
	errors=$(counter "$h" 'saslauthd_policy_store_errors_total\{mech="sasldb"\}')
	check "$h: store errors counted ($errors)" yes "$(yesno test "$errors" -ge 1)"
done

# ---------------------------------------------------------------- back
start_redis "$REDIS_PORT"
sleep 3.5 # the hosts try again at most every 3 s
fail hostA 192.0.2.60 b1 b2 b3
check "Redis back: failures on A throttle the address on B again" NO "$(ask hostB alice-pw 192.0.2.60)"
for h in hostA hostB; do
	check_match "$h: the recovery is logged" 'policy store .* available again' "$(cat "$SCRATCH/$h.log")"
done
check "no password in the logs" "" "$(grep -a -h -e alice-pw -e same-old "$SCRATCH/hostA.log" "$SCRATCH/hostB.log" || true)"

check_no_sanitizer_reports "$SCRATCH/hostA.log" "$SCRATCH/hostB.log" "$SCRATCH/hostC.log"
finish
