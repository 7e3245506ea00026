/* Start-up and shutdown: run directory, locks, pid file, daemonising, the socket. */
#ifndef SASLAUTHD_DAEMON_H
#define SASLAUTHD_DAEMON_H

#include <sys/types.h>

#include "saslauthd/options.h"

/* Open (or create) one of our files in the run directory, which is the current
 * directory once the daemon runs: never through a symbolic link, only a regular file
 * with no other hard link. O_CLOEXEC is added. -1 with errno set otherwise. */
int daemon_open_run_file(const char *name, int flags, mode_t mode);

/* How far up from the run directory the directories above it are checked. */
#define RUN_DIR_MAX_DEPTH 64

enum run_dir_verdict {
	RUN_DIR_OK,
	RUN_DIR_UNSAFE_ABOVE, /* a directory above it can be changed by someone else: a warning */
	RUN_DIR_REFUSED       /* owned by someone else, or writable by group or others */
};

/* Judge the run directory open as dirfd (path only names it in why, which says what is
 * wrong unless RUN_DIR_OK). Used at start and by --check, so both say the same. */
enum run_dir_verdict daemon_judge_run_dir(int dirfd, const char *path, char *why, size_t whysz);

/* Run the daemon with parsed options; returns the process exit status. */
int daemon_run(const struct options *opts);

#endif
