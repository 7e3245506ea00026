/* Start-up and shutdown: run directory, locks, pid file, daemonising, the socket. */
#ifndef SASLAUTHD_DAEMON_H
#define SASLAUTHD_DAEMON_H

#include <sys/types.h>

#include "saslauthd/options.h"

/* Open (or create) one of our files in the run directory, which is the current
 * directory once the daemon runs: never through a symbolic link, only a regular file
 * with no other hard link. O_CLOEXEC is added. -1 with errno set otherwise. */
int daemon_open_run_file(const char *name, int flags, mode_t mode);

/* Run the daemon with parsed options; returns the process exit status. */
int daemon_run(const struct options *opts);

#endif
