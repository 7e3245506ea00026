/* Start-up and shutdown: run directory, locks, pid file, daemonising, the socket. */
#ifndef SASLAUTHD_DAEMON_H
#define SASLAUTHD_DAEMON_H

#include "saslauthd/options.h"

/* Run the daemon with parsed options; returns the process exit status. */
int daemon_run(const struct options *opts);

#endif
