/* LDAP connections for the ldap mechanism: fail-over, per-handle TLS, bounded operations. */
#include "mechanisms/ldap_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/strutil.h"

#define LDAPV2 2
#define LDAPV3 3
#define URI_SEPARATORS " \t,"
#define MAX_SERVERS 32
#define WHY_TLS_MAX 256

/* libsasl2's interaction record and callback ids (sasl/sasl.h is not installed; the ABI
 * has been fixed since SASL v2). */
struct sasl_interact_rec {
	unsigned long id;
	const char *challenge;
	const char *prompt;
	const char *defresult;
	const void *result;
	unsigned len;
};
#define SASL_CB_LIST_END_ID 0
#define SASL_CB_USER_ID 0x4001
#define SASL_CB_AUTHNAME_ID 0x4002
#define SASL_CB_PASS_ID 0x4004
#define SASL_CB_GETREALM_ID 0x4008

struct sasl_creds {
	const char *authcid, *authzid, *realm, *password;
};

int64_t lconn_deadline(int seconds)
{
	return sa_clock_ms() + (int64_t)seconds * SA_MS_PER_S;
}

static long ms_left(int64_t deadline)
{
	return (long)sa_ms_until(deadline);
}

static struct timeval ms_to_tv(long ms)
{
	struct timeval tv = { .tv_sec = ms / SA_MS_PER_S, .tv_usec = (ms % SA_MS_PER_S) * SA_US_PER_MS };
	return tv;
}

bool lconn_transport_error(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_ENCODING_ERROR || rc == LDAP_DECODING_ERROR;
}

void lconn_close(struct lconn *c)
{
	if (c->ld != NULL)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
	c->broken = false;
	c->uri[0] = '\0';
}

bool lconn_usable(const struct lconn *c)
{
	return c->ld != NULL && !c->broken;
}

/* Bound the library's synchronous calls (StartTLS, SASL, who-am-i) by the deadline too. */
static bool set_api_timeout(LDAP *ld, int64_t deadline)
{
	long ms = ms_left(deadline);
	if (ms <= 0)
		return false;
	struct timeval tv = ms_to_tv(ms);
	return ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) == LDAP_OPT_SUCCESS;
}

static int note_failure(struct lconn *c, int rc)
{
	if (lconn_transport_error(rc))
		c->broken = true;
	return rc;
}

/* Wait for the answer to msgid; on timeout abandon it and give the connection up. */
static int wait_result(struct lconn *c, int msgid, int64_t deadline, LDAPMessage **res)
{
	long ms = ms_left(deadline);
	*res = NULL;
	if (ms <= 0) {
		ldap_abandon_ext(c->ld, msgid, NULL, NULL);
		return note_failure(c, LDAP_TIMEOUT);
	}
	struct timeval tv = ms_to_tv(ms);
	int r = ldap_result(c->ld, msgid, LDAP_MSG_ALL, &tv, res);
	if (r == 0) {
		ldap_abandon_ext(c->ld, msgid, NULL, NULL);
		return note_failure(c, LDAP_TIMEOUT);
	}
	if (r < 0) {
		int rc = LDAP_SERVER_DOWN;
		ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &rc);
		c->broken = true; /* the library lost the answer: the stream is unusable */
		return rc != LDAP_SUCCESS ? rc : LDAP_SERVER_DOWN;
	}
	return LDAP_SUCCESS;
}

/* Result code of a finished operation; frees res unless keep. */
static int finish(struct lconn *c, LDAPMessage *res, bool keep)
{
	int rc = LDAP_OTHER;
	int prc = ldap_parse_result(c->ld, res, &rc, NULL, NULL, NULL, NULL, keep ? 0 : 1);
	if (prc != LDAP_SUCCESS)
		return note_failure(c, prc);
	return note_failure(c, rc);
}

/* The tail every single-result operation shares: rc and msgid from starting it, then
 * wait for its result within the deadline and turn that into the operation's code. */
