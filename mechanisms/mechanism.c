/* Helpers shared by all mechanisms. */
#include "mechanisms/mechanism.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/strutil.h"

void mech_result_set(struct mech_result *result, enum verdict verdict, const char *reply,
                     const char *reason_fmt, ...)
{
	result->verdict = verdict;
	str_copy(result->reply, sizeof(result->reply), reply);
	if (reason_fmt != NULL) {
		va_list ap;
		va_start(ap, reason_fmt);
		vsnprintf(result->reason, sizeof(result->reason), reason_fmt, ap);
		va_end(ap);
	} else if (strlen(reply) > 3) {
		/* Cyrus's rule: the reason is the reply after its first three characters. */
		str_copy(result->reason, sizeof(result->reason), reply + 3);
	} else {
		str_copy(result->reason, sizeof(result->reason), "Unknown");
	}
}

long mech_days_since_epoch(void)
{
	return (long)(time(NULL) / (60 * 60 * 24));
}
