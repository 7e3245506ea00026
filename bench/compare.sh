#!/usr/bin/env bash
# Throughput/latency comparison: Cyrus saslauthd vs ours, same mechanism,
# same flags, same request file, alternating rounds. See bench/README.md.
#
# Needs root for the sasldb mechanism: Cyrus only reads the compiled-in
# /etc/sasldb2, so the bench users are added there. The file is backed up
# first and restored by the EXIT trap whatever happens.

# shellcheck disable=SC2317  # functions reached only through the EXIT trap
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

BUILD_DIR=${BUILD_DIR:-build}
CONCURRENCY=${CONCURRENCY:-"1 4 16"}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-5}
MECH=${MECH:-sasldb}
CYRUS=${CYRUS:-/usr/sbin/saslauthd}
SASLPASSWD=${SASLPASSWD:-/usr/sbin/saslpasswd2}
LOADGEN=${LOADGEN:-}
REQ_FILE=${REQ_FILE:-}
REQ_TIMEOUT=${REQ_TIMEOUT:-5}
SASLDB=/etc/sasldb2           # compiled into Debian's Cyrus; not configurable
REALM=bench.example
SERVICE=smtp
NUSERS=20

CYRUS_ONLY=0
FOREGROUND=0
FIVE=0
KEEP=0

usage() {
	cat <<EOF
usage: bench/compare.sh [options]
  --cyrus-only        benchmark only Cyrus (tests the script itself)
  -c "LIST"           client concurrency levels      (env CONCURRENCY, default "1 4 16")
  -d SECONDS          measured seconds per round     (env DURATION, default 5)
  -w SECONDS          unmeasured warm-up per round   (env WARMUP, default 1)
  -r N                rounds per implementation      (env ROUNDS, default 3)
  -n N                daemon worker processes (-n)   (env WORKERS, default 5)
  -a MECH             mechanism (-a)                 (env MECH, default sasldb)
  -f FILE             request file (required unless MECH=sasldb, which makes its own)
  -5                  send the 5-field request form
  -b DIR              build dir of ours              (env BUILD_DIR, default build)
  --foreground        run the daemons with -d (stderr to a log file) instead of detached
  -x FLAG             one more daemon flag for both (repeatable), e.g. -x -c for the cache
  -k                  keep the scratch directory
  -h                  this help
env: CYRUS (default /usr/sbin/saslauthd), LOADGEN (default <build dir>/bin/saslauthd-loadgen,
     then build-bench/bin/saslauthd-loadgen), REQ_TIMEOUT (per-request timeout, default 5)
EOF
}

die() { echo "compare.sh: $*" >&2; exit 1; }
DAEMON_FLAGS=()

