/* rimap: -O parsing (Cyrus form and URLs), IMAP quoting and the literal choice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "build_config.h"

#ifdef WITH_RIMAP
#include "mechanisms/imap_syntax.h"
#include "mechanisms/rimap_uri.h"

static struct rimap_server srv[RIMAP_SERVERS_MAX];
static char err[256];

static void parse_ok(const char *spec)
{
	if (!rimap_parse_server(spec, &srv[0], err, sizeof(err)))
		fail_msg("%s: %s", spec, err);
}

static void cyrus_form(void **state)
{
	(void)state;
	parse_ok("mail.example.org");
	assert_string_equal(srv[0].host, "mail.example.org");
	assert_string_equal(srv[0].port, "imap");
	assert_int_equal(srv[0].security, RIMAP_PLAIN);
	parse_ok("mail.example.org/1143");
	assert_string_equal(srv[0].port, "1143");
	parse_ok("2001:db8::1/993"); /* IPv6 literal, no brackets */
	assert_string_equal(srv[0].host, "2001:db8::1");
	assert_string_equal(srv[0].port, "993");
	parse_ok("h/imaps/x"); /* split at the first '/' only */
	assert_string_equal(srv[0].host, "h");
	assert_string_equal(srv[0].port, "imaps/x");
	assert_int_equal(srv[0].timeout_ms, RIMAP_EXCHANGE_TIMEOUT_MS);
	assert_false(rimap_parse_server("/143", &srv[0], err, sizeof(err)));
	assert_false(rimap_parse_server("host/", &srv[0], err, sizeof(err)));
}

static void url_form(void **state)
{
	(void)state;
	parse_ok("imaps://mail.example.org");
	assert_int_equal(srv[0].security, RIMAP_IMAPS);
	assert_string_equal(srv[0].port, "993");
	assert_true(srv[0].verify);
	assert_string_equal(srv[0].cafile, "");
	parse_ok("imap+starttls://[2001:db8::1]:1143/");
	assert_int_equal(srv[0].security, RIMAP_STARTTLS);
	assert_string_equal(srv[0].host, "2001:db8::1");
	assert_string_equal(srv[0].port, "1143");
	parse_ok("IMAP://h");
	assert_int_equal(srv[0].security, RIMAP_PLAIN);
	assert_string_equal(srv[0].port, "143");
	parse_ok("imaps://h:994?cafile=/etc/ca.pem&servername=imap.example&verify=yes&timeout=7");
	assert_string_equal(srv[0].cafile, "/etc/ca.pem");
	assert_string_equal(srv[0].servername, "imap.example");
	assert_int_equal(srv[0].timeout_ms, 7000);
	parse_ok("imaps://h?verify=no");
	assert_false(srv[0].verify);
	parse_ok("imap://h?timeout=2");
	assert_int_equal(srv[0].timeout_ms, 2000);
}

