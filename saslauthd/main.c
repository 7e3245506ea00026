/* saslauthd: answers libsasl2's "is this password right?" over <run dir>/mux. */
#include <stdio.h>

#include "common/log.h"
#include "saslauthd/check.h"
#include "saslauthd/daemon.h"
#include "saslauthd/options.h"
#include "saslauthd/service_manager.h"
#include "saslauthd/stats.h"

int main(int argc, char **argv)
{
	struct options opts;
	int status;

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
