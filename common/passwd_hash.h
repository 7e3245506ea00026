/* Verifying a password against a stored crypt(3) hash, via libxcrypt. */
#ifndef SASLAUTHD_PASSWD_HASH_H
#define SASLAUTHD_PASSWD_HASH_H

enum hash_check {
	HASH_MATCH,
	HASH_MISMATCH,
	HASH_UNUSABLE /* stored value is no hash crypt can verify (locked "!", "*", "x", empty) */
};

/* Compare `password` with `stored` (any scheme libxcrypt knows: yescrypt, sha512crypt, ...).
 * Constant-time comparison of the computed and stored hashes. */
enum hash_check passwd_hash_check(const char *password, const char *stored);

#endif
