#include "saslauthd/chain.h"

#include <string.h>

#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "saslauthd/privsep.h"
#include "saslauthd/stats.h"

/* Longer than any mechanism's name: such an element is unknown. */
#define CHAIN_ELEMENT_MAX 64

void chain_of_one(struct chain *c, const struct mechanism *mech)
{
	memset(c, 0, sizeof(*c));
	c->count = 1;
	c->steps[0].mech = mech;
	str_copy(c->name, sizeof(c->name), mech->name);
}

bool chain_has(const struct chain *c, const char *mech_name)
{
	for (int i = 0; i < c->count; i++) {
		if (strcmp(c->steps[i].mech->name, mech_name) == 0)
			return true;
	}
	return false;
}

/* One element of -a's list: known, not named before. */
static bool add_step(struct chain *c, const char *elem, size_t len, const char *list, char *err,
                     size_t errsz)
{
	char name[CHAIN_ELEMENT_MAX];

	if (len == 0) {
		str_format(err, errsz, "-a %s: empty mechanism name in the list", list);
		return false;
	}
	if (len >= sizeof(name)) {
		str_format(err, errsz, "unknown authentication mechanism: %.*s", (int)len, elem);
		return false;
	}
	memcpy(name, elem, len);
	name[len] = '\0';
	const struct mechanism *mech = mechanism_find(name);
	if (mech == NULL) {
		str_format(err, errsz, "unknown authentication mechanism: %s", name);
		return false;
	}
	if (chain_has(c, mech->name)) {
		str_format(err, errsz, "-a %s: mechanism %s is named twice", list, mech->name);
		return false;
	}
	if (c->count == CHAIN_MAX) {
		str_format(err, errsz, "-a %s: more than %d mechanisms", list, CHAIN_MAX);
		return false;
	}
	c->steps[c->count++].mech = mech;
	if (!str_format(c->name + strlen(c->name), sizeof(c->name) - strlen(c->name), "%s%s",
	                c->count > 1 ? "," : "", mech->name)) {
		str_format(err, errsz, "-a %s: list too long", list);
		return false;
	}
	return true;
}

/* One -O for every mechanism: only when those that read -O read the same kind of thing
 * (ldap, sql, httpform and kerberos5 all read saslauthd.conf, whose keys are prefixed). */
static bool share_option(struct chain *c, const char *option, char *err, size_t errsz)
{
	const struct mechanism *reader = NULL;

	for (int i = 0; i < c->count; i++) {
		const struct mechanism *m = c->steps[i].mech;
		if (m->option_means == NULL)
			continue;
		if (reader != NULL && strcmp(reader->option_means, m->option_means) != 0) {
			str_format(err, errsz,
			           "-a %s: one -O cannot be both %s's %s and %s's %s; give -O once per "
			           "mechanism, in the order of -a ('' for none)",
			           c->name, reader->name, reader->option_means, m->name, m->option_means);
			return false;
		}
		reader = m;
		c->steps[i].settings.option = option;
	}
	return true;
}

/* As many -O as mechanisms: the n-th goes to the n-th; '' means none. */
static bool spread_options(struct chain *c, const char *const *options, char *err, size_t errsz)
{
	for (int i = 0; i < c->count; i++) {
		const struct mechanism *m = c->steps[i].mech;
		if (options[i][0] == '\0')
			continue;
		if (m->option_means == NULL) {
			str_format(err, errsz,
			           "-a %s: -O number %d goes to %s, which takes no -O; give '' in its place",
			           c->name, i + 1, m->name);
			return false;
		}
		c->steps[i].settings.option = options[i];
	}
	return true;
}

static bool assign_options(struct chain *c, const char *const *options, int noptions, char *err,
                           size_t errsz)
{
	if (noptions == 0)
		return true;
	if (c->count == 1) {
		/* Cyrus: the last -O wins. */
		c->steps[0].settings.option = options[(noptions < CHAIN_MAX ? noptions : CHAIN_MAX) - 1];
		return true;
	}
	if (noptions == 1)
		return share_option(c, options[0], err, errsz);
	if (noptions == c->count)
		return spread_options(c, options, err, errsz);
	str_format(err, errsz,
	           "-a %s names %d mechanisms but -O was given %d times: give it once (for every "
	           "mechanism) or once per mechanism, in the order of -a",
	           c->name, c->count, noptions);
	return false;
}

