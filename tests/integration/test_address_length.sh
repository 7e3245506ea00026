#!/usr/bin/env bash
# Issue 12, finding 8: one rule for over-long client addresses. The cache key cut the
# host part at 255 bytes while pam then set no PAM_RHOST at all; now a 5-field request
# whose host part is longer than 255 bytes is refused before the cache or a mechanism
# sees it, and one up to 255 bytes works as before (also through the cache).
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_cmd "$PYTHON"
require_ours sasldb

DB="$SCRATCH/sasldb2"
sasldb_add "$DB" alice example.org alice-pw
R="$SCRATCH/run"
start_ours "$R" -a sasldb -O "$DB" -n 1 -c

H255=$(printf 'h%.0s' $(seq 255))
REFUSED='NO remote address longer than 255 bytes'
req5() { saslclient req "$R/mux" alice "$1" imap example.org "$2"; }

check "255-byte host, right password: OK" OK "$(req5 alice-pw "$H255;1234")"
check "255-byte host, wrong password: NO" NO "$(req5 wrong "$H255;1234")"
check "255-byte host, again: OK (cached)" OK "$(req5 alice-pw "$H255;4321")"
check_match "... answered from the cache" 'auth success \(cached\)' "$(cat "$SCRATCH/ours.log")"
check "256-byte host, right password: refused" "$REFUSED" "$(req5 alice-pw "${H255}x;1234")"
# Before, these two shared the cache entry of the first 255 bytes.
check "a longer host after a cached one is refused, not a cache hit" "$REFUSED" \
	"$(req5 alice-pw "${H255}y")"
check "1000-byte host without a port: refused" "$REFUSED" "$(req5 alice-pw "{1000*a}")"
check "a long port part does not matter" OK "$(req5 alice-pw "192.0.2.7;{900*9}")"
check "4-field form unaffected" OK "$(saslclient req "$R/mux" alice alice-pw imap example.org)"
check_match "the refusal is logged" 'remote address longer than 255 bytes' "$(cat "$SCRATCH/ours.log")"
check_no_sanitizer_reports "$SCRATCH/ours.log"

finish