while [ $# -gt 0 ]; do
	case $1 in
	--cyrus-only) CYRUS_ONLY=1 ;;
	--foreground) FOREGROUND=1 ;;
	-c) [ $# -ge 2 ] || die "-c needs an argument"; CONCURRENCY=$2; shift ;;
	-d) [ $# -ge 2 ] || die "-d needs an argument"; DURATION=$2; shift ;;
	-w) [ $# -ge 2 ] || die "-w needs an argument"; WARMUP=$2; shift ;;
	-r) [ $# -ge 2 ] || die "-r needs an argument"; ROUNDS=$2; shift ;;
	-n) [ $# -ge 2 ] || die "-n needs an argument"; WORKERS=$2; shift ;;
	-a) [ $# -ge 2 ] || die "-a needs an argument"; MECH=$2; shift ;;
	-f) [ $# -ge 2 ] || die "-f needs an argument"; REQ_FILE=$2; shift ;;
	-b) [ $# -ge 2 ] || die "-b needs an argument"; BUILD_DIR=$2; shift ;;
	-5) FIVE=1 ;;
	-k) KEEP=1 ;;
	-x) [ $# -ge 2 ] || die "-x needs an argument"; DAEMON_FLAGS+=("$2"); shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

isnum() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
isint() { [[ $1 =~ ^[0-9]+$ ]]; }
isnum "$DURATION" || die "bad duration '$DURATION'"
isnum "$WARMUP" || die "bad warm-up '$WARMUP'"
isnum "$REQ_TIMEOUT" || die "bad REQ_TIMEOUT '$REQ_TIMEOUT'"
if ! isint "$ROUNDS" || [ "$ROUNDS" -lt 1 ]; then die "bad round count '$ROUNDS'"; fi
isint "$WORKERS" || die "bad worker count '$WORKERS'"
for c in $CONCURRENCY; do
	if ! isint "$c" || [ "$c" -lt 1 ]; then die "bad concurrency '$c'"; fi
done
[ -n "${CONCURRENCY// /}" ] || die "empty concurrency list"

case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
OURS=$BUILD_DIR/bin/saslauthd

if [ -z "$LOADGEN" ]; then
	for cand in "$BUILD_DIR/bin/saslauthd-loadgen" "$ROOT/build-bench/bin/saslauthd-loadgen"; do
		if [ -x "$cand" ]; then LOADGEN=$cand; break; fi
	done
fi
if [ -z "$LOADGEN" ] || [ ! -x "$LOADGEN" ]; then
	die "saslauthd-loadgen not found; build it: cmake --build $BUILD_DIR --target saslauthd-loadgen (or set LOADGEN)"
fi
[ -x "$CYRUS" ] || die "Cyrus saslauthd not found at $CYRUS (Debian package sasl2-bin)"
for tool in timeout setsid awk sort; do
	command -v "$tool" >/dev/null || die "$tool is required"
done

if [ "$MECH" = sasldb ]; then
	[ "$(id -u)" = 0 ] || die "must run as root: Cyrus's sasldb reads only $SASLDB"
	[ -x "$SASLPASSWD" ] || die "$SASLPASSWD not found (Debian package sasl2-bin)"
	[ -z "$REQ_FILE" ] || echo "note: using $REQ_FILE; its users must exist in $SASLDB" >&2
else
	[ -n "$REQ_FILE" ] || die "mechanism $MECH: give a request file with -f (users must exist for that mechanism)"
fi
if [ -n "$REQ_FILE" ]; then
	[ -r "$REQ_FILE" ] || die "cannot read request file $REQ_FILE"
fi

# --- our daemon: refuse early and clearly if it is not there ---------------
if [ "$CYRUS_ONLY" = 0 ]; then
	if [ ! -x "$OURS" ]; then
		die "our daemon is not built: $OURS does not exist (build it, pass -b DIR, or use --cyrus-only)"
	fi
	vout=$(timeout 5 "$OURS" -v 2>&1 </dev/null)
	if ! grep -qi "mechanisms:.*\b$MECH\b" <<<"$vout"; then
		echo "compare.sh: our daemon is not usable: '$OURS -v' does not list mechanism '$MECH'." >&2
		echo "  it printed: ${vout:-<nothing>}" >&2
		echo "  (use --cyrus-only to exercise the script against Cyrus alone)" >&2
		exit 1
	fi
fi

# --- single instance, scratch, cleanup -------------------------------------
LOCK=/tmp/saslauthd-bench.lock
exec 9>"$LOCK" || die "cannot open $LOCK"
flock -n 9 || die "another compare.sh is running (lock $LOCK)"
# The test suite edits /etc/sasldb2 too (tests/fixtures/lib.sh); share its lock.
mkdir -p /var/tmp/saslauthd-tests
exec 8>>/var/tmp/saslauthd-tests/etc-sasldb2.lock || die "cannot open the /etc/sasldb2 lock"
flock -w 240 8 || die "the test suite holds /etc/sasldb2 for more than 240 s"

SCRATCH=$(mktemp -d /tmp/saslauthd-bench.XXXXXX) || die "mktemp failed"
chmod 0755 "$SCRATCH"
declare -A DPID=() DCHILDREN=()   # impl -> master pid, impl -> worker pids
SASLDB_BACKUP=""
SASLDB_TOUCHED=0
SASLDB_EXISTED=0
LG_PID=""
FAILED=0
CLEANED=0

# true if the process exists and is not a zombie
alive() {
	local pid=$1 state
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
	state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# wait (bounded) until none of the given pids is alive
wait_gone() {
	local limit=$1 i p any
	shift
	for ((i = 0; i < limit * 10; i++)); do
		any=0
		for p in "$@"; do alive "$p" && any=1; done
		[ "$any" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

stop_daemon() {
	local impl=$1 pid=${DPID[$1]:-} kids
	[ -n "$pid" ] || return 0
	kids="${DCHILDREN[$impl]:-} $(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')"
	if alive "$pid"; then kill -TERM "$pid" 2>/dev/null; fi
	# shellcheck disable=SC2086
	if ! wait_gone 5 "$pid" $kids; then
		echo "compare.sh: $impl daemon (pid $pid) did not stop on SIGTERM; killing" >&2
		for p in $pid $kids; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
		# shellcheck disable=SC2086
		wait_gone 5 "$pid" $kids || echo "compare.sh: WARNING: pids $pid $kids still alive" >&2
	fi
	# reap it if it is our own child (foreground mode); it is dead by now
	if [ "$FOREGROUND" = 1 ]; then wait "$pid" 2>/dev/null; fi
	unset "DPID[$impl]"
}

# pids of processes with the exact argument RUNDIR (our daemons' -m value):
# a safety net for daemons whose pid we never learnt (e.g. no pid file)
pids_with_arg() {
	local want=$1 d
	for d in /proc/[0-9]*; do
		[ "${d#/proc/}" = "$$" ] && continue
		# No pipe into grep -q: with pipefail the writer's SIGPIPE would read as "no".
		if [[ $'\n'"$(tr '\0' '\n' <"$d/cmdline" 2>/dev/null)"$'\n' == *$'\n'"$want"$'\n'* ]]; then
			echo "${d#/proc/}"
		fi
	done
}

cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	trap '' INT TERM HUP
	if [ -n "$LG_PID" ] && alive "$LG_PID"; then
		kill -TERM "$LG_PID" 2>/dev/null
		wait_gone 5 "$LG_PID" || kill -KILL "$LG_PID" 2>/dev/null
	fi
	local impl
	for impl in "${!DPID[@]}"; do stop_daemon "$impl"; done
	local stray
	for impl in cyrus ours; do
		stray=$(pids_with_arg "$SCRATCH/$impl-run" | xargs)
		if [ -n "$stray" ]; then
			echo "compare.sh: stopping stray $impl processes: $stray" >&2
			# shellcheck disable=SC2086
			kill -TERM $stray 2>/dev/null
			# shellcheck disable=SC2086
			wait_gone 5 $stray || kill -KILL $stray 2>/dev/null
		fi
	done
	local restored=1
	if [ "$SASLDB_TOUCHED" = 1 ]; then
		if [ "$SASLDB_EXISTED" = 1 ]; then
			if cp -p "$SASLDB_BACKUP" "$SASLDB"; then
				echo "restored $SASLDB from backup" >&2
			else
				restored=0
				echo "compare.sh: FAILED to restore $SASLDB; the original is $SASLDB_BACKUP" >&2
			fi
		else
			rm -f "$SASLDB" && echo "removed $SASLDB (it did not exist before)" >&2
		fi
	fi
	if [ "$KEEP" = 1 ] || [ "$FAILED" = 1 ] || [ "$restored" = 0 ]; then
		echo "scratch directory kept: $SCRATCH" >&2
	else
		rm -rf "$SCRATCH"
	fi
}
trap cleanup EXIT
trap 'FAILED=1; exit 130' INT
trap 'FAILED=1; exit 143' TERM
trap 'FAILED=1; exit 129' HUP

fail() { FAILED=1; echo "compare.sh: $*" >&2; exit 1; }

# --- users and requests ----------------------------------------------------
REQS=$SCRATCH/requests.tsv
OURS_DB=$SCRATCH/ours-sasldb2
if [ "$MECH" = sasldb ]; then
	if [ -e "$SASLDB" ]; then
		SASLDB_EXISTED=1
		SASLDB_BACKUP=$SCRATCH/etc-sasldb2.orig
		cp -p "$SASLDB" "$SASLDB_BACKUP" || fail "cannot back up $SASLDB"
		echo "backed up $SASLDB to $SASLDB_BACKUP (restored on exit)" >&2
	fi
	SASLDB_TOUCHED=1
	token=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n') || fail "no randomness"
	declare -a PW=()
	for ((u = 1; u <= NUSERS; u++)); do
		user=$(printf 'benchu%02d' "$u")
		PW[u]="Pw-$user-$token"
		printf '%s' "${PW[u]}" | timeout 20 "$SASLPASSWD" -p -c -f "$SASLDB" -u "$REALM" "$user" ||
			fail "saslpasswd2 failed for $user"
	done
	cp "$SASLDB" "$OURS_DB" || fail "cannot copy $SASLDB"
	if [ -z "$REQ_FILE" ]; then
		# 10 passes over the users; in each pass a different tenth of them
		# sends a wrong password: 90 % OK, 10 % NO, spread evenly.
		{
			echo "# verdict login password service realm client-address"
			for ((pass = 0; pass < 10; pass++)); do
				for ((u = 1; u <= NUSERS; u++)); do
					user=$(printf 'benchu%02d' "$u")
					addr="192.0.2.$u;$((40000 + pass * 100 + u))"
					if [ $((u % 10)) = "$pass" ]; then
						printf 'NO\t%s\t%s\t%s\t%s\t%s\n' "$user" "${PW[u]}x" "$SERVICE" "$REALM" "$addr"
					else
						printf 'OK\t%s\t%s\t%s\t%s\t%s\n' "$user" "${PW[u]}" "$SERVICE" "$REALM" "$addr"
					fi
				done
			done
		} >"$REQS" || fail "cannot write $REQS"
	fi
fi
[ -n "$REQ_FILE" ] && { cp "$REQ_FILE" "$REQS" || fail "cannot copy $REQ_FILE"; }
LG_FORM=()
[ "$FIVE" = 1 ] && LG_FORM=(-5)

# --- daemons -----------------------------------------------------------------
start_daemon() {
	local impl=$1 bin=$2
	shift 2
	local run=$SCRATCH/$impl-run log=$SCRATCH/$impl.log pid="" i
	mkdir -p "$run" || fail "mkdir $run"
	local args=(-a "$MECH" "$@" "${DAEMON_FLAGS[@]+"${DAEMON_FLAGS[@]}"}" -m "$run" -n "$WORKERS")
	if [ "$FOREGROUND" = 1 ]; then
		# own session: the master signals its whole process group on SIGTERM
		setsid "$bin" "${args[@]}" -d </dev/null >"$log" 2>&1 &
		pid=$!
	else
		timeout 15 "$bin" "${args[@]}" </dev/null >"$log" 2>&1
		local rc=$?
		[ $rc = 0 ] || { tail -n 20 "$log" >&2; fail "$impl: '$bin ${args[*]}' exited $rc"; }
		for ((i = 0; i < 100; i++)); do
			[ -s "$run/saslauthd.pid" ] && break
			sleep 0.1
		done
		[ -s "$run/saslauthd.pid" ] || fail "$impl: no pid file $run/saslauthd.pid after 10 s"
		read -r pid <"$run/saslauthd.pid" || fail "$impl: cannot read pid file"
		isint "$pid" || fail "$impl: bad pid file content '$pid'"
	fi
	DPID[$impl]=$pid
	for ((i = 0; i < 100; i++)); do
		[ -S "$run/mux" ] && break
		alive "$pid" || break
		sleep 0.1
	done
	if ! [ -S "$run/mux" ] || ! alive "$pid"; then
		tail -n 20 "$log" >&2
		fail "$impl daemon did not come up (no socket $run/mux, or it exited)"
	fi
	sleep 0.3 # let the workers get forked
	DCHILDREN[$impl]=$(ps -o pid= --ppid "$pid" 2>/dev/null | xargs)
	# a short correctness probe through the whole request file
	local probe
	probe=$(timeout 60 "$LOADGEN" -s "$run/mux" -f "$REQS" "${LG_FORM[@]}" -c 1 \
		-n "$(grep -cv '^#' "$REQS")" -t "$REQ_TIMEOUT" 2>&1)
	local prc=$?
	if [ $prc != 0 ]; then
		echo "$probe" >&2
		tail -n 20 "$log" >&2
		fail "$impl daemon failed the correctness probe (loadgen exit $prc)"
	fi
	echo "$impl: pid $pid, workers: ${DCHILDREN[$impl]:-none}; probe ok" >&2
}

start_daemon cyrus "$CYRUS"
if [ "$CYRUS_ONLY" = 0 ]; then
	if [ "$MECH" = sasldb ]; then
		start_daemon ours "$OURS" -O "$OURS_DB"
	else
		start_daemon ours "$OURS"
	fi
fi
IMPLS=(cyrus)
[ "$CYRUS_ONLY" = 0 ] && IMPLS+=(ours)

# --- rounds --------------------------------------------------------------------
RESULTS=$SCRATCH/results.txt
: >"$RESULTS"
lg_limit=$(awk -v d="$DURATION" -v w="$WARMUP" -v t="$REQ_TIMEOUT" 'BEGIN { printf "%d", d + w + 2 * t + 30 }')

echo "machine: $(nproc) CPUs, $(uname -r); mechanism $MECH, -n $WORKERS," \
	"$( [ "$FOREGROUND" = 1 ] && echo foreground -d || echo detached ), $DURATION s/round" \
	"after $WARMUP s warm-up, $ROUNDS rounds each, $( [ "$FIVE" = 1 ] && echo 5 || echo 4 )-field requests" >&2

for c in $CONCURRENCY; do
	for ((r = 1; r <= ROUNDS; r++)); do
		for impl in "${IMPLS[@]}"; do
			alive "${DPID[$impl]}" || fail "$impl daemon (pid ${DPID[$impl]}) died; see $SCRATCH/$impl.log"
			out=$SCRATCH/round-$impl-c$c-r$r.txt
			timeout "$lg_limit" "$LOADGEN" -s "$SCRATCH/$impl-run/mux" -f "$REQS" "${LG_FORM[@]}" \
				-c "$c" -d "$DURATION" -w "$WARMUP" -t "$REQ_TIMEOUT" >"$out" 2>&1 &
			LG_PID=$!
			wait "$LG_PID"
			rc=$?
			LG_PID=""
			line=$(grep '^RESULT ' "$out" | tail -n 1)
			if [ -z "$line" ]; then
				cat "$out" >&2
				fail "$impl c=$c round $r: loadgen gave no RESULT (exit $rc)"
			fi
			get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
			rps=$(get rps) p50=$(get p50_us) p99=$(get p99_us) err=$(get err) wrong=$(get wrong)
			printf '%s %s %s %s %s %s %s %s\n' "$impl" "$c" "$r" "$rps" "$p50" "$p99" "$err" "$wrong" >>"$RESULTS"
			printf '  c=%-3s round %s %-5s rps=%-9s p50=%sus p99=%sus err=%s wrong=%s\n' \
				"$c" "$r" "$impl" "$rps" "$p50" "$p99" "$err" "$wrong" >&2
			if [ "$rc" != 0 ]; then
				FAILED=1
				grep -E '^first (error|wrong):' "$out" | sed "s/^/    $impl: /" >&2
			fi
		done
	done
done

# --- report ----------------------------------------------------------------------
echo
awk -v impls="${IMPLS[*]}" -v concs="$CONCURRENCY" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	if (n == 0) return 0
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(x, y) { return (y + 0 > 0) ? sprintf("%.2f", x / y) : "-" }
{
	k = $1 SUBSEP $2
	rps[k] = rps[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6
	err[k] += $7; wrong[k] += $8; n[k]++
}
END {
	ni = split(impls, I, " "); nc = split(concs, C, " ")
	printf "%-6s %-11s %10s %9s %9s %6s %6s  %s\n", "conc", "impl", "rps", "p50_us", "p99_us", "err", "wrong", "rps per round"
	for (ci = 1; ci <= nc; ci++) {
		c = C[ci]
		for (ii = 1; ii <= ni; ii++) {
			k = I[ii] SUBSEP c
			mr[I[ii]] = median(rps[k]); m50[I[ii]] = median(p50[k]); m99[I[ii]] = median(p99[k])
			printf "%-6s %-11s %10.1f %9d %9d %6d %6d  %s\n", c, I[ii], mr[I[ii]], m50[I[ii]], m99[I[ii]], err[k], wrong[k], substr(rps[k], 2)
		}
		if (ni > 1)
			printf "%-6s %-11s %9sx %8sx %8sx\n", c, "ours/cyrus", ratio(mr["ours"], mr["cyrus"]), ratio(m50["ours"], m50["cyrus"]), ratio(m99["ours"], m99["cyrus"])
	}
	print "(medians over rounds; err/wrong summed over rounds)"
	if (ni > 1) print "(ours/cyrus: rps above 1 means ours serves more; p50/p99 below 1 means ours answers faster)"
}' "$RESULTS"

if [ "$FAILED" = 1 ]; then
	echo "compare.sh: FAILED: some round had transport errors or wrong verdicts (details above; logs in $SCRATCH)" >&2
	exit 1
fi
exit 0
