/* saslauthd: answers libsasl2's "is this password right?" over <run dir>/mux. */
#include <stdio.h>

#include "common/log.h"
#include "saslauthd/daemon.h"
#include "saslauthd/options.h"

int main(int argc, char **argv)
{
	struct options opts;
	int status;

	log_init("saslauthd", false, true);
	status = options_parse(&opts, argc, argv, stderr);
	if (status >= 0)
		return status;
	log_init("saslauthd", opts.verbose, true);
	return daemon_run(&opts);
}
