/* --policy-store: the throttling counters and the recent-wrong-password memory in Redis,
 * shared by a fleet. One sorted set per key, "saslauthd:throttle:<addr|user>:<key>",
 * members the HMAC of a wrong password, scores the time of the failure in wall-clock
 * milliseconds; each set expires SECONDS after its last failure. The HMAC key is created
 * once in Redis (SET NX "saslauthd:policy:hmac-key") so every host computes the same
 * digests. Every call waits at most POLICY_REDIS_TIMEOUT_MS; on any error the caller
 * uses its local counters, and no connection is tried again before POLICY_REDIS_RETRY_MS. */
#ifndef SASLAUTHD_POLICY_REDIS_H
#define SASLAUTHD_POLICY_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define POLICY_REDIS_TIMEOUT_MS 50
#define POLICY_REDIS_RETRY_MS 3000
#define POLICY_REDIS_HOST_MAX 256
#define POLICY_REDIS_MAX_DB 10000

struct policy_store_uri {
	bool is_unix;
	char host[POLICY_REDIS_HOST_MAX];
	int port;
	char path[SA_PATH_MAX];
	int db;
};

/* Whether this build has Redis support (hiredis). */
bool policy_redis_available(void);

/* redis://HOST[:PORT][/DB] or redis:///path/to/socket[?db=N]. False with err filled. */
bool policy_store_parse(const char *uri, struct policy_store_uri *out, char *err, size_t errsz);

/* Shared by all processes (lives in the policy layer's shared mapping, touched with
 * atomics only): whether the store is down, and when a connection may be tried again. */
struct policy_store_state {
	int down;
	int64_t retry_at_ms;
};

/* Before forking: where the store is, and the shared state. Connects nothing. */
void policy_redis_setup(const struct policy_store_uri *uri, struct policy_store_state *state);

/* One throttling key as the store sees it. */
struct policy_redis_key {
	const char *kind; /* "addr" or "user" */
	const char *text;
	int64_t window_ms;
};

/* The failures of each key within its window. False: the store cannot answer now. */
bool policy_redis_count(const struct policy_redis_key *keys, int nkeys, long counts[]);

/* Remember a failure of password for each key. False: the store cannot answer now. */
bool policy_redis_add(const struct policy_redis_key *keys, int nkeys, const char *password);

/* --check: connect, PING, fetch or create the fleet key; a line of detail in report. */
bool policy_redis_probe(const struct policy_store_uri *uri, char *report, size_t reportsz);

#endif
