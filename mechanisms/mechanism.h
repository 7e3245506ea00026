/* The one interface every password-checking back-end implements: a mechanism gets a
 * request and returns a verdict, the reply text Cyrus would send, and a reason for the log.
 *
 * What a mechanism may do:
 *  - block inside auth() for as long as its own timeout allows: the daemon calls it in a
 *    process that serves one request at a time and expects it to answer within that bound;
 *  - keep per-process state (connections, handles) opened in worker_init() or lazily, and
 *    hold files or sockets of its own;
 *  - fork a short-lived child of its own to bound a library call that cannot be
 *    interrupted (kerberos5 does), provided it reaps the child before auth() returns and the
 *    child exits with _exit() without touching the daemon's state.
 * What it must not do:
 *  - touch the client's socket, the listening socket, signal dispositions or the
 *    daemon's shared memory (cache, statistics): those belong to saslauthd/;
 *  - assume which process it runs in, or that one process serves all requests: with
 *    --user it may run in a root verifier, and workers are replaced at any time;
 *  - log the password, or client text without the escaping of common/log.h. */
#ifndef SASLAUTHD_MECHANISM_H
#define SASLAUTHD_MECHANISM_H

#include <stdbool.h>
#include <stddef.h>

#define MECH_REPLY_MAX 256
#define MECH_REASON_MAX 256

enum verdict {
	VERDICT_OK,
	VERDICT_NO,  /* the credentials are wrong (or the account may not log in) */
	VERDICT_FAIL /* the back-end could not decide: unreachable, corrupt, internal error */
};

struct mech_request {
	const char *login; /* after -r rewriting */
	const char *password;
	const char *service;
	const char *realm;
	const char *client_addr; /* "" when the client sent the 4-field form */
};

struct mech_result {
	enum verdict verdict;
	char reply[MECH_REPLY_MAX];   /* wire text, Cyrus-compatible: "OK", "NO Incorrect password", ... */
	char reason[MECH_REASON_MAX]; /* what the log's [reason=...] says; never contains the password */
};

struct mech_settings {
	const char *option; /* -O argument, NULL when absent */
	/* --pam-services: comma-separated service names a request may ask for (pam only);
	 * NULL: the mechanism's built-in rule. */
	const char *services;
};

/* What -O means to a mechanism (struct mechanism's option_means), so a chain given one
 * -O can tell whether its mechanisms read it the same way. */
#define MECH_OPTION_CONF_FILE "configuration file"

struct mechanism {
	const char *name; /* canonical lower-case name, as in -v and log lines */
	/* What its -O names (MECH_OPTION_CONF_FILE, "sasldb file", ...); NULL: it ignores -O. */
	const char *option_means;
	/* Needs root to decide (e.g. reads /etc/shadow): with --user it runs in a root
	 * verifier process beside each unprivileged worker. */
	bool needs_root;
	/* Once, in the launching process before daemonising. 0 on success; on failure
	 * write a reason into err. Optional. */
	int (*init)(const struct mech_settings *settings, char *err, size_t errsz);
	/* In each worker after fork (open per-worker handles). Optional. */
	void (*worker_init)(void);
	/* Decide one request. Must fill result completely. */
	void (*auth)(const struct mech_request *req, struct mech_result *result);
	/* SIGHUP, in the master before workers are replaced. 0 on success. Optional. */
	int (*reload)(const struct mech_settings *settings, char *err, size_t errsz);
	/* Before a worker or the master exits. Optional. */
	void (*cleanup)(void);
	/* saslauthd --check, after a successful init: try the back-end once (bind to the
	 * directory, read the IMAP greeting, open the database...) and describe what was
	 * found in report. 0 when usable. Optional. */
	int (*check)(const struct mech_settings *settings, char *report, size_t reportsz);
};

/* The compiled-in mechanisms, in Cyrus's -v order, NULL-terminated. */
extern const struct mechanism *const mechanism_table[];

/* Case-insensitive lookup; NULL if not compiled in. */
const struct mechanism *mechanism_find(const char *name);

/* Fill a result. reply is the wire text; reason_fmt (may be NULL) the log reason; when NULL
 * the reason is taken from the reply as Cyrus does (text after "NO ", or "Unknown"). */
void mech_result_set(struct mech_result *result, enum verdict verdict, const char *reply,
                     const char *reason_fmt, ...) __attribute__((format(printf, 4, 5)));

/* The configuration file of a mechanism that reads one (ldap, kerberos5, httpform; see
 * saslauthd.conf(5)): the -O argument when given, else the built-in default
 * (SASLAUTHD_DEFAULT_CONF, /etc/saslauthd.conf on Debian). With optional set, a default
 * file that does not exist gives NULL: the mechanism runs on its built-in settings, as
 * Cyrus's kerberos5 does. */
const char *mech_config_file(const struct mech_settings *settings, bool optional);

/* The host part of a 5-field request's client address ("192.0.2.7;4321" gives
 * "192.0.2.7"; "" for the 4-field form). Longer host parts are refused before any cache
 * lookup or mechanism (a DNS name has at most 253 bytes), so the cache key and PAM_RHOST
 * always see the same, whole host. */
#define MECH_HOST_MAX 255

/* Copy the host part into host (at least MECH_HOST_MAX + 1 bytes); false when it is
 * longer than MECH_HOST_MAX or does not fit. */
bool mech_client_host(const char *client_addr, char *host, size_t hostsz);

/* Today's date as days since 1970-01-01, the unit of /etc/shadow's fields. */
long mech_days_since_epoch(void);

#endif
