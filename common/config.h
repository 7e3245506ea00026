/* The simple "key: value" configuration reader Cyrus uses for saslauthd.conf
 * (kerberos5, httpform; the ldap reader is stricter but shares the lexical rules). */
#ifndef SASLAUTHD_CONFIG_H
#define SASLAUTHD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"

#define CONFIG_LINE_MAX 4096
#define CONFIG_ENTRIES_MAX 256

struct config_entry {
	char *key;   /* lower-cased */
	char *value; /* rest of the line, trailing white space kept (as Cyrus) */
	int line;
};

struct config {
	char path[SA_PATH_MAX];
	struct config_entry entries[CONFIG_ENTRIES_MAX];
	size_t count;
};

/* Read a file. On failure returns false and writes "<path>:<line>: <problem>" into err. */
bool config_load(struct config *cfg, const char *path, char *err, size_t errsz);
void config_free(struct config *cfg);

/* First occurrence wins, as in Cyrus. NULL if absent. */
const char *config_get(const struct config *cfg, const char *key);
/* Cyrus "switch" semantics: 1/y/t/on → true, 0/n/f/off → false, else def. */
bool config_get_bool(const struct config *cfg, const char *key, bool def);

#endif
