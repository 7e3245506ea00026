/* rimap's IMAP line classification (the builder is in test_rimap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mechanisms/imap_syntax.h"

static void greetings(void **state)
{
	(void)state;
	assert_int_equal(imap_classify_greeting("* OK [CAPABILITY IMAP4rev1] ready"), IMAP_LINE_OK);
	assert_int_equal(imap_classify_greeting("* OKAY"), IMAP_LINE_OK); /* Cyrus's prefix test */
	assert_int_equal(imap_classify_greeting("* NO go away"), IMAP_LINE_NO);
	assert_int_equal(imap_classify_greeting("* BYE"), IMAP_LINE_BYE);
	assert_int_equal(imap_classify_greeting("saslauthd OK"), IMAP_LINE_OTHER);
	assert_int_equal(imap_classify_greeting(""), IMAP_LINE_OTHER);
}

static void replies(void **state)
{
	(void)state;
	assert_int_equal(imap_classify_reply("saslauthd OK Logged in"), IMAP_LINE_OK);
	assert_int_equal(imap_classify_reply("saslauthd NO [AUTHENTICATIONFAILED]"), IMAP_LINE_NO);
	assert_int_equal(imap_classify_reply("saslauthd BAD"), IMAP_LINE_OTHER);
	assert_int_equal(imap_classify_reply("other OK"), IMAP_LINE_OTHER);
	assert_int_equal(imap_classify_reply("* CAPABILITY IMAP4rev1"), IMAP_LINE_UNTAGGED);
	assert_int_equal(imap_classify_reply("+ go ahead"), IMAP_LINE_CONTINUATION);
	assert_int_equal(imap_classify_reply("+"), IMAP_LINE_CONTINUATION);
	assert_int_equal(imap_classify_reply("*"), IMAP_LINE_OTHER);
	assert_int_equal(imap_classify_reply(""), IMAP_LINE_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(greetings),
		cmocka_unit_test(replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