static int await_outcome(struct lconn *c, int rc, int msgid, int64_t deadline)
{
	LDAPMessage *res;

	if (rc != LDAP_SUCCESS)
		return note_failure(c, rc);
	rc = wait_result(c, msgid, deadline, &res);
	if (rc != LDAP_SUCCESS)
		return rc;
	return finish(c, res, false);
}

int lconn_simple_bind(struct lconn *c, const char *dn, const char *password,
                      int64_t deadline)
{
	struct berval cred = { .bv_len = strlen(password), .bv_val = (char *)password };
	int msgid = -1;
	int rc = ldap_sasl_bind(c->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);

	return await_outcome(c, rc, msgid, deadline);
}

static int sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	const struct sasl_creds *cr = defaults;
	(void)ld;
	(void)flags;
	for (struct sasl_interact_rec *it = in; it->id != SASL_CB_LIST_END_ID; it++) {
		const char *v = NULL;
		switch (it->id) {
		case SASL_CB_AUTHNAME_ID: v = cr->authcid; break;
		case SASL_CB_USER_ID: v = cr->authzid; break;
		case SASL_CB_GETREALM_ID: v = cr->realm; break;
		case SASL_CB_PASS_ID: v = cr->password; break;
		default: v = it->defresult; break;
		}
		if (v == NULL)
			v = "";
		it->result = v;
		it->len = (unsigned)strlen(v);
	}
	return LDAP_SUCCESS;
}

static const char *or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int lconn_sasl_bind(struct lconn *c, const char *mech, const char *authcid,
                    const char *authzid, const char *realm, const char *password,
                    int64_t deadline)
{
	struct sasl_creds cr = { or_null(authcid), or_null(authzid), or_null(realm), password };

	if (!set_api_timeout(c->ld, deadline))
		return note_failure(c, LDAP_TIMEOUT);
	int rc = ldap_sasl_interactive_bind_s(c->ld, NULL, or_null(mech), NULL, NULL, LDAP_SASL_QUIET,
	                                      sasl_interact, &cr);
	return note_failure(c, rc);
}

int lconn_search(struct lconn *c, const char *base, int scope, const char *filter,
                 char **attrs, int sizelimit, int64_t deadline, LDAPMessage **res)
{
	int msgid = -1;
	int rc = ldap_search_ext(c->ld, base, scope, filter, attrs, 0, NULL, NULL, NULL, sizelimit,
	                         &msgid);
	*res = NULL;
	if (rc != LDAP_SUCCESS)
		return note_failure(c, rc);
	rc = wait_result(c, msgid, deadline, res);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = finish(c, *res, true);
	return rc;
}

int lconn_compare(struct lconn *c, const char *dn, const char *attr, const char *value,
                  int64_t deadline)
{
	struct berval bv = { .bv_len = strlen(value), .bv_val = (char *)value };
	int msgid = -1;
	int rc = ldap_compare_ext(c->ld, dn, attr, &bv, NULL, NULL, &msgid);

	return await_outcome(c, rc, msgid, deadline);
}

int lconn_whoami(struct lconn *c, int64_t deadline, char *out, size_t outsz)
{
	struct berval *id = NULL;

	if (!set_api_timeout(c->ld, deadline))
		return note_failure(c, LDAP_TIMEOUT);
	int rc = ldap_whoami_s(c->ld, &id, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		return note_failure(c, rc);
	rc = LDAP_OTHER; /* an identity that is not a DN ("u:...", anonymous) cannot be a member */
	if (id != NULL && id->bv_len > 3 && strncmp(id->bv_val, "dn:", 3) == 0 &&
	    id->bv_len - 3 < outsz) {
		memcpy(out, id->bv_val + 3, id->bv_len - 3);
		out[id->bv_len - 3] = '\0';
		rc = LDAP_SUCCESS;
	}
	ber_bvfree(id);
	return rc;
}

void lconn_diagnostic(const struct lconn *c, char *out, size_t outsz)
{
	char *msg = NULL;

	out[0] = '\0';
	if (c->ld == NULL || ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) != LDAP_OPT_SUCCESS)
		return;
	if (msg != NULL && msg[0] != '\0')
		str_format(out, outsz, msg[0] == '(' ? " %s" : " (%s)", msg);
	ldap_memfree(msg);
}

