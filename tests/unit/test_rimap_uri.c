/* rimap: writing a server specification back (rimap_format_server, rimap_format_authority). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mechanisms/rimap_uri.h"

static char err[256];

/* spec parses, formats to want, and want parses to the same values. */
static void round_trip(const char *spec, const char *want)
{
	struct rimap_server a, b;
	char out[RIMAP_SPEC_MAX];

	if (!rimap_parse_server(spec, &a, err, sizeof(err)))
		fail_msg("%s: %s", spec, err);
	assert_true(rimap_format_server(&a, out, sizeof(out)));
	assert_string_equal(out, want);
	if (!rimap_parse_server(out, &b, err, sizeof(err)))
		fail_msg("%s: %s", out, err);
	assert_string_equal(a.host, b.host);
	assert_string_equal(a.port, b.port);
	assert_string_equal(a.cafile, b.cafile);
	assert_string_equal(a.servername, b.servername);
	assert_int_equal(a.security, b.security);
	assert_int_equal(a.verify, b.verify);
	assert_int_equal(a.timeout_ms, b.timeout_ms);
}

static void format_forms(void **state)
{
	(void)state;
	round_trip("mail.example.org", "mail.example.org/imap");
	round_trip("2001:db8::1/993", "2001:db8::1/993");
	round_trip("imap://h", "h/143");
	round_trip("imap://h?timeout=7", "imap://h:143?timeout=7");
	round_trip("imaps://[2001:db8::1]", "imaps://[2001:db8::1]:993");
	round_trip("imap+starttls://h:1143/?verify=no&servername=n&cafile=/c?d",
	           "imap+starttls://h:1143?cafile=/c?d&servername=n&verify=no");
	round_trip("imap://[a:]", "a:/143");
}

static void format_authority(void **state)
{
	struct rimap_server s;
	char out[64];
	(void)state;
	assert_true(rimap_parse_server("::1/imap", &s, err, sizeof(err)));
	assert_true(rimap_format_authority(&s, out, sizeof(out)));
	assert_string_equal(out, "imap://[::1]:imap");
	assert_false(rimap_format_authority(&s, out, 8));
}

/* Found by fuzz_rimap_uri: a URL port with '/' or ':' was accepted (and failed only at
 * getaddrinfo), and "h:1//" lost its second '/' when written back. */
static void url_port_junk(void **state)
{
	static const char *bad[] = { "imaps://h:1/path", "imap://h:993//", "imaps://[h]:1:2",
	                             "imaps://[::1]:a:b/" };
	struct rimap_server s;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rimap_parse_server(bad[i], &s, err, sizeof(err)))
			fail_msg("accepted %s (port %s)", bad[i], s.port);
		assert_true(err[0] != '\0');
	}
	assert_true(rimap_parse_server("imaps://h:993/", &s, err, sizeof(err)));
	assert_string_equal(s.port, "993");
	assert_true(rimap_parse_server("h/1/2", &s, err, sizeof(err))); /* Cyrus's form: as Cyrus */
	assert_string_equal(s.port, "1/2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_forms),
		cmocka_unit_test(url_port_junk),
		cmocka_unit_test(format_authority),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
