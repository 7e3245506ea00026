/* Command-line parsing: Cyrus's options, defaults and exit statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "common/log.h"
#include "saslauthd/options.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static struct options opts;
static FILE *sink;

static int setup(void **state)
{
	(void)state;
	sink = fopen("/dev/null", "w");
	log_init("saslauthd-test", false, false);
	return sink == NULL;
}

static int teardown(void **state)
{
	(void)state;
	fclose(sink);
	return 0;
}

static int parse(int argc, const char **argv)
{
	return options_parse(&opts, argc, (char **)argv, sink);
}

static void debian_command_line(void **state)
{
	const char *argv[] = { "saslauthd", "-a", "SHADOW", "-c", "-m", "/var/spool/postfix/var/run/saslauthd",
	                       "-n", "5", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), -1);
	assert_string_equal(opts.mech->name, "shadow"); /* matched case-insensitively */
	assert_true(opts.cache);
	assert_string_equal(opts.run_dir, "/var/spool/postfix/var/run/saslauthd");
	assert_int_equal(opts.workers, 5);
	assert_true(opts.accept_lock);
	assert_false(opts.foreground);
	assert_false(opts.verbose);
}

static void defaults(void **state)
{
	const char *argv[] = { "saslauthd", "-a", "getpwent", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), -1);
	assert_string_equal(opts.run_dir, SASLAUTHD_DEFAULT_RUNDIR);
	assert_int_equal(opts.workers, OPTIONS_DEFAULT_WORKERS);
	assert_null(opts.mech_option);
	assert_int_equal(opts.cache_timeout, 28800);
}

static void flags(void **state)
{
	const char *argv[] = { "saslauthd", "-a", "shadow", "-d", "-l", "-r", "-O", "one", "-O", "two",
	                       "-n", "0", "-s", "100", "-t", "60", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), -1);
	assert_true(opts.foreground);
	assert_true(opts.verbose);
	assert_false(opts.accept_lock);
	assert_true(opts.realm_concat);
	assert_string_equal(opts.mech_option, "two"); /* last -O wins */
	assert_int_equal(opts.workers, 0);
	assert_int_equal(opts.cache_kb, 100);
	assert_int_equal(opts.cache_timeout, 60);
}

static void foreground_without_debug(void **state)
{
	const char *argv[] = { "saslauthd", "-f", "-a", "shadow", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), -1);
	assert_true(opts.foreground);
	assert_false(opts.verbose);
}

static void version_and_help_exit_zero(void **state)
{
	const char *v[] = { "saslauthd", "-v", "-m", "relative", NULL };
	const char *h[] = { "saslauthd", "-h", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(v), v), 0); /* acted on in order: -v exits first */
	assert_int_equal(parse(ARGC(h), h), 0);
}

static void version_block_format(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	(void)state;
	options_print_version(mem);
	fclose(mem);
	assert_string_equal(text, "saslauthd " SASLAUTHD_VERSION "\nauthentication mechanisms: "
#ifdef WITH_SASLDB
	                          "sasldb "
#endif
	                          "getpwent "
#ifdef WITH_KRB5
	                          "kerberos5 "
#endif
#ifdef WITH_PAM
	                          "pam "
#endif
#ifdef WITH_RIMAP
	                          "rimap "
#endif
	                          "shadow"
#ifdef WITH_LDAP
	                          " ldap"
#endif
#ifdef WITH_HTTPFORM
	                          " httpform"
#endif
#ifdef WITH_SQL
	                          " sql"
#endif
	                          "\n\n");
	free(text);
}

