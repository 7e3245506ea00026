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
#define ESCAPED_MAX (4 * PROTOCOL_FIELD_MAX + 1)

struct escaped_request {
	char user[4 * COMBINED_LOGIN_MAX + 1];
	char service[ESCAPED_MAX];
	char realm[ESCAPED_MAX];
	char remote[ESCAPED_MAX];
	char reason[4 * MECH_REASON_MAX + 1];
};

static void escape_for_log(struct escaped_request *e, const struct mech_request *mreq,
                           const char *reason)
{
	log_escape(mreq->login, e->user, sizeof(e->user));
	log_escape(mreq->service, e->service, sizeof(e->service));
	log_escape(mreq->realm, e->realm, sizeof(e->realm));
	log_escape(mreq->client_addr, e->remote, sizeof(e->remote));
	log_escape(reason, e->reason, sizeof(e->reason));
}

/* Cyrus's line formats; [remote=...] only for 5-field requests, as Cyrus master. */
static void log_outcome(const struct request_policy *policy, const struct request *req,
                        const struct mech_request *mreq, bool ok, const char *reason)
{
	struct escaped_request e;
	char remote[sizeof(e.remote) + 16] = "";

	if (ok && !log_verbose())
		return;
	escape_for_log(&e, mreq, reason);
	if (req->field_count == 5)
		snprintf(remote, sizeof(remote), " [remote=%s]", e.remote);
	if (ok)
		log_core(LOG_DEBUG, "auth success: [user=%s] [service=%s] [realm=%s]%s [mech=%s]",
		         e.user, e.service, e.realm, remote, policy->mech->name);
	else
		log_core(LOG_INFO,
		         "auth failure: [user=%s] [service=%s] [realm=%s]%s [mech=%s] [reason=%s]",
		         e.user, e.service, e.realm, remote, policy->mech->name, e.reason);
}

static void log_cached_success(const struct request *req, const struct mech_request *mreq)
{
	struct escaped_request e;
	char remote[sizeof(e.remote) + 16] = "";

	if (!log_verbose())
		return;
	escape_for_log(&e, mreq, "");
	if (req->field_count == 5)
		snprintf(remote, sizeof(remote), " [remote=%s]", e.remote);
	log_core(LOG_DEBUG, "auth success (cached): [user=%s] [service=%s] [realm=%s]%s", e.user,
	         e.service, e.realm, remote);
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

/* The one verdict of a request: the mechanism's, provided its reply text agrees (Cyrus
 * looked only at the text's first two bytes). An empty reply, an unknown one, or a text
 * that contradicts the verdict is a mechanism bug: the answer becomes
 * "NO internal mechanism failure" (VERDICT_FAIL), which is never cached. */
static enum verdict settle_verdict(const struct mechanism *mech, struct mech_result *r,
                                   bool *log_failure)
{
	bool says_ok = strncmp(r->reply, "OK", 2) == 0;
	bool says_no = strncmp(r->reply, "NO", 2) == 0;

	*log_failure = true;
	if (r->verdict == VERDICT_OK && says_ok)
		return VERDICT_OK;
	if ((r->verdict == VERDICT_NO || r->verdict == VERDICT_FAIL) && says_no)
		return r->verdict;
	if (r->reply[0] == '\0') {
		log_core(LOG_ERR, "internal mechanism failure: %s", mech->name);
	} else if (says_ok || says_no) {
		log_core(LOG_ERR, "mechanism %s: its verdict contradicts its reply", mech->name);
	} else {
		log_core(LOG_ERR, "mechanism returned unknown response: %s", mech->name);
		*log_failure = false; /* as Cyrus: no auth failure line for these */
	}
	mech_result_set(r, VERDICT_FAIL, "NO internal mechanism failure", "internal mechanism failure");
	return VERDICT_FAIL;
}

/* Call the mechanism; the settled verdict alone decides the reply, the cache, the log
 * line and the statistics. */
static void ask_mechanism(const struct request_policy *policy, const struct request *req,
                          const struct mech_request *mreq, const struct cache_ticket *ticket,
                          char *reply, size_t replysz)
{
	struct mech_result result;
	bool log_failure;

	memset(&result, 0, sizeof(result));
	int64_t started = sa_clock_us();
	policy->mech->auth(mreq, &result);
	enum verdict v = settle_verdict(policy->mech, &result, &log_failure);
	stats_record(v, sa_clock_us() - started);

	if (v == VERDICT_OK) {
		cache_store(ticket);
		log_outcome(policy, req, mreq, true, "");
	} else if (log_failure) {
		log_outcome(policy, req, mreq, false, result.reason);
	}
	if (v == VERDICT_NO) /* a guess; a back-end that cannot decide (FAIL) is not one */
		policy_record_failure(req, mreq);
	str_copy(reply, replysz, result.reply);
	secret_wipe(&result, sizeof(result));
}

/* Throttling: a refused request learns nothing, not even from a cached OK, and gets the
 * plain "NO" of a wrong password, so an attacker cannot tell when the limit bites. */
static bool throttled_reply(const struct request_policy *policy, const struct request *req,
                            const struct mech_request *mreq, char *reply, size_t replysz)
{
	const char *why = policy_refuses(req, mreq);

	if (why == NULL)
		return false;
	log_outcome(policy, req, mreq, false, why);
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

void request_decide(const struct request_policy *policy, const struct request *req,
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

	if (empty_field_reply(req, reply, replysz) || long_address_reply(req, reply, replysz))
		return;
	if (policy->realm_concat && req->realm[0] != '\0') {
		str_format(login, sizeof(login), "%s@%s", req->login, req->realm);
		mreq.login = login;
	}
	struct cache_ticket ticket;
	memset(&ticket, 0, sizeof(ticket));
	if (throttled_reply(policy, req, &mreq, reply, replysz)) {
		/* answered: neither the cache nor the mechanism is asked */
	} else if (cache_lookup(&mreq, &ticket)) {
		stats_count(STAT_CACHE_HIT);
		log_cached_success(req, &mreq);
		str_copy(reply, replysz, "OK"); /* Cyrus: the mechanism's own text is not replayed */
	} else {
		if (cache_enabled())
			stats_count(STAT_CACHE_MISS);
		ask_mechanism(policy, req, &mreq, &ticket, reply, replysz);
	}
	log_debug("response: %s", reply);
	secret_wipe(login, sizeof(login));
	secret_wipe(&ticket, sizeof(ticket));
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
