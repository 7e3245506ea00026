/* Fuzz target for the kerberos5 check child's report (mechanisms/krb5_report.c):
 * - the input as what the parent reads from the pipe, from an exact-size copy: accepted
 *   means a known verdict, a syslog priority and every text terminated within its buffer;
 * - a report built from the input (verdict, priority, texts cut to fit) encodes and
 *   decodes back to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mechanisms/krb5_report.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decode(const uint8_t *data, size_t size)
{
	static struct sa_krb5_report rep;
	unsigned char *msg = malloc(size > 0 ? size : 1);
	if (msg == NULL)
		return;
	memcpy(msg, data, size);
	if (sa_krb5_report_decode(msg, size, &rep)) {
		const struct mech_result *r = &rep.result;
		if (size != SA_KRB5_REPORT_LEN || msg[0] != SA_KRB5_REPORT_TAG ||
		    (r->verdict != VERDICT_OK && r->verdict != VERDICT_NO && r->verdict != VERDICT_FAIL) ||
		    rep.log_priority < LOG_EMERG || rep.log_priority > LOG_DEBUG ||
		    strlen(r->reply) >= sizeof(r->reply) || strlen(r->reason) >= sizeof(r->reason) ||
		    strlen(rep.log_line) >= sizeof(rep.log_line))
			abort();
	}
	free(msg);
}

static void check_round_trip(const uint8_t *data, size_t size)
{
	static struct sa_krb5_report rep, back;
	static unsigned char msg[SA_KRB5_REPORT_LEN];
	size_t pos = 2;

	if (size < 2)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.result.verdict = (enum verdict)(data[0] % 3);
	rep.log_priority = data[1] % (LOG_DEBUG + 1);
	fuzz_take_part(data, size, &pos, rep.result.reply, sizeof(rep.result.reply));
	fuzz_take_part(data, size, &pos, rep.result.reason, sizeof(rep.result.reason));
	fuzz_take_part(data, size, &pos, rep.log_line, sizeof(rep.log_line));
	sa_krb5_report_encode(&rep, msg);
	if (!sa_krb5_report_decode(msg, sizeof(msg), &back) || memcmp(&rep, &back, sizeof(rep)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode(data, size);
	check_round_trip(data, size);
	return 0;
}
