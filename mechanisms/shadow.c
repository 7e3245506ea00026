/* shadow: the hash from the shadow database (getspnam), with Cyrus's expiry checks. */
#include "mechanisms/mechanism.h"
#include "mechanisms/unix_account.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/stored_hash.h"

/* NIS+ placeholder meaning "the real hash is elsewhere". */
#define SHADOW_NIS_PLACEHOLDER "*NP*"

/* Cyrus's order: password first, then account expiry, then password expiry. */
static void shadow_verdict(const struct mech_request *req, const struct spwd *sp,
                           struct mech_result *result)
{
	long today = mech_days_since_epoch();

	if (strcmp(sp->sp_pwdp, SHADOW_NIS_PLACEHOLDER) == 0) {
		mech_result_set(result, VERDICT_NO,
		                "NO Insufficient permission to access NIS authentication database "
		                "(saslauthd)", NULL);
		return;
	}
	switch (sh_crypt_check(req->password, sp->sp_pwdp)) {
	case SH_MATCH:
		break;
	case SH_MISMATCH:
		mech_result_set(result, VERDICT_NO, "NO Incorrect password", NULL);
		return;
	default: /* SH_UNSUPPORTED: locked, disabled or no hash */
		mech_result_set(result, VERDICT_NO, "NO Incorrect password",
		                "Incorrect password (account locked or without a usable hash)");
		return;
	}
	if (sp->sp_expire != -1 && today > sp->sp_expire) {
		mech_result_set(result, VERDICT_NO, "NO Account expired", NULL);
		return;
	}
	if (sp->sp_lstchg != -1 && sp->sp_max != -1 && sp->sp_lstchg + sp->sp_max < today) {
		mech_result_set(result, VERDICT_NO, "NO Password expired", NULL);
		return;
	}
	mech_result_set(result, VERDICT_OK, "OK", NULL);
}

static void shadow_auth(const struct mech_request *req, struct mech_result *result)
{
	struct unix_account acct;

	if (!unix_account_lookup_passwd(req->login, &acct, result))
		return;
	if (!unix_account_lookup_shadow(req->login, &acct, result))
		return;
	shadow_verdict(req, &acct.sp, result);
	unix_account_release(&acct);
}

/* The shadow database must be readable (root, or group shadow with --user and a
 * verifier). Opening it tells more than a lookup of a user we may not know. */
static int shadow_check(const struct mech_settings *settings, char *report, size_t reportsz)
{
	(void)settings;
	errno = 0;
	setspent();
	struct spwd *sp = getspent();
	int err = errno;
	endspent();
	if (sp == NULL && err != 0) {
		snprintf(report, reportsz, "cannot read the shadow database: %s", strerror(err));
		return -1;
	}
	snprintf(report, reportsz, "shadow database readable%s",
	         geteuid() == 0 ? "" : " (not running as root)");
	return 0;
}

const struct mechanism mech_shadow = {
	.name = "shadow",
	.needs_root = true,
	.auth = shadow_auth,
	.check = shadow_check,
};
