/* Attack throttling (--throttle-addr, --throttle-user, --throttle-exempt, --policy-store):
 * a key (a client address, IPv6 by its /64; a login after -r) with FAILURES distinct
 * failed authentications within the last SECONDS is refused before the cache and the
 * mechanism are asked, until its count falls below. The same wrong password again counts
 * once. Counters live in memory shared by every worker (and in Redis with --policy-store,
 * the local ones then serving while Redis cannot answer). */
#ifndef SASLAUTHD_POLICY_H
#define SASLAUTHD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/protocol.h"
#include "mechanisms/mechanism.h"
#include "saslauthd/policy_rules.h"

/* How many keys each rule remembers, in slots of POLICY_WAYS keys: when a slot is full,
 * the key whose last failure is the oldest is forgotten. */
#define POLICY_TABLE_KEYS 8192
#define POLICY_WAYS 4

#define POLICY_REASON_ADDR "throttled by address"
#define POLICY_REASON_USER "throttled by user"

/* Check the settings as a whole (an exemption or a store needs a rule; the store's URI).
 * False with a message in err. */
bool policy_validate(const struct policy_settings *s, char *err, size_t errsz);

/* One line for logs and --check: "address 10/60, user off, 2 exempt ranges, local". */
void policy_describe(const struct policy_settings *s, char *out, size_t outsz);

/* In the master before forking; nothing happens when no rule is set. False on failure
 * (logged). The master never touches the mapping afterwards. */
bool policy_init(const struct policy_settings *s);
bool policy_enabled(void);

/* The reason (POLICY_REASON_*) when this request is throttled, else NULL. */
const char *policy_refuses(const struct request *req, const struct mech_request *mreq);

/* The mechanism said NO (a wrong password or an unknown login, not a back-end failure). */
void policy_record_failure(const struct request *req, const struct mech_request *mreq);

#endif
