/* Log lines: client text can neither start a line of its own nor forge a field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define CAPTURE_MAX 8192

/* Run one log call with stderr redirected to a file; return what was written. */
static char captured[CAPTURE_MAX];

static int capture_begin(void)
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	fclose(tmp); /* fd 2 keeps the file open */
	return saved;
}

static const char *capture_end(int saved)
{
	off_t end = lseek(STDERR_FILENO, 0, SEEK_END);
	assert_true(end >= 0 && end < CAPTURE_MAX);
	assert_int_equal(pread(STDERR_FILENO, captured, (size_t)end, 0), end);
	captured[end] = '\0';
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	return captured;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* The ldap debug line of issue 12 wrote the login raw: a newline in it forged a whole
 * "auth success:" line under -V. No log call can do that any more. */
static void newline_in_any_argument_stays_on_one_line(void **state)
{
	const char *forged = "x\nsaslauthd[1] :auth success: [user=root] [service=imap]\r\n";
	(void)state;
	log_init("saslauthd", true, true);

	int saved = capture_begin();
	log_mech(LOG_DEBUG, "Authentication failed for %s: %s", forged, "bad");
	log_core(LOG_INFO, "auth failure: [user=%s]", forged);
	log_debug("response: %s", forged);
	const char *out = capture_end(saved);

	assert_int_equal(count_lines(out), 3);
	assert_null(strstr(out, "\nsaslauthd[1] :auth success"));
	assert_non_null(strstr(out, "x\\x0asaslauthd[1] :auth success: [user=root] [service=imap]\\x0d"));
}

static void other_control_bytes_are_escaped_too(void **state)
{
	(void)state;
	log_init("saslauthd", true, true);
	int saved = capture_begin();
	log_mech(LOG_WARNING, "a%cb%cc%cd", 0x1b, 0x7f, '\t');
	const char *out = capture_end(saved);
	assert_non_null(strstr(out, "a\\x1bb\\x7fc\\x09d\n"));
}

static void escaped_values_cannot_forge_fields(void **state)
{
	(void)state;
	log_init("saslauthd", true, true);
	int saved = capture_begin();
	log_mech(LOG_DEBUG, "user %s", LOG_ESC("bob] [user=root\\"));
	const char *out = capture_end(saved);
	assert_non_null(strstr(out, "user bob\\x5d \\x5buser=root\\x5c\n"));
}

static void long_lines_stay_bounded(void **state)
{
	static char big[3 * LOG_LINE_MAX];
	(void)state;
	memset(big, '\n', sizeof(big) - 1);
	log_init("saslauthd", true, true);
	int saved = capture_begin();
	log_mech(LOG_DEBUG, "%s", big);
	const char *out = capture_end(saved);
	assert_int_equal(count_lines(out), 1);
	assert_true(strlen(out) < LOG_LINE_MAX + 64);
}

/* A burst is reported once per interval, with the number of events it stands for. */
static void capped_values_are_cut_at_an_escape_and_marked(void **state)
{
	char out[LOG_CUT_MARK_MAX + 8];
	(void)state;

	assert_string_equal(log_escape_capped("short", out, sizeof(out)), "short");
	/* 100 bytes into 48: 7 kept, then the mark counts the other 93. */
	char in[101];
	memset(in, 'a', 100);
	in[100] = '\0';
	assert_string_equal(log_escape_capped(in, out, sizeof(out)), "aaaaaaa...(+93 bytes)");
	/* An escape is never split: "\x5b" (4 bytes) does not fit after 5 plain bytes. */
	memcpy(in, "aaaaa[", 6);
	assert_string_equal(log_escape_capped(in, out, sizeof(out)), "aaaaa...(+95 bytes)");
}

static void bursts_report_once_per_interval(void **state)
{
	struct log_burst b = { 0 };
	unsigned long n = 0;
	(void)state;
	assert_true(log_burst_due(&b, 1000, 500, &n));
	assert_int_equal(n, 1);
	assert_false(log_burst_due(&b, 1100, 500, &n));
	assert_false(log_burst_due(&b, 1499, 500, &n));
	assert_true(log_burst_due(&b, 1500, 500, &n));
	assert_int_equal(n, 3);
	assert_false(log_burst_due(&b, 1600, 500, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(newline_in_any_argument_stays_on_one_line),
		cmocka_unit_test(other_control_bytes_are_escaped_too),
		cmocka_unit_test(escaped_values_cannot_forge_fields),
		cmocka_unit_test(long_lines_stay_bounded),
		cmocka_unit_test(capped_values_are_cut_at_an_escape_and_marked),
		cmocka_unit_test(bursts_report_once_per_interval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