/* ---------------------------------------------------------------- opening */

static void set_str_opt(LDAP *ld, int opt, const char *name, const char *value)
{
	if (value[0] == '\0')
		return;
	int rc = ldap_set_option(ld, opt, value);
	if (rc != LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_%s (%s).", name, ldap_err2string(rc));
}

static bool has_tls_settings(const struct sa_ldap_settings *s)
{
	return s->tls_cacert_file[0] || s->tls_cacert_dir[0] || s->tls_ciphers[0] || s->tls_cert[0] ||
	       s->tls_key[0] || s->tls_check_peer != LDAPC_UNSET;
}

/* Why the library refused to build a TLS context from these settings. It says nothing
 * itself (ldap_set_option only fails), so name the unreadable file if there is one, else
 * the settings it may have rejected. */
static void tls_settings_error(const struct sa_ldap_settings *s, char *err, size_t errsz)
{
	const struct {
		const char *key, *path;
	} files[] = { { "ldap_tls_cert", s->tls_cert }, { "ldap_tls_key", s->tls_key },
	              { "ldap_tls_cacert_file", s->tls_cacert_file },
	              { "ldap_tls_cacert_dir", s->tls_cacert_dir } };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].path[0] != '\0' && access(files[i].path, R_OK) != 0) {
			str_format(err, errsz, "cannot set up TLS: %s %s: %s", files[i].key, files[i].path,
			           strerror(errno));
			return;
		}
	}
	if (s->tls_ciphers[0] != '\0')
		str_format(err, errsz, "cannot set up TLS: the TLS library rejected ldap_tls_ciphers \"%s\" "
		           "or the certificate/key files", s->tls_ciphers);
	else
		str_format(err, errsz, "cannot set up TLS: the TLS library rejected the certificate, "
		           "key or CA files");
}

/* TLS settings on this handle only, in a TLS context of its own: unlike Cyrus, nothing
 * process-global is changed. False (err set) when the library cannot build the context:
 * connecting anyway would only fail later with a misleading "Can't contact LDAP server". */
static bool set_tls_options(LDAP *ld, const struct sa_ldap_settings *s, char *err, size_t errsz)
{
	if (!has_tls_settings(s))
		return true;
	set_str_opt(ld, LDAP_OPT_X_TLS_CACERTFILE, "X_TLS_CACERTFILE", s->tls_cacert_file);
	set_str_opt(ld, LDAP_OPT_X_TLS_CACERTDIR, "X_TLS_CACERTDIR", s->tls_cacert_dir);
	set_str_opt(ld, LDAP_OPT_X_TLS_CIPHER_SUITE, "X_TLS_CIPHER_SUITE", s->tls_ciphers);
	set_str_opt(ld, LDAP_OPT_X_TLS_CERTFILE, "X_TLS_CERTFILE", s->tls_cert);
	set_str_opt(ld, LDAP_OPT_X_TLS_KEYFILE, "X_TLS_KEYFILE", s->tls_key);
	if (s->tls_check_peer != LDAPC_UNSET) {
		int level = s->tls_check_peer == LDAPC_ON ? LDAP_OPT_X_TLS_HARD : LDAP_OPT_X_TLS_NEVER;
		if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &level) != LDAP_OPT_SUCCESS)
			log_mech(LOG_WARNING, "Unable to set LDAP_OPT_X_TLS_REQUIRE_CERT.");
	}
	int is_server = 0;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
		tls_settings_error(s, err, errsz);
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_X_TLS_NEWCTX: %s.", err);
		return false;
	}
	return true;
}

