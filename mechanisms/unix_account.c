#include "mechanisms/unix_account.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"

/* Lookup buffers start here and double on ERANGE up to the bound (Cyrus: fixed 256 bytes). */
#define ACCOUNT_BUF_START 1024
#define ACCOUNT_BUF_MAX (1024 * 1024)

static bool absent(int err)
{
	/* POSIX lets getpwnam_r report "no such entry" as any of these. */
	return err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM;
}

typedef int (*lookup_fn)(const char *name, void *entry, char *buf, size_t len, void **out);

static int call_getpwnam(const char *name, void *entry, char *buf, size_t len, void **out)
{
	return getpwnam_r(name, entry, buf, len, (struct passwd **)out);
}

/* Returns 0 when found, -1 when absent, else an errno value. */
static int lookup(lookup_fn fn, const char *name, void *entry, char **bufp)
{
	for (size_t len = ACCOUNT_BUF_START; len <= ACCOUNT_BUF_MAX; len *= 2) {
		void *out = NULL;
		char *buf = calloc(1, len);
		if (buf == NULL)
			return ENOMEM;
		int err = fn(name, entry, buf, len, &out);
		if (err == 0 && out != NULL) {
			*bufp = buf;
			return 0;
		}
		free(buf);
		if (err != ERANGE)
			return absent(err) ? -1 : err;
	}
	return ERANGE;
}

bool unix_account_lookup_passwd(const char *login, struct unix_account *acct,
                                struct mech_result *result)
{
	memset(acct, 0, sizeof(*acct));
	int err = lookup(call_getpwnam, login, &acct->pw, &acct->pw_buf);
	if (err == 0)
		return true;
	if (err < 0) {
		mech_result_set(result, VERDICT_NO, "NO Invalid username", "Invalid username");
	} else {
		char reply[MECH_REPLY_MAX];
		snprintf(reply, sizeof(reply), "NO Username lookup failure: %s", strerror(err));
		mech_result_set(result, VERDICT_FAIL, reply, NULL);
	}
	return false;
}

bool unix_account_lookup_shadow(const char *login, struct unix_account *acct,
                                struct mech_result *result)
{
	/* getspnam, not getspnam_r: workers are single-threaded, and nss_wrapper (the
	 * tests' shadow database) only wraps the former. The static entry belongs to the
	 * NSS module (it may be a cache), so only our copy is wiped. */
	errno = 0;
	struct spwd *sp = getspnam(login);
	int err = sp != NULL ? 0 : (absent(errno) ? -1 : errno);
	if (sp != NULL) {
		acct->sp = *sp;
		acct->sp.sp_namp = NULL;
		acct->sp_buf = strdup(sp->sp_pwdp != NULL ? sp->sp_pwdp : "");
		acct->sp.sp_pwdp = acct->sp_buf;
		if (acct->sp_buf != NULL)
			return true;
		err = ENOMEM;
	}
	if (err < 0) {
		mech_result_set(result, VERDICT_NO, "NO Invalid shadow username", NULL);
	} else {
		char reply[MECH_REPLY_MAX];
		snprintf(reply, sizeof(reply), "NO Username shadow lookup failure: %s",
		         strerror(err));
		mech_result_set(result, VERDICT_FAIL, reply, NULL);
	}
	unix_account_release(acct);
	return false;
}

static void release_buf(char **buf)
{
	/* The hash inside was wiped by the caller. */
	free(*buf);
	*buf = NULL;
}

void unix_account_release(struct unix_account *acct)
{
	if (acct->pw.pw_passwd != NULL)
		secret_wipe(acct->pw.pw_passwd, strlen(acct->pw.pw_passwd));
	if (acct->sp.sp_pwdp != NULL)
		secret_wipe(acct->sp.sp_pwdp, strlen(acct->sp.sp_pwdp));
	release_buf(&acct->pw_buf);
	release_buf(&acct->sp_buf);
	memset(&acct->pw, 0, sizeof(acct->pw));
	memset(&acct->sp, 0, sizeof(acct->sp));
}
