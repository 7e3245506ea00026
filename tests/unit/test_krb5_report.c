/* The kerberos5 check child's report: the parent accepts only a well-formed one. Before,
 * it copied the result as is and terminated only the log line, so an unterminated reply
 * or reason from a misbehaving child was read past its buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/strutil.h"
#include "mechanisms/krb5_report.h"

static struct sa_krb5_report good(void)
{
	struct sa_krb5_report r;
	memset(&r, 0, sizeof(r));
	r.result.verdict = VERDICT_NO;
	str_copy(r.result.reply, sizeof(r.result.reply), "NO krb5_get_init_creds_password failed");
	str_copy(r.result.reason, sizeof(r.result.reason), "Preauthentication failed");
	r.log_priority = LOG_INFO;
	str_copy(r.log_line, sizeof(r.log_line), "auth_krb5: ...");
	return r;
}

static void well_formed_report_round_trips(void **state)
{
	unsigned char msg[SA_KRB5_REPORT_LEN];
	struct sa_krb5_report r = good(), back;
	(void)state;
	sa_krb5_report_encode(&r, msg);
	assert_true(sa_krb5_report_decode(msg, sizeof(msg), &back));
	assert_memory_equal(&r, &back, sizeof(r));
}

static void malformed_reports_are_refused(void **state)
{
	unsigned char msg[SA_KRB5_REPORT_LEN];
	struct sa_krb5_report r, back;
	(void)state;

	r = good();
	memset(r.result.reply, 'N', sizeof(r.result.reply)); /* no terminator */
	sa_krb5_report_encode(&r, msg);
	assert_false(sa_krb5_report_decode(msg, sizeof(msg), &back));

	r = good();
	memset(r.result.reason, 'x', sizeof(r.result.reason));
	sa_krb5_report_encode(&r, msg);
	assert_false(sa_krb5_report_decode(msg, sizeof(msg), &back));

	r = good();
	r.result.verdict = (enum verdict)7;
	sa_krb5_report_encode(&r, msg);
	assert_false(sa_krb5_report_decode(msg, sizeof(msg), &back));

	r = good();
	r.log_priority = 99;
	sa_krb5_report_encode(&r, msg);
	assert_false(sa_krb5_report_decode(msg, sizeof(msg), &back));

	r = good();
	sa_krb5_report_encode(&r, msg);
	assert_false(sa_krb5_report_decode(msg, sizeof(msg) - 1, &back));
	msg[0] = 'A';
	assert_false(sa_krb5_report_decode(msg, sizeof(msg), &back));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed_report_round_trips),
		cmocka_unit_test(malformed_reports_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
