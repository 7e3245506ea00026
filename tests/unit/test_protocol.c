/* The wire codec: both request forms, bounds, partial input, replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/protocol.h"

static struct request req;
static enum request_field bad;

static size_t put(unsigned char *out, const char *s, size_t len)
{
	out[0] = (unsigned char)(len >> 8);
	out[1] = (unsigned char)len;
	memcpy(out + 2, s, len);
	return len + 2;
}

static void four_field_request(void **state)
{
	unsigned char buf[256];
	(void)state;
	size_t n = protocol_encode_request(buf, sizeof(buf), "bob", "pw", "smtp", "example.com", NULL);
	assert_int_equal(n, 2 + 3 + 2 + 2 + 2 + 4 + 2 + 11);
	assert_int_equal(protocol_parse_request(buf, n, &req, &bad), PARSE_FOUR);
	assert_string_equal(req.login, "bob");
	assert_string_equal(req.password, "pw");
	assert_string_equal(req.service, "smtp");
	assert_string_equal(req.realm, "example.com");
	assert_string_equal(req.client_addr, "");
	assert_int_equal(req.field_count, 4);
}

static void five_field_request(void **state)
{
	unsigned char buf[256];
	(void)state;
	size_t n = protocol_encode_request(buf, sizeof(buf), "bob", "pw", "smtp", "",
	                                   "192.0.2.7;51234");
	assert_int_equal(protocol_parse_request(buf, n, &req, &bad), PARSE_FIVE);
	assert_string_equal(req.client_addr, "192.0.2.7;51234");
	assert_string_equal(req.realm, "");
	assert_int_equal(req.field_count, 5);
}

static void every_prefix_is_incomplete_or_partial(void **state)
{
	unsigned char buf[256];
	(void)state;
	size_t four = protocol_encode_request(buf, sizeof(buf), "alice", "secret", "imap", "r", NULL);
	size_t five = protocol_encode_request(buf, sizeof(buf), "alice", "secret", "imap", "r", "a;1");
	for (size_t i = 0; i < four; i++)
		assert_int_equal(protocol_parse_request(buf, i, &req, &bad), PARSE_INCOMPLETE);
	assert_int_equal(protocol_parse_request(buf, four, &req, &bad), PARSE_FOUR);
	for (size_t i = four + 1; i < five; i++)
		assert_int_equal(protocol_parse_request(buf, i, &req, &bad), PARSE_FIFTH_PARTIAL);
	assert_int_equal(protocol_parse_request(buf, five, &req, &bad), PARSE_FIVE);
}

static void field_limits(void **state)
{
	static unsigned char buf[8192];
	static char big[PROTOCOL_FIELD_MAX + 2];
	(void)state;
	memset(big, 'x', sizeof(big));
	size_t n = put(buf, "bob", 3);
	n += put(buf + n, big, PROTOCOL_FIELD_MAX); /* exactly the limit: accepted */
	n += put(buf + n, "imap", 4);
	n += put(buf + n, "", 0);
	assert_int_equal(protocol_parse_request(buf, n, &req, &bad), PARSE_FOUR);
	assert_int_equal(strlen(req.password), PROTOCOL_FIELD_MAX);

	n = put(buf, "bob", 3);
	n += put(buf + n, big, PROTOCOL_FIELD_MAX + 1);
	assert_int_equal(protocol_parse_request(buf, n, &req, &bad), PARSE_TOO_LONG);
	assert_int_equal(bad, FIELD_PASSWORD);
	assert_string_equal(protocol_field_name(bad), "password");
}

static void length_65535_with_few_bytes_is_refused_at_once(void **state)
{
	unsigned char buf[] = { 0xff, 0xff, 'a', 'b' };
	(void)state;
	assert_int_equal(protocol_parse_request(buf, sizeof(buf), &req, &bad), PARSE_TOO_LONG);
	assert_int_equal(bad, FIELD_LOGIN);
}

static void embedded_nul_is_refused(void **state)
{
	unsigned char buf[64];
	(void)state;
	size_t n = put(buf, "bob", 3);
	n += put(buf + n, "pw\0x", 4);
	n += put(buf + n, "imap", 4);
	n += put(buf + n, "", 0);
	assert_int_equal(protocol_parse_request(buf, n, &req, &bad), PARSE_EMBEDDED_NUL);
	assert_int_equal(bad, FIELD_PASSWORD);
}

static void bad_fifth_field_is_dropped(void **state)
{
	unsigned char buf[64];
	(void)state;
	size_t n = protocol_encode_request(buf, sizeof(buf), "bob", "pw", "imap", "", NULL);
	n += put(buf + n, "1.2\0.3", 6);
	assert_int_equal(protocol_parse_request(buf, n, &req, &bad), PARSE_FOUR);
	assert_string_equal(req.client_addr, "");
	assert_string_equal(req.login, "bob");
}

static void reply_encoding(void **state)
{
	unsigned char out[64];
	(void)state;
	assert_int_equal(protocol_encode_reply(out, sizeof(out), "OK"), 4);
	assert_memory_equal(out, "\x00\x02OK", 4);
	assert_int_equal(protocol_encode_reply(out, 4, "NO reason"), 0); /* does not fit */
	assert_int_equal(protocol_encode_request(out, 8, "login", "pw", "s", "r", NULL), 0);
}

static void wipe_clears_password(void **state)
{
	(void)state;
	strcpy(req.password, "secret");
	protocol_request_wipe(&req);
	assert_int_equal(req.password[0], 0);
	assert_int_equal(req.password[5], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(four_field_request),
		cmocka_unit_test(five_field_request),
		cmocka_unit_test(every_prefix_is_incomplete_or_partial),
		cmocka_unit_test(field_limits),
		cmocka_unit_test(length_65535_with_few_bytes_is_refused_at_once),
		cmocka_unit_test(embedded_nul_is_refused),
		cmocka_unit_test(bad_fifth_field_is_dropped),
		cmocka_unit_test(reply_encoding),
		cmocka_unit_test(wipe_clears_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
