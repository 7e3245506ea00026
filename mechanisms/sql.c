/* sql: the stored password from a SQL table (PostgreSQL, MariaDB/MySQL, SQLite), checked by
 * the shared stored-hash verifier (saslauthd.conf(5), SQL Keys and PASSWORD SCHEMES).
 *
 * Each process that decides keeps one connection, opened lazily after fork and reopened
 * when it breaks. One sql_timeout budget covers a request, reconnection and failover
 * across sql_hostnames included. A database that cannot answer gives VERDICT_FAIL, never
 * a wrong-password NO. The row decides:
 *   no row → NO (user not found); two or more → NO (ambiguous: no account is guessed);
 *   NULL or empty → NO (no login); otherwise the stored hash decides.
 * With sql_update, a successful login whose stored method is weaker than
 * sql_upgrade_scheme stores a new hash of the password; that never changes the verdict. */
#include "mechanisms/mechanism.h"
#include "mechanisms/sql.h"

#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"

#define SQL_LOGIN_AT_REALM_MAX 2048

static struct {
	struct sa_sql_settings settings;
	void *conn;             /* this process's connection, NULL when none */
	size_t host;            /* which of settings.hosts conn is to */
	int update_ready;       /* sql_update on conn: 0 not tried yet, 1 prepared, -1 failed */
} sql_state;

static void drop_connection(void)
{
	if (sql_state.conn != NULL)
		sql_state.settings.engine->close(sql_state.conn);
	sql_state.conn = NULL;
	sql_state.update_ready = 0;
}

static const struct sa_sql_host *host_at(size_t i)
{
	static const struct sa_sql_host none = { "", 0 };
	return sql_state.settings.engine->uses_hosts ? &sql_state.settings.hosts[i] : &none;
}

static size_t host_count(void)
{
	return sql_state.settings.engine->uses_hosts ? sql_state.settings.nhosts : 1;
}

static void describe_host(size_t i, char *out, size_t outsz)
{
	const struct sa_sql_settings *s = &sql_state.settings;
	const struct sa_sql_host *h = host_at(i);

	if (!s->engine->uses_hosts)
		str_format(out, outsz, "%s", s->database);
	else if (h->port != 0)
		str_format(out, outsz, "%s:%d", h->name, h->port);
	else
		str_format(out, outsz, "%s", h->name);
}

/* Run the statement on the open connection, or on a new one: hosts in order, within the
 * deadline. False with the last failure in err. */
static bool run_lookup(const char *const *values, int64_t deadline, struct sa_sql_answer *a,
                       char *err, size_t errsz)
{
	const struct sa_sql_engine *eng = sql_state.settings.engine;
	char why[SA_SQL_ERR_MAX], where[SA_SQL_HOST_MAX + 8];

	if (sql_state.conn != NULL) {
		if (eng->lookup(sql_state.conn, values, sql_state.settings.query.nparams, deadline, a, why,
		                sizeof(why)))
			return true;
		describe_host(sql_state.host, where, sizeof(where));
		log_mech(LOG_INFO, "sql: connection to %s broken (%s), reconnecting", where, why);
		str_format(err, errsz, "%s: %s", where, why);
		drop_connection();
	}
	for (size_t i = 0; i < host_count() && sa_ms_until(deadline) > 0; i++) {
		describe_host(i, where, sizeof(where));
		void *c = eng->open(&sql_state.settings, host_at(i), deadline, why, sizeof(why));
		if (c == NULL) {
			str_format(err, errsz, "%s: %s", where, why);
			continue;
		}
		sql_state.conn = c;
		sql_state.host = i;
		if (eng->lookup(c, values, sql_state.settings.query.nparams, deadline, a, why, sizeof(why)))
			return true;
		str_format(err, errsz, "%s: %s", where, why);
		drop_connection();
	}
	if (sa_ms_until(deadline) <= 0 && strstr(err, "timeout") == NULL) {
		size_t len = strlen(err);
		snprintf(err + len, errsz - len, "%ssql_timeout reached", len > 0 ? "; " : "");
	}
	return false;
}

/* The verdict for a row; SH_MATCH only when the stored hash says so. */
static enum sh_result verdict_from(const struct sa_sql_answer *a, const char *password,
                                   struct mech_result *result)
{
	char why[SH_WHY_MAX];

