/* The policy layer's pure rules: limits, exempt CIDRs, address keys, the sliding window,
 * and the --policy-store URI forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "saslauthd/policy_redis.h"
#include "saslauthd/policy_rules.h"

#define WINDOW_MS 60000
#define T0 1000000

static char err[POLICY_ERR_MAX];

static void limits(void **state)
{
	struct policy_limit l = { 0, 0 };
	(void)state;
	assert_true(policy_parse_limit("10/60", &l, err, sizeof(err)));
	assert_int_equal(l.failures, 10);
	assert_int_equal(l.seconds, 60);
	assert_true(policy_parse_limit("100/86400", &l, err, sizeof(err)));
	const char *bad[] = { "0/60", "10/0", "101/60", "10/86401", "10", "/60", "10/", "a/b",
	                      "10/60/1", "-1/60", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_false(policy_parse_limit(bad[i], &l, err, sizeof(err)));
		assert_true(err[0] != '\0');
	}
}

static void exempt_ranges(void **state)
{
	struct policy_exempt ex;
	(void)state;
	memset(&ex, 0, sizeof(ex));
	assert_true(policy_parse_exempt("192.0.2.0/24,2001:db8:ee::/48,198.51.100.7", &ex, err,
	                                sizeof(err)));
	assert_int_equal(ex.count, 3);
	assert_true(policy_exempt_match(&ex, "192.0.2.0"));
	assert_true(policy_exempt_match(&ex, "192.0.2.255"));
	assert_false(policy_exempt_match(&ex, "192.0.3.1"));
	assert_true(policy_exempt_match(&ex, "::ffff:192.0.2.9"));
	assert_true(policy_exempt_match(&ex, "2001:db8:ee:ffff::1"));
	assert_false(policy_exempt_match(&ex, "2001:db8:ef::1"));
	assert_true(policy_exempt_match(&ex, "198.51.100.7"));
	assert_false(policy_exempt_match(&ex, "198.51.100.8"));
	assert_false(policy_exempt_match(&ex, "mail.example.org"));
	assert_false(policy_exempt_match(&ex, ""));

	memset(&ex, 0, sizeof(ex));
	assert_true(policy_parse_exempt("10.1.2.3/13", &ex, err, sizeof(err)));
	assert_true(policy_exempt_match(&ex, "10.7.255.255"));
	assert_false(policy_exempt_match(&ex, "10.8.0.0"));
	memset(&ex, 0, sizeof(ex));
	assert_true(policy_parse_exempt("0.0.0.0/0", &ex, err, sizeof(err)));
	assert_true(policy_exempt_match(&ex, "203.0.113.1"));
	assert_false(policy_exempt_match(&ex, "2001:db8::1"));

	const char *bad[] = { "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/x", "host",
	                      "10.0.0.0/8,", ",10.0.0.0/8", "300.1.1.1", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ex, 0, sizeof(ex));
		assert_false(policy_parse_exempt(bad[i], &ex, err, sizeof(err)));
	}
}

static void exempt_bound(void **state)
{
	struct policy_exempt ex;
	char list[POLICY_MAX_EXEMPT * 16 + 32] = "";
	(void)state;
	memset(&ex, 0, sizeof(ex));
	for (int i = 0; i <= POLICY_MAX_EXEMPT; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.0.%d.0/24",
		         i ? "," : "", i);
	assert_false(policy_parse_exempt(list, &ex, err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
}

static void address_keys(void **state)
{
	char key[POLICY_ADDR_KEY_MAX];
	(void)state;
	assert_true(policy_address_key("192.0.2.10", key, sizeof(key)));
	assert_string_equal(key, "192.0.2.10");
	assert_true(policy_address_key("::ffff:192.0.2.10", key, sizeof(key)));
	assert_string_equal(key, "192.0.2.10");
	assert_true(policy_address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", key, sizeof(key)));
	assert_string_equal(key, "2001:db8:1:2::/64");
	assert_true(policy_address_key("2001:DB8:1:2::1", key, sizeof(key)));
	assert_string_equal(key, "2001:db8:1:2::/64");
	assert_true(policy_address_key("mail.example.org", key, sizeof(key)));
	assert_string_equal(key, "mail.example.org");
	assert_false(policy_address_key("a-long-host-name", key, 4));
}

static void digest_of(unsigned char d[POLICY_DIGEST_LEN], int n)
{
	memset(d, 0, POLICY_DIGEST_LEN);
	d[0] = (unsigned char)n;
}

static void window_counts_distinct_passwords(void **state)
{
	struct policy_failure r[3];
	unsigned char d[POLICY_DIGEST_LEN];
	(void)state;
	memset(r, 0, sizeof(r));
	digest_of(d, 1);
	assert_int_equal(policy_window_add(r, 3, T0, WINDOW_MS, d), 1);
	assert_int_equal(policy_window_add(r, 3, T0 + 10, WINDOW_MS, d), 1); /* same: once */
	digest_of(d, 2);
	assert_int_equal(policy_window_add(r, 3, T0 + 20, WINDOW_MS, d), 2);
	digest_of(d, 3);
	assert_int_equal(policy_window_add(r, 3, T0 + 30, WINDOW_MS, d), 3);
	digest_of(d, 4); /* full: the oldest goes, the count stays at the capacity */
	assert_int_equal(policy_window_add(r, 3, T0 + 40, WINDOW_MS, d), 3);
}

