#include "saslauthd/service_manager.h"

#include "build_config.h"
#include "common/strutil.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef WITH_SYSTEMD
#include <systemd/sd-daemon.h>

int sm_inherited_socket(void)
{
	int n = sd_listen_fds(1);

	if (n == 1 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0)
		return SD_LISTEN_FDS_START;
	return -1;
}

void sm_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%ld", status, (long)getpid());
}

void sm_notify_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=Reloading");
}

void sm_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
}

#else

int sm_inherited_socket(void)
{
	return -1;
}

void sm_notify_ready(const char *status)
{
	(void)status;
}

void sm_notify_reloading(void)
{
}

void sm_notify_stopping(void)
{
}

#endif

int sm_passed_fd_count(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long p, n;

	if (pid == NULL || fds == NULL || !str_to_long(pid, 1, LONG_MAX, &p) ||
	    (pid_t)p != getpid() || !str_to_long(fds, 0, SM_PASSED_FDS_MAX, &n))
		return 0;
	return (int)n;
}

bool sm_stderr_is_journal(void)
{
	return getenv("JOURNAL_STREAM") != NULL;
}
