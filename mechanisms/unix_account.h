/* Reentrant passwd/shadow lookups shared by the getpwent and shadow mechanisms. */
#ifndef SASLAUTHD_UNIX_ACCOUNT_H
#define SASLAUTHD_UNIX_ACCOUNT_H

#include <pwd.h>
#include <shadow.h>
#include <stdbool.h>

#include "mechanisms/mechanism.h"

struct unix_account {
	struct passwd pw;
	struct spwd sp;
	char *pw_buf;
	char *sp_buf;
};

/* Look up login in passwd. On failure fills result with Cyrus's reply and returns false. */
bool unix_account_lookup_passwd(const char *login, struct unix_account *acct,
                                struct mech_result *result);
/* Then the shadow entry. Same contract. */
bool unix_account_lookup_shadow(const char *login, struct unix_account *acct,
                                struct mech_result *result);
/* Wipe (the buffers hold hashes) and free. */
void unix_account_release(struct unix_account *acct);

#endif
