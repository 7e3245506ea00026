/* Verifying a password against a stored LDAP userPassword value (ldap_auth_method: custom).
 * Cyrus's schemes ({CRYPT} {UNIX} {MD5} {SMD5} {SHA} {SSHA}, no prefix = cleartext) plus the
 * SHA-2 family and OpenLDAP's {ARGON2}. Unlike Cyrus, a value with an unknown {SCHEME}
 * prefix is refused instead of being compared as cleartext (with Cyrus the stored hash
 * string itself is a working password). All comparisons are constant-time. */
#ifndef SASLAUTHD_LDAP_SCHEME_H
#define SASLAUTHD_LDAP_SCHEME_H

#include <stddef.h>

enum ldap_scheme_result {
	LDAP_SCHEME_MATCH,
	LDAP_SCHEME_MISMATCH,
	LDAP_SCHEME_UNSUPPORTED, /* unknown {SCHEME}, or a value that scheme cannot hold */
};

/* stored: the attribute value (not NUL-terminated, stored_len bytes). */
enum ldap_scheme_result ldap_scheme_verify(const char *stored, size_t stored_len,
                                           const char *password);

/* Decode standard base64 (padding optional, no whitespace). Returns the decoded length,
 * or -1 on bad input or when out is too small. */
long ldap_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz);

#endif