bool chain_parse(struct chain *c, const char *list, const char *const *options, int noptions,
                 const char *services, char *err, size_t errsz)
{
	const char *p = list;

	memset(c, 0, sizeof(*c));
	for (;;) {
		size_t len = strcspn(p, ",");
		if (!add_step(c, p, len, list, err, errsz))
			return false;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	for (int i = 0; i < c->count; i++)
		c->steps[i].settings.services = services;
	return assign_options(c, options, noptions, err, errsz);
}

int chain_init(const struct chain *c, char *err, size_t errsz)
{
	char why[CHAIN_ERR_MAX];

	for (int i = 0; i < c->count; i++) {
		const struct chain_step *s = &c->steps[i];
		why[0] = '\0';
		if (s->mech->init == NULL || s->mech->init(&s->settings, why, sizeof(why)) == 0)
			continue;
		str_format(err, errsz, "failed to initialize mechanism %s%s%s", s->mech->name,
		           why[0] != '\0' ? ": " : "", why);
		for (int j = 0; j < i; j++) {
			if (c->steps[j].mech->cleanup != NULL)
				c->steps[j].mech->cleanup();
		}
		return 1;
	}
	return 0;
}

int chain_reload(const struct chain *c)
{
	char why[CHAIN_ERR_MAX];
	int failed = 0;

	for (int i = 0; i < c->count; i++) {
		const struct chain_step *s = &c->steps[i];
		why[0] = '\0';
		if (s->mech->reload == NULL || s->mech->reload(&s->settings, why, sizeof(why)) == 0)
			continue;
		log_core(LOG_ERR, "reload of mechanism %s failed, keeping the old settings: %s",
		         s->mech->name, why);
		failed++;
	}
	return failed;
}

void chain_worker_init(const struct chain *c)
{
	for (int i = 0; i < c->count; i++) {
		const struct mechanism *m = c->steps[i].mech;
		if (m->worker_init != NULL && !privsep_decides(m))
			m->worker_init();
	}
}

void chain_cleanup(const struct chain *c)
{
	for (int i = 0; i < c->count; i++) {
		const struct mechanism *m = c->steps[i].mech;
		if (m->cleanup != NULL && !privsep_decides(m))
			m->cleanup();
	}
}

/* A mechanism's verdict counts only when its reply text agrees (Cyrus looked only at the
 * text's first two bytes). An empty reply, an unknown one, or a text that contradicts the
 * verdict is a mechanism bug: the answer becomes "NO internal mechanism failure"
 * (VERDICT_FAIL), which is never cached. */
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

static enum verdict ask_step(const struct chain_step *s, const struct mech_request *req,
                             struct mech_result *r, bool *log_failure)
{
	memset(r, 0, sizeof(*r));
	if (privsep_decides(s->mech))
		privsep_auth(s->mech, req, r);
	else
		s->mech->auth(req, r);
	return settle_verdict(s->mech, r, log_failure);
}

static void log_step(const struct chain *c, int i, enum verdict v, const char *reason)
{
	static const char *const names[] = { "OK", "NO", "FAIL" };
	char escaped[LOG_ESCAPED_MAX(MECH_REASON_MAX)];

	if (c->count == 1 || !log_verbose())
		return;
	log_debug("chain %s: step %d/%d %s: %s (%s)", c->name, i + 1, c->count,
	          c->steps[i].mech->name, names[v], log_escape(reason, escaped, sizeof(escaped)));
}

enum verdict chain_decide(const struct chain *c, const struct mech_request *req,
                          struct mech_result *result, const char **decider, bool *log_failure)
{
	struct mech_result step;
	bool step_log;
	bool failed = false;

	*decider = c->name;
	for (int i = 0; i < c->count; i++) {
		if (i > 0)
			stats_count(STAT_CHAIN_STEP);
		enum verdict v = ask_step(&c->steps[i], req, &step, &step_log);
		log_step(c, i, v, v == VERDICT_OK ? "" : step.reason);
		/* Once a mechanism failed its answer stays, unless one says OK: a later NO must
		 * not hide that a back-end was down (a FAIL is never cached, nor counted as a
		 * guess). Otherwise the last NO speaks. */
		if (v == VERDICT_OK || !failed) {
			*result = step;
			*log_failure = step_log;
		}
		if (v == VERDICT_OK) {
			*decider = c->steps[i].mech->name;
			break;
		}
		failed = failed || v == VERDICT_FAIL;
	}
	secret_wipe(&step, sizeof(step));
	return result->verdict;
}