static void errors_exit_non_zero(void **state)
{
	const char *none[] = { "saslauthd", "-n", "2", NULL };
	const char *unknown[] = { "saslauthd", "-a", "kerberos4", NULL };
	const char *twice[] = { "saslauthd", "-a", "shadow", "-a", "getpwent", NULL };
	const char *relative[] = { "saslauthd", "-a", "shadow", "-m", "run", NULL };
	const char *bad_n[] = { "saslauthd", "-a", "shadow", "-n", "five", NULL };
	const char *neg_n[] = { "saslauthd", "-a", "shadow", "-n", "-1", NULL };
	const char *zero_s[] = { "saslauthd", "-a", "shadow", "-s", "0", NULL };
	const char *bad_t[] = { "saslauthd", "-a", "shadow", "-t", "soon", NULL };
	const char *bad_opt[] = { "saslauthd", "-a", "shadow", "-T", NULL };
	const char *missing[] = { "saslauthd", "-a", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(none), none), 1);
	assert_int_equal(parse(ARGC(unknown), unknown), 1);
	assert_int_equal(parse(ARGC(twice), twice), 1);
	assert_int_equal(parse(ARGC(relative), relative), 1);
	assert_int_equal(parse(ARGC(bad_n), bad_n), 1);
	assert_int_equal(parse(ARGC(neg_n), neg_n), 1);
	assert_int_equal(parse(ARGC(zero_s), zero_s), 1);
	assert_int_equal(parse(ARGC(bad_t), bad_t), 1);
	assert_int_equal(parse(ARGC(bad_opt), bad_opt), 1);
	assert_int_equal(parse(ARGC(missing), missing), 1);
}

static void run_dir_must_fit_sun_path(void **state)
{
	char dir[200];
	const char *argv[] = { "saslauthd", "-a", "shadow", "-m", dir, NULL };
	(void)state;
	memset(dir, 'a', sizeof(dir));
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(parse(ARGC(argv), argv), 1);
}

/* The pool: -n is the floor, --max-workers the ceiling (default 30 or -n), --worker-idle. */
static void pool_bounds(void **state)
{
	const char *plain[] = { "saslauthd", "-a", "getpwent", NULL };
	const char *big_n[] = { "saslauthd", "-a", "getpwent", "-n", "40", NULL };
	const char *given[] = { "saslauthd", "-a", "getpwent", "-n", "2", "--max-workers", "8",
	                        "--worker-idle", "5", NULL };
	const char *below[] = { "saslauthd", "-a", "getpwent", "--max-workers", "3", "-n", "5", NULL };
	const char *zero_idle[] = { "saslauthd", "-a", "getpwent", "--worker-idle", "0", NULL };
	const char *too_many[] = { "saslauthd", "-a", "getpwent", "--max-workers", "513", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(plain), plain), -1);
	assert_int_equal(opts.max_workers, OPTIONS_DEFAULT_MAX_WORKERS);
	assert_int_equal(opts.worker_idle, OPTIONS_DEFAULT_WORKER_IDLE);
	assert_int_equal(parse(ARGC(big_n), big_n), -1);
	assert_int_equal(opts.max_workers, 40);
	assert_int_equal(parse(ARGC(given), given), -1);
	assert_int_equal(opts.workers, 2);
	assert_int_equal(opts.max_workers, 8);
	assert_int_equal(opts.worker_idle, 5);
	assert_int_equal(parse(ARGC(below), below), 1);
	assert_int_equal(parse(ARGC(zero_idle), zero_idle), 1);
	assert_int_equal(parse(ARGC(too_many), too_many), 1);
}

/* -a with several mechanisms: order, canonical names, the chain's name. */
static void chain_of_mechanisms(void **state)
{
	const char *argv[] = { "saslauthd", "-a", "GETPWENT,shadow", NULL };
	const char *one[] = { "saslauthd", "-a", "shadow", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(argv), argv), -1);
	assert_int_equal(opts.chain.count, 2);
	assert_string_equal(opts.chain.steps[0].mech->name, "getpwent");
	assert_string_equal(opts.chain.steps[1].mech->name, "shadow");
	assert_string_equal(opts.chain.name, "getpwent,shadow");
	assert_ptr_equal(opts.mech, opts.chain.steps[0].mech);
	assert_null(opts.chain.steps[0].settings.option);
	assert_null(opts.chain.steps[1].settings.option);
	assert_int_equal(parse(ARGC(one), one), -1);
	assert_int_equal(opts.chain.count, 1);
	assert_string_equal(opts.chain.name, "shadow");
}

