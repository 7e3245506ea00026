#!/usr/bin/env bash
# rimap throughput: Cyrus saslauthd vs ours against the same throwaway Dovecot, same flags
# (-a rimap -O 127.0.0.1/<port> -n WORKERS), same request file, alternating rounds with
# saslauthd-loadgen. Everything runs on loopback in a scratch directory (tests/fixtures).
#
# usage: bench/rimap-compare.sh [-c "4 16"] [-d 5] [-w 1] [-r 3] [-n 5] [--with-no]
#   --with-no   10 % wrong passwords (Dovecot answers a failed LOGIN after ~0.5 s whatever
#               auth_failure_delay says, so this measures Dovecot's delay, not the daemons)
# env: BUILD_DIR (default build), LOADGEN, CYRUS (default /usr/sbin/saslauthd)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOURCE_DIR="$ROOT"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
. "$ROOT/tests/fixtures/lib.sh"
. "$ROOT/tests/fixtures/dovecot.sh"

CONCURRENCY="4 16"
DURATION=5
WARMUP=1
ROUNDS=3
WORKERS=5
WITH_NO=0
NUSERS=20
while [[ $# -gt 0 ]]; do
	case $1 in
	-c) CONCURRENCY=$2; shift ;;
	-d) DURATION=$2; shift ;;
	-w) WARMUP=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-n) WORKERS=$2; shift ;;
	--with-no) WITH_NO=1 ;;
	*) echo "usage: see the header of $0" >&2; exit 2 ;;
	esac
	shift
done
LOADGEN="${LOADGEN:-$BUILD_DIR/bin/saslauthd-loadgen}"
CYRUS="${CYRUS:-/usr/sbin/saslauthd}"
[[ -x "$LOADGEN" ]] || die "no load generator at $LOADGEN"
[[ -x "$OURS_SASLAUTHD" ]] || die "no saslauthd at $OURS_SASLAUTHD"
[[ -x "$CYRUS" ]] || die "no Cyrus saslauthd at $CYRUS"
require_dovecot

USERS="$SCRATCH/users"
REQS="$SCRATCH/requests"
for i in $(seq -w 1 "$NUSERS"); do
	dovecot_user "$USERS" "benchu$i" "Pw-$i-secret"
	printf 'OK\tbenchu%s\tPw-%s-secret\timap\t\n' "$i" "$i" >>"$REQS"
	if ((WITH_NO)) && ((10#$i % 2 == 0)); then
		# one wrong line per 10 lines overall: 20 right + 2 wrong... → keep it at ~10 %
		printf 'NO\tbenchu%s\twrong\timap\t\n' "$i" >>"$REQS.no"
	fi
done
if ((WITH_NO)); then head -n 2 "$REQS.no" >>"$REQS"; fi

PORT=$(free_tcp_port)
start_dovecot "$SCRATCH/dovecot" "$USERS" plain "$PORT"
start_cyrus "$SCRATCH/cyrus-run" -a rimap -O "127.0.0.1/$PORT" -n "$WORKERS"
start_ours "$SCRATCH/ours-run" -a rimap -O "127.0.0.1/$PORT" -n "$WORKERS"

round() { # <impl> <concurrency>: prints rps
	local run="$SCRATCH/$1-run" out
	out=$("$LOADGEN" -s "$run/mux" -f "$REQS" -c "$2" -d "$DURATION" -w "$WARMUP" -t 10 -q) ||
		log "$1 c=$2: errors or wrong verdicts: $out"
	sed -n 's/.*rps=\([0-9.]*\) p50_us=\([0-9]*\) p90_us=[0-9]* p99_us=\([0-9]*\).* err=\([0-9]*\) wrong=\([0-9]*\).*/\1 \2 \3 \4 \5/p' <<<"$out"
}

printf '%-5s %-6s %10s %9s %9s %5s %6s  %s\n' conc impl rps p50_us p99_us err wrong "rps per round"
for c in $CONCURRENCY; do
	declare -A all=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for impl in cyrus ours; do
			all[$impl]+="$(round "$impl" "$c")"$'\n'
		done
	done
	for impl in cyrus ours; do
		median=$(printf '%s' "${all[$impl]}" | awk '{print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
		p50=$(printf '%s' "${all[$impl]}" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
		p99=$(printf '%s' "${all[$impl]}" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
		err=$(printf '%s' "${all[$impl]}" | awk '{s+=$4} END {print s+0}')
		wrong=$(printf '%s' "${all[$impl]}" | awk '{s+=$5} END {print s+0}')
		rounds=$(printf '%s' "${all[$impl]}" | awk '{printf "%s ", $1}')
		printf '%-5s %-6s %10s %9s %9s %5s %6s  %s\n' "$c" "$impl" "$median" "$p50" "$p99" "$err" "$wrong" "$rounds"
	done
	unset all
done
