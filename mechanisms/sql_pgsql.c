/* sql engine pgsql (libpq): non-blocking connect and query, each waited for against the
 * request's deadline. */
#include "mechanisms/sql.h"

#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"

#define PG_STATEMENT_NAME "saslauthd_select"
#define PG_UPDATE_NAME "saslauthd_update"
#define PG_PORT_MAX_TEXT 8
#define PG_KEYWORDS_MAX 10

/* libpq messages end with a newline; keep the first line only. */
static void pg_error(PGconn *pg, const char *what, char *err, size_t errsz)
{
	const char *msg = pg != NULL ? PQerrorMessage(pg) : "out of memory";
	str_format(err, errsz, "%s%s%.*s", what, what[0] != '\0' ? ": " : "",
	           (int)strcspn(msg, "\n"), msg);
}

static bool pg_connect_wait(PGconn *pg, int64_t deadline, char *err, size_t errsz)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			pg_error(pg, "", err, errsz);
			return false;
		}
		short ev = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		if (!sa_sql_wait_fd(PQsocket(pg), ev, deadline)) {
			str_format(err, errsz, "connect timeout");
			return false;
		}
		st = PQconnectPoll(pg);
	}
	return true;
}

/* The result of the command just sent (the last one, after draining), or NULL. */
static PGresult *pg_result(PGconn *pg, int64_t deadline, char *err, size_t errsz)
{
	PGresult *last = NULL;

	for (;;) {
		while (PQisBusy(pg)) {
			if (!sa_sql_wait_fd(PQsocket(pg), POLLIN, deadline)) {
				str_format(err, errsz, "query timeout");
				PQclear(last);
				return NULL;
			}
			if (!PQconsumeInput(pg)) {
				pg_error(pg, "", err, errsz);
				PQclear(last);
				return NULL;
			}
		}
		PGresult *r = PQgetResult(pg);
		if (r == NULL)
			break;
		PQclear(last);
		last = r;
	}
	if (last == NULL)
		pg_error(pg, "", err, errsz);
	return last;
}

static bool pg_ok(PGresult *r, ExecStatusType want, const char *what, char *err, size_t errsz)
{
	if (r != NULL && PQresultStatus(r) == want)
		return true;
	if (r != NULL) {
		const char *msg = PQresultErrorMessage(r);
		str_format(err, errsz, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
	}
	return false;
}

static bool pg_prepare(PGconn *pg, const char *name, const char *text, const char *key,
                       int64_t deadline, char *err, size_t errsz)
{
	PGresult *r = NULL;
	bool ok = PQsendPrepare(pg, name, text, 0, NULL) == 1 &&
	          (r = pg_result(pg, deadline, err, errsz)) != NULL &&
	          pg_ok(r, PGRES_COMMAND_OK, key, err, errsz);

	PQclear(r);
	if (!ok && err[0] == '\0')
		pg_error(pg, key, err, errsz);
	return ok;
}

static void *pg_open(const struct sa_sql_settings *s, const struct sa_sql_host *h,
                     int64_t deadline, char *err, size_t errsz)
{
	const char *keys[PG_KEYWORDS_MAX], *vals[PG_KEYWORDS_MAX];
	char port[PG_PORT_MAX_TEXT];
	size_t n = 0;

	err[0] = '\0';
#define PG_KV(k, v) do { keys[n] = (k); vals[n] = (v); n++; } while (0)
	PG_KV("host", h->name);
	if (h->port != 0) {
		snprintf(port, sizeof(port), "%d", h->port);
		PG_KV("port", port);
	}
	PG_KV("dbname", s->database);
	if (s->user[0] != '\0')
		PG_KV("user", s->user);
	if (s->passwd[0] != '\0')
		PG_KV("password", s->passwd);
	if (s->usessl)
		PG_KV("sslmode", s->tls_verify ? "verify-full" : "require");
	/* With a root certificate libpq's "require" verifies the chain anyway. */
	if (s->tls_ca_file[0] != '\0' && (!s->usessl || s->tls_verify))
		PG_KV("sslrootcert", s->tls_ca_file);
	PG_KV("application_name", "saslauthd");
	keys[n] = vals[n] = NULL;
#undef PG_KV
	PGconn *pg = PQconnectStartParams(keys, vals, 0);
	if (pg == NULL || PQstatus(pg) == CONNECTION_BAD || !pg_connect_wait(pg, deadline, err, errsz)) {
		if (pg != NULL && PQstatus(pg) == CONNECTION_BAD && err[0] == '\0')
			pg_error(pg, "", err, errsz);
		PQfinish(pg);
		return NULL;
	}
	if (!pg_prepare(pg, PG_STATEMENT_NAME, s->query.text, "sql_select", deadline, err, errsz)) {
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

static bool pg_lookup(void *conn, const char *const *values, size_t nvalues, int64_t deadline,
                      struct sa_sql_answer *a, char *err, size_t errsz)
{
	PGconn *pg = conn;
	PGresult *r = NULL;

	err[0] = '\0';
	if (PQstatus(pg) != CONNECTION_OK ||
	    PQsendQueryPrepared(pg, PG_STATEMENT_NAME, (int)nvalues, values, NULL, NULL, 0) != 1) {
		pg_error(pg, "", err, errsz);
		return false;
	}
	r = pg_result(pg, deadline, err, errsz);
	if (!pg_ok(r, PGRES_TUPLES_OK, "sql_select", err, errsz) || PQnfields(r) < 1) {
		if (r != NULL && err[0] == '\0')
			str_format(err, errsz, "sql_select returns no column");
		PQclear(r);
		return false;
	}
	int rows = PQntuples(r);
	a->rows = rows > 1 ? 2 : rows;
	if (rows > 0) {
		a->null = PQgetisnull(r, 0, 0);
		size_t len = (size_t)PQgetlength(r, 0, 0);
		a->too_long = len >= sizeof(a->value);
		a->len = a->null || a->too_long ? 0 : len;
		memcpy(a->value, PQgetvalue(r, 0, 0), a->len);
	}
	PQclear(r);
	return true;
}

static bool pg_prepare_update(void *conn, const struct sa_sql_settings *s, int64_t deadline,
                              char *err, size_t errsz)
{
	err[0] = '\0';
	return pg_prepare(conn, PG_UPDATE_NAME, s->update.text, "sql_update", deadline, err, errsz);
}

static bool pg_update(void *conn, const char *const *values, size_t nvalues, int64_t deadline,
                      long *changed, char *err, size_t errsz)
{
	PGconn *pg = conn;
	PGresult *r = NULL;
	long n;

	err[0] = '\0';
	if (PQsendQueryPrepared(pg, PG_UPDATE_NAME, (int)nvalues, values, NULL, NULL, 0) != 1) {
		pg_error(pg, "", err, errsz);
		return false;
	}
	r = pg_result(pg, deadline, err, errsz);
	bool ok = pg_ok(r, PGRES_COMMAND_OK, "sql_update", err, errsz) ||
	          pg_ok(r, PGRES_TUPLES_OK, "sql_update", err, errsz);
	if (ok)
		*changed = str_to_long(PQcmdTuples(r), 0, LONG_MAX, &n) ? n : 0;
	PQclear(r);
	return ok;
}

static void pg_close(void *conn)
{
	PQfinish(conn);
}

const struct sa_sql_engine sa_sql_pgsql = {
	.name = "pgsql",
	.numbered = true,
	.uses_hosts = true,
	.open = pg_open,
	.lookup = pg_lookup,
	.prepare_update = pg_prepare_update,
	.update = pg_update,
	.close = pg_close,
};
