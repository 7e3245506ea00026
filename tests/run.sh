#!/usr/bin/env bash
# The whole test suite: unit tests (cmocka) and integration tests against real peers,
# once in a normal build and once under AddressSanitizer + UBSan. Run as root (the
# differential test drives Cyrus saslauthd, which only reads /etc/sasldb2; it backs the
# file up and restores it).
set -euo pipefail
cd "$(dirname "$0")/.."

contrib/deps.sh --test

run_suite() {
	local dir=$1; shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)" >/dev/null
	(cd "$dir" && ctest --output-on-failure --timeout 300)
}

echo "== normal build =="
run_suite build
echo "== sanitizer build (-fsanitize=address,undefined) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suite build-asan -DSANITIZE=ON
