/* The ldap mechanism's saslauthd.conf reader: keys, aliases, defaults, Cyrus's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mechanisms/ldap_config.h"

static char path[64];
static char warnings[4096];
static int nwarnings;
static struct sa_ldap_settings s;

static void collect(void *ctx, const char *message)
{
	(void)ctx;
	nwarnings++;
	strncat(warnings, message, sizeof(warnings) - strlen(warnings) - 2);
	strcat(warnings, "\n");
}

static bool load_text(const char *text, char *err, size_t errsz)
{
	strcpy(path, "/tmp/saslauthd-ldapconf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	warnings[0] = '\0';
	nwarnings = 0;
	bool ok = sa_ldap_settings_load(&s, path, collect, NULL, err, errsz);
	unlink(path);
	return ok;
}

static void defaults(void **state)
{
	char err[256];
	(void)state;
	assert_true(load_text("# only a comment\n\n", err, sizeof(err)));
	assert_string_equal(s.servers, "ldap://localhost/");
	assert_string_equal(s.filter, "(uid=%u)");
	assert_string_equal(s.password_attr, "userPassword");
	assert_string_equal(s.group_attr, "uniqueMember");
	assert_int_equal(s.version, 3);
	assert_int_equal(s.scope, LDAPC_SCOPE_SUB);
	assert_int_equal(s.auth_method, LDAPC_AUTH_BIND);
	assert_int_equal(s.timeout, 5);
	assert_int_equal(s.time_limit, 5);
	assert_int_equal(s.size_limit, 1);
	assert_int_equal(s.deref, LDAPC_DEREF_NEVER);
	assert_true(s.restart);
	assert_false(s.referrals);
	assert_int_equal(s.tls_check_peer, LDAPC_UNSET);
	assert_int_equal(nwarnings, 0);
}

static void keys_aliases_last_wins(void **state)
{
	char err[256];
	(void)state;
	assert_true(load_text("LDAP_Servers: ldap://a/ ldap://b/\n"
	                      "ldap_bind_pw: first\n"
	                      "ldap_password: second  \n" /* alias, last wins, trailing blanks kept */
	                      "ldap_default_domain: example.com\n"
	                      "ldap_sasl_authc_id: svc\n"
	                      "ldap_sasl_mech: EXTERNAL\n"
	                      "ldap_auth_method: Custom\n"
	                      "ldap_scope: one\n"
	                      "ldap_group_scope: base\n"
	                      "ldap_deref: always\n"
	                      "ldap_timeout: 7x\n"
	                      "ldap_size_limit: -3\n"
	                      "ldap_time_limit: abc\n"
	                      "ldap_group_match_method: filter\n",
	                      err, sizeof(err)));
	assert_string_equal(s.servers, "ldap://a/ ldap://b/");
	assert_string_equal(s.password, "second  ");
	assert_string_equal(s.default_realm, "example.com");
	assert_string_equal(s.sasl_id, "svc");
	assert_string_equal(s.mech, "EXTERNAL");
	assert_int_equal(s.auth_method, LDAPC_AUTH_CUSTOM);
	assert_int_equal(s.scope, LDAPC_SCOPE_ONE);
	assert_int_equal(s.group_scope, LDAPC_SCOPE_BASE);
	assert_int_equal(s.deref, LDAPC_DEREF_ALWAYS);
	assert_int_equal(s.timeout, 7);
	assert_int_equal(s.size_limit, -3);
	assert_int_equal(s.time_limit, 0);
	assert_int_equal(s.group_match, LDAPC_GROUP_FILTER);
	assert_int_equal(nwarnings, 0);
}

