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

struct worker_config {
	const struct request_policy *policy;
	int listen_fd;
	long max_requests; /* 0 = no limit */
	const struct privsep_identity *identity; /* --user; NULL or disabled: stay root */
};

/* Signal handling for a freshly forked child: TERM/INT/HUP ask it to stop. */
void worker_signals_init(void);

/* Serve until asked to stop or max_requests is reached; never returns. */
void worker_main(const struct worker_config *cfg) __attribute__((noreturn));

#endif
