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
#include "saslauthd/request.h"

static char seen_login[2 * PROTOCOL_FIELD_MAX + 2];
static char seen_realm[PROTOCOL_FIELD_MAX + 1];
static const char *scripted_reply;
static int calls;

static void scripted_auth(const struct mech_request *req, struct mech_result *result)
{
	calls++;
	str_copy(seen_login, sizeof(seen_login), req->login);
	str_copy(seen_realm, sizeof(seen_realm), req->realm);
	mech_result_set(result, VERDICT_NO, scripted_reply, NULL);
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
		cmocka_unit_test(log_values_are_escaped),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