	if (a->rows == 0) {
		mech_result_set(result, VERDICT_NO, "NO", "user not found");
		return SH_MISMATCH;
	}
	if (a->rows > 1) {
		mech_result_set(result, VERDICT_NO, "NO", "user not found (sql_select returned more than one row)");
		return SH_MISMATCH;
	}
	if (a->null || a->len == 0) {
		mech_result_set(result, VERDICT_NO, "NO", "no login allowed (%s password)",
		                a->null ? "NULL" : "empty");
		return SH_MISMATCH;
	}
	if (a->too_long) {
		mech_result_set(result, VERDICT_NO, "NO", "invalid credentials (stored password longer than %d bytes)",
		                SA_SQL_VALUE_MAX - 1);
		return SH_MALFORMED;
	}
	enum sh_result r = sh_verify(a->value, a->len, password, &sql_state.settings.hash_policy,
	                             why, sizeof(why));
	switch (r) {
	case SH_MATCH:
		mech_result_set(result, VERDICT_OK, "OK", NULL);
		break;
	case SH_MISMATCH:
		mech_result_set(result, VERDICT_NO, "NO", "invalid credentials");
		break;
	case SH_UNSUPPORTED:
	case SH_MALFORMED:
	case SH_OVER_CAP:
		mech_result_set(result, VERDICT_NO, "NO", "invalid credentials (%s)", why);
		break;
	}
	return r;
}

/* The value each token of st binds for this request. */
static void bind_tokens(const struct sa_sql_statement *st, const struct mech_request *req,
                        const char *full, const char *hash, const char **values)
{
	for (size_t i = 0; i < st->nparams; i++) {
		switch (st->params[i]) {
		case SA_SQL_TOK_LOGIN:
			values[i] = req->login;
			break;
		case SA_SQL_TOK_REALM:
			values[i] = req->realm;
			break;
		case SA_SQL_TOK_LOGIN_AT_REALM:
			values[i] = full;
			break;
		case SA_SQL_TOK_NEW_HASH:
			values[i] = hash;
			break;
		}
	}
}

/* sql_update after a successful login with a weak stored hash, on the connection that
 * found it, within what is left of the request's budget. Only logs: the verdict stands. */
static void upgrade_hash(const struct sa_sql_answer *a, const struct mech_request *req,
                         const char *full, int64_t deadline)
{
	const struct sa_sql_settings *s = &sql_state.settings;
	char hash[SA_SQL_VALUE_MAX], why[SA_SQL_ERR_MAX] = "";
	const char *values[SA_SQL_PARAMS_MAX];
	long changed = 0;

	int strength = sh_strength(a->value, a->len, &s->hash_policy);
	if (s->update.text[0] == '\0' || strength < 0 || strength >= s->upgrade_strength)
		return;
	if (sql_state.update_ready == 0) {
		/* Prepared apart from sql_select: a broken sql_update must not stop logins. */
		char where[SA_SQL_HOST_MAX + 8];
		bool ready = s->engine->prepare_update(sql_state.conn, s, deadline, why, sizeof(why));
		sql_state.update_ready = ready ? 1 : -1;
		describe_host(sql_state.host, where, sizeof(where));
		if (!ready)
			log_mech(LOG_WARNING, "sql: %s: %s; no hash upgrades on this connection", where,
			         why);
	}
	if (sql_state.update_ready < 0)
		return;
	bool ok = sh_make(s->upgrade_scheme, req->password, hash, sizeof(hash), why, sizeof(why));
	if (ok && sa_ms_until(deadline) <= 0) {
		str_format(why, sizeof(why), "sql_timeout reached");
		ok = false;
	}
	if (ok) {
		bind_tokens(&s->update, req, full, hash, values);
		ok = s->engine->update(sql_state.conn, values, s->update.nparams, deadline, &changed,
		                       why, sizeof(why));
		if (ok && changed != 1)
			str_format(why, sizeof(why), "sql_update changed %ld rows, not 1", changed);
		ok = ok && changed == 1;
	}
	secret_wipe(hash, sizeof(hash));
	if (ok)
		log_mech(LOG_INFO, "sql: stored hash of %s upgraded to {%s}", LOG_ESC(full),
		         s->upgrade_scheme);
	else
		log_mech(LOG_WARNING, "sql: hash upgrade of %s to {%s} failed: %s", LOG_ESC(full),
		         s->upgrade_scheme, why);
}

