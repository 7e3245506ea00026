/* sql mechanism: sql_select templates become bound parameters, sql_hostnames lists, and the
 * file's validation with file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mechanisms/sql.h"

static struct sa_sql_statement st;
static char err[512];

static bool compile_with(const char *tmpl, bool numbered, bool with_hash)
{
	err[0] = '\0';
	return sa_sql_template_compile(tmpl, numbered, with_hash, &st, err, sizeof(err));
}

static bool compile(const char *tmpl, bool numbered)
{
	return compile_with(tmpl, numbered, false);
}

static void templates(void **state)
{
	(void)state;
	assert_true(compile("SELECT password FROM mailbox WHERE username = '%U' AND active = '1'", false));
	assert_string_equal(st.text, "SELECT password FROM mailbox WHERE username = ? AND active = '1'");
	assert_int_equal(st.nparams, 1);
	assert_int_equal(st.params[0], SA_SQL_TOK_LOGIN_AT_REALM);
	assert_true(compile("SELECT p FROM t WHERE u = %u AND d = %r AND x LIKE '100%%'", true));
	assert_string_equal(st.text, "SELECT p FROM t WHERE u = $1 AND d = $2 AND x LIKE '100%'");
	assert_int_equal(st.nparams, 2);
	assert_int_equal(st.params[0], SA_SQL_TOK_LOGIN);
	assert_int_equal(st.params[1], SA_SQL_TOK_REALM);
	assert_true(compile("SELECT p FROM t WHERE u = 'it''s' AND v = %u", false));
	assert_string_equal(st.text, "SELECT p FROM t WHERE u = 'it''s' AND v = ?");
	assert_false(compile("SELECT p FROM t WHERE u = '%u@%r'", false));
	assert_non_null(strstr(err, "inside a string literal"));
	assert_false(compile("SELECT p FROM t WHERE u = %x", false));
	assert_non_null(strstr(err, "unknown token %x"));
	assert_false(compile("SELECT p FROM t WHERE u = '%u", false));
	assert_false(compile("SELECT %u%u%u%u%u%u%u%u%u%u%u%u%u%u%u%u%u", false));
	assert_non_null(strstr(err, "more than 16 tokens"));
	/* %h, the new hash, only in sql_update */
	assert_false(compile("SELECT p FROM t WHERE u = %u AND p <> %h", false));
	assert_non_null(strstr(err, "%h is only for sql_update"));
	assert_true(compile_with("UPDATE t SET p = '%h' WHERE u = %U", true, true));
	assert_string_equal(st.text, "UPDATE t SET p = $1 WHERE u = $2");
	assert_int_equal(st.params[0], SA_SQL_TOK_NEW_HASH);
	assert_int_equal(st.params[1], SA_SQL_TOK_LOGIN_AT_REALM);
}

static void hosts(void **state)
{
	struct sa_sql_host h[SA_SQL_HOSTS_MAX];
	size_t n;
	(void)state;
	assert_true(sa_sql_hosts_parse("db1, db2:5433 [::1]:3306,/run/pg", h, &n, err, sizeof(err)));
	assert_int_equal(n, 4);
	assert_string_equal(h[0].name, "db1");
	assert_int_equal(h[0].port, 0);
	assert_string_equal(h[1].name, "db2");
	assert_int_equal(h[1].port, 5433);
	assert_string_equal(h[2].name, "::1");
	assert_int_equal(h[2].port, 3306);
	assert_string_equal(h[3].name, "/run/pg");
	assert_true(sa_sql_hosts_parse("/run/pg:5433", h, &n, err, sizeof(err)));
	assert_string_equal(h[0].name, "/run/pg");
	assert_int_equal(h[0].port, 5433);
	assert_false(sa_sql_hosts_parse("db:0", h, &n, err, sizeof(err)));
	assert_false(sa_sql_hosts_parse("db:x", h, &n, err, sizeof(err)));
	assert_false(sa_sql_hosts_parse("::1", h, &n, err, sizeof(err)));
	assert_false(sa_sql_hosts_parse(" , ", h, &n, err, sizeof(err)));
	assert_false(sa_sql_hosts_parse("a,b,c,d,e,f,g,h,i", h, &n, err, sizeof(err)));
}

