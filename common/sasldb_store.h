/* The Cyrus sasldb2 file: a Berkeley DB hash whose keys are
 * "<user>\0<realm>\0<property>" (no trailing NUL) and whose values are raw bytes
 * (for "userPassword", the plaintext password). Shared by the sasldb mechanism
 * and the saslpasswd2 / sasldblistusers2 tools. */
#ifndef SASLAUTHD_SASLDB_STORE_H
#define SASLAUTHD_SASLDB_STORE_H

#include <stdbool.h>
#include <stddef.h>

#define SASLDB_PASSWORD_PROPERTY "userPassword"
#define SASLDB_NAME_MAX 1024  /* user, realm or property */
#define SASLDB_VALUE_MAX 8192

struct sasldb; /* opaque handle */

enum sasldb_status {
	SASLDB_OK,
	SASLDB_NOT_FOUND,
	SASLDB_TOO_LONG, /* value or key longer than the bounds above */
	SASLDB_ERROR     /* I/O, corruption, not a Berkeley DB file; see sasldb_error() */
};

/* Open read-only. NULL on failure with a reason in err. */
struct sasldb *sasldb_open_readonly(const char *path, char *err, size_t errsz);
void sasldb_close(struct sasldb *db);

/* Look up one property. value gets a NUL-terminated copy; *value_len its length. */
enum sasldb_status sasldb_fetch(struct sasldb *db, const char *user, const char *realm,
                                const char *property, char *value, size_t valuesz,
                                size_t *value_len);

/* Iterate over every entry; callback returns false to stop. */
typedef bool (*sasldb_visit_fn)(const char *user, const char *realm, const char *property,
                                void *ctx);
enum sasldb_status sasldb_foreach(struct sasldb *db, sasldb_visit_fn visit, void *ctx);

/* Human-readable reason for the last failure on this handle. */
const char *sasldb_error(const struct sasldb *db);

/* Key layout helpers (pure; unit-tested). encode returns the key length or 0 if it doesn't fit. */
size_t sasldb_key_encode(char *out, size_t outsz, const char *user, const char *realm,
                         const char *property);
bool sasldb_key_decode(const char *key, size_t keylen, char *user, size_t usersz, char *realm,
                       size_t realmsz, char *property, size_t propsz);

/* Write side, for the tools. Changes are made on a copy of the file that replaces the
 * original atomically (rename) only after it was written and synced, under an exclusive
 * lock, so a failed write never loses existing users. Owner, group and mode are kept.
 * Returns SASLDB_OK, SASLDB_NOT_FOUND (delete of an absent user) or SASLDB_ERROR with err. */
enum sasldb_status sasldb_set_password(const char *path, const char *user, const char *realm,
                                       const char *password, size_t password_len,
                                       bool must_not_exist, char *err, size_t errsz);
/* Remove every property of user@realm. */
enum sasldb_status sasldb_delete_user(const char *path, const char *user, const char *realm,
                                      char *err, size_t errsz);

#endif
