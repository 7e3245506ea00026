#!/usr/bin/env bash
# Build every tests/fuzz/fuzz_*.c as a libFuzzer target (clang, ASan, UBSan) and run each
# for a bounded time from its seed corpus. A crash, a sanitizer report or a failed property
# (the target aborts) fails the run. Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [NAME...]
# FUZZ_RUNS=N also stops a target after N executions (long campaigns: 600 s or 10M runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true
dir=build-fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		targets+=("${name#fuzz_}")
	done
fi

CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE=ON -DFUZZ=ON \
	-DWITH_TESTS=ON >/dev/null
# Only the fuzz targets (and the libraries they link): the daemon, tools and unit tests
# are built and run by the gcc builds.
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
	# libFuzzer adds what it finds to the first corpus directory: keep the seeds clean.
	mkdir -p "$work/$t"
	cp tests/fuzz/corpus/"$t"/* "$work/$t/"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$dir/fuzz/fuzz_$t" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -print_final_stats=1 \
		-artifact_prefix="$work/$t-" "$work/$t" >"$work/$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
		cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1)
		took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/$t.log")
		echo "ok   fuzz_$t: ${runs:-?} executions in ${took:-$seconds}s, $cov, corpus $(ls "$work/$t" | wc -l) inputs"
	else
		echo "FAIL fuzz_$t"; tail -40 "$work/$t.log"
		failed=$((failed + 1))
	fi
done
echo "libFuzzer: $(( ${#targets[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
