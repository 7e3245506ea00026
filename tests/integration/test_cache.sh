#!/usr/bin/env bash
# The credential cache (-c, -t): the same sequence of logins and password changes sent to
# Cyrus saslauthd -c and to ours -c must give the same verdicts (Cyrus semantics: only
# successes are cached, a changed password keeps working from the cache until a success
# with the new one replaces it, a cached user still logs in while the back-end is gone);
# then what is ours only: sharing between workers, expiry, statistics, no digest on disk.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_ours sasldb
require_cmd "$CYRUS_SASLAUTHD" "$CYRUS_SASLPASSWD2"
backup_etc_sasldb2

# verdicts <mux> <password...>: one OK/NO per password, for user cu1@cache.example.
verdicts() {
	local mux=$1 out="" pw
	shift
	for pw in "$@"; do
		if "$OURS_TESTSASLAUTHD" -f "$mux" -u cu1 -r cache.example -p "$pw" >/dev/null 2>&1; then
			out+="OK "
		else
			out+="NO "
		fi
	done
	printf '%s' "${out% }"
}

# One scenario, driven the same way for both daemons: $1 impl, $2 its db file, $3 mux.
scenario() {
	local impl=$1 db=$2 mux=$3 r=""
	sasldb_add "$db" cu1 cache.example pw-one
	r+="$(verdicts "$mux" pw-one pw-one wrong)|"                # cached after the first
	sasldb_add "$db" cu1 cache.example pw-two
	r+="$(verdicts "$mux" pw-one pw-two pw-one pw-two)|"        # old from cache; new replaces it
	mv "$db" "$db.away"
	r+="$(verdicts "$mux" pw-two pw-one)|"                      # back-end gone: cache only
	mv "$db.away" "$db"
	printf '%s' "$r"
}

rm -f /etc/sasldb2
start_cyrus "$SCRATCH/cyrus" -a sasldb -c -n 3
cy=$(scenario cyrus /etc/sasldb2 "$SCRATCH/cyrus/mux")
ours_db=$SCRATCH/sasldb2
start_ours "$SCRATCH/ours" -a sasldb -O "$ours_db" -c -n 3 -V
ou=$(scenario ours "$ours_db" "$SCRATCH/ours/mux")
check "same verdict sequence as Cyrus -c" "$cy" "$ou"
check "the sequence is the one Cyrus documents" "OK OK NO|OK OK NO OK|OK NO|" "$ou"

# Shared by all workers: remove the back-end, hit every worker at once.
mv "$ours_db" "$ours_db.away"
for i in $(seq 30); do printf 'c%s\t4\tcu1\tpw-two\timap\tcache.example\n' "$i"; done >"$SCRATCH/burst"
replies=$(saslclient concurrent "$SCRATCH/ours/mux" "$SCRATCH/burst" | cut -f2 | sort | uniq -c | tr -s ' ')
check "30 simultaneous requests over 3 workers all answered from the one shared cache" " 30 OK" "$replies"
check_match "cached successes logged with -V" 'auth success \(cached\): \[user=cu1\] \[service=imap\] \[realm=cache.example\]' "$(cat "$SCRATCH/ours.log")"
stats=$("$OURS_SASLAUTHD" --stats -m "$SCRATCH/ours")
check_match "hits counted" 'saslauthd_cache_lookups_total\{mech="sasldb",result="hit"\} [1-9][0-9]*' "$stats"
check_match "misses counted" 'saslauthd_cache_lookups_total\{mech="sasldb",result="miss"\} [1-9]' "$stats"
check "no cache file in the run directory (Cyrus: cache.mmap with MD5 digests)" "" \
	"$(cd "$SCRATCH/ours" && ls -A | grep -v -x -e mux -e mux.accept -e saslauthd.pid.lock -e saslauthd.stats || true)"
check "no password or digest in the log" "" "$(grep -a -e pw-one -e pw-two "$SCRATCH/ours.log" || true)"
# SIGHUP flushes the cache (Cyrus: only a restart does).
kill -HUP "$DAEMON_PID"
wait_until 5 grep -q 'credential cache flushed' "$SCRATCH/ours.log" || true
check "SIGHUP: flushed, the missing back-end now refuses" "NO" "$(verdicts "$SCRATCH/ours/mux" pw-two)"
stop_pid "$DAEMON_PID"

# Expiry (-t): after the lifetime the back-end is asked again. An entry lives while
# now - created < -t in whole seconds (Cyrus's rule), so with -t 1 two requests that
# straddle a second boundary miss: -t 2 leaves at least a full second for "at once".
mv "$ours_db.away" "$ours_db"
OURS_LOG=$SCRATCH/ours-t.log start_ours "$SCRATCH/ours-t" -a sasldb -O "$ours_db" -c -t 2 -n 2
check "-t 2: first login" "OK" "$(verdicts "$SCRATCH/ours-t/mux" pw-two)"
mv "$ours_db" "$ours_db.away"
check "-t 2: at once, from the cache" "OK" "$(verdicts "$SCRATCH/ours-t/mux" pw-two)"
sleep 3.2
check "-t 2: expired, the missing back-end refuses" "NO" "$(verdicts "$SCRATCH/ours-t/mux" pw-two)"
stop_pid "$DAEMON_PID"

# Without -c nothing is cached.
mv "$ours_db.away" "$ours_db"
OURS_LOG=$SCRATCH/ours-nc.log start_ours "$SCRATCH/ours-nc" -a sasldb -O "$ours_db" -n 2
check "without -c: first login" "OK" "$(verdicts "$SCRATCH/ours-nc/mux" pw-two)"
mv "$ours_db" "$ours_db.away"
check "without -c: the back-end is always asked" "NO" "$(verdicts "$SCRATCH/ours-nc/mux" pw-two)"

finish