/* Unknown, repeated and empty elements are refused at start, like an unknown -a. */
static void bad_chains_exit_non_zero(void **state)
{
	static const char *const lists[] = {
		"shadow,kerberos4", "kerberos4,shadow", "shadow,SHADOW", "getpwent,shadow,getpwent",
		"shadow,", ",shadow", "shadow,,getpwent", "", ",", "shadow, getpwent",
		"shadow,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const char *argv[] = { "saslauthd", "-a", lists[i], NULL };
		assert_int_equal(parse(ARGC(argv), argv), 1);
	}
}

/* One mechanism: the last -O wins however many were given (Cyrus). */
static void single_mechanism_last_option_wins(void **state)
{
	const char *argv[40] = { "saslauthd", "-a", "shadow" };
	char values[18][8];
	int argc = 3;
	(void)state;
	for (int i = 0; i < 18; i++) {
		snprintf(values[i], sizeof(values[i]), "o%d", i);
		argv[argc++] = "-O";
		argv[argc++] = values[i];
	}
	argv[argc] = NULL;
	assert_int_equal(parse(argc, argv), -1);
	assert_string_equal(opts.chain.steps[0].settings.option, "o17");
	assert_string_equal(opts.mech_option, "o17");
	assert_int_equal(opts.mech_option_count, 18);
}

#if defined(WITH_SASLDB) && defined(WITH_RIMAP) && defined(WITH_LDAP) && defined(WITH_SQL)
/* A chain: one -O reaches every mechanism that reads one, when they read the same kind of
 * thing; as many -O as mechanisms go one each, in order ('' = none); anything else fails. */
static void chain_options(void **state)
{
	const char *shared[] = { "saslauthd", "-a", "ldap,shadow,sql", "-O", "/etc/x.conf", NULL };
	const char *sasldb_shadow[] = { "saslauthd", "-a", "sasldb,shadow", "-O", "/db", NULL };
	const char *each[] = { "saslauthd", "-a", "sasldb,shadow,rimap", "-O", "/db", "-O", "",
	                       "-O", "imap.example.org", NULL };
	const char *conflict[] = { "saslauthd", "-a", "sasldb,rimap", "-O", "x", NULL };
	const char *to_ignorer[] = { "saslauthd", "-a", "sasldb,shadow", "-O", "/db", "-O", "x", NULL };
	const char *count[] = { "saslauthd", "-a", "sasldb,shadow,ldap", "-O", "a", "-O", "b", NULL };
	const char *four[] = { "saslauthd", "-a", "sasldb,ldap", "-O", "a", "-O", "b", "-O", "c",
	                       "-O", "d", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(shared), shared), -1);
	assert_string_equal(opts.chain.steps[0].settings.option, "/etc/x.conf");
	assert_null(opts.chain.steps[1].settings.option); /* shadow reads no -O */
	assert_string_equal(opts.chain.steps[2].settings.option, "/etc/x.conf");
	assert_int_equal(parse(ARGC(sasldb_shadow), sasldb_shadow), -1);
	assert_string_equal(opts.chain.steps[0].settings.option, "/db");
	assert_null(opts.chain.steps[1].settings.option);
	assert_int_equal(parse(ARGC(each), each), -1);
	assert_string_equal(opts.chain.steps[0].settings.option, "/db");
	assert_null(opts.chain.steps[1].settings.option);
	assert_string_equal(opts.chain.steps[2].settings.option, "imap.example.org");
	assert_int_equal(parse(ARGC(conflict), conflict), 1);
	assert_int_equal(parse(ARGC(to_ignorer), to_ignorer), 1);
	assert_int_equal(parse(ARGC(count), count), 1);
	assert_int_equal(parse(ARGC(four), four), 1);
}
#endif

