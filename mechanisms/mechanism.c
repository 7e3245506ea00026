/* Helpers shared by all mechanisms. */
#include "mechanisms/mechanism.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"

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

const char *mech_config_file(const struct mech_settings *settings, bool optional)
{
	if (settings->option != NULL)
		return settings->option;
	if (optional && access(SASLAUTHD_DEFAULT_CONF, F_OK) != 0)
		return NULL;
	return SASLAUTHD_DEFAULT_CONF;
}

bool mech_client_host(const char *client_addr, char *host, size_t hostsz)
{
	size_t n = strcspn(client_addr, ";");

	if (n > MECH_HOST_MAX || n >= hostsz)
		return false;
	memcpy(host, client_addr, n);
	host[n] = '\0';
	return true;
}

long mech_days_since_epoch(void)
{
	return (long)(time(NULL) / (60 * 60 * 24));
}
