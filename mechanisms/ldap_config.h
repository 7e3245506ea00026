/* saslauthd.conf for the ldap mechanism (saslauthd.conf(5): LEXICAL RULES, LDAP Keys): Cyrus's keys, aliases and
 * defaults on top of the shared lexer (common/config.c). Differences from the simple
 * reader: the last occurrence of a key wins, unknown switch text means "off", and unknown
 * keys or enumerated values are reported (file:line) and then ignored, as 2.1.28 ignores
 * them, so every file 2.1.28 accepts still loads. */
#ifndef SASLAUTHD_LDAP_CONFIG_H
#define SASLAUTHD_LDAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"
#include "common/stored_hash.h"

/* Buffer sizes (bytes including the terminator). Cyrus's limits, except where its
 * truncation was a weakness: the service password (128 in Cyrus) and the group filter and
 * group search base (127 characters in Cyrus) get the size of the other templates. */
#define LDAPC_URI_MAX 1024
#define LDAPC_DN_MAX 4096
#define LDAPC_SECRET_MAX 1024
#define LDAPC_NAME_MAX 128
#define LDAPC_PATH_MAX 1024
#define LDAPC_SECPROPS_MAX 1024

enum ldapc_auth_method { LDAPC_AUTH_BIND, LDAPC_AUTH_CUSTOM, LDAPC_AUTH_FASTBIND };
enum ldapc_group_match { LDAPC_GROUP_ATTR, LDAPC_GROUP_FILTER };
/* Values chosen equal to OpenLDAP's LDAP_SCOPE_* and LDAP_DEREF_* so they pass through. */
enum ldapc_scope { LDAPC_SCOPE_BASE = 0, LDAPC_SCOPE_ONE = 1, LDAPC_SCOPE_SUB = 2 };
enum ldapc_deref { LDAPC_DEREF_NEVER = 0, LDAPC_DEREF_SEARCH = 1, LDAPC_DEREF_FIND = 2,
                   LDAPC_DEREF_ALWAYS = 3 };
/* ldap_tls_check_peer absent: leave the library default (ldap.conf TLS_REQCERT). */
enum ldapc_tristate { LDAPC_UNSET = -1, LDAPC_OFF = 0, LDAPC_ON = 1 };

struct sa_ldap_settings {
	char path[SA_PATH_MAX]; /* the file these came from, for messages */
	char servers[LDAPC_URI_MAX];
	char bind_dn[LDAPC_DN_MAX];
	char password[LDAPC_SECRET_MAX];
	int version;
	char search_base[LDAPC_DN_MAX];
	char filter[LDAPC_DN_MAX];
	char password_attr[LDAPC_NAME_MAX];
	enum ldapc_scope scope;
	enum ldapc_auth_method auth_method;
	char default_realm[LDAPC_NAME_MAX];
	char group_dn[LDAPC_DN_MAX];
	char group_attr[LDAPC_NAME_MAX];
	char group_filter[LDAPC_DN_MAX];
	char group_search_base[LDAPC_DN_MAX];
	enum ldapc_scope group_scope;
	enum ldapc_group_match group_match;
	int timeout;    /* seconds */
	int time_limit; /* seconds, server side */
	int size_limit;
	enum ldapc_deref deref;
	bool referrals;
	bool restart;
	bool use_sasl;
	char sasl_id[LDAPC_NAME_MAX];
	char authz_id[LDAPC_NAME_MAX];
	char mech[LDAPC_NAME_MAX];  /* empty: library default */
	char realm[LDAPC_NAME_MAX]; /* empty: library default */
	char secprops[LDAPC_SECPROPS_MAX];
	bool start_tls;
	enum ldapc_tristate tls_check_peer;
	char tls_cacert_file[LDAPC_PATH_MAX];
	char tls_cacert_dir[LDAPC_PATH_MAX];
	char tls_ciphers[LDAPC_NAME_MAX];
	char tls_cert[LDAPC_PATH_MAX];
	char tls_key[LDAPC_PATH_MAX];
	int debug;
	struct sh_policy hash_policy; /* custom: the password_max_* caps; no prefix = cleartext */
};

/* Receives each non-fatal finding (unknown key, bad enum value, truncated value) as
 * "<path>:<line>: <text>". */
typedef void (*ldapc_warn_fn)(void *ctx, const char *message);

/* Cyrus's defaults. */
void sa_ldap_settings_defaults(struct sa_ldap_settings *s);

/* Read and validate a file. False, with "<path>[:<line>]: <problem>" in err, when the file
 * cannot be used at all (missing, unreadable, a line without "key:" or without a value).
 * warn may be NULL. */
bool sa_ldap_settings_load(struct sa_ldap_settings *s, const char *path, ldapc_warn_fn warn,
                        void *warn_ctx, char *err, size_t errsz);

/* Wipe the secrets a settings block holds. */
void sa_ldap_settings_wipe(struct sa_ldap_settings *s);

#endif
