/* Command-line options, parsed the way Cyrus saslauthd parses them. */
#ifndef SASLAUTHD_OPTIONS_H
#define SASLAUTHD_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "common/limits.h"
#include "mechanisms/mechanism.h"
#include "saslauthd/chain.h"
#include "saslauthd/policy_rules.h"

#define OPTIONS_DEFAULT_WORKERS 5
/* Cyrus has no bound; a typo such as -n 5000 should not fork-bomb the machine. */
#define OPTIONS_MAX_WORKERS 512
#define OPTIONS_DEFAULT_CACHE_KB 0 /* Cyrus's 1711 slots */
#define OPTIONS_DEFAULT_CACHE_TIMEOUT 28800
#define OPTIONS_DEFAULT_MAX_REQUESTS 10000
/* --max-workers default when it is not given: Dovecot's auth-worker limit (or -n, if
 * higher). Each idle worker costs a few MB; a slow back-end makes that worth it. */
#define OPTIONS_DEFAULT_MAX_WORKERS 30
/* --worker-idle default: workers above -n retire after this many seconds without work. */
#define OPTIONS_DEFAULT_WORKER_IDLE 60
#define OPTIONS_MAX_WORKER_IDLE 86400
/* --fail-delay ceiling: with its 50 % jitter a client waits at most 15 s, well inside
 * the timeouts of the mail servers that ask us. */
#define OPTIONS_MAX_FAIL_DELAY_MS 10000
/* --negative-ttl and --stale-ttl ceilings (a day: a longer stale answer is an outage
 * nobody noticed). */
#define OPTIONS_MAX_FAILURE_TTL 86400

struct options {
	const struct mechanism *mech; /* the first of the chain */
	const char *mech_name;   /* as given with -a: one mechanism or a comma-separated chain */
	const char *mech_option; /* -O, last one wins (as Cyrus) */
	/* Every -O, for a chain: the last CHAIN_MAX of mech_option_count given. */
	const char *mech_options[CHAIN_MAX];
	int mech_option_count;
	struct chain chain;      /* -a with each mechanism's -O */
	char run_dir[SA_PATH_MAX];
	int workers;             /* -n; 0 = one process per connection; the pool's floor */
	int max_workers;         /* --max-workers: the pool's ceiling (>= workers) */
	long worker_idle;        /* --worker-idle: seconds before a worker above -n retires */
	bool cache;              /* -c */
	long cache_kb;           /* -s */
	long cache_timeout;      /* -t */
	bool accept_lock;        /* cleared by -l */
	bool realm_concat;       /* -r */
	bool verbose;            /* -V, -d */
	bool foreground;         /* -d, -f */
	long max_requests;       /* per worker before it is replaced; 0 = never */
	const char *run_as;      /* --user user[:group] for the workers, NULL: stay root */
	unsigned socket_mode;    /* --socket-mode, default 0777 as Cyrus */
	const char *socket_group; /* --socket-group, NULL: leave it */
	const char *pam_services; /* --pam-services, NULL: pam's built-in deny-list */
	bool print_stats;        /* --stats: print the running daemon's counters and exit */
	bool check_only;         /* --check: validate and probe the back-end, then exit */
	long fail_delay_ms;      /* --fail-delay, 0: answer failures at once */
	long negative_ttl;       /* --negative-ttl seconds (needs -c), 0: off */
	long stale_ttl;          /* --stale-ttl seconds (needs -c), 0: off */
	struct policy_settings policy; /* --throttle-*, --policy-store */
};

/* Parse argv. Returns -1 when the daemon should run, otherwise the exit status
 * (after printing -v/-h output or an error to err). */
int options_parse(struct options *opts, int argc, char **argv, FILE *err);

/* The -v block: "saslauthd <version>\nauthentication mechanisms: a b c\n\n". */
void options_print_version(FILE *out);

#endif
