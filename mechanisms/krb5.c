/* kerberos5: placeholder until the mechanism lands; refuses every request. */
#include "mechanisms/mechanism.h"

static void krb5_auth(const struct mech_request *req, struct mech_result *result)
{
	(void)req;
	mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error", "not implemented yet");
}

const struct mechanism mech_kerberos5 = {
	.name = "kerberos5",
	.auth = krb5_auth,
};