static void switches(void **state)
{
	char err[256];
	(void)state;
	assert_true(load_text("ldap_referrals: yes\nldap_restart: Yes\nldap_start_tls: on\n"
	                      "ldap_tls_check_peer: false\n", err, sizeof(err)));
	assert_true(s.referrals);
	assert_false(s.restart); /* "Yes": capital Y is no switch word for Cyrus: off */
	assert_true(s.start_tls);
	assert_int_equal(s.tls_check_peer, LDAPC_OFF);
	assert_int_equal(nwarnings, 1);
	assert_non_null(strstr(warnings, ":2: Yes is not a valid value for ldap_restart"));
}

static void unknown_and_bad_values_are_reported_and_ignored(void **state)
{
	char err[256];
	(void)state;
	assert_true(load_text("ldap_serverz: x\nldap_scope: one\nldap_scope: subtree\n"
	                      "ldap_auth_method: custom \n", err, sizeof(err)));
	assert_int_equal(s.scope, LDAPC_SCOPE_ONE); /* previous value stays (2.1.28) */
	assert_int_equal(s.auth_method, LDAPC_AUTH_BIND);
	assert_int_equal(nwarnings, 3);
	assert_non_null(strstr(warnings, ":1: unknown key ldap_serverz"));
	assert_non_null(strstr(warnings, ":3: subtree is not a valid value for ldap_scope"));
	assert_non_null(strstr(warnings, ":4: custom  is not a valid value for ldap_auth_method"));
}

/* One saslauthd.conf for -a ldap,sql: the other mechanisms' keys are not ldap's to warn about. */
static void other_mechanisms_keys_are_left_alone(void **state)
{
	char err[256];
	(void)state;
	assert_true(load_text("sql_engine: sqlite3\nhttpform_url: http://x/\nldap_scope: one\n", err,
	                      sizeof(err)));
	assert_int_equal(s.scope, LDAPC_SCOPE_ONE);
	assert_int_equal(nwarnings, 0);
}

static void derived_rules(void **state)
{
	char err[256];
	(void)state;
	assert_true(load_text("ldap_search_base: dc=x\nldap_group_filter: (member=%D)\n"
	                      "ldap_use_sasl: 1\nldap_version: 2\n", err, sizeof(err)));
	assert_string_equal(s.group_search_base, "dc=x");
	assert_int_equal(s.auth_method, LDAPC_AUTH_FASTBIND); /* bind + SASL = fastbind */
	assert_int_equal(s.version, 3);
	assert_true(load_text("ldap_search_base: dc=x\nldap_group_filter: (member=%D)\n"
	                      "ldap_group_search_base: ou=g\nldap_auth_method: custom\nldap_use_sasl: y\n",
	                      err, sizeof(err)));
	assert_string_equal(s.group_search_base, "ou=g");
	assert_int_equal(s.auth_method, LDAPC_AUTH_CUSTOM);
}

static void long_group_filter_not_truncated(void **state)
{
	char err[256], text[1024], filter[400];
	(void)state;
	memset(filter, 'a', sizeof(filter) - 1);
	filter[sizeof(filter) - 1] = '\0';
	snprintf(text, sizeof(text), "ldap_group_filter: (|(cn=%s)(member=%%D))\n", filter);
	assert_true(load_text(text, err, sizeof(err)));
	assert_true(strlen(s.group_filter) > 400);
}

static void fatal_errors(void **state)
{
	char err[256];
	(void)state;
	assert_false(load_text("ldap_servers ldap://x/\n", err, sizeof(err)));
	assert_non_null(strstr(err, ":1: no colon separator"));
	assert_false(load_text("# c\nldap_servers:   \n", err, sizeof(err)));
	assert_non_null(strstr(err, ":2: empty value"));
	assert_false(sa_ldap_settings_load(&s, "/nonexistent/saslauthd.conf", NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(keys_aliases_last_wins),
		cmocka_unit_test(switches),
		cmocka_unit_test(unknown_and_bad_values_are_reported_and_ignored),
		cmocka_unit_test(other_mechanisms_keys_are_left_alone),
		cmocka_unit_test(derived_rules),
		cmocka_unit_test(long_group_filter_not_truncated),
		cmocka_unit_test(fatal_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
