/* httpform: template expansion, URL-encoding, URL building, status-line reason phrase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "build_config.h"

#ifdef WITH_HTTPFORM
#include "mechanisms/httpform.h"

static void urlencode(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(httpform_urlencode("AZaz09", out, sizeof(out)), 6);
	assert_string_equal(out, "AZaz09");
	httpform_urlencode("a b&c=d%-._~+@\"\\", out, sizeof(out));
	assert_string_equal(out, "a%20b%26c%3Dd%25%2D%2E%5F%7E%2B%40%22%5C");
	httpform_urlencode("\xc3\xa9\r\n\x7f\xff", out, sizeof(out));
	assert_string_equal(out, "%C3%A9%0D%0A%7F%FF");
	assert_int_equal(httpform_urlencode("  ", out, 4), 6); /* full length reported */
	assert_string_equal(out, "%20");                      /* truncated, terminated */
}

static void expand(void **state)
{
	char out[256];
	(void)state;
	size_t n = httpform_expand("u=%u&p=%p&r=%r", "bob@x.org", "p w", "x.org", out, sizeof(out));
	assert_string_equal(out, "u=bob%40x%2Eorg&p=p%20w&r=x%2Eorg");
	assert_int_equal(n, strlen(out));
	httpform_expand("100%% %s %x %", "u", "p", "r", out, sizeof(out));
	assert_string_equal(out, "100% %s %x %"); /* unknown escapes and a final % unchanged */
	httpform_expand("%u%u", "", "", "", out, sizeof(out));
	assert_string_equal(out, "");
	httpform_expand("no placeholders", "u", "p", "r", out, sizeof(out));
	assert_string_equal(out, "no placeholders");
}

static void expand_sizing(void **state)
{
	char small[8];
	char big[4 * 1024];
	char pw[1025];
	(void)state;
	assert_int_equal(httpform_expand("p=%p", "", "&&&&", "", NULL, 0), 14);
	assert_int_equal(httpform_expand("p=%p", "", "&&&&", "", small, sizeof(small)), 14);
	assert_string_equal(small, "p=%26%2"); /* truncated but terminated */
	memset(pw, '\xff', 1024);
	pw[1024] = '\0';
	size_t n = httpform_expand("p=%p", "", pw, "", NULL, 0);
	assert_int_equal(n, 2 + 3 * 1024);
	assert_true(n < sizeof(big));
	assert_int_equal(httpform_expand("p=%p", "", pw, "", big, sizeof(big)), n);
	assert_int_equal(strlen(big), n);
}

static void build_url(void **state)
{
	char url[256], err[128];
	(void)state;
	assert_true(httpform_build_url("localhost", "80", "/auth", url, sizeof(url), err, sizeof(err)));
	assert_string_equal(url, "http://localhost:80/auth");
	assert_true(httpform_build_url("h", "http", "login", url, sizeof(url), err, sizeof(err)));
	assert_string_equal(url, "http://h:80/login");
	assert_true(httpform_build_url("2001:db8::1", "8080", "/", url, sizeof(url), err, sizeof(err)));
	assert_string_equal(url, "http://[2001:db8::1]:8080/");
	assert_false(httpform_build_url("h", "no-such-service", "/", url, sizeof(url), err, sizeof(err)));
	assert_false(httpform_build_url("h", "70000", "/", url, sizeof(url), err, sizeof(err)));
	assert_false(httpform_build_url("a/b", "80", "/", url, sizeof(url), err, sizeof(err)));
	assert_false(httpform_build_url("", "80", "/", url, sizeof(url), err, sizeof(err)));
	assert_false(httpform_build_url("h", "80", "/x", url, 10, err, sizeof(err)));
}

static void reason_phrase(void **state)
{
	char out[64];
	(void)state;
	httpform_reason_phrase("HTTP/1.1 403 Bad Credentials\r\n", out, sizeof(out));
	assert_string_equal(out, "Bad Credentials");
	httpform_reason_phrase("HTTP/1.1 403\r\n", out, sizeof(out));
	assert_string_equal(out, "");
	httpform_reason_phrase("HTTP/1.1 403 \r\n", out, sizeof(out));
	assert_string_equal(out, "");
	httpform_reason_phrase("garbage", out, sizeof(out));
	assert_string_equal(out, "");
	httpform_reason_phrase("HTTP/1.1 403 a\x01" "b\x1b[31m\r\n", out, sizeof(out));
	assert_string_equal(out, "ab[31m");
	/* Found by fuzz_httpform: a phrase cut at a blank kept it. */
	httpform_reason_phrase("HTTP/1.1 403 abcdef ghi\r\n", out, 8);
	assert_string_equal(out, "abcdef");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urlencode), cmocka_unit_test(expand), cmocka_unit_test(expand_sizing),
		cmocka_unit_test(build_url), cmocka_unit_test(reason_phrase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
	puts("httpform not compiled in");
	return 0;
}
#endif