static void url_errors(void **state)
{
	static const char *bad[] = {
		"pop3://h",           "imaps://",          "imaps://h?verify=maybe",
		"imaps://h?bogus=1",  "imaps://h?cafile",  "imap://h?cafile=/x",
		"imaps://2001:db8::1", "imaps://[::1",     "imaps://h?timeout=0",
		"imaps://h?timeout=301", "imaps://h:",     "imaps://h/path",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rimap_parse_server(bad[i], &srv[0], err, sizeof(err)))
			fail_msg("accepted %s", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void server_lists(void **state)
{
	(void)state;
	assert_int_equal(rimap_parse_servers("a/1 b/2,imaps://c", srv, RIMAP_SERVERS_MAX, err, sizeof(err)), 3);
	assert_string_equal(srv[0].host, "a");
	assert_string_equal(srv[1].port, "2");
	assert_int_equal(srv[2].security, RIMAP_IMAPS);
	assert_int_equal(rimap_parse_servers("  ,, a  ", srv, RIMAP_SERVERS_MAX, err, sizeof(err)), 1);
	assert_int_equal(rimap_parse_servers("  ", srv, RIMAP_SERVERS_MAX, err, sizeof(err)), -1);
	assert_string_equal(err, "no hostname specified");
	assert_int_equal(rimap_parse_servers("a b c", srv, 2, err, sizeof(err)), -1);
}

static void literal_choice(void **state)
{
	(void)state;
	assert_false(imap_needs_literal(""));
	assert_false(imap_needs_literal("plain text with \"quotes\" and \\ and spaces ~"));
	assert_true(imap_needs_literal("a\rb"));
	assert_true(imap_needs_literal("a\nb"));
	assert_true(imap_needs_literal("a\tb"));
	assert_true(imap_needs_literal("a\x01"));
	assert_true(imap_needs_literal("del\x7f"));
	assert_true(imap_needs_literal("p\xc3\xa4ss"));
}

static void login_quoted(void **state)
{
	struct imap_command cmd;
	(void)state;
	assert_true(imap_build_login(&cmd, "bob", "a\"b\\c d", false));
	assert_string_equal(cmd.buf, "saslauthd LOGIN \"bob\" \"a\\\"b\\\\c d\"\r\n");
	assert_int_equal(cmd.ncuts, 0);
	assert_true(imap_build_login(&cmd, "", "", true));
	assert_string_equal(cmd.buf, "saslauthd LOGIN \"\" \"\"\r\n");
}

static void login_literals(void **state)
{
	struct imap_command cmd;
	(void)state;
	assert_true(imap_build_login(&cmd, "j\xc3\xbc", "p\r\nw", false));
	assert_string_equal(cmd.buf, "saslauthd LOGIN {3}\r\nj\xc3\xbc {4}\r\np\r\nw\r\n");
	assert_int_equal(cmd.ncuts, 2);
	assert_int_equal(cmd.cuts[0], strlen("saslauthd LOGIN {3}\r\n"));
	assert_int_equal(cmd.cuts[1], strlen("saslauthd LOGIN {3}\r\nj\xc3\xbc {4}\r\n"));
	assert_true(imap_build_login(&cmd, "bob", "p\xc3\xa4", true));
	assert_string_equal(cmd.buf, "saslauthd LOGIN \"bob\" {3+}\r\np\xc3\xa4\r\n");
	assert_int_equal(cmd.ncuts, 0);
}

static void login_longest(void **state)
{
	struct imap_command cmd;
	char worst[PROTOCOL_FIELD_MAX + 1];
	(void)state;
	memset(worst, '"', PROTOCOL_FIELD_MAX);
	worst[PROTOCOL_FIELD_MAX] = '\0';
	assert_true(imap_build_login(&cmd, worst, worst, false)); /* every byte escaped */
	assert_int_equal(cmd.len, strlen("saslauthd LOGIN ") + 2 * (2 * PROTOCOL_FIELD_MAX + 2) + 1 + 2);
	memset(worst, '\xff', PROTOCOL_FIELD_MAX);
	assert_true(imap_build_login(&cmd, worst, worst, false));
	assert_int_equal(cmd.ncuts, 2);
}

static void greeting_capabilities(void **state)
{
	(void)state;
	const char *g = "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS] Dovecot ready.";
	assert_true(imap_greeting_has_capability(g, "LITERAL+"));
	assert_true(imap_greeting_has_capability(g, "literal+"));
	assert_false(imap_greeting_has_capability(g, "LITERAL"));
	assert_false(imap_greeting_has_capability("* OK ready LITERAL+", "LITERAL+"));
	assert_false(imap_greeting_has_capability("* OK [CAPABILITY LITERAL+", "LITERAL+"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cyrus_form),       cmocka_unit_test(url_form),
		cmocka_unit_test(url_errors),       cmocka_unit_test(server_lists),
		cmocka_unit_test(literal_choice),   cmocka_unit_test(login_quoted),
		cmocka_unit_test(login_literals),   cmocka_unit_test(login_longest),
		cmocka_unit_test(greeting_capabilities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
	puts("rimap not compiled in");
	return 0;
}
#endif
