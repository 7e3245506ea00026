#!/usr/bin/env bash
# pam throughput: Cyrus saslauthd vs ours with the same PAM stack (pam_wrapper +
# pam_matrix, service "smtp"), same flags (-a pam -n WORKERS), same request file,
# alternating rounds with saslauthd-loadgen. 90 % right, 10 % wrong passwords.
#
# usage: bench/pam-compare.sh [-c "1 4 16"] [-d 5] [-w 1] [-r 3] [-n 5]
# env: BUILD_DIR (default build), LOADGEN, CYRUS (default /usr/sbin/saslauthd)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOURCE_DIR="$ROOT"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
. "$ROOT/tests/fixtures/lib.sh"
. "$ROOT/tests/fixtures/pam.sh"
CONCURRENCY="1 4 16"
. "$ROOT/bench/lib.sh"
bench_parse_args "$@"
[[ ${#BENCH_REST[@]} -eq 0 ]] || { echo "usage: see the header of $0" >&2; exit 2; }
require_pam_wrapper

services=$SCRATCH/pam.d passdb=$SCRATCH/passdb reqs=$SCRATCH/requests
pam_service "$services" smtp "auth required $PAM_MATRIX_SO passdb=$passdb" \
	"account required $PAM_MATRIX_SO passdb=$passdb"
for i in $(seq -w 1 20); do
	echo "benchu$i:Pw-$i-secret:smtp" >>"$passdb"
	printf 'OK\tbenchu%s\tPw-%s-secret\tsmtp\t\n' "$i" "$i" >>"$reqs"
done
printf 'NO\tbenchu01\twrong\tsmtp\t\nNO\tnobody\twrong\tsmtp\t\n' >>"$reqs"

use_pam_wrapper "$services"
start_cyrus "$SCRATCH/cyrus-run" -a pam -n "$WORKERS"
start_ours "$SCRATCH/ours-run" -a pam -n "$WORKERS"
bench_table "$reqs"
