/* getpwent: the password hash from the passwd database (getpwnam), checked with crypt(3).
 * Only useful where passwd entries carry real hashes (NIS, nss_wrapper, no shadow). */
#include "mechanisms/mechanism.h"
#include "mechanisms/unix_account.h"

#include <string.h>

#include "common/stored_hash.h"

static void getpwent_auth(const struct mech_request *req, struct mech_result *result)
{
	struct unix_account acct;

	if (!unix_account_lookup_passwd(req->login, &acct, result))
		return;
	switch (sh_crypt_check(req->password, acct.pw.pw_passwd)) {
	case SH_MATCH:
		mech_result_set(result, VERDICT_OK, "OK", NULL);
		break;
	case SH_MISMATCH:
		mech_result_set(result, VERDICT_NO, "NO Incorrect password", "Incorrect password");
		break;
	default: /* SH_UNSUPPORTED: locked, disabled or no hash */
		mech_result_set(result, VERDICT_NO, "NO Incorrect password",
		                "Incorrect password (passwd entry holds no usable hash)");
		break;
	}
	unix_account_release(&acct);
}

const struct mechanism mech_getpwent = {
	.name = "getpwent",
	.auth = getpwent_auth,
};