static const char *write_conf(const char *text)
{
	static char path[] = "/tmp/test_sql_config.XXXXXX";
	strcpy(path, "/tmp/test_sql_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static bool load(const char *text, struct sa_sql_settings *s)
{
	const char *path = write_conf(text);
	bool ok = sa_sql_settings_load(s, path, err, sizeof(err));
	unlink(path);
	return ok;
}

static void settings(void **state)
{
	static struct sa_sql_settings s;
	(void)state;
	if (sa_sql_engines[0] == NULL)
		skip();
	char text[1024];
	snprintf(text, sizeof(text),
	         "ldap_servers: ldap://x/\n"
	         "sql_engine: %s\n"
	         "sql_select: SELECT password FROM mailbox WHERE username = %%U\n"
	         "sql_database: mail\n"
	         "sql_hostnames: a:1, b\n"
	         "sql_passwd: secret\n"
	         "password_max_bcrypt_cost: 10\n",
	         sa_sql_engines[0]->name);
	assert_true(load(text, &s));
	assert_int_equal(s.timeout_ms, SA_SQL_DEFAULT_TIMEOUT_S * 1000);
	assert_string_equal(s.hash_policy.default_scheme, "CRYPT");
	assert_int_equal(s.hash_policy.max_bcrypt_cost, 10);
	assert_int_equal(s.query.nparams, 1);
	assert_string_equal(s.update.text, "");
	assert_true(s.tls_verify);
	assert_false(s.usessl);

	assert_false(load("sql_engine: oracle\nsql_select: x\nsql_database: d\n", &s));
	assert_non_null(strstr(err, ":1: sql_engine oracle is not built in"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\nsql_selectt: x\n",
	         sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: unknown key sql_selectt"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\nsql_timeout: 0\n",
	         sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_timeout must be 1..300"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\nsql_default_scheme: ROT13\n",
	         sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_default_scheme ROT13"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\npassword_max_memory: -1\n",
	         sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: password_max_memory must be"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_database: e\nsql_select: SELECT 1\n",
	         sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":3: sql_database given twice"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\n", sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, "sql_select is required"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: x\nsql_usessl: maybe\n",
	         sa_sql_engines[0]->name);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_usessl must be yes or no"));
}

/* sql_update and sql_upgrade_scheme: both or neither, a scheme we can make, a %h. */
static void upgrade_settings(void **state)
{
	static struct sa_sql_settings s;
	char text[1024];
	(void)state;
	if (sa_sql_engines[0] == NULL)
		skip();
	const char *eng = sa_sql_engines[0]->name;

	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT p FROM t WHERE u = %%U\n"
	         "sql_update: UPDATE t SET p = %%h WHERE u = %%U\nsql_upgrade_scheme: sha512-crypt\n", eng);
	assert_true(load(text, &s));
	assert_int_equal(s.update.nparams, 2);
	assert_int_equal(s.update.params[0], SA_SQL_TOK_NEW_HASH);
	assert_string_equal(s.upgrade_scheme, "sha512-crypt");
	assert_int_equal(s.upgrade_strength, SH_STRENGTH_SHA512_CRYPT);

	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\n"
	         "sql_update: UPDATE t SET p = %%h\n", eng);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_update needs sql_upgrade_scheme too"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\n"
	         "sql_upgrade_scheme: ARGON2ID\n", eng);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_upgrade_scheme needs sql_update too"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\n"
	         "sql_update: UPDATE t SET p = %%h\nsql_upgrade_scheme: MD5-CRYPT\n", eng);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":5: sql_upgrade_scheme MD5-CRYPT: use"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\n"
	         "sql_update: UPDATE t SET p = 'x' WHERE u = %%u\nsql_upgrade_scheme: BLF-CRYPT\n", eng);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_update: no %h"));
	snprintf(text, sizeof(text), "sql_engine: %s\nsql_database: d\nsql_select: SELECT 1\n"
	         "sql_update: UPDATE t SET p = %%x\nsql_upgrade_scheme: BLF-CRYPT\n", eng);
	assert_false(load(text, &s));
	assert_non_null(strstr(err, ":4: sql_update: unknown token %x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(templates),
		cmocka_unit_test(hosts),
		cmocka_unit_test(settings),
		cmocka_unit_test(upgrade_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
