/* The single place where a decoded request becomes a verdict and a reply:
 * field checks, -r, (later: cache, throttling), the mechanism chain, the log line. */
#ifndef SASLAUTHD_REQUEST_H
#define SASLAUTHD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/protocol.h"
#include "mechanisms/mechanism.h"
#include "saslauthd/chain.h"

struct request_policy {
	const struct mechanism *mech; /* the first of the chain */
	bool realm_concat; /* -r */
	const struct chain *chain; /* -a; NULL: mech alone */
	int64_t fail_delay_ms; /* --fail-delay: a reply other than OK waits this (+ jitter); 0: off */
};

/* Decide req and write the reply text (NUL-terminated) into reply. Returns the settled
 * verdict: VERDICT_OK only when the reply is OK; refusals and negative-cache hits are
 * VERDICT_NO, a back-end that could not decide VERDICT_FAIL. */
enum verdict request_decide(const struct request_policy *policy, const struct request *req,
                            char *reply, size_t replysz);

/* The reply for a request the codec refused (field too long, NUL byte); logs one line. */
void request_refuse(enum parse_status status, enum request_field field, char *reply,
                    size_t replysz);

#endif