#ifdef WITH_PAM
/* --pam-services needs pam somewhere in the chain; every step gets it (pam reads it). */
static void pam_services_in_a_chain(void **state)
{
	const char *with[] = { "saslauthd", "-a", "shadow,pam", "--pam-services", "imap", NULL };
	const char *without[] = { "saslauthd", "-a", "shadow,getpwent", "--pam-services", "imap", NULL };
	(void)state;
	assert_int_equal(parse(ARGC(with), with), -1);
	assert_string_equal(opts.chain.steps[1].settings.services, "imap");
	assert_int_equal(parse(ARGC(without), without), 1);
}
#endif

static long fail_delay_of(const char *value)
{
	const char *argv[] = { "saslauthd", "-a", "getpwent", "--fail-delay", value, NULL };
	return parse(ARGC(argv), argv) == -1 ? opts.fail_delay_ms : -1;
}

static void failure_options(void **state)
{
	(void)state;
	assert_int_equal(fail_delay_of("0.5"), 500);
	assert_int_equal(fail_delay_of("2"), 2000);
	assert_int_equal(fail_delay_of("1.25"), 1250);
	assert_int_equal(fail_delay_of(".5"), 500);
	assert_int_equal(fail_delay_of("10"), 10000);
	assert_int_equal(fail_delay_of("0"), 0);
	assert_int_equal(fail_delay_of("10.001"), -1); /* above the bound */
	assert_int_equal(fail_delay_of("0.0001"), -1); /* below a millisecond */
	assert_int_equal(fail_delay_of("99999999999999999999"), -1);
	assert_int_equal(fail_delay_of("1e3"), -1);
	assert_int_equal(fail_delay_of("."), -1);
	assert_int_equal(fail_delay_of(""), -1);
	assert_int_equal(fail_delay_of("-1"), -1);

	const char *defaults[] = { "saslauthd", "-a", "getpwent", NULL };
	assert_int_equal(parse(ARGC(defaults), defaults), -1);
	assert_int_equal(opts.fail_delay_ms, 0);
	assert_int_equal(opts.negative_ttl, 0);
	assert_int_equal(opts.stale_ttl, 0);

	const char *with_cache[] = { "saslauthd", "-a", "getpwent", "-c", "--negative-ttl", "60",
		                     "--stale-ttl", "3600", NULL };
	assert_int_equal(parse(ARGC(with_cache), with_cache), -1);
	assert_int_equal(opts.negative_ttl, 60);
	assert_int_equal(opts.stale_ttl, 3600);

	const char *no_cache[] = { "saslauthd", "-a", "getpwent", "--stale-ttl", "60", NULL };
	assert_int_equal(parse(ARGC(no_cache), no_cache), 1);
	const char *too_long[] = { "saslauthd", "-a", "getpwent", "-c", "--negative-ttl", "86401", NULL };
	assert_int_equal(parse(ARGC(too_long), too_long), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debian_command_line),
		cmocka_unit_test(defaults),
		cmocka_unit_test(flags),
		cmocka_unit_test(foreground_without_debug),
		cmocka_unit_test(version_and_help_exit_zero),
		cmocka_unit_test(version_block_format),
		cmocka_unit_test(errors_exit_non_zero),
		cmocka_unit_test(run_dir_must_fit_sun_path),
		cmocka_unit_test(pool_bounds),
		cmocka_unit_test(chain_of_mechanisms),
		cmocka_unit_test(bad_chains_exit_non_zero),
		cmocka_unit_test(single_mechanism_last_option_wins),
#if defined(WITH_SASLDB) && defined(WITH_RIMAP) && defined(WITH_LDAP) && defined(WITH_SQL)
		cmocka_unit_test(chain_options),
#endif
#ifdef WITH_PAM
		cmocka_unit_test(pam_services_in_a_chain),
#endif
		cmocka_unit_test(failure_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
