/* Counters shared by all workers: a small file-backed shared mapping in the run
 * directory (saslauthd.stats), written with atomic adds, read by `saslauthd --stats`. */
#ifndef SASLAUTHD_STATS_H
#define SASLAUTHD_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mechanisms/mechanism.h"

#define STATS_FILE "saslauthd.stats"

enum stats_counter {
	STAT_OK,           /* verdicts */
	STAT_NO,
	STAT_FAIL,         /* back-end could not decide */
	STAT_REFUSED,      /* protocol-level refusals: empty, too long, NUL */
	STAT_DROPPED,      /* clients dropped without an answer: timeout, EOF */
	STAT_WORKER_DIED,  /* workers killed by a signal or failing */
	STAT_WORKER_START, /* workers forked (replacements included) */
	STAT_CACHE_HIT,    /* answered from the credential cache (-c) */
	STAT_CACHE_MISS,   /* looked up in the cache, then asked the mechanism */
	STAT_STALLED_DROPPED, /* incomplete connections dropped at the connection limit */
	STAT_POOL_GROWN,   /* workers started above -n because all were deciding */
	STAT_POOL_RETIRED, /* workers above -n stopped after --worker-idle */
	STAT_CHAIN_STEP,   /* -a chain: mechanisms asked after the first for one request */
	STAT_DELAYED,      /* replies held back by --fail-delay */
	STAT_NEGATIVE_HIT, /* refused from the negative cache (--negative-ttl) */
	STAT_STALE_HIT,    /* back-end failed, an expired entry answered OK (--stale-ttl) */
	STAT_THROTTLED_ADDR, /* refused by --throttle-addr */
	STAT_THROTTLED_USER, /* refused by --throttle-user */
	STAT_POLICY_STORE_ERROR, /* --policy-store calls that failed or timed out */
	STAT_COUNTER_COUNT
};

/* Values the master refreshes a few times a second. */
enum stats_gauge {
	STAT_G_WORKERS,       /* worker processes */
	STAT_G_BUSY,          /* of which deciding a request */
	STAT_G_WAITING,       /* connections waiting in the listen queue */
	STAT_GAUGE_COUNT
};

/* Create the mapping in the current directory (the run directory), before forking. */
bool stats_create(const char *mech_name);
/* Remove the file at shutdown. */
void stats_remove(void);

void stats_count(enum stats_counter c);
void stats_set_gauge(enum stats_gauge g, int64_t value);
/* A decided request: its verdict and how long the mechanism took. */
void stats_record(enum verdict v, int64_t micros);

/* `saslauthd --stats`: print the counters of the daemon using run_dir in Prometheus
 * text format. Returns the exit status. */
int stats_print(const char *run_dir, FILE *out);

#endif
