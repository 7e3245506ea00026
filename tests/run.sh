#!/usr/bin/env bash
# The whole test suite: unit tests (cmocka) and integration tests against real peers,
# once in a normal build and once under AddressSanitizer + UBSan, then every libFuzzer
# target for a bounded time. Run as root (the differential test drives Cyrus saslauthd,
# which only reads /etc/sasldb2; it backs the file up and restores it).
#
# Each build directory is configured with every option the suite needs, whatever an
# earlier configure (contrib/quickstart.sh, a developer) left in its cache. Any process the
# suite started that is still alive at the end fails the run.
#
# Environment: FUZZ_SECONDS (per libFuzzer target, default 5; 0 skips them; long campaigns: tests/fuzz/run.sh),
# TEST_LABEL (run only the ctest tests with this label, e.g. quick), TEST_JOBS (tests run
# at once, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

contrib/deps.sh --test

# Put this shell (and so everything the suite starts, however it detaches) in a cgroup of
# its own, to find leftovers at the end; without a writable cgroup hierarchy, fall back
# to an environment marker that the suite's processes inherit.
SUITE_MARK="saslauthd-tests-$$"
export SASLAUTHD_TEST_SUITE="$SUITE_MARK"
CGROUP=""
for hierarchy in /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[[ -w "$hierarchy/cgroup.procs" ]] || continue
	if mkdir "$hierarchy/$SUITE_MARK" 2>/dev/null; then
		if echo $$ >"$hierarchy/$SUITE_MARK/cgroup.procs" 2>/dev/null; then
			CGROUP="$hierarchy/$SUITE_MARK"
			break
		fi
		rmdir "$hierarchy/$SUITE_MARK" 2>/dev/null || true
	fi
done
release_cgroup() {
	[[ -n "$CGROUP" ]] || return 0
	echo $$ >"$(dirname "$CGROUP")/cgroup.procs" 2>/dev/null || true
	rmdir "$CGROUP" 2>/dev/null || true
}
trap release_cgroup EXIT

# suite_leftovers: sets LEFT to the PIDs of processes the suite started that are still
# alive. Reads with builtins only, so that the reading itself adds no process.
suite_leftovers() {
	local pids=() pid var
	LEFT=()
	if [[ -n "$CGROUP" ]]; then
		mapfile -t pids <"$CGROUP/cgroup.procs"
	else
		for pid in /proc/[0-9]*; do
			pid=${pid#/proc/}
			while IFS= read -r -d '' var; do
				if [[ "$var" == "SASLAUTHD_TEST_SUITE=$SUITE_MARK" ]]; then pids+=("$pid"); break; fi
			done 2>/dev/null <"/proc/$pid/environ" || true
		done
	fi
	for pid in "${pids[@]}"; do
		[[ "$pid" != "$$" && -e "/proc/$pid" ]] && LEFT+=("$pid")
	done
	return 0
}

# check_no_leftovers <label>: fail (after killing them) if any suite process survived.
check_no_leftovers() {
	sleep 1 # let processes that the last test just signalled finish exiting
	suite_leftovers
	if ((${#LEFT[@]})); then
		echo "FAIL: $1 left ${#LEFT[@]} process(es) running:"
		ps -o pid=,ppid=,args= -p "$(IFS=,; echo "${LEFT[*]}")" || true
		kill -KILL "${LEFT[@]}" 2>/dev/null || true
		return 1
	fi
	echo "ok: $1 left no process behind"
}

run_suite() {
	local dir=$1; shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWITH_TESTS=ON -DFUZZ=OFF "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)" >/dev/null
	# Two at a time: tests/CMakeLists.txt keeps host-changing and timing tests apart.
	(cd "$dir" && ctest --output-on-failure --no-tests=error --timeout 300 -j"${TEST_JOBS:-2}" \
		${TEST_LABEL:+-L "$TEST_LABEL"})
}

status=0
echo "== normal build =="
run_suite build -DSANITIZE=OFF || status=1
check_no_leftovers "the normal build's tests" || status=1
echo "== sanitizer build (-fsanitize=address,undefined) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suite build-asan -DSANITIZE=ON || status=1
check_no_leftovers "the sanitizer build's tests" || status=1
if [[ "${FUZZ_SECONDS:-5}" != 0 && -z "${TEST_LABEL:-}" ]]; then
	echo "== libFuzzer targets (${FUZZ_SECONDS:-5} s each) =="
	tests/fuzz/run.sh "${FUZZ_SECONDS:-5}" || status=1
fi
exit "$status"
