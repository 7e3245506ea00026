/* ldap: check passwords against an LDAP directory, configured by saslauthd.conf
 * (saslauthd.conf(5), LDAP). Methods bind, fastbind and custom as in Cyrus, with these changes:
 *  - the configuration is read and checked at start-up and on SIGHUP, not at first use;
 *  - each worker keeps two connections: "svc" stays bound as the service identity and
 *    carries searches, reads and group checks; "usr" carries the user binds. Cyrus binds
 *    as the service, searches and binds as the user on one connection, so every login
 *    costs three operations; ours costs two (search + user bind) on the hot path;
 *  - a user bind is never skipped, so a password changed in LDAP takes effect on the next
 *    request (Cyrus #550), and no group check runs with a user's rights when a service
 *    identity is configured;
 *  - all of one request's LDAP work is bounded by ldap_timeout, fail-over included. */
#include "build_config.h"
#include "mechanisms/mechanism.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/stored_hash.h"
#include "common/strutil.h"
#include "mechanisms/ldap_config.h"
#include "mechanisms/ldap_conn.h"
#include "mechanisms/ldap_expand.h"

#define WHY_MAX 200
#define USER_SEARCH_SIZELIMIT 2  /* enough to tell "one entry" from "ambiguous" */
#define GROUP_SEARCH_SIZELIMIT 1 /* one entry proves membership */

enum outcome_kind { OUT_OK, OUT_BADPW, OUT_NOUSER, OUT_NOTGROUP, OUT_FAIL, OUT_RETRY };

struct outcome {
	enum outcome_kind kind;
	char why[WHY_MAX];
};

struct login {
	const struct sa_ldap_settings *s;
	struct sa_ldap_tokens tok;
	const char *password;
	int64_t deadline;
	char dn[LDAPC_DN_MAX]; /* the user's entry, once known */
};

static struct {
	struct sa_ldap_settings settings;
	char path[SA_PATH_MAX];
	struct lconn svc; /* bound as the service identity */
	struct lconn usr; /* carries user binds; never used for searches */
} sa_ldap_state;

