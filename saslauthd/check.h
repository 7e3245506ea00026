/* saslauthd --check: validate the command line and the mechanism's configuration,
 * try the back-end once, print a report, and exit without starting the daemon. */
#ifndef SASLAUTHD_CHECK_H
#define SASLAUTHD_CHECK_H

#include <stdio.h>

#include "saslauthd/options.h"

/* Returns the exit status: 0 when everything checked is usable. */
int check_run(const struct options *opts, FILE *out);

#endif
