#!/usr/bin/env bash
# Issue 12, finding 4: the run directory is not trusted blindly. An existing -m
# directory owned by another user, or writable by its group or others, is refused;
# symbolic links (and extra hard links) planted where the pid, pid-lock, accept-lock
# and statistics files go are never written through; a start that fails leaves no pid
# or lock file behind; and a good start still works, detached and in the foreground.
set -euo pipefail
. "${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fixtures/lib.sh"

require_root
require_cmd "$PYTHON"
require_ours sasldb
getent passwd nobody >/dev/null || skip_test "no user nobody"

DB="$SCRATCH/sasldb2"
sasldb_add "$DB" alice example.org alice-pw
FILES=(saslauthd.pid saslauthd.pid.lock mux.accept saslauthd.stats)

# run <args...>: our daemon (foreground unless the caller says otherwise), its exit
# status and output; bounded.
run() { timeout 20 "$OURS_SASLAUTHD" -a sasldb -O "$DB" "$@" 2>&1; }

left_files() {
	local dir="$1" f out=""
	for f in "${FILES[@]}" mux; do [[ -e "$dir/$f" || -L "$dir/$f" ]] && out+="$f "; done
	printf '%s' "${out% }"
}

# ---------------------------------------------------------------- owner and mode
D="$SCRATCH/foreign"
mkdir "$D"
chown nobody "$D"
chmod 0755 "$D"
out=$(run -d -m "$D") && rc=0 || rc=$?
check "a run directory owned by nobody is refused" 1 "$rc"
check_match "... saying why" "refusing run directory $D: owned by uid [0-9]+, not root" "$out"
check "... and nothing was created in it" "" "$(left_files "$D")"

for mode in 0777 1777 0775 0757; do
	D="$SCRATCH/mode$mode"
	mkdir "$D"
	chmod "$mode" "$D"
	out=$(run -d -m "$D") && rc=0 || rc=$?
	check "a root run directory with mode $mode is refused" 1 "$rc"
	check_match "... saying why" "refusing run directory $D: writable by (others|its group)" "$out"
	check "... and nothing was created in it" "" "$(left_files "$D")"
done

# --check judges the run directory as a start would.
D="$SCRATCH/foreign"
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" -m "$D" 2>&1) && rc=0 || rc=$?
check "--check: a run directory owned by nobody fails the check" 1 "$rc"
check_match "... saying it would be refused, and why" \
	"FAIL run directory +$D would be refused: owned by uid [0-9]+, not root" "$out"
D="$SCRATCH/mode0777"
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" -m "$D" 2>&1) && rc=0 || rc=$?
check_match "--check: a 0777 run directory fails the check" \
	"^1 .*FAIL run directory +$D would be refused: writable by others" "$rc $out"

# ---------------------------------------------------------------- directories above it
# One a stranger may write to (not sticky) can swap the run directory: a warning at start
# and in --check; a start still works (Cyrus setups keep working).
D="$SCRATCH/open-above/run"
mkdir -p "$D"
chmod 0777 "$SCRATCH/open-above"
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" -m "$D" 2>&1) && rc=0 || rc=$?
check_match "--check: a writable directory above it is a warning, not a failure" \
	"^0 .*ok +run directory +$D \(warning: $SCRATCH/open-above above it is writable by others \(mode 0777\)" \
	"$rc $out"
start_ours "$D" -a sasldb -O "$DB" -n 1
check "... and the daemon starts and answers" "OK" "$(saslclient req "$D/mux" alice alice-pw imap example.org)"
check_match "... with one warning line at start" \
	"run directory $D: $SCRATCH/open-above above it is writable by others" "$(cat "$SCRATCH/ours.log")"
stop_pid "$DAEMON_PID"
# Found through "..", so a symbolic link in the given path does not hide it.
ln -s "$SCRATCH/open-above" "$SCRATCH/link-to-open"
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" -m "$SCRATCH/link-to-open/run" 2>&1) || true
check_match "--check: the directory behind a symbolic link is judged" \
	"warning: $SCRATCH/open-above above it is writable by others" "$out"
