/* httpform: placeholder until the mechanism lands; refuses every request. */
#include "mechanisms/mechanism.h"

static void httpform_auth(const struct mech_request *req, struct mech_result *result)
{
	(void)req;
	mech_result_set(result, VERDICT_FAIL, "NO", "not implemented yet");
}

const struct mechanism mech_httpform = {
	.name = "httpform",
	.auth = httpform_auth,
};
