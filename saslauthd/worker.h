/* A worker process: accepts connections and serves requests until told to stop. */
#ifndef SASLAUTHD_WORKER_H
#define SASLAUTHD_WORKER_H

#include "saslauthd/privsep.h"
#include "saslauthd/request.h"

/* Connections one worker reads concurrently; requests are still decided one at a time. */
#define WORKER_PENDING_MAX 128
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
