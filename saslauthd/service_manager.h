/* Talking to a service manager (systemd): readiness, reload and stop notifications,
 * and a listening socket handed over by socket activation. Without libsystemd, or
 * when not started by systemd, every call is a harmless no-op. */
#ifndef SASLAUTHD_SERVICE_MANAGER_H
#define SASLAUTHD_SERVICE_MANAGER_H

#include <stdbool.h>

/* The UNIX stream socket systemd passed us (LISTEN_FDS), or -1. */
int sm_inherited_socket(void);

/* Sane upper bound for LISTEN_FDS. */
#define SM_PASSED_FDS_MAX 64
/* How many descriptors from 3 on systemd passed to this process (LISTEN_PID/LISTEN_FDS,
 * left in place for sm_inherited_socket); 0 when none. */
int sm_passed_fd_count(void);

void sm_notify_ready(const char *status);
void sm_notify_reloading(void);
void sm_notify_stopping(void);

/* True when stderr is connected to the journal, which also receives syslog: mirroring
 * log lines to stderr there would log everything twice. */
bool sm_stderr_is_journal(void);

#endif
