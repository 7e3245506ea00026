/* The chain's rule (-a MECH1,MECH2,...): the first OK decides; NO and FAIL move on; with no
 * OK the first FAIL's answer, else the last NO's; [mech=] names who decided. The
 * mechanisms are scripted table entries, the way the daemon sees any mechanism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "saslauthd/chain.h"

#define SCRIPTED 3

static const char *replies[SCRIPTED];
static enum verdict verdicts[SCRIPTED];
static int asked[SCRIPTED];

static void answer(int i, struct mech_result *result)
{
	asked[i]++;
	mech_result_set(result, verdicts[i], replies[i], "reason of %d", i);
}

static void auth0(const struct mech_request *req, struct mech_result *r) { (void)req; answer(0, r); }
static void auth1(const struct mech_request *req, struct mech_result *r) { (void)req; answer(1, r); }
static void auth2(const struct mech_request *req, struct mech_result *r) { (void)req; answer(2, r); }

static const struct mechanism mechs[SCRIPTED] = {
	{ .name = "first", .auth = auth0 },
	{ .name = "second", .auth = auth1 },
	{ .name = "third", .auth = auth2 },
};

static struct chain chain;
static struct mech_result result;
static const char *decider;
static bool log_failure;

/* Script the chain: "OK", "NO" or "FAIL" per mechanism (NULL: fewer mechanisms). */
static enum verdict run(const char *a, const char *b, const char *c)
{
	const char *script[SCRIPTED] = { a, b, c };
	struct mech_request req = { .login = "bob", .password = "pw", .service = "imap",
	                            .realm = "", .client_addr = "" };

	memset(&chain, 0, sizeof(chain));
	memset(asked, 0, sizeof(asked));
	for (int i = 0; i < SCRIPTED && script[i] != NULL; i++) {
		chain.steps[chain.count++].mech = &mechs[i];
		if (strcmp(script[i], "OK") == 0) {
			verdicts[i] = VERDICT_OK;
			replies[i] = "OK";
		} else if (strcmp(script[i], "NO") == 0) {
			verdicts[i] = VERDICT_NO;
			replies[i] = i == 0 ? "NO first says no" : "NO later says no";
		} else {
			verdicts[i] = VERDICT_FAIL;
			replies[i] = i == 0 ? "NO first is down" : "NO later is down";
		}
	}
	str_copy(chain.name, sizeof(chain.name), "first,second,third");
	memset(&result, 0, sizeof(result));
	return chain_decide(&chain, &req, &result, &decider, &log_failure);
}

static int setup(void **state)
{
	(void)state;
	log_init("saslauthd-test", false, false);
	return 0;
}

static void first_ok_decides_and_stops(void **state)
{
	(void)state;
	assert_int_equal(run("OK", "NO", NULL), VERDICT_OK);
	assert_string_equal(decider, "first");
	assert_int_equal(asked[1], 0);
	assert_int_equal(run("NO", "OK", "OK"), VERDICT_OK);
	assert_string_equal(result.reply, "OK");
	assert_string_equal(decider, "second");
	assert_int_equal(asked[2], 0);
}

static void fail_then_ok_is_ok(void **state)
{
	(void)state;
	assert_int_equal(run("FAIL", "OK", NULL), VERDICT_OK);
	assert_string_equal(decider, "second");
	assert_int_equal(run("FAIL", "NO", "OK"), VERDICT_OK);
	assert_string_equal(decider, "third");
}

static void all_no_gives_the_last_no(void **state)
{
	(void)state;
	assert_int_equal(run("NO", "NO", NULL), VERDICT_NO);
	assert_string_equal(result.reply, "NO later says no");
	assert_string_equal(result.reason, "reason of 1");
	assert_string_equal(decider, "first,second,third");
	assert_true(log_failure);
}

static void a_fail_outranks_any_no(void **state)
{
	(void)state;
	assert_int_equal(run("FAIL", "NO", NULL), VERDICT_FAIL);
	assert_string_equal(result.reply, "NO first is down");
	assert_int_equal(run("NO", "FAIL", "NO"), VERDICT_FAIL);
	assert_string_equal(result.reply, "NO later is down");
	assert_string_equal(result.reason, "reason of 1");
	assert_int_equal(asked[2], 1);
	/* The first FAIL's answer, not a later one's. */
	assert_int_equal(run("FAIL", "FAIL", NULL), VERDICT_FAIL);
	assert_string_equal(result.reply, "NO first is down");
}

/* A step whose text contradicts its verdict is a FAIL of that step, and the chain goes on. */
static void a_contradicting_step_is_a_fail(void **state)
{
	(void)state;
	run("NO", "OK", NULL);
	verdicts[0] = VERDICT_OK; /* says OK in its verdict, NO in its text */
	struct mech_request req = { .login = "bob", .password = "pw", .service = "imap",
	                            .realm = "", .client_addr = "" };
	verdicts[1] = VERDICT_NO;
	replies[1] = "NO later says no";
	assert_int_equal(chain_decide(&chain, &req, &result, &decider, &log_failure), VERDICT_FAIL);
	assert_string_equal(result.reply, "NO internal mechanism failure");
}

/* One mechanism: exactly what the daemon did without chains. */
static void a_chain_of_one(void **state)
{
	struct mech_request req = { .login = "bob", .password = "pw", .service = "imap",
	                            .realm = "", .client_addr = "" };
	(void)state;
	chain_of_one(&chain, &mechs[0]);
	verdicts[0] = VERDICT_NO;
	replies[0] = "NO first says no";
	assert_int_equal(chain_decide(&chain, &req, &result, &decider, &log_failure), VERDICT_NO);
	assert_string_equal(decider, "first");
	assert_string_equal(result.reply, "NO first says no");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_ok_decides_and_stops),
		cmocka_unit_test(fail_then_ok_is_ok),
		cmocka_unit_test(all_no_gives_the_last_no),
		cmocka_unit_test(a_fail_outranks_any_no),
		cmocka_unit_test(a_contradicting_step_is_a_fail),
		cmocka_unit_test(a_chain_of_one),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
