/* sql engine sqlite3: sql_database is the database file, opened read-only (read-write only
 * with sql_update). */
#include "mechanisms/sql.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/strutil.h"

/* How many virtual-machine steps between deadline checks. */
#define SQLITE_PROGRESS_STEPS 1000

struct sa_sqlite_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt;
	sqlite3_stmt *update; /* NULL without sql_update */
	int64_t deadline;
};

/* A statement still running at the deadline is interrupted. */
static int past_deadline(void *ctx)
{
	const struct sa_sqlite_conn *c = ctx;
	return sa_ms_until(c->deadline) <= 0;
}

static void sa_sqlite_close(void *conn)
{
	struct sa_sqlite_conn *c = conn;

	if (c == NULL)
		return;
	sqlite3_finalize(c->stmt);
	sqlite3_finalize(c->update);
	sqlite3_close_v2(c->db);
	free(c);
}

static void *sa_sqlite_open(const struct sa_sql_settings *s, const struct sa_sql_host *h,
                            int64_t deadline, char *err, size_t errsz)
{
	struct sa_sqlite_conn *c = calloc(1, sizeof(*c));

	(void)h;
	if (c == NULL) {
		str_format(err, errsz, "out of memory");
		return NULL;
	}
	c->deadline = deadline;
	int mode = s->update.text[0] != '\0' ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
	if (sqlite3_open_v2(s->database, &c->db, mode, NULL) != SQLITE_OK) {
		str_format(err, errsz, "%s", c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
		sa_sqlite_close(c);
		return NULL;
	}
	int64_t left = sa_ms_until(deadline);
	sqlite3_busy_timeout(c->db, left > 0 ? (int)left : 1);
	sqlite3_progress_handler(c->db, SQLITE_PROGRESS_STEPS, past_deadline, c);
	if (sqlite3_prepare_v2(c->db, s->query.text, -1, &c->stmt, NULL) != SQLITE_OK ||
	    c->stmt == NULL || sqlite3_column_count(c->stmt) < 1) {
		str_format(err, errsz, "sql_select: %s",
		           c->stmt == NULL || sqlite3_column_count(c->stmt) >= 1 ? sqlite3_errmsg(c->db)
		                                                                 : "returns no column");
		sa_sqlite_close(c);
		return NULL;
	}
	return c;
}

static void read_value(sqlite3_stmt *stmt, struct sa_sql_answer *a)
{
	const unsigned char *v = sqlite3_column_text(stmt, 0);
	int n = sqlite3_column_bytes(stmt, 0);

	a->null = sqlite3_column_type(stmt, 0) == SQLITE_NULL || v == NULL;
	if (a->null)
		return;
	a->too_long = (size_t)n >= sizeof(a->value);
	a->len = a->too_long ? 0 : (size_t)n;
	memcpy(a->value, v, a->len);
}

static int bind_all(sqlite3_stmt *stmt, const char *const *values, size_t nvalues)
{
	int rc = SQLITE_OK;

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	for (size_t i = 0; i < nvalues && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_text(stmt, (int)i + 1, values[i], -1, SQLITE_STATIC);
	return rc;
}

static void set_deadline(struct sa_sqlite_conn *c, int64_t deadline)
{
	int64_t left = sa_ms_until(deadline);

	c->deadline = deadline;
	sqlite3_busy_timeout(c->db, left > 0 ? (int)left : 1);
}

static bool sa_sqlite_lookup(void *conn, const char *const *values, size_t nvalues,
                             int64_t deadline, struct sa_sql_answer *a, char *err, size_t errsz)
{
	struct sa_sqlite_conn *c = conn;

	set_deadline(c, deadline);
	int rc = bind_all(c->stmt, values, nvalues);
	a->rows = 0;
	while (rc == SQLITE_OK && a->rows < 2) {
		int step = sqlite3_step(c->stmt);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = step;
			break;
		}
		if (a->rows == 0)
			read_value(c->stmt, a);
		a->rows++;
	}
	if (rc != SQLITE_OK)
		str_format(err, errsz, "%s", rc == SQLITE_INTERRUPT ? "timeout" : sqlite3_errmsg(c->db));
	sqlite3_reset(c->stmt);
	sqlite3_clear_bindings(c->stmt);
	return rc == SQLITE_OK;
}

static bool sa_sqlite_prepare_update(void *conn, const struct sa_sql_settings *s,
                                     int64_t deadline, char *err, size_t errsz)
{
	struct sa_sqlite_conn *c = conn;

	(void)deadline;
	if (sqlite3_prepare_v2(c->db, s->update.text, -1, &c->update, NULL) == SQLITE_OK &&
	    c->update != NULL)
		return true;
	str_format(err, errsz, "sql_update: %s", sqlite3_errmsg(c->db));
	return false;
}

static bool sa_sqlite_update(void *conn, const char *const *values, size_t nvalues,
                             int64_t deadline, long *changed, char *err, size_t errsz)
{
	struct sa_sqlite_conn *c = conn;

	set_deadline(c, deadline);
	int rc = bind_all(c->update, values, nvalues);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(c->update);
	bool ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
	if (ok)
		*changed = sqlite3_changes(c->db);
	else
		str_format(err, errsz, "%s", rc == SQLITE_INTERRUPT ? "timeout" : sqlite3_errmsg(c->db));
	sqlite3_reset(c->update);
	sqlite3_clear_bindings(c->update);
	return ok;
}

const struct sa_sql_engine sa_sql_sqlite3 = {
	.name = "sqlite3",
	.numbered = false,
	.uses_hosts = false,
	.open = sa_sqlite_open,
	.lookup = sa_sqlite_lookup,
	.prepare_update = sa_sqlite_prepare_update,
	.update = sa_sqlite_update,
	.close = sa_sqlite_close,
};