static void sql_auth(const struct mech_request *req, struct mech_result *result)
{
	char full[SQL_LOGIN_AT_REALM_MAX], err[2 * SA_SQL_ERR_MAX] = "";
	const char *values[SA_SQL_PARAMS_MAX];
	struct sa_sql_answer *a = &(struct sa_sql_answer){ 0 };
	const struct sa_sql_settings *s = &sql_state.settings;

	if (req->realm[0] != '\0')
		str_format(full, sizeof(full), "%s@%s", req->login, req->realm);
	else
		str_copy(full, sizeof(full), req->login);
	bind_tokens(&s->query, req, full, NULL, values);
	int64_t deadline = sa_clock_ms() + s->timeout_ms;
	if (!run_lookup(values, deadline, a, err, sizeof(err)))
		mech_result_set(result, VERDICT_FAIL, "NO", "FAIL: database unavailable: %s", err);
	else if (verdict_from(a, req->password, result) == SH_MATCH)
		upgrade_hash(a, req, full, deadline);
	secret_wipe(a, sizeof(*a));
}

static int load(const struct mech_settings *settings, char *err, size_t errsz)
{
	static struct sa_sql_settings fresh; /* ~20 KiB: not on the stack */
	char why[SA_SQL_ERR_MAX + SA_PATH_MAX];
	const char *path = mech_config_file(settings, false);

	if (!sa_sql_settings_load(&fresh, path, why, sizeof(why))) {
		str_format(err, errsz, "cannot use SQL configuration %s", why);
		return -1;
	}
	if (fresh.update.text[0] != '\0' && fresh.engine->prepare_update == NULL) {
		str_format(err, errsz, "%s: sql_update is not supported by sql_engine %s", path,
		           fresh.engine->name);
		sa_sql_settings_wipe(&fresh);
		return -1;
	}
	if (fresh.usessl && !fresh.tls_verify)
		log_mech(LOG_WARNING, "sql: %s: sql_tls_verify is off: database certificates are not "
		         "verified", path);
	drop_connection();
	sa_sql_settings_wipe(&sql_state.settings);
	sql_state.settings = fresh;
	sa_sql_settings_wipe(&fresh);
	return 0;
}

static void sql_worker_init(void)
{
	/* A connection of the parent (--check never forks; the master never decides) must
	 * not be shared: forget it without closing. */
	sql_state.conn = NULL;
	sql_state.update_ready = 0;
}

static void sql_cleanup(void)
{
	drop_connection();
	sa_sql_settings_wipe(&sql_state.settings);
}

/* saslauthd --check: connect to every host and prepare sql_select there. */
static int sql_check(const struct mech_settings *settings, char *report, size_t reportsz)
{
	const struct sa_sql_engine *eng = sql_state.settings.engine;
	size_t usable = 0, len = 0;

	(void)settings;
	report[0] = '\0';
	for (size_t i = 0; i < host_count(); i++) {
		char where[SA_SQL_HOST_MAX + 8], why[SA_SQL_ERR_MAX];
		int64_t deadline = sa_clock_ms() + sql_state.settings.timeout_ms;
		void *c = eng->open(&sql_state.settings, host_at(i), deadline, why, sizeof(why));
		bool ok = c != NULL;
		const char *what = ok ? "connected, sql_select prepared" : why;
		describe_host(i, where, sizeof(where));
		if (ok && sql_state.settings.update.text[0] != '\0') {
			/* A bad sql_update does not stop logins, but --check says so. */
			ok = eng->prepare_update(c, &sql_state.settings, deadline, why, sizeof(why));
			what = ok ? "connected, sql_select and sql_update prepared" : why;
		}
		if (ok)
			usable++;
		if (c != NULL)
			eng->close(c);
		len = strlen(report);
		snprintf(report + len, reportsz - len, "%s%s %s: %s", len > 0 ? "; " : "", eng->name,
		         where, what);
	}
	return usable > 0 ? 0 : -1;
}

const struct mechanism mech_sql = {
	.name = "sql",
	.option_means = MECH_OPTION_CONF_FILE,
	.init = load,
	.worker_init = sql_worker_init,
	.auth = sql_auth,
	.reload = load,
	.cleanup = sql_cleanup,
	.check = sql_check,
};
