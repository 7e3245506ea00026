/* Mechanism chaining (-a MECH1,MECH2,...): the mechanisms of one daemon, asked in order
 * until one says OK, with each one's -O. A single -a mechanism is a chain of one, which
 * behaves exactly as the daemon did without chaining. */
#ifndef SASLAUTHD_CHAIN_H
#define SASLAUTHD_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "mechanisms/mechanism.h"

/* More than the compiled-in mechanisms: a chain names each at most once. */
#define CHAIN_MAX 16
/* "sasldb,getpwent,kerberos5,..." with every mechanism. */
#define CHAIN_NAME_MAX 256
#define CHAIN_ERR_MAX 512

struct chain_step {
	const struct mechanism *mech;
	struct mech_settings settings; /* its -O (NULL: none) and --pam-services */
};

struct chain {
	int count;
	struct chain_step steps[CHAIN_MAX];
	char name[CHAIN_NAME_MAX]; /* canonical names joined by ',': the [mech=] of a failure */
};

/* Build the chain from -a's list and hand out the -O values: noptions were given, options
 * holds the last min(noptions, CHAIN_MAX) of them in order. One mechanism gets the last
 * -O (Cyrus); several get one -O each ('' = none) when as many were given, or all the same
 * one when one was given and those that read -O read the same kind of thing.
 * services (--pam-services) goes to every step. False with a message in err. */
bool chain_parse(struct chain *c, const char *list, const char *const *options, int noptions,
                 const char *services, char *err, size_t errsz);

/* A chain of one mechanism with no settings (callers that have no chain). */
void chain_of_one(struct chain *c, const struct mechanism *mech);

bool chain_has(const struct chain *c, const char *mech_name);

/* init of each mechanism, in the launching process. On a failure the ones already
 * initialised are cleaned up and err says which failed. 0 on success. */
int chain_init(const struct chain *c, char *err, size_t errsz);

/* SIGHUP: reload every mechanism that can; each failure is logged (that mechanism keeps
 * its old settings). Returns how many failed. */
int chain_reload(const struct chain *c);

/* worker_init / cleanup of the mechanisms this process decides itself (under --user, a
 * root verifier decides those that need root and runs theirs). */
void chain_worker_init(const struct chain *c);
void chain_cleanup(const struct chain *c);

/* Ask the chain: OK from the first mechanism that says OK; a NO (unknown user or wrong
 * password: mechanisms cannot tell) or a FAIL moves on. With no OK, the first FAIL's
 * answer if any mechanism failed (never cached), else the last NO's. result gets that
 * answer; *decider the name for [mech=] (the mechanism that said OK, else the chain's
 * name); *log_failure false when the answer is one Cyrus logs no failure line for. */
enum verdict chain_decide(const struct chain *c, const struct mech_request *req,
                          struct mech_result *result, const char **decider, bool *log_failure);

#endif
