/* The request pipeline: empty fields, -r, and how mechanism replies are classified.
 * The mechanism here is a scripted table entry, the way the daemon sees any mechanism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "saslauthd/cache.h"
#include "saslauthd/request.h"

static char seen_login[2 * PROTOCOL_FIELD_MAX + 2];
static char seen_realm[PROTOCOL_FIELD_MAX + 1];
static const char *scripted_reply;
static enum verdict scripted_verdict;
static int calls;

static void scripted_auth(const struct mech_request *req, struct mech_result *result)
{
	calls++;
	str_copy(seen_login, sizeof(seen_login), req->login);
	str_copy(seen_realm, sizeof(seen_realm), req->realm);
	mech_result_set(result, scripted_verdict, scripted_reply, NULL);
}

static const struct mechanism scripted = { .name = "scripted", .auth = scripted_auth };

static struct request make(const char *login, const char *password, const char *realm)
{
	struct request r;
	memset(&r, 0, sizeof(r));
	str_copy(r.login, sizeof(r.login), login);
	str_copy(r.password, sizeof(r.password), password);
	str_copy(r.service, sizeof(r.service), "smtp");
	str_copy(r.realm, sizeof(r.realm), realm);
	r.field_count = 4;
	return r;
}

static int setup(void **state)
{
	(void)state;
	log_init("saslauthd-test", false, false);
	return 0;
}

static void decide(bool realm_concat, const struct request *r, char *reply)
{
	struct request_policy policy = { .mech = &scripted, .realm_concat = realm_concat };
	calls = 0;
	/* The verdict a well-behaved mechanism gives with this reply. */
	scripted_verdict = strncmp(scripted_reply, "OK", 2) == 0 ? VERDICT_OK : VERDICT_NO;
	seen_login[0] = '\0';
	request_decide(&policy, r, reply, PROTOCOL_REPLY_TEXT_MAX + 1);
}

static void empty_login_and_password(void **state)
{
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];
	struct request r = make("", "pw", "");
	(void)state;
	scripted_reply = "OK";
	decide(false, &r, reply);
	assert_string_equal(reply, "NO NULL login received");
	assert_int_equal(calls, 0);
	r = make("bob", "", "");
	decide(false, &r, reply);
	assert_string_equal(reply, "NO NULL password received");
	assert_int_equal(calls, 0);
}

static void realm_concatenation(void **state)
{
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];
	struct request r = make("bob", "pw", "example.com");
	(void)state;
	scripted_reply = "OK";
	decide(false, &r, reply);
	assert_string_equal(seen_login, "bob");
	decide(true, &r, reply);
	assert_string_equal(seen_login, "bob@example.com");
	assert_string_equal(seen_realm, "example.com"); /* realm still passed unchanged */
	r = make("bob", "pw", "");
	decide(true, &r, reply);
	assert_string_equal(seen_login, "bob"); /* no realm, nothing appended */
}

static void reply_classification(void **state)
{
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];
	struct request r = make("bob", "pw", "");
	(void)state;
	scripted_reply = "OK remote authentication successful";
	decide(false, &r, reply);
	assert_string_equal(reply, "OK remote authentication successful");
	scripted_reply = "NO Incorrect password";
	decide(false, &r, reply);
	assert_string_equal(reply, "NO Incorrect password");
	scripted_reply = "";
	decide(false, &r, reply);
	assert_string_equal(reply, "NO internal mechanism failure");
	scripted_reply = "MAYBE";
	decide(false, &r, reply);
	assert_string_equal(reply, "NO internal mechanism failure");
}

/* Issue 12, finding 7: the verdict decides, and a reply text that contradicts it is a
 * mechanism failure, never an OK (and never cached). */
static struct mech_result forced;

static void forced_auth(const struct mech_request *req, struct mech_result *result)
{
	(void)req;
	calls++;
	*result = forced;
}

static const struct mechanism forcing = { .name = "forcing", .auth = forced_auth };

static void force(enum verdict v, const char *text, char *reply)
{
	struct request r = make("bob", "pw", "");
	struct request_policy policy = { .mech = &forcing };
	memset(&forced, 0, sizeof(forced));
	forced.verdict = v;
	str_copy(forced.reply, sizeof(forced.reply), text);
	request_decide(&policy, &r, reply, PROTOCOL_REPLY_TEXT_MAX + 1);
}