static void window_slides(void **state)
{
	struct policy_failure r[3];
	unsigned char d[POLICY_DIGEST_LEN];
	(void)state;
	memset(r, 0, sizeof(r));
	digest_of(d, 1);
	policy_window_add(r, 3, T0, WINDOW_MS, d);
	digest_of(d, 2);
	policy_window_add(r, 3, T0 + 30000, WINDOW_MS, d);
	assert_int_equal(policy_window_count(r, 3, T0 + WINDOW_MS - 1, WINDOW_MS), 2);
	assert_int_equal(policy_window_count(r, 3, T0 + WINDOW_MS, WINDOW_MS), 1);
	assert_int_equal(policy_window_count(r, 3, T0 + 30000 + WINDOW_MS, WINDOW_MS), 0);
	/* A repeated password refreshes its time: it stays in the window longer. */
	digest_of(d, 2);
	policy_window_add(r, 3, T0 + 50000, WINDOW_MS, d);
	assert_int_equal(policy_window_count(r, 3, T0 + 30000 + WINDOW_MS, WINDOW_MS), 1);
	/* An expired record with the same digest is a new failure in a free record. */
	digest_of(d, 1);
	assert_int_equal(policy_window_add(r, 3, T0 + 70000, WINDOW_MS, d), 2);
}

static void store_uris(void **state)
{
	struct policy_store_uri u;
	(void)state;
	assert_true(policy_store_parse("redis://127.0.0.1:6380/3", &u, err, sizeof(err)));
	assert_false(u.is_unix);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 3);
	assert_true(policy_store_parse("redis://redis.example", &u, err, sizeof(err)));
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_true(policy_store_parse("redis:///run/redis/redis.sock?db=2", &u, err, sizeof(err)));
	assert_true(u.is_unix);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 2);
	assert_true(policy_store_parse("redis:///run/redis/redis.sock", &u, err, sizeof(err)));
	assert_int_equal(u.db, 0);
	const char *bad[] = { "http://x", "redis://", "redis://:6379", "redis://h:0", "redis://h:x",
	                      "redis://h:6379/x", "redis://h/-1", "redis:///", "redis:///s?db=x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(policy_store_parse(bad[i], &u, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limits),
		cmocka_unit_test(exempt_ranges),
		cmocka_unit_test(exempt_bound),
		cmocka_unit_test(address_keys),
		cmocka_unit_test(window_counts_distinct_passwords),
		cmocka_unit_test(window_slides),
		cmocka_unit_test(store_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