static void set_int_opt(LDAP *ld, int opt, const char *name, int value)
{
	if (ldap_set_option(ld, opt, &value) != LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_%s %d.", name, value);
}

static bool set_handle_options(LDAP *ld, const struct sa_ldap_settings *s, long budget_ms,
                               char *err, size_t errsz)
{
	int version = s->version;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS) {
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_PROTOCOL_VERSION %d.", version);
		version = LDAPV2;
		ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	}
	struct timeval tv = ms_to_tv(budget_ms);
	if (ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_NETWORK_TIMEOUT.");
	if (ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_TIMEOUT.");
	set_int_opt(ld, LDAP_OPT_TIMELIMIT, "TIMELIMIT", s->time_limit);
	set_int_opt(ld, LDAP_OPT_DEREF, "DEREF", (int)s->deref);
	set_int_opt(ld, LDAP_OPT_SIZELIMIT, "SIZELIMIT", s->size_limit);
	if (ldap_set_option(ld, LDAP_OPT_REFERRALS, s->referrals ? LDAP_OPT_ON : LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_REFERRALS.");
	if (ldap_set_option(ld, LDAP_OPT_RESTART, s->restart ? LDAP_OPT_ON : LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS)
		log_mech(LOG_WARNING, "Unable to set LDAP_OPT_RESTART.");
	return set_tls_options(ld, s, err, errsz);
}

static int bind_as(struct lconn *c, const struct sa_ldap_settings *s, enum lconn_identity who,
                   int64_t deadline)
{
	if (who == LCONN_ANONYMOUS)
		return lconn_simple_bind(c, "", "", deadline);
	if (s->use_sasl)
		return lconn_sasl_bind(c, s->mech, s->sasl_id, s->authz_id, s->realm, s->password,
		                       deadline);
	return lconn_simple_bind(c, s->bind_dn, s->password, deadline);
}

/* Transport set-up of one server: TCP (or UNIX) connect, StartTLS, SASL properties. */
static int connect_transport(struct lconn *c, const struct sa_ldap_settings *s, int64_t t,
                             char *err, size_t errsz)
{
	char diag[LCONN_DIAG_MAX];
	int rc = ldap_connect(c->ld);
	if (rc != LDAP_SUCCESS) {
		/* With ldaps:// the library keeps the TLS handshake's error as the diagnostic. */
		lconn_diagnostic(c, diag, sizeof(diag));
		str_format(err, errsz, "%s: %s%s", c->uri, ldap_err2string(rc), diag);
		return LDAP_SERVER_DOWN;
	}
	if (s->start_tls) {
		if (!set_api_timeout(c->ld, t))
			return LDAP_TIMEOUT;
		rc = ldap_start_tls_s(c->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			lconn_diagnostic(c, diag, sizeof(diag));
			log_mech(LOG_WARNING, "start tls failed (%s).", ldap_err2string(rc));
			str_format(err, errsz, "%s: start tls failed (%s)%s", c->uri, ldap_err2string(rc), diag);
			return LDAP_SERVER_DOWN;
		}
	}
	if (s->use_sasl && s->secprops[0] != '\0') {
		rc = ldap_set_option(c->ld, LDAP_OPT_X_SASL_SECPROPS, s->secprops);
		if (rc != LDAP_OPT_SUCCESS) {
			log_mech(LOG_WARNING, "Unable to set LDAP_OPT_X_SASL_SECPROPS.");
			str_format(err, errsz, "%s: bad ldap_sasl_secprops", c->uri);
			return LDAP_SERVER_DOWN;
		}
	}
	return LDAP_SUCCESS;
}

static enum lconn_open_result try_server(struct lconn *c, const struct sa_ldap_settings *s,
                                         const char *uri, enum lconn_identity who,
                                         int64_t t, int *bind_rc, char *err,
                                         size_t errsz)
{
	long budget = ms_left(t);
	char tls_err[WHY_TLS_MAX];

	*bind_rc = -1;
	if (budget <= 0) {
		str_format(err, errsz, "%s: timed out", uri);
		return LCONN_OPEN_DOWN;
	}
	int rc = ldap_initialize(&c->ld, uri);
	if (rc != LDAP_SUCCESS) {
		log_mech(LOG_ERR, "ldap_initialize failed (%s)", uri);
		str_format(err, errsz, "%s: %s", uri, ldap_err2string(rc));
		c->ld = NULL;
		return LCONN_OPEN_DOWN;
	}
	str_copy(c->uri, sizeof(c->uri), uri);
	c->broken = false;
	if (!set_handle_options(c->ld, s, budget, tls_err, sizeof(tls_err))) {
		str_format(err, errsz, "%s: %s", uri, tls_err);
		lconn_close(c);
		return LCONN_OPEN_REFUSED; /* every server would fail the same way */
	}
	rc = connect_transport(c, s, t, err, errsz);
	if (rc == LDAP_SUCCESS) {
		rc = bind_as(c, s, who, t);
		*bind_rc = rc;
		/* Any answer to an anonymous bind proves the server is alive. */
		if (rc == LDAP_SUCCESS || (who == LCONN_ANONYMOUS && !lconn_transport_error(rc)))
			return LCONN_OPEN_OK;
		char diag[LCONN_DIAG_MAX];
		lconn_diagnostic(c, diag, sizeof(diag));
		/* TLS 1.3: the client finishes its handshake before the server has checked the
		 * client's certificate, so a missing or rejected one only shows as the server
		 * closing the session at the first request. */
		bool tls = s->start_tls || strncasecmp(uri, "ldaps:", 6) == 0;
		str_format(err, errsz, "%s: %s bind failed: %s%s%s", uri,
		           who == LCONN_ANONYMOUS ? "anonymous" : "service", ldap_err2string(rc), diag,
		           tls && rc == LDAP_SERVER_DOWN ?
		               " (the server closed the TLS session: client certificate "
		               "(ldap_tls_cert/ldap_tls_key) missing or not accepted?)" : "");
	}
	lconn_close(c);
	return lconn_transport_error(rc) ? LCONN_OPEN_DOWN : LCONN_OPEN_REFUSED;
}

static size_t split_servers(char *list, char *uris[], size_t max, const char *prefer)
{
	size_t n = 0;
	char *save = NULL;

	if (prefer != NULL && prefer[0] != '\0')
		uris[n++] = (char *)prefer;
	for (char *tok = strtok_r(list, URI_SEPARATORS, &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, URI_SEPARATORS, &save)) {
		if (prefer == NULL || strcmp(tok, prefer) != 0)
			uris[n++] = tok;
	}
	return n;
}

enum lconn_open_result lconn_open(struct lconn *c, const struct sa_ldap_settings *s,
                                  const char *prefer_uri, enum lconn_identity who,
                                  int64_t deadline, char *err, size_t errsz)
{
	return lconn_open_traced(c, s, prefer_uri, who, deadline, err, errsz, NULL, NULL);
}

enum lconn_open_result lconn_open_traced(struct lconn *c, const struct sa_ldap_settings *s,
                                         const char *prefer_uri, enum lconn_identity who,
                                         int64_t deadline, char *err, size_t errsz,
                                         lconn_trace_fn trace, void *trace_ctx)
{
	char list[LDAPC_URI_MAX];
	char prefer[LDAPC_URI_MAX] = "";
	char *uris[MAX_SERVERS];
	enum lconn_open_result r = LCONN_OPEN_DOWN;

	lconn_close(c);
	str_copy(list, sizeof(list), s->servers);
	if (prefer_uri != NULL)
		str_copy(prefer, sizeof(prefer), prefer_uri);
	size_t n = split_servers(list, uris, MAX_SERVERS, prefer);
	str_format(err, errsz, "no server in ldap_servers");
	for (size_t i = 0; i < n; i++) {
		/* Fair share of the time left, so later servers still get their chance. */
		long share = ms_left(deadline) / (long)(n - i);
		int64_t t = sa_clock_ms() + share;
		int bind_rc;
		r = try_server(c, s, uris[i], who, t, &bind_rc, err, errsz);
		if (trace != NULL) {
			struct lconn_attempt a = { .uri = uris[i], .result = r, .bind_rc = bind_rc,
			                           .detail = r == LCONN_OPEN_OK ? "" : err };
			trace(trace_ctx, &a);
		}
		if (r != LCONN_OPEN_DOWN)
			return r;
	}
	return r;
}
