#include "mechanisms/krb5_report.h"

#include <limits.h>
#include <string.h>

_Static_assert(SA_KRB5_REPORT_LEN <= PIPE_BUF, "one atomic pipe write");

void sa_krb5_report_encode(const struct sa_krb5_report *rep, unsigned char *out)
{
	out[0] = SA_KRB5_REPORT_TAG;
	memcpy(out + 1, rep, sizeof(*rep));
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

bool sa_krb5_report_decode(const unsigned char *msg, size_t len, struct sa_krb5_report *rep)
{
	if (len != SA_KRB5_REPORT_LEN || msg[0] != SA_KRB5_REPORT_TAG)
		return false;
	memcpy(rep, msg + 1, sizeof(*rep));
	const struct mech_result *r = &rep->result;
	if ((r->verdict != VERDICT_OK && r->verdict != VERDICT_NO && r->verdict != VERDICT_FAIL) ||
	    rep->log_priority < LOG_EMERG || rep->log_priority > LOG_DEBUG ||
	    !terminated(r->reply, sizeof(r->reply)) || !terminated(r->reason, sizeof(r->reason)) ||
	    !terminated(rep->log_line, sizeof(rep->log_line))) {
		memset(rep, 0, sizeof(*rep));
		return false;
	}
	return true;
}
