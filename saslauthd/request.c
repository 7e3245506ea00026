#include "saslauthd/request.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "saslauthd/cache.h"
#include "saslauthd/policy.h"
#include "saslauthd/stats.h"

/* login@realm with both at their maximum. */
#define COMBINED_LOGIN_MAX (2 * PROTOCOL_FIELD_MAX + 2)

/* Caps on each escaped field of an auth success/failure line (with the NUL; longer values
 * are cut and marked), chosen so that the whole line fits in LOG_LINE_MAX: a long login can
 * never push [remote=] or [reason=] off the end, where a fail2ban rule looks for them. */
#define LOG_CAP_USER 256
#define LOG_CAP_SERVICE 64
#define LOG_CAP_REALM 128
#define LOG_CAP_REMOTE 96
#define LOG_CAP_MECH 96
#define LOG_CAP_REASON 200
/* The longest fixed text of the failure line (the format below without its values). */
#define LOG_FAILURE_TEXT_MAX 80
_Static_assert(LOG_CAP_USER + LOG_CAP_SERVICE + LOG_CAP_REALM + LOG_CAP_REMOTE + LOG_CAP_MECH +
                   LOG_CAP_REASON + LOG_FAILURE_TEXT_MAX <= LOG_LINE_MAX,
               "an auth failure line must fit in LOG_LINE_MAX");

struct escaped_request {
	char user[LOG_CAP_USER];
	char service[LOG_CAP_SERVICE];
	char realm[LOG_CAP_REALM];
	char remote[LOG_CAP_REMOTE];
	char mech[LOG_CAP_MECH];
	char reason[LOG_CAP_REASON];
};

static void escape_for_log(struct escaped_request *e, const struct mech_request *mreq,
                           const char *mech, const char *reason)
{
	log_escape_capped(mreq->login, e->user, sizeof(e->user));
	log_escape_capped(mreq->service, e->service, sizeof(e->service));
	log_escape_capped(mreq->realm, e->realm, sizeof(e->realm));
	log_escape_capped(mreq->client_addr, e->remote, sizeof(e->remote));
	log_escape_capped(mech, e->mech, sizeof(e->mech));
	log_escape_capped(reason, e->reason, sizeof(e->reason));
}

/* Cyrus's line formats; [remote=...] only for 5-field requests, as Cyrus master. */
static void log_outcome(const char *mech_name, const struct request *req,
                        const struct mech_request *mreq, bool ok, const char *reason)
{
	struct escaped_request e;
	char remote[sizeof(e.remote) + 16] = "";

	if (ok && !log_verbose())
		return;
	escape_for_log(&e, mreq, mech_name, reason);
	if (req->field_count == 5)
		snprintf(remote, sizeof(remote), " [remote=%s]", e.remote);
	if (ok)
		log_core(LOG_DEBUG, "auth success: [user=%s] [service=%s] [realm=%s]%s [mech=%s]",
		         e.user, e.service, e.realm, remote, e.mech);
	else
		log_core(LOG_INFO,
		         "auth failure: [user=%s] [service=%s] [realm=%s]%s [mech=%s] [reason=%s]",
		         e.user, e.service, e.realm, remote, e.mech, e.reason);
}

static void log_cached_success(const struct request *req, const struct mech_request *mreq)
{
	struct escaped_request e;
	char remote[sizeof(e.remote) + 16] = "";

	if (!log_verbose())
		return;
	escape_for_log(&e, mreq, "", "");
	if (req->field_count == 5)
		snprintf(remote, sizeof(remote), " [remote=%s]", e.remote);
	log_core(LOG_DEBUG, "auth success (cached): [user=%s] [service=%s] [realm=%s]%s", e.user,
	         e.service, e.realm, remote);
}

/* The back-end failed and an expired entry answered: one line whatever -V says, so the
 * admin sees that logins rest on old data. */
static void log_stale_answer(const char *mech_name, const struct request *req,
                             const struct mech_request *mreq, const char *reason)
{
	struct escaped_request e;
	char remote[sizeof(e.remote) + 16] = "";

	escape_for_log(&e, mreq, mech_name, reason);
	if (req->field_count == 5)
		snprintf(remote, sizeof(remote), " [remote=%s]", e.remote);
	log_core(LOG_NOTICE,
	         "auth success (stale): [user=%s] [service=%s] [realm=%s]%s [mech=%s] "
	         "[reason=back-end failed, answered from an expired cache entry: %s]",
	         e.user, e.service, e.realm, remote, e.mech, e.reason);
}

static bool empty_field_reply(const struct request *req, char *reply, size_t replysz)
{
	const char *what = NULL;

	if (req->login[0] == '\0')
		what = "login";
	else if (req->password[0] == '\0')
		what = "password";
	if (what == NULL)
		return false;
	/* The empty-password check also stops LDAP "unauthenticated bind" successes. */
	stats_count(STAT_REFUSED);
	log_core(LOG_ERR, "NULL %s received", what);
	str_format(reply, replysz, "NO NULL %s received", what);
	return true;
}

/* The [mech=] of an answer no mechanism gave: the chain's name (one mechanism's alone). */
static const char *policy_chain_name(const struct request_policy *policy)
{
	return policy->chain != NULL ? policy->chain->name : policy->mech->name;
}

/* The chain of -a, or the policy's one mechanism. */
static const struct chain *policy_chain(const struct request_policy *policy, struct chain *one)
{
	if (policy->chain != NULL)
		return policy->chain;
	chain_of_one(one, policy->mech);
	return one;
}

/* --stale-ttl: a FAIL answered OK from an expired entry for the same password. */
static bool stale_answers(const char *mech_name, const struct request *req,
                          const struct mech_request *mreq, const struct cache_ticket *ticket,
                          const char *reason)
{
	if (!cache_stale_hit(ticket))
		return false;
	stats_count(STAT_STALE_HIT);
	log_stale_answer(mech_name, req, mreq, reason);
	return true;
}