static void verdict_and_reply_must_agree(void **state)
{
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];
	(void)state;
	force(VERDICT_NO, "OK", reply);
	assert_string_equal(reply, "NO internal mechanism failure");
	force(VERDICT_FAIL, "OK but not really", reply);
	assert_string_equal(reply, "NO internal mechanism failure");
	force(VERDICT_OK, "NO Incorrect password", reply);
	assert_string_equal(reply, "NO internal mechanism failure");
	force(VERDICT_OK, "", reply); /* a result left empty is not an OK */
	assert_string_equal(reply, "NO internal mechanism failure");
	force(VERDICT_OK, "OK", reply);
	assert_string_equal(reply, "OK");
	force(VERDICT_FAIL, "NO server unavailable", reply);
	assert_string_equal(reply, "NO server unavailable");
}

static void contradicting_ok_is_never_cached(void **state)
{
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];
	(void)state;
	assert_true(cache_init(1, 60));
	calls = 0;
	force(VERDICT_NO, "OK", reply);
	force(VERDICT_NO, "OK", reply);
	assert_int_equal(calls, 2); /* the second one asked the mechanism again */
	forced.verdict = VERDICT_NO;
	str_copy(forced.reply, sizeof(forced.reply), "NO Incorrect password");
	force(VERDICT_NO, "NO Incorrect password", reply);
	assert_string_equal(reply, "NO Incorrect password");
	force(VERDICT_OK, "OK", reply);
	force(VERDICT_NO, "NO Incorrect password", reply);
	assert_string_equal(reply, "OK"); /* a real OK is cached as before */
	assert_int_equal(calls, 4);
}

static enum verdict force_v(enum verdict v, const char *text, char *reply)
{
	struct request r = make("bob", "pw", "");
	struct request_policy policy = { .mech = &forcing };
	memset(&forced, 0, sizeof(forced));
	forced.verdict = v;
	str_copy(forced.reply, sizeof(forced.reply), text);
	return request_decide(&policy, &r, reply, PROTOCOL_REPLY_TEXT_MAX + 1);
}

static long long test_now = 5000000;
static long long test_clock(void)
{
	return test_now;
}

/* request_decide returns the settled verdict the serving core delays on; a negative hit
 * is NO without the mechanism; a FAIL with a stale entry is OK. */
static void settled_verdicts_and_the_failure_cache(void **state)
{
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];
	struct request empty = make("bob", "", "");
	struct request_policy policy = { .mech = &forcing };
	(void)state;
	assert_int_equal(request_decide(&policy, &empty, reply, sizeof(reply)), VERDICT_NO);
	assert_true(cache_init(1, 60));
	cache_set_clock(test_clock);
	cache_set_failure_ttls(30, 100);
	calls = 0;
	assert_int_equal(force_v(VERDICT_NO, "NO Incorrect password", reply), VERDICT_NO);
	assert_int_equal(force_v(VERDICT_NO, "NO Incorrect password", reply), VERDICT_NO);
	assert_string_equal(reply, "NO");
	assert_int_equal(calls, 1); /* the second was a negative hit */
	assert_int_equal(force_v(VERDICT_FAIL, "NO server unavailable", reply), VERDICT_NO);
	assert_int_equal(calls, 1); /* still the negative entry: no back-end asked */
	test_now += 31;
	assert_int_equal(force_v(VERDICT_OK, "OK", reply), VERDICT_OK);
	assert_int_equal(calls, 2);
	test_now += 61; /* expired */
	assert_int_equal(force_v(VERDICT_FAIL, "NO server unavailable", reply), VERDICT_OK);
	assert_string_equal(reply, "OK");
	assert_int_equal(calls, 3);
	test_now += 100; /* past --stale-ttl */
	assert_int_equal(force_v(VERDICT_FAIL, "NO server unavailable", reply), VERDICT_FAIL);
	assert_string_equal(reply, "NO server unavailable");
	cache_set_clock(NULL);
	cache_set_failure_ttls(0, 0);
}

static void log_values_are_escaped(void **state)
{
	char out[128];
	(void)state;
	assert_string_equal(log_escape("bob] [user=root", out, sizeof(out)),
	                    "bob\\x5d \\x5buser=root");
	assert_string_equal(log_escape("a\nb\\c", out, sizeof(out)), "a\\x0ab\\x5cc");
	assert_string_equal(log_escape("jürgen", out, sizeof(out)), "jürgen");
	assert_string_equal(log_escape("]]]]", out, 9), "\\x5d\\x5d"); /* never a partial escape */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_login_and_password),
		cmocka_unit_test(realm_concatenation),
		cmocka_unit_test(reply_classification),
		cmocka_unit_test(verdict_and_reply_must_agree),
		cmocka_unit_test(contradicting_ok_is_never_cached),
		cmocka_unit_test(settled_verdicts_and_the_failure_cache),
		cmocka_unit_test(log_values_are_escaped),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
