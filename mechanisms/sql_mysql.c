/* sql engine mysql (MariaDB Connector/C): a server-side prepared statement per connection.
 * The library's timeouts are whole seconds set at connect time: each is the time left of
 * the request's budget, rounded up. */
#include "mechanisms/sql.h"

#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/strutil.h"

#define MYSQL_LOCALHOST "localhost"

struct sa_mysql_conn {
	MYSQL *db;
	MYSQL_STMT *stmt;
	MYSQL_STMT *update; /* NULL without sql_update */
};

static void my_close(void *conn)
{
	struct sa_mysql_conn *c = conn;

	if (c == NULL)
		return;
	if (c->stmt != NULL)
		mysql_stmt_close(c->stmt);
	if (c->update != NULL)
		mysql_stmt_close(c->update);
	if (c->db != NULL)
		mysql_close(c->db);
	free(c);
}

static unsigned int seconds_left(int64_t deadline)
{
	int64_t ms = sa_ms_until(deadline);
	return ms <= 0 ? 1U : (unsigned int)((ms + SA_MS_PER_S - 1) / SA_MS_PER_S);
}

static bool my_options(MYSQL *db, const struct sa_sql_settings *s, int64_t deadline)
{
	unsigned int secs = seconds_left(deadline);
	my_bool on = 1, verify = s->tls_verify ? 1 : 0;
	bool ok = mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &secs) == 0 &&
	          mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &secs) == 0 &&
	          mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &secs) == 0;

	if (ok && s->usessl)
		ok = mysql_options(db, MYSQL_OPT_SSL_ENFORCE, &on) == 0 &&
		     mysql_options(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify) == 0;
	/* Given a CA, Connector/C verifies the chain whatever the verify switch says. */
	if (ok && s->tls_ca_file[0] != '\0' && (!s->usessl || s->tls_verify))
		ok = mysql_options(db, MYSQL_OPT_SSL_CA, s->tls_ca_file) == 0;
	return ok;
}

/* Prepare text into *stmt; with want_column, it must return at least one column. */
static bool my_prepare(MYSQL *db, MYSQL_STMT **stmt, const char *text, const char *key,
                       bool want_column, char *err, size_t errsz)
{
	*stmt = mysql_stmt_init(db);
	if (*stmt != NULL && mysql_stmt_prepare(*stmt, text, (unsigned long)strlen(text)) == 0 &&
	    (!want_column || mysql_stmt_field_count(*stmt) >= 1))
		return true;
	str_format(err, errsz, "%s: %s", key,
	           *stmt == NULL ? mysql_error(db)
	           : mysql_stmt_errno(*stmt) != 0 ? mysql_stmt_error(*stmt)
	                                          : "returns no column");
	return false;
}

static void *my_open(const struct sa_sql_settings *s, const struct sa_sql_host *h,
                     int64_t deadline, char *err, size_t errsz)
{
	struct sa_mysql_conn *c = calloc(1, sizeof(*c));
	bool socket = h->name[0] == '/';

	if (c == NULL || (c->db = mysql_init(NULL)) == NULL) {
		str_format(err, errsz, "out of memory");
		my_close(c);
		return NULL;
	}
	if (!my_options(c->db, s, deadline) ||
	    mysql_real_connect(c->db, socket ? MYSQL_LOCALHOST : h->name,
	                       s->user[0] != '\0' ? s->user : NULL, s->passwd, s->database,
	                       (unsigned int)h->port, socket ? h->name : NULL, 0) == NULL) {
		str_format(err, errsz, "%s", mysql_error(c->db));
		my_close(c);
		return NULL;
	}
	if (!my_prepare(c->db, &c->stmt, s->query.text, "sql_select", true, err, errsz)) {
		my_close(c);
		return NULL;
	}
	return c;
}

