# shellcheck shell=bash
# Shared by the peer-backed comparisons (rimap-compare.sh, pam-compare.sh,
# core-compare.sh, throttle-compare.sh): option
# parsing and the alternating Cyrus/ours rounds with saslauthd-loadgen. The caller
# sources tests/fixtures/lib.sh first, starts both daemons on
# $SCRATCH/cyrus-run/mux and $SCRATCH/ours-run/mux, then calls bench_table REQUEST_FILE.

CONCURRENCY="${CONCURRENCY:-4 16}"
DURATION=5
WARMUP=1
ROUNDS=3
WORKERS=5

# bench_parse_args "$@": -c LIST -d SECS -w SECS -r ROUNDS -n WORKERS; unknown options
# are left in BENCH_REST for the caller.
bench_parse_args() {
	BENCH_REST=()
	while [[ $# -gt 0 ]]; do
		case $1 in
		-c) CONCURRENCY=$2; shift ;;
		-d) DURATION=$2; shift ;;
		-w) WARMUP=$2; shift ;;
		-r) ROUNDS=$2; shift ;;
		-n) WORKERS=$2; shift ;;
		*) BENCH_REST+=("$1") ;;
		esac
		shift
	done
	LOADGEN="${LOADGEN:-$BUILD_DIR/bin/saslauthd-loadgen}"
	CYRUS="${CYRUS:-/usr/sbin/saslauthd}"
	[[ -x "$LOADGEN" ]] || die "no load generator at $LOADGEN"
	[[ -x "$OURS_SASLAUTHD" ]] || die "no saslauthd at $OURS_SASLAUTHD"
	[[ -x "$CYRUS" ]] || die "no Cyrus saslauthd at $CYRUS"
}

# _bench_round <impl> <concurrency> <requests>: prints "rps p50 p99 err wrong".
# BENCH_LOADGEN_FLAGS: more loadgen flags (e.g. -5 for the 5-field form).
_bench_round() {
	local out
	# shellcheck disable=SC2086 # BENCH_LOADGEN_FLAGS (e.g. -5) is word-split on purpose
	out=$("$LOADGEN" -s "$SCRATCH/$1-run/mux" -f "$3" -c "$2" -d "$DURATION" -w "$WARMUP" -t 10 -q ${BENCH_LOADGEN_FLAGS:-}) ||
		log "$1 c=$2: errors or wrong verdicts: $out"
	sed -n 's/.*rps=\([0-9.]*\) p50_us=\([0-9]*\) p90_us=[0-9]* p99_us=\([0-9]*\).* err=\([0-9]*\) wrong=\([0-9]*\).*/\1 \2 \3 \4 \5/p' <<<"$out"
}

# quiet_start <impl> <rundir> <args...>: Cyrus detached, ours with -f: both without -d,
# whose debug logging (a line per request) would be most of what is measured. Sets
# DAEMON_PID (Cyrus: from its pid file).
quiet_start() {
	local impl=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	rm -f "$dir/mux"
	if [[ $impl == ours ]]; then
		start_bg ours "$SCRATCH/ours.log" "$OURS_SASLAUTHD" -f -m "$dir" "$@" </dev/null
	else
		"$CYRUS" -m "$dir" "$@" </dev/null >>"$SCRATCH/cyrus.log" 2>&1
		wait_until 10 test -s "$dir/saslauthd.pid" || die "Cyrus wrote no pid file"
		DAEMON_PID=$(head -n1 "$dir/saslauthd.pid" | tr -dc 0-9)
		register_pid "$DAEMON_PID"
	fi
	wait_for_socket "$dir/mux" 10 "$DAEMON_PID" || die "$impl did not come up"
}

_bench_median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print a[int((NR + 1) / 2)] }'; }

# bench_table <requests>: alternating rounds per concurrency, medians, ours/cyrus ratio;
# with BENCH_IMPLS="cyrus ours floor" (the caller starts bench/floor.c on
# $SCRATCH/floor-run/mux) also the ours/floor ratio.
bench_table() {
	local reqs=$1 c r impl rps
	printf '%-5s %-6s %10s %9s %9s %5s %6s  %s\n' conc impl rps p50_us p99_us err wrong "rps per round"
	for c in $CONCURRENCY; do
		declare -A all=() med=()
		for ((r = 1; r <= ROUNDS; r++)); do
			for impl in ${BENCH_IMPLS:-cyrus ours}; do
				all[$impl]+="$(_bench_round "$impl" "$c" "$reqs")"$'\n'
			done
		done
		for impl in ${BENCH_IMPLS:-cyrus ours}; do
			rps=$(printf '%s' "${all[$impl]}" | awk '{print $1}' | _bench_median)
			med[$impl]=$rps
			printf '%-5s %-6s %10s %9s %9s %5s %6s  %s\n' "$c" "$impl" "$rps" \
				"$(printf '%s' "${all[$impl]}" | awk '{print $2}' | _bench_median)" \
				"$(printf '%s' "${all[$impl]}" | awk '{print $3}' | _bench_median)" \
				"$(printf '%s' "${all[$impl]}" | awk '{s+=$4} END {print s+0}')" \
				"$(printf '%s' "${all[$impl]}" | awk '{s+=$5} END {print s+0}')" \
				"$(printf '%s' "${all[$impl]}" | awk '{printf "%s ", $1}')"
		done
		awk -v o="${med[ours]}" -v y="${med[cyrus]}" -v c="$c" \
			'BEGIN { if (y > 0) printf "%-5s %-6s %9.2fx\n", c, "ratio", o / y }'
		if [[ -n "${med[floor]:-}" ]]; then
			awk -v o="${med[ours]}" -v f="${med[floor]}" -v c="$c" \
				'BEGIN { if (f > 0) printf "%-5s %-6s %9.2fx  (ours/floor)\n", c, "floor", o / f }'
		fi
		unset all med
	done
}
