/* The simple saslauthd.conf reader: Cyrus's lexical rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/saslauthd-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void parses_keys_values_comments(void **state)
{
	struct config cfg;
	char err[256];
	(void)state;
	write_file("# comment\n\n  Krb5_Keytab: /etc/krb5.keytab  \nkrb5_keytab: second\nflag: yes\noff: of\n");
	assert_true(config_load(&cfg, path, err, sizeof(err)));
	assert_string_equal(config_get(&cfg, "krb5_keytab"), "/etc/krb5.keytab  "); /* trailing space kept, first wins */
	assert_true(config_get_bool(&cfg, "flag", false));
	assert_false(config_get_bool(&cfg, "off", true));
	assert_true(config_get_bool(&cfg, "absent", true));
	assert_null(config_get(&cfg, "missing"));
	config_free(&cfg);
	unlink(path);
}

static void rejects_bad_lines_with_line_number(void **state)
{
	struct config cfg;
	char err[256];
	(void)state;
	write_file("good: 1\nbad key: x\n");
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	assert_non_null(strstr(err, ":2: no colon separator"));
	unlink(path);
	write_file("empty:   \n");
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	assert_non_null(strstr(err, ":1: empty value"));
	unlink(path);
	assert_false(config_load(&cfg, "/nonexistent/saslauthd.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

/* Found by fuzz_config: a line longer than the reader's buffer was split, and its tail
 * read as a line of its own, so a long value could smuggle in a key. */
static void over_long_line_is_refused_whole(void **state)
{
	static char text[2 * CONFIG_LINE_MAX];
	struct config cfg;
	char err[256];
	(void)state;
	strcpy(text, "ok: 1\nldap_filter: ");
	memset(text + strlen(text), 'a', CONFIG_LINE_MAX);
	strcat(text, "ldap_password: smuggled\n");
	write_file(text);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	assert_non_null(strstr(err, ":2: line too long"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_keys_values_comments),
		cmocka_unit_test(over_long_line_is_refused_whole),
		cmocka_unit_test(rejects_bad_lines_with_line_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
