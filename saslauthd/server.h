/* The master: worker pool supervision, reload, shutdown; -n 0 accepting. */
#ifndef SASLAUTHD_SERVER_H
#define SASLAUTHD_SERVER_H

#include <stdbool.h>

#include "saslauthd/options.h"
#include "saslauthd/privsep.h"
#include "saslauthd/request.h"

/* -n 0: at most this many per-connection children at once (Cyrus: unbounded). */
#define SERVER_MAX_CONNECTION_CHILDREN 256
/* Workers still running this long after SIGTERM are killed. */
#define SERVER_SHUTDOWN_GRACE_MS 5000
/* A worker that dies sooner than this after its start is replaced only after a pause,
 * so a mechanism that crashes at once cannot make the master fork in a tight loop. */
#define SERVER_RESPAWN_MIN_LIFETIME_MS 1000

/* Descriptors only the master needs (pid file, locks): never in a worker. */
#define SERVER_MASTER_FDS_MAX 4

/* How often the master looks at its workers to grow or shrink the pool. */
#define SERVER_POOL_TICK_MS 100
/* At most this many workers are started per look, however many connections wait. */
#define SERVER_POOL_GROW_PER_TICK 4
/* Decisions this long on average mean a back-end that waits (network, a slow hash):
 * more workers help. Local lookups (sasldb, the cache) take tens of microseconds, and
 * more workers than cores would not make them faster. */
#define SERVER_SLOW_DECISION_US 2000

struct server {
	const struct options *opts;
	struct request_policy policy;
	int listen_fd;
	struct privsep_identity identity; /* --user */
	int master_fds[SERVER_MASTER_FDS_MAX]; /* -1: unused */
};

/* Run the master: fork workers (or a child per connection with -n 0), replace workers
 * that die, reload on SIGHUP, and return 0 after SIGTERM/SIGINT once workers are gone.
 * The caller must have blocked SIGCHLD, SIGTERM, SIGINT and SIGHUP. */
int server_run_master(struct server *srv);

#endif