static void set_outcome(struct outcome *o, enum outcome_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_outcome(struct outcome *o, enum outcome_kind kind, const char *fmt, ...)
{
	va_list ap;
	o->kind = kind;
	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

/* An LDAP error after which the request cannot be decided: retry on a fresh connection
 * when the transport failed, else give up (server busy, unavailable...). */
static void server_error(struct outcome *o, const char *what, int rc)
{
	set_outcome(o, lconn_transport_error(rc) ? OUT_RETRY : OUT_FAIL, "%s: %s", what,
	            ldap_err2string(rc));
}

/* ---------------------------------------------------------------- connections */

static bool ensure_conn(struct lconn *c, enum lconn_identity who, const char *prefer,
                        const struct login *l, struct outcome *o)
{
	char err[WHY_MAX];

	if (lconn_usable(c))
		return true;
	switch (lconn_open(c, l->s, prefer, who, l->deadline, err, sizeof(err))) {
	case LCONN_OPEN_OK:
		return true;
	case LCONN_OPEN_REFUSED:
		set_outcome(o, OUT_FAIL, "%s", err);
		return false;
	case LCONN_OPEN_DOWN:
		break;
	}
	set_outcome(o, OUT_FAIL, "%s", err);
	return false;
}

static bool ensure_svc(const struct login *l, struct outcome *o)
{
	return ensure_conn(&sa_ldap_state.svc, LCONN_SERVICE, NULL, l, o);
}

static bool ensure_usr(const struct login *l, struct outcome *o)
{
	/* Same server as the searches when possible: replicas may lag behind each other. */
	const char *prefer = lconn_usable(&sa_ldap_state.svc) ? sa_ldap_state.svc.uri : NULL;
	return ensure_conn(&sa_ldap_state.usr, LCONN_ANONYMOUS, prefer, l, o);
}

/* Whether fastbind's group checks can run as the service rather than as the user. With
 * SASL the service binds as ldap_id (bind_as ignores ldap_bind_dn then); ldap_mech alone
 * is no service identity: in fastbind it is the mechanism of the users' own binds, and a
 * service bind with it but without ldap_id fails (and failed every login). */
static bool has_service_identity(const struct sa_ldap_settings *s)
{
	if (s->use_sasl)
		return s->sasl_id[0] != '\0';
	return s->bind_dn[0] != '\0';
}

/* ---------------------------------------------------------------- steps */

static bool expand(const char *tmpl, const struct sa_ldap_tokens *t, enum sa_ldap_context ctx,
                   char *out, size_t outsz, const char *key, struct outcome *o)
{
	if (sa_ldap_expand(tmpl, t, ctx, out, outsz))
		return true;
	set_outcome(o, OUT_NOUSER, "%s too long after expansion", key);
	return false;
}

static void classify_bind(int rc, struct outcome *o)
{
	if (rc == LDAP_SUCCESS)
		set_outcome(o, OUT_OK, "ok");
	else if (lconn_transport_error(rc) || rc == LDAP_BUSY || rc == LDAP_UNAVAILABLE)
		server_error(o, "server unavailable", rc);
	else
		set_outcome(o, OUT_BADPW, "invalid credentials");
}

/* Search the user's entry on the service connection; fills l->dn and, when attr is
 * given, the last value of that attribute (Cyrus checks the last one returned). */
static bool find_user(struct login *l, const char *attr, struct berval **value,
                      struct outcome *o)
{
	char base[LDAPC_DN_MAX], filter[LDAPC_DN_MAX];
	char *attrs[] = { (char *)(attr != NULL ? attr : LDAP_NO_ATTRS), NULL };
	LDAPMessage *res = NULL;

	if (!expand(l->s->search_base, &l->tok, SA_LDAP_CTX_DN, base, sizeof(base), "ldap_search_base", o) ||
	    !expand(l->s->filter, &l->tok, SA_LDAP_CTX_FILTER, filter, sizeof(filter), "ldap_filter", o))
		return false;
	int rc = lconn_search(&sa_ldap_state.svc, base, (int)l->s->scope, filter, attrs,
	                      USER_SEARCH_SIZELIMIT, l->deadline, &res);
	bool ok = false;
	if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_SIZELIMIT_EXCEEDED) {
		int n = res != NULL ? ldap_count_entries(sa_ldap_state.svc.ld, res) : 0;
		if (n == 0)
			set_outcome(o, OUT_NOUSER, "user not found");
		else if (n > 1 || rc == LDAP_SIZELIMIT_EXCEEDED)
			set_outcome(o, OUT_NOUSER, "user not found (filter matches more than one entry)");
		else
			ok = true;
	} else if (rc == LDAP_TIMELIMIT_EXCEEDED || rc == LDAP_INSUFFICIENT_ACCESS) {
		set_outcome(o, OUT_NOUSER, "user not found (search: %s)", ldap_err2string(rc));
	} else {
		server_error(o, "server unavailable: user search", rc);
	}
	if (ok) {
		LDAPMessage *e = ldap_first_entry(sa_ldap_state.svc.ld, res);
		char *dn = e != NULL ? ldap_get_dn(sa_ldap_state.svc.ld, e) : NULL;
		ok = dn != NULL && str_copy(l->dn, sizeof(l->dn), dn);
		if (!ok)
			set_outcome(o, OUT_FAIL, "cannot read the DN of the user's entry");
		ldap_memfree(dn);
		if (ok && attr != NULL)
			*value = NULL;
		if (ok && attr != NULL) {
			struct berval **vals = ldap_get_values_len(sa_ldap_state.svc.ld, e, attr);
			int nv = ldap_count_values_len(vals);
			if (nv > 0)
				*value = ber_bvdup(vals[nv - 1]);
			ldap_value_free_len(vals);
		}
	}
	ldap_msgfree(res);
	return ok;
}

static void check_stored(const struct berval *value, const struct login *l, struct outcome *o)
{
	char why[SH_WHY_MAX];

	if (value == NULL) {
		set_outcome(o, OUT_BADPW, "invalid credentials (no password attribute readable)");
		return;
	}
	switch (sh_verify(value->bv_val, value->bv_len, l->password, &l->s->hash_policy, why,
	                  sizeof(why))) {
	case SH_MATCH:
		set_outcome(o, OUT_OK, "ok");
		break;
	case SH_MISMATCH:
		set_outcome(o, OUT_BADPW, "invalid credentials");
		break;
	case SH_UNSUPPORTED:
	case SH_MALFORMED:
	case SH_OVER_CAP:
		set_outcome(o, OUT_BADPW, "invalid credentials (%s)", why);
		break;
	}
}

/* ---------------------------------------------------------------- groups */

static bool group_configured(const struct sa_ldap_settings *s)
{
	return s->group_dn[0] != '\0' || s->group_filter[0] != '\0';
}

static void group_by_attr(struct lconn *c, const struct login *l, struct outcome *o)
{
	char group[LDAPC_DN_MAX];

	if (!expand(l->s->group_dn, &l->tok, SA_LDAP_CTX_DN, group, sizeof(group), "ldap_group_dn", o))
		return;
	int rc = lconn_compare(c, group, l->s->group_attr, l->dn, l->deadline);
	if (rc == LDAP_COMPARE_TRUE)
		set_outcome(o, OUT_OK, "ok");
	else if (lconn_transport_error(rc))
		server_error(o, "server unavailable: group compare", rc);
	else
		set_outcome(o, OUT_NOTGROUP, "not in group");
}

static void group_by_filter(struct lconn *c, const struct login *l, struct outcome *o)
{
	char base[LDAPC_DN_MAX], filter[LDAPC_DN_MAX];
	char *attrs[] = { (char *)LDAP_NO_ATTRS, NULL };
	struct sa_ldap_tokens t = l->tok;
	LDAPMessage *res = NULL;

	t.dn = l->dn;
	if (!expand(l->s->group_search_base, &t, SA_LDAP_CTX_DN, base, sizeof(base),
	            "ldap_group_search_base", o) ||
	    !expand(l->s->group_filter, &t, SA_LDAP_CTX_FILTER, filter, sizeof(filter),
	            "ldap_group_filter", o))
		return;
	int rc = lconn_search(c, base, (int)l->s->group_scope, filter, attrs, GROUP_SEARCH_SIZELIMIT,
	                      l->deadline, &res);
	int n = res != NULL ? ldap_count_entries(c->ld, res) : 0;
	ldap_msgfree(res);
	if ((rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED || rc == LDAP_NO_SUCH_OBJECT) && n > 0)
		set_outcome(o, OUT_OK, "ok");
	else if (lconn_transport_error(rc))
		server_error(o, "server unavailable: group search", rc);
	else
		set_outcome(o, OUT_NOTGROUP, "not in group");
}

/* After a successful password check: membership, on the given connection. */
static void check_group(struct lconn *c, const struct login *l, struct outcome *o)
{
	if (!group_configured(l->s))
		return;
	if (l->s->group_match == LDAPC_GROUP_FILTER)
		group_by_filter(c, l, o);
	else
		group_by_attr(c, l, o);
}

/* ---------------------------------------------------------------- methods */

static void method_bind(struct login *l, struct outcome *o)
{
	if (!ensure_svc(l, o) || !find_user(l, NULL, NULL, o) || !ensure_usr(l, o))
		return;
	classify_bind(lconn_simple_bind(&sa_ldap_state.usr, l->dn, l->password, l->deadline), o);
	if (o->kind == OUT_OK)
		check_group(&sa_ldap_state.svc, l, o);
}

static void method_custom(struct login *l, struct outcome *o)
{
	struct berval *value = NULL;

	if (!ensure_svc(l, o) || !find_user(l, l->s->password_attr, &value, o))
		return;
	check_stored(value, l, o);
	if (value != NULL) {
		secret_wipe(value->bv_val, value->bv_len);
		ber_bvfree(value);
	}
	if (o->kind == OUT_OK)
		check_group(&sa_ldap_state.svc, l, o);
}

/* Client-side SASL failures of ldap_sasl_interactive_bind: no mechanism usable with these
 * security properties, a mechanism the library does not have, bad parameters. */
static bool sasl_setup_error(int rc)
{
	return rc == LDAP_AUTH_UNKNOWN || rc == LDAP_NOT_SUPPORTED || rc == LDAP_PARAM_ERROR ||
	       rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

/* SASL user bind: authentication id = login, plus @realm when it has no domain. */
static void sasl_user_bind(struct login *l, struct outcome *o)
{
	char authcid[LDAPC_DN_MAX];
	const char *realm = l->tok.realm;

	if (strchr(l->tok.user, '@') == NULL && realm[0] != '\0')
		str_format(authcid, sizeof(authcid), "%s@%s", l->tok.user, realm);
	else
		str_copy(authcid, sizeof(authcid), l->tok.user);
	int rc = lconn_sasl_bind(&sa_ldap_state.usr, l->s->mech, authcid, "", l->s->realm, l->password,
	                         l->deadline);
	if (sasl_setup_error(rc)) {
		/* Nothing was asked of the server about this password: say why, and do not call
		 * it a wrong password (e.g. PLAIN refused by the default "noplain" secprops). */
		char diag[LCONN_DIAG_MAX];
		lconn_diagnostic(&sa_ldap_state.usr, diag, sizeof(diag));
		set_outcome(o, OUT_FAIL, "SASL bind (%s): %s%s",
		            l->s->mech[0] != '\0' ? l->s->mech : "default mechanism", ldap_err2string(rc),
		            diag);
		return;
	}
	classify_bind(rc, o);
	if (o->kind != OUT_OK || !group_configured(l->s))
		return;
	rc = lconn_whoami(&sa_ldap_state.usr, l->deadline, l->dn, sizeof(l->dn));
	if (rc != LDAP_SUCCESS) {
		log_mech(LOG_WARNING, "ldap_whoami_s() failed.");
		if (lconn_transport_error(rc))
			server_error(o, "server unavailable: who am i", rc);
		else
			set_outcome(o, OUT_NOTGROUP, "not in group (who am i failed)");
	}
}

static void method_fastbind(struct login *l, struct outcome *o)
{
	if (!ensure_usr(l, o))
		return;
	if (l->s->use_sasl) {
		sasl_user_bind(l, o);
	} else {
		if (!expand(l->s->filter, &l->tok, SA_LDAP_CTX_DN, l->dn, sizeof(l->dn), "ldap_filter", o))
			return;
		classify_bind(lconn_simple_bind(&sa_ldap_state.usr, l->dn, l->password, l->deadline), o);
	}
	if (o->kind != OUT_OK || !group_configured(l->s))
		return;
	/* Cyrus checks groups with the user's own rights; prefer the service's when there is one. */
	if (has_service_identity(l->s)) {
		if (ensure_svc(l, o))
			check_group(&sa_ldap_state.svc, l, o);
	} else {
		check_group(&sa_ldap_state.usr, l, o);
	}
}

static void run_method(struct login *l, struct outcome *o)
{
	set_outcome(o, OUT_FAIL, "internal error");
	switch (l->s->auth_method) {
	case LDAPC_AUTH_BIND:
		method_bind(l, o);
		break;
	case LDAPC_AUTH_CUSTOM:
		method_custom(l, o);
		break;
	case LDAPC_AUTH_FASTBIND:
		method_fastbind(l, o);
		break;
	}
}

/* ---------------------------------------------------------------- interface */

static void drop_connections(void)
{
	lconn_close(&sa_ldap_state.svc);
	lconn_close(&sa_ldap_state.usr);
}

static void drop_broken(void)
{
	if (sa_ldap_state.svc.broken)
		lconn_close(&sa_ldap_state.svc);
	if (sa_ldap_state.usr.broken)
		lconn_close(&sa_ldap_state.usr);
}

static void set_result(const struct login *l, const struct outcome *o, struct mech_result *r)
{
	switch (o->kind) {
	case OUT_OK:
		mech_result_set(r, VERDICT_OK, "OK", NULL);
		return;
	case OUT_BADPW:
	case OUT_NOUSER:
	case OUT_NOTGROUP:
		mech_result_set(r, VERDICT_NO, "NO", "%s", o->why);
		break;
	case OUT_FAIL:
	case OUT_RETRY:
		mech_result_set(r, VERDICT_FAIL, "NO", "%s%s",
		                strncmp(o->why, "server unavailable", 18) == 0 ? "" : "server unavailable: ",
		                o->why);
		break;
	}
	log_mech(LOG_DEBUG, "Authentication failed for %s%s%s: %s", LOG_ESC(l->tok.user),
	         l->tok.realm[0] != '\0' ? "/" : "", LOG_ESC(l->tok.realm), LOG_ESC(r->reason));
}

static void sa_ldap_auth(const struct mech_request *req, struct mech_result *result)
{
	const struct sa_ldap_settings *s = &sa_ldap_state.settings;
	struct login l = { .s = s, .password = req->password };
	struct outcome o;

	if (req->login[0] == '\0') {
		mech_result_set(result, VERDICT_NO, "NO", "empty login");
		return;
	}
	l.tok.user = req->login;
	l.tok.service = req->service;
	l.tok.realm = req->realm[0] != '\0' ? req->realm : s->default_realm;
	/* One budget for the whole request, retry and fail-over included. */
	l.deadline = lconn_deadline(s->timeout);
	run_method(&l, &o);
	if (o.kind == OUT_RETRY) {
		log_mech(LOG_INFO, "Retrying authentication");
		drop_connections();
		run_method(&l, &o);
	}
	drop_broken();
	set_result(&l, &o, result);
	secret_wipe(l.dn, sizeof(l.dn));
}

static void log_warning(void *ctx, const char *message)
{
	(void)ctx;
	log_mech(LOG_WARNING, "ldap: %s", message);
}

static void warn_risky(const struct sa_ldap_settings *s)
{
	if (s->tls_check_peer == LDAPC_OFF)
		log_mech(LOG_WARNING, "ldap: %s: ldap_tls_check_peer is off: LDAP server certificates "
		         "are not verified", s->path);
}

static int load(const struct mech_settings *settings, char *err, size_t errsz)
{
	static struct sa_ldap_settings fresh; /* ~30 KiB: not on the stack */
	char why[512];
	const char *path = mech_config_file(settings, false);

	if (!sa_ldap_settings_load(&fresh, path, log_warning, NULL, why, sizeof(why))) {
		str_format(err, errsz, "cannot use LDAP configuration %s", why);
		sa_ldap_settings_wipe(&fresh);
		return -1;
	}
	warn_risky(&fresh);
	sa_ldap_settings_wipe(&sa_ldap_state.settings);
	sa_ldap_state.settings = fresh;
	sa_ldap_settings_wipe(&fresh);
	str_copy(sa_ldap_state.path, sizeof(sa_ldap_state.path), path);
	return 0;
}

static int sa_ldap_init(const struct mech_settings *settings, char *err, size_t errsz)
{
	return load(settings, err, errsz);
}

static int sa_ldap_reload(const struct mech_settings *settings, char *err, size_t errsz)
{
	if (load(settings, err, errsz) != 0)
		return -1;
	drop_connections();
	return 0;
}

static void sa_ldap_worker_init(void)
{
	int level = sa_ldap_state.settings.debug;
	/* The library's debug level is process-wide by nature. */
	if (level != 0 && ldap_set_option(NULL, LDAP_OPT_DEBUG_LEVEL, &level) != LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_DEBUG_LEVEL %x.", level);
	/* A worker forked from a process that held connections must not share their sockets. */
	sa_ldap_state.svc.ld = NULL;
	sa_ldap_state.usr.ld = NULL;
}

/* ---------------------------------------------------------------- saslauthd --check */

struct check_trace {
	const struct sa_ldap_settings *s;
	const char *identity; /* what the bind is, as the report says it */
	char tried[MECH_REASON_MAX * 3];
};

static void append(char *buf, size_t bufsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t bufsz, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= bufsz)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, bufsz - len, fmt, ap);
	va_end(ap);
}

static void check_note(void *ctx, const struct lconn_attempt *a)
{
	struct check_trace *t = ctx;
	const char *sep = t->tried[0] != '\0' ? "; " : "";

	if (a->bind_rc < 0) /* not reached: the detail names the server */
		append(t->tried, sizeof(t->tried), "%s%s", sep, a->detail);
	else
		append(t->tried, sizeof(t->tried), "%s%s: %s%s: %s", sep, a->uri,
		       t->s->start_tls ? "StartTLS, " : "", t->identity,
		       a->bind_rc == LDAP_SUCCESS ? "ok" : ldap_err2string(a->bind_rc));
}

/* The connection a request opens first: the service one for bind and custom (and for
 * fastbind's group checks when there is a service identity), else an anonymous one. */
static enum lconn_identity check_identity(const struct sa_ldap_settings *s, char *what, size_t whatsz)
{
	if (s->auth_method == LDAPC_AUTH_FASTBIND &&
	    !(group_configured(s) && has_service_identity(s))) {
		str_copy(what, whatsz, "anonymous bind (fastbind binds as each user)");
		return LCONN_ANONYMOUS;
	}
	if (s->use_sasl)
		str_format(what, whatsz, "service SASL bind (%s)%s%s",
		           s->mech[0] != '\0' ? s->mech : "default mechanism",
		           s->sasl_id[0] != '\0' ? " as " : "", s->sasl_id);
	else if (s->bind_dn[0] != '\0')
		str_format(what, whatsz, "service bind as %s", s->bind_dn);
	else
		str_copy(what, whatsz, "anonymous service bind (no ldap_bind_dn)");
	return LCONN_SERVICE;
}

/* Without a service identity the bind proves little: read the root DSE as well. */
static int check_root_dse(struct lconn *c, int64_t deadline, char *out, size_t outsz)
{
	char *attrs[] = { (char *)"namingContexts", NULL };
	LDAPMessage *res = NULL;
	int rc = lconn_search(c, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, deadline, &res);

	ldap_msgfree(res);
	append(out, outsz, ", root DSE read: %s", rc == LDAP_SUCCESS ? "ok" : ldap_err2string(rc));
	return lconn_transport_error(rc) ? -1 : 0;
}

/* saslauthd --check: open the connection a request would open, through the same
 * fail-over, TLS and bind code, once; report every server tried. No user is looked up. */
static int sa_ldap_check(const struct mech_settings *settings, char *report, size_t reportsz)
{
	struct check_trace t;
	struct lconn c;
	const struct sa_ldap_settings *s = &sa_ldap_state.settings;
	char what[LDAPC_DN_MAX + 64];
	char err[WHY_MAX];
	int64_t deadline = lconn_deadline(s->timeout);
	int status = -1;

	(void)settings;
	memset(&t, 0, sizeof(t));
	memset(&c, 0, sizeof(c));
	t.s = s;
	t.identity = what;
	enum lconn_identity who = check_identity(s, what, sizeof(what));
	switch (lconn_open_traced(&c, s, NULL, who, deadline, err, sizeof(err), check_note, &t)) {
	case LCONN_OPEN_OK:
		status = 0;
		if (who == LCONN_ANONYMOUS || (!s->use_sasl && s->bind_dn[0] == '\0'))
			status = check_root_dse(&c, deadline, t.tried, sizeof(t.tried));
		str_format(report, reportsz, "%s", t.tried);
		break;
	case LCONN_OPEN_REFUSED:
		str_format(report, reportsz, "%s", t.tried);
		break;
	case LCONN_OPEN_DOWN:
		str_format(report, reportsz, "no LDAP server usable: %s", t.tried[0] != '\0' ? t.tried : err);
		break;
	}
	lconn_close(&c);
	return status;
}

static void sa_ldap_cleanup(void)
{
	drop_connections();
	sa_ldap_settings_wipe(&sa_ldap_state.settings);
}

const struct mechanism mech_ldap = {
	.name = "ldap",
	.option_means = MECH_OPTION_CONF_FILE,
	.init = sa_ldap_init,
	.worker_init = sa_ldap_worker_init,
	.auth = sa_ldap_auth,
	.reload = sa_ldap_reload,
	.cleanup = sa_ldap_cleanup,
	.check = sa_ldap_check,
};
