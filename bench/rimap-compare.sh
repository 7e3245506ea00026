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

. "$ROOT/bench/lib.sh"
WITH_NO=0
NUSERS=20
bench_parse_args "$@"
for arg in "${BENCH_REST[@]+"${BENCH_REST[@]}"}"; do
	case $arg in
	--with-no) WITH_NO=1 ;;
	*) echo "usage: see the header of $0" >&2; exit 2 ;;
	esac
done
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

bench_table "$REQS"
