/* A worker process: accepts connections and serves requests until told to stop. */
#ifndef SASLAUTHD_WORKER_H
#define SASLAUTHD_WORKER_H

#include "saslauthd/privsep.h"
#include "saslauthd/request.h"

/* Connections one worker holds at once (fewer when the descriptor limit is lower): a
 * stalled client costs a descriptor and a page or two, not a worker. At the limit the
 * oldest incomplete connection is dropped to make room. */
#define WORKER_CONNECTIONS_MAX 4096
/* Descriptors left for the mechanism (back-end connections, files, the verifier). */
#define WORKER_FD_RESERVE 32
/* "connection limit reached" is logged at most this often, with a count. */
#define WORKER_DROP_REPORT_MS 10000
/* After SIGTERM/SIGHUP a worker gives clients that have not finished sending this long. */
#define WORKER_STOP_GRACE_MS 1000

/* What a worker tells the master through shared memory, so that the pool can grow when
 * every worker is deciding and shrink when some have nothing to do. */
struct worker_state {
	uint32_t busy;       /* inside a decision */
	uint32_t held;       /* connections held */
	uint64_t decisions;  /* started so far: tells a long decision from a stream of short ones */
	uint64_t busy_us;    /* time spent in finished decisions */
	int64_t idle_since;  /* sa_clock_ms() when the last decision ended (or the start) */
};

struct worker_config {
	const struct request_policy *policy;
	int listen_fd;
	long max_requests; /* 0 = no limit */
	const struct privsep_identity *identity; /* --user; NULL or disabled: stay root */
	struct worker_state *state; /* shared with the master; NULL: nobody watches */
};

/* Signal handling for a freshly forked child: TERM/INT/HUP ask it to stop. */
void worker_signals_init(void);

/* Serve until asked to stop or max_requests is reached; never returns. */
void worker_main(const struct worker_config *cfg) __attribute__((noreturn));

#endif