static bool my_fail(struct sa_mysql_conn *c, char *err, size_t errsz)
{
	str_format(err, errsz, "%s", mysql_stmt_error(c->stmt));
	mysql_stmt_free_result(c->stmt);
	return false;
}

static void bind_values(MYSQL_BIND *in, unsigned long *lens, const char *const *values,
                        size_t nvalues)
{
	memset(in, 0, SA_SQL_PARAMS_MAX * sizeof(*in));
	for (size_t i = 0; i < nvalues; i++) {
		lens[i] = (unsigned long)strlen(values[i]);
		in[i].buffer_type = MYSQL_TYPE_STRING;
		in[i].buffer = (void *)(uintptr_t)values[i];
		in[i].buffer_length = lens[i];
		in[i].length = &lens[i];
	}
}

static bool my_lookup(void *conn, const char *const *values, size_t nvalues, int64_t deadline,
                      struct sa_sql_answer *a, char *err, size_t errsz)
{
	struct sa_mysql_conn *c = conn;
	MYSQL_BIND in[SA_SQL_PARAMS_MAX], out;
	unsigned long lens[SA_SQL_PARAMS_MAX], outlen = 0;
	my_bool is_null = 0;

	(void)deadline; /* bounded by the connection's timeouts */
	bind_values(in, lens, values, nvalues);
	memset(&out, 0, sizeof(out));
	out.buffer_type = MYSQL_TYPE_STRING;
	out.buffer = a->value;
	out.buffer_length = sizeof(a->value);
	out.length = &outlen;
	out.is_null = &is_null;
	if ((nvalues > 0 && mysql_stmt_bind_param(c->stmt, in) != 0) ||
	    mysql_stmt_execute(c->stmt) != 0 || mysql_stmt_bind_result(c->stmt, &out) != 0 ||
	    mysql_stmt_store_result(c->stmt) != 0)
		return my_fail(c, err, errsz);
	my_ulonglong rows = mysql_stmt_num_rows(c->stmt);
	a->rows = rows > 1 ? 2 : (int)rows;
	if (rows > 0) {
		int f = mysql_stmt_fetch(c->stmt);
		if (f != 0 && f != MYSQL_DATA_TRUNCATED)
			return my_fail(c, err, errsz);
		a->null = is_null != 0;
		a->too_long = outlen >= sizeof(a->value);
		a->len = a->null || a->too_long ? 0 : outlen;
	}
	mysql_stmt_free_result(c->stmt);
	return true;
}

static bool my_prepare_update(void *conn, const struct sa_sql_settings *s, int64_t deadline,
                              char *err, size_t errsz)
{
	struct sa_mysql_conn *c = conn;

	(void)deadline; /* bounded by the connection's timeouts */
	if (my_prepare(c->db, &c->update, s->update.text, "sql_update", false, err, errsz))
		return true;
	if (c->update != NULL)
		mysql_stmt_close(c->update);
	c->update = NULL;
	return false;
}

static bool my_update(void *conn, const char *const *values, size_t nvalues, int64_t deadline,
                      long *changed, char *err, size_t errsz)
{
	struct sa_mysql_conn *c = conn;
	MYSQL_BIND in[SA_SQL_PARAMS_MAX];
	unsigned long lens[SA_SQL_PARAMS_MAX];

	(void)deadline; /* bounded by the connection's timeouts */
	bind_values(in, lens, values, nvalues);
	if (mysql_stmt_bind_param(c->update, in) != 0 || mysql_stmt_execute(c->update) != 0) {
		str_format(err, errsz, "%s", mysql_stmt_error(c->update));
		return false;
	}
	*changed = (long)mysql_stmt_affected_rows(c->update);
	return true;
}

const struct sa_sql_engine sa_sql_mysql = {
	.name = "mysql",
	.numbered = false,
	.uses_hosts = true,
	.open = my_open,
	.lookup = my_lookup,
	.prepare_update = my_prepare_update,
	.update = my_update,
	.close = my_close,
};
