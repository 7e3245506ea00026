/* saslauthd: answers libsasl2's "is this password right?" over <run dir>/mux. */
#include <stdio.h>
#include <unistd.h>

#include "common/log.h"
#include "saslauthd/check.h"
#include "saslauthd/daemon.h"
#include "saslauthd/options.h"
#include "saslauthd/service_manager.h"
#include "saslauthd/stats.h"

/* Whatever the launcher left open (a script's lock or log file, a root-owned file)
 * would otherwise reach every worker, also an unprivileged one; systemd's sockets stay. */
static void close_inherited_descriptors(void)
{
	unsigned first = 3 + (unsigned)sm_passed_fd_count();

	if (close_range(first, ~0U, 0) != 0) {
		for (int fd = (int)first; fd < 1024; fd++)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	struct options opts;
	int status;

	close_inherited_descriptors();
	log_init("saslauthd", false, true);
	status = options_parse(&opts, argc, argv, stderr);
	if (status >= 0)
		return status;
	if (opts.print_stats)
		return stats_print(opts.run_dir, stdout);
	if (opts.check_only)
		return check_run(&opts, stdout);
	/* Under systemd, syslog already reaches the journal; a stderr copy would double it. */
	log_init("saslauthd", opts.verbose, !sm_stderr_is_journal());
	return daemon_run(&opts);
}