# A sticky one (as /tmp) is fine.
chmod 1777 "$SCRATCH/open-above"
out=$("$OURS_SASLAUTHD" --check -a sasldb -O "$DB" -m "$D" 2>&1) || true
check_match "--check: a sticky world-writable directory above it is fine" \
	"ok +run directory +$D"$'\n' "$out"

# ---------------------------------------------------------------- planted links
for mode in detached foreground; do
	D="$SCRATCH/planted-$mode"
	mkdir -m 0755 "$D"
	for f in "${FILES[@]}"; do
		printf 'precious %s\n' "$f" >"$SCRATCH/victim-$mode-$f"
		ln -s "$SCRATCH/victim-$mode-$f" "$D/$f"
	done
	if [[ $mode == foreground ]]; then
		out=$(run -d -m "$D") && rc=0 || rc=$?
	else
		out=$(run -m "$D") && rc=0 || rc=$?
	fi
	check "$mode: a start over planted symbolic links fails" 1 "$rc"
	check_match "$mode: ... naming the file" "Too many levels of symbolic links" "$out"
	for f in "${FILES[@]}"; do
		check "$mode: the file behind $f is untouched" "precious $f" "$(cat "$SCRATCH/victim-$mode-$f")"
	done
	check "$mode: the links are still there, nothing else" "${FILES[*]}" "$(left_files "$D")"
done

# A hard link to a root file in the pid lock file's place (when the directory
# itself was writable by someone once).
D="$SCRATCH/hardlink"
mkdir -m 0755 "$D"
printf 'precious\n' >"$SCRATCH/victim-hard"
ln "$SCRATCH/victim-hard" "$D/saslauthd.pid.lock"
out=$(run -d -m "$D") && rc=0 || rc=$?
check "a hard-linked pid lock file is refused" 1 "$rc"
check "... and the linked file is untouched" "precious" "$(cat "$SCRATCH/victim-hard")"

# ---------------------------------------------------------------- failed starts
# A regular file where the socket goes: the start fails after the pid file, pid lock
# and accept lock exist.
for mode in detached foreground; do
	D="$SCRATCH/fail-$mode"
	mkdir -m 0755 "$D"
	: >"$D/mux"
	if [[ $mode == foreground ]]; then
		out=$(run -d -m "$D") && rc=0 || rc=$?
	else
		out=$(run -m "$D") && rc=0 || rc=$?
	fi
	check "$mode: the start fails on a non-socket mux" 1 "$rc"
	check_match "$mode: ... saying why" "exists and is not a socket" "$out"
	check "$mode: no pid or lock file is left behind" "mux" "$(left_files "$D")"
done

# ---------------------------------------------------------------- good starts
D="$SCRATCH/good"
start_ours "$D" -a sasldb -O "$DB" -n 1
check "foreground: the right password is OK" "OK" "$(saslclient req "$D/mux" alice alice-pw imap example.org)"
check "foreground: a wrong password is NO" "NO" "$(saslclient req "$D/mux" alice wrong imap example.org)"
stop_pid "$DAEMON_PID"
check "foreground: a clean stop removes its files" "" "$(left_files "$D")"

D="$SCRATCH/good-detached"
mkdir -m 0710 "$D"
out=$(run -m "$D" -n 1) && rc=0 || rc=$?
check "detached start in a root 0710 directory" 0 "$rc"
pid=$(cat "$D/saslauthd.pid" 2>/dev/null || true)
[[ -n "$pid" ]] && register_pid "$pid"
check "detached: the right password is OK" "OK" "$(saslclient req "$D/mux" alice alice-pw imap example.org)"
check "detached: a wrong password is NO" "NO" "$(saslclient req "$D/mux" alice wrong imap example.org)"
stop_pid "$pid"
check "detached: a clean stop removes its files" "" "$(left_files "$D")"

finish
