/* Fuzz target for the configuration readers on arbitrary file contents (written to a
 * memfd, read through /proc/self/fd): common/config.c against a small reference model of
 * Cyrus's lexical rules (a "key: value" per line, '#' comments, keys lower-cased), and the
 * ldap reader (mechanisms/ldap_config.c) on top of it.
 * Accepted: exactly the model's entries, in order, each bounded, with its real line
 * number, and config_get finds the first value of each key. Rejected: the message is
 * "<path>:<line>: ..." naming the line the model rejects. The ldap reader: accepted gives
 * bounded, terminated settings and warnings that name a line; rejected names a line. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"
#include "mechanisms/ldap_config.h"

#define FUZZ_INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

struct model_entry {
	char key[CONFIG_LINE_MAX];
	char value[CONFIG_LINE_MAX];
	int line;
};
static struct model_entry model[CONFIG_ENTRIES_MAX];

/* The model: how many entries, or -line for the first bad line. */
static long model_parse(const uint8_t *data, size_t size)
{
	size_t pos = 0, count = 0;
	int line = 0;
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
		line++;
		if (len >= CONFIG_LINE_MAX)
			return -line; /* over-long lines are refused, never split */
		char text[CONFIG_LINE_MAX];
		memcpy(text, data + pos, len);
		text[len] = '\0'; /* a NUL byte ends the line's text */
		pos += len + (nl != NULL);
		char *p = text;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		char *k = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
			*p = (char)tolower((unsigned char)*p);
			p++;
		}
		if (*p != ':')
			return -line;
		*p++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return -line;
		if (count == CONFIG_ENTRIES_MAX)
			return -line;
		strcpy(model[count].key, k);
		strcpy(model[count].value, p);
		model[count].line = line;
		count++;
	}
	return (long)count;
}

static void check_plain(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[SA_PATH_MAX + 128];
	long expect = model_parse(data, size);

	if (!config_load(&cfg, path, err, sizeof(err))) {
		char want[96];
		snprintf(want, sizeof(want), "%s:%ld: ", path, -expect);
		if (expect >= 0 || strncmp(err, want, strlen(want)) != 0)
			abort();
		return;
	}
	if (expect < 0 || cfg.count != (size_t)expect)
		abort();
	for (size_t i = 0; i < cfg.count; i++) {
		const struct config_entry *e = &cfg.entries[i];
		if (strcmp(e->key, model[i].key) != 0 || strcmp(e->value, model[i].value) != 0 ||
		    e->line != model[i].line || strlen(e->value) >= CONFIG_LINE_MAX)
			abort();
		const char *first = config_get(&cfg, e->key);
		size_t j = 0;
		while (strcmp(model[j].key, e->key) != 0)
			j++;
		if (first == NULL || strcmp(first, model[j].value) != 0)
			abort();
	}
	config_free(&cfg);
}

static void warning(void *ctx, const char *message)
{
	char want[80];
	(void)ctx;
	snprintf(want, sizeof(want), "%s:", path);
	if (strncmp(message, want, strlen(want)) != 0 || !isdigit((unsigned char)message[strlen(want)]))
		abort();
}

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void check_ldap(void)
{
	static struct sa_ldap_settings s;
	char err[SA_PATH_MAX + 128];

	if (!sa_ldap_settings_load(&s, path, warning, NULL, err, sizeof(err))) {
		char want[80];
		snprintf(want, sizeof(want), "%s:", path);
		if (strncmp(err, want, strlen(want)) != 0 || !isdigit((unsigned char)err[strlen(want)]))
			abort();
		return;
	}
	if (!TERMINATED(s.servers) || !TERMINATED(s.bind_dn) || !TERMINATED(s.password) ||
	    !TERMINATED(s.search_base) || !TERMINATED(s.filter) || !TERMINATED(s.password_attr) ||
	    !TERMINATED(s.default_realm) || !TERMINATED(s.group_dn) || !TERMINATED(s.group_attr) ||
	    !TERMINATED(s.group_filter) || !TERMINATED(s.group_search_base) ||
	    !TERMINATED(s.sasl_id) || !TERMINATED(s.authz_id) || !TERMINATED(s.mech) ||
	    !TERMINATED(s.realm) || !TERMINATED(s.secprops) || !TERMINATED(s.tls_cacert_file) ||
	    !TERMINATED(s.tls_cacert_dir) || !TERMINATED(s.tls_ciphers) || !TERMINATED(s.tls_cert) ||
	    !TERMINATED(s.tls_key))
		abort();
	if (s.scope < LDAPC_SCOPE_BASE || s.scope > LDAPC_SCOPE_SUB ||
	    s.group_scope < LDAPC_SCOPE_BASE || s.group_scope > LDAPC_SCOPE_SUB ||
	    s.deref < LDAPC_DEREF_NEVER || s.deref > LDAPC_DEREF_ALWAYS ||
	    s.auth_method < LDAPC_AUTH_BIND || s.auth_method > LDAPC_AUTH_FASTBIND)
		abort();
	sa_ldap_settings_wipe(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz_config", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	check_plain(data, size);
	check_ldap();
	return 0;
}
