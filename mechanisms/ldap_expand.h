/* Token expansion for the ldap mechanism's templates (saslauthd.conf(5), LDAP Tokens), with every
 * substituted value escaped for the context the template builds: RFC 4515 for search
 * filters, RFC 4514 for DNs. Cyrus escapes DNs as filters, which leaves ',' '+' '=' ... alone
 * and lets a login add RDNs to a fastbind DN; we do not. */
#ifndef SASLAUTHD_LDAP_EXPAND_H
#define SASLAUTHD_LDAP_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

enum sa_ldap_context {
	SA_LDAP_CTX_FILTER, /* values escaped per RFC 4515: * ( ) \ NUL */
	SA_LDAP_CTX_DN      /* values escaped per RFC 4514 */
};

struct sa_ldap_tokens {
	const char *user;    /* login after -r */
	const char *service;
	const char *realm;   /* request realm, or ldap_default_realm when that is empty */
	const char *dn;      /* %D: the user's DN; NULL where the token is not available */
};

/* Expand tmpl into out. False (out undefined) if the result does not fit. */
bool sa_ldap_expand(const char *tmpl, const struct sa_ldap_tokens *t, enum sa_ldap_context ctx,
                 char *out, size_t outsz);

/* Append value to out[*len] with the escaping of ctx. False if it does not fit. */
bool sa_ldap_escape_append(const char *value, enum sa_ldap_context ctx, char *out, size_t outsz,
                        size_t *len);

#endif