/* Ask the chain; its settled verdict alone decides the reply, the cache, the log line and
 * the statistics. */
static enum verdict ask_mechanism(const struct request_policy *policy, const struct request *req,
                                  const struct mech_request *mreq,
                                  const struct cache_ticket *ticket, char *reply, size_t replysz)
{
	struct mech_result result;
	struct chain one;
	const char *decider;
	bool log_failure;

	memset(&result, 0, sizeof(result));
	int64_t started = sa_clock_us();
	enum verdict v = chain_decide(policy_chain(policy, &one), mreq, &result, &decider,
	                              &log_failure);
	stats_record(v, sa_clock_us() - started);

	if (v == VERDICT_FAIL && stale_answers(decider, req, mreq, ticket, result.reason)) {
		mech_result_set(&result, VERDICT_OK, "OK", NULL);
		v = VERDICT_OK;
	} else if (v == VERDICT_OK) {
		cache_store(ticket);
		log_outcome(decider, req, mreq, true, "");
	} else {
		if (v == VERDICT_NO)
			cache_store_negative(ticket);
		if (log_failure)
			log_outcome(decider, req, mreq, false, result.reason);
	}
	if (v == VERDICT_NO) /* a guess; a back-end that cannot decide (FAIL) is not one */
		policy_record_failure(req, mreq);
	str_copy(reply, replysz, result.reply);
	secret_wipe(&result, sizeof(result));
	return v;
}

/* --negative-ttl: the same wrong password again is refused without the back-end. */
static bool negative_answers(const struct request_policy *policy, const struct request *req,
                             const struct mech_request *mreq, const struct cache_ticket *ticket,
                             char *reply, size_t replysz)
{
	if (!ticket->negative_hit)
		return false;
	stats_count(STAT_NEGATIVE_HIT);
	log_outcome(policy_chain_name(policy), req, mreq, false,
	            "same wrong password again (negative cache)");
	str_copy(reply, replysz, "NO");
	return true;
}

/* Throttling: a refused request learns nothing, not even from a cached OK, and gets the
 * plain "NO" of a wrong password, so an attacker cannot tell when the limit bites. */
static bool throttled_reply(const struct request_policy *policy, const struct request *req,
                            const struct mech_request *mreq, char *reply, size_t replysz)
{
	const char *why = policy_refuses(req, mreq);

	if (why == NULL)
		return false;
	log_outcome(policy_chain_name(policy), req, mreq, false, why);
	str_copy(reply, replysz, "NO");
	return true;
}

/* One rule for the client address everywhere (cache key, PAM_RHOST): a host part longer
 * than MECH_HOST_MAX is refused here, before either sees it. */
static bool long_address_reply(const struct request *req, char *reply, size_t replysz)
{
	char host[MECH_HOST_MAX + 1];

	if (mech_client_host(req->client_addr, host, sizeof(host)))
		return false;
	stats_count(STAT_REFUSED);
	log_core(LOG_ERR, "remote address longer than %d bytes", MECH_HOST_MAX);
	str_format(reply, replysz, "NO remote address longer than %d bytes", MECH_HOST_MAX);
	return true;
}

enum verdict request_decide(const struct request_policy *policy, const struct request *req,
                            char *reply, size_t replysz)
{
	char login[COMBINED_LOGIN_MAX];
	struct mech_request mreq = {
		.login = req->login,
		.password = req->password,
		.service = req->service,
		.realm = req->realm,
		.client_addr = req->client_addr,
	};

	enum verdict v = VERDICT_OK;

	if (empty_field_reply(req, reply, replysz) || long_address_reply(req, reply, replysz))
		return VERDICT_NO;
	if (policy->realm_concat && req->realm[0] != '\0') {
		str_format(login, sizeof(login), "%s@%s", req->login, req->realm);
		mreq.login = login;
	}
	struct cache_ticket ticket;
	memset(&ticket, 0, sizeof(ticket));
	if (throttled_reply(policy, req, &mreq, reply, replysz)) {
		v = VERDICT_NO; /* neither the cache nor the mechanism is asked; delayed as any NO */
	} else if (cache_lookup(&mreq, &ticket)) {
		stats_count(STAT_CACHE_HIT);
		log_cached_success(req, &mreq);
		str_copy(reply, replysz, "OK"); /* Cyrus: the mechanism's own text is not replayed */
	} else if (negative_answers(policy, req, &mreq, &ticket, reply, replysz)) {
		v = VERDICT_NO;
	} else {
		if (cache_enabled())
			stats_count(STAT_CACHE_MISS);
		v = ask_mechanism(policy, req, &mreq, &ticket, reply, replysz);
	}
	log_debug("response: %s", reply);
	secret_wipe(login, sizeof(login));
	secret_wipe(&ticket, sizeof(ticket));
	return v;
}

void request_refuse(enum parse_status status, enum request_field field, char *reply,
                    size_t replysz)
{
	const char *name = protocol_field_name(field);

	stats_count(STAT_REFUSED);
	if (status == PARSE_TOO_LONG) {
		/* Cyrus's log text, with our limit; Cyrus's reply was a bare "NO ". */
		log_core(LOG_ERR, "%s exceeded MAX_REQ_LEN: %d", name, PROTOCOL_FIELD_MAX);
		str_format(reply, replysz, "NO %s longer than %d bytes", name, PROTOCOL_FIELD_MAX);
	} else {
		log_core(LOG_ERR, "%s contains a NUL byte", name);
		str_format(reply, replysz, "NO %s contains a NUL byte", name);
	}
}
