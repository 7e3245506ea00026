/* The ldap mechanism's saslauthd.conf reader: keys, aliases, defaults (saslauthd.conf(5), LDAP Keys).
 * The lexical pass is the shared one (config_load); this file only interprets entries. */
#include "mechanisms/ldap_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/secret.h"
#include "common/strutil.h"

#define LDAPC_DEFAULT_SERVERS "ldap://localhost/"
#define LDAPC_DEFAULT_FILTER "(uid=%u)"
#define LDAPC_DEFAULT_PASSWORD_ATTR "userPassword"
#define LDAPC_DEFAULT_GROUP_ATTR "uniqueMember"
#define LDAPC_DEFAULT_TIMEOUT 5
#define LDAPC_DEFAULT_TIME_LIMIT 5
#define LDAPC_DEFAULT_SIZE_LIMIT 1
#define LDAPC_VERSION3 3
#define LDAPC_WARN_MAX 1024
#define LDAPC_KEY_PREFIX "ldap_" /* keys with other prefixes belong to other mechanisms */

enum key_type { KEY_STRING, KEY_INT, KEY_SWITCH, KEY_TRISTATE, KEY_ENUM };

struct enum_word {
	const char *word;
	int value;
};

struct key_def {
	const char *name;
	const char *alias; /* NULL when none */
	enum key_type type;
	size_t offset; /* of the field in struct sa_ldap_settings */
	size_t size;   /* KEY_STRING: buffer size */
	const struct enum_word *words; /* KEY_ENUM: NULL-terminated */
};

static const struct enum_word auth_words[] = {
	{ "bind", LDAPC_AUTH_BIND }, { "custom", LDAPC_AUTH_CUSTOM },
	{ "fastbind", LDAPC_AUTH_FASTBIND }, { NULL, 0 } };
static const struct enum_word scope_words[] = {
	{ "sub", LDAPC_SCOPE_SUB }, { "one", LDAPC_SCOPE_ONE }, { "base", LDAPC_SCOPE_BASE },
	{ NULL, 0 } };
static const struct enum_word deref_words[] = {
	{ "search", LDAPC_DEREF_SEARCH }, { "find", LDAPC_DEREF_FIND },
	{ "always", LDAPC_DEREF_ALWAYS }, { "never", LDAPC_DEREF_NEVER }, { NULL, 0 } };
static const struct enum_word match_words[] = {
	{ "attr", LDAPC_GROUP_ATTR }, { "filter", LDAPC_GROUP_FILTER }, { NULL, 0 } };

#define FIELD(f) offsetof(struct sa_ldap_settings, f)
#define STR(name, alias, f) { name, alias, KEY_STRING, FIELD(f), sizeof(((struct sa_ldap_settings *)0)->f), NULL }
#define INT(name, f) { name, NULL, KEY_INT, FIELD(f), 0, NULL }
#define SWITCH(name, f) { name, NULL, KEY_SWITCH, FIELD(f), 0, NULL }
#define ENUM(name, f, w) { name, NULL, KEY_ENUM, FIELD(f), 0, w }

static const struct key_def keys[] = {
	STR("ldap_servers", NULL, servers),
	STR("ldap_bind_dn", NULL, bind_dn),
	STR("ldap_password", "ldap_bind_pw", password),
	INT("ldap_version", version),
	STR("ldap_search_base", NULL, search_base),
	STR("ldap_filter", NULL, filter),
	STR("ldap_password_attr", NULL, password_attr),
	ENUM("ldap_scope", scope, scope_words),
	ENUM("ldap_auth_method", auth_method, auth_words),
	STR("ldap_default_realm", "ldap_default_domain", default_realm),
	STR("ldap_group_dn", NULL, group_dn),
	STR("ldap_group_attr", NULL, group_attr),
	STR("ldap_group_filter", NULL, group_filter),
	STR("ldap_group_search_base", NULL, group_search_base),
	ENUM("ldap_group_scope", group_scope, scope_words),
	ENUM("ldap_group_match_method", group_match, match_words),
	INT("ldap_timeout", timeout),
	INT("ldap_time_limit", time_limit),
	INT("ldap_size_limit", size_limit),
	ENUM("ldap_deref", deref, deref_words),
	SWITCH("ldap_referrals", referrals),
	SWITCH("ldap_restart", restart),
	SWITCH("ldap_use_sasl", use_sasl),
	STR("ldap_id", "ldap_sasl_authc_id", sasl_id),
	STR("ldap_authz_id", "ldap_sasl_authz_id", authz_id),
	STR("ldap_mech", "ldap_sasl_mech", mech),
	STR("ldap_realm", "ldap_sasl_realm", realm),
	STR("ldap_sasl_secprops", NULL, secprops),
	SWITCH("ldap_start_tls", start_tls),
	{ "ldap_tls_check_peer", NULL, KEY_TRISTATE, FIELD(tls_check_peer), 0, NULL },
	STR("ldap_tls_cacert_file", NULL, tls_cacert_file),
	STR("ldap_tls_cacert_dir", NULL, tls_cacert_dir),
	STR("ldap_tls_ciphers", NULL, tls_ciphers),
	STR("ldap_tls_cert", NULL, tls_cert),
	STR("ldap_tls_key", NULL, tls_key),
	INT("ldap_debug", debug),
};

struct load_ctx {
	struct sa_ldap_settings *s;
	ldapc_warn_fn warn;
	void *warn_ctx;
	bool group_search_base_given;
};

static void warn(const struct load_ctx *ctx, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn(const struct load_ctx *ctx, int line, const char *fmt, ...)
{
	char text[LDAPC_WARN_MAX / 2];
	char message[LDAPC_WARN_MAX];
	va_list ap;

	if (ctx->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(message, sizeof(message), "%.400s:%d: %s", ctx->s->path, line, text);
	ctx->warn(ctx->warn_ctx, message);
}

void sa_ldap_settings_defaults(struct sa_ldap_settings *s)
{
	memset(s, 0, sizeof(*s));
	str_copy(s->servers, sizeof(s->servers), LDAPC_DEFAULT_SERVERS);
	s->version = LDAPC_VERSION3;
	str_copy(s->filter, sizeof(s->filter), LDAPC_DEFAULT_FILTER);
	str_copy(s->password_attr, sizeof(s->password_attr), LDAPC_DEFAULT_PASSWORD_ATTR);
	s->scope = LDAPC_SCOPE_SUB;
	s->auth_method = LDAPC_AUTH_BIND;
	str_copy(s->group_attr, sizeof(s->group_attr), LDAPC_DEFAULT_GROUP_ATTR);
	s->group_scope = LDAPC_SCOPE_SUB;
	s->group_match = LDAPC_GROUP_ATTR;
	s->timeout = LDAPC_DEFAULT_TIMEOUT;
	s->time_limit = LDAPC_DEFAULT_TIME_LIMIT;
	s->size_limit = LDAPC_DEFAULT_SIZE_LIMIT;
	s->deref = LDAPC_DEREF_NEVER;
	s->restart = true;
	s->tls_check_peer = LDAPC_UNSET;
	sh_policy_defaults(&s->hash_policy);
}

/* Cyrus's lak_config_int: a leading digit or "-digit", else 0; atoi semantics, clamped. */
static int parse_int(const char *v)
{
	if (!isdigit((unsigned char)v[0]) && !(v[0] == '-' && isdigit((unsigned char)v[1])))
		return 0;
	errno = 0;
	long n = strtol(v, NULL, 10);
	if (n > INT_MAX)
		return INT_MAX;
	if (n < INT_MIN)
		return INT_MIN;
	return (int)n;
}

static const struct key_def *find_key(const char *key)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcasecmp(key, keys[i].name) == 0 ||
		    (keys[i].alias != NULL && strcasecmp(key, keys[i].alias) == 0))
			return &keys[i];
	}
	return NULL;
}

static void apply_switch(const struct load_ctx *ctx, const struct config_entry *e, bool *out)
{
	/* Unlike the simple reader, text that is neither on nor off means off (Cyrus). */
	*out = false;
	if (!str_parse_switch(e->value, out))
		warn(ctx, e->line, "%s is not a valid value for %s (taken as off)", e->value, e->key);
}

static void apply_enum(const struct load_ctx *ctx, const struct key_def *k,
                       const struct config_entry *e, int *out)
{
	for (const struct enum_word *w = k->words; w->word != NULL; w++) {
		if (strcasecmp(e->value, w->word) == 0) {
			*out = w->value;
			return;
		}
	}
	/* 2.1.28 ignores the line and keeps the previous value; so do we, but say so. */
	warn(ctx, e->line, "%s is not a valid value for %s (line ignored)", e->value, e->key);
}

static void apply(struct load_ctx *ctx, const struct key_def *k, const struct config_entry *e)
{
	char *field = (char *)ctx->s + k->offset;

	switch (k->type) {
	case KEY_STRING:
		if (!str_copy(field, k->size, e->value))
			warn(ctx, e->line, "value of %s longer than %zu bytes, truncated", e->key,
			     k->size - 1);
		if (strcmp(k->name, "ldap_group_search_base") == 0)
			ctx->group_search_base_given = true;
		break;
	case KEY_INT:
		*(int *)(void *)field = parse_int(e->value);
		break;
	case KEY_SWITCH:
		apply_switch(ctx, e, (bool *)(void *)field);
		break;
	case KEY_TRISTATE: {
		bool on = false;
		apply_switch(ctx, e, &on);
		*(enum ldapc_tristate *)(void *)field = on ? LDAPC_ON : LDAPC_OFF;
		break;
	}
	case KEY_ENUM: {
		int v = *(int *)(void *)field;
		apply_enum(ctx, k, e, &v);
		*(int *)(void *)field = v;
		break;
	}
	}
}

/* Rules that depend on several keys, applied after the whole file (saslauthd.conf(5), LDAP Keys). */
static void derive(struct load_ctx *ctx)
{
	struct sa_ldap_settings *s = ctx->s;

	if (!ctx->group_search_base_given && s->group_filter[0] != '\0' && s->search_base[0] != '\0')
		str_copy(s->group_search_base, sizeof(s->group_search_base), s->search_base);
	if (s->use_sasl && s->auth_method == LDAPC_AUTH_BIND)
		s->auth_method = LDAPC_AUTH_FASTBIND;
	if (s->use_sasl || s->start_tls)
		s->version = LDAPC_VERSION3;
	if (s->timeout <= 0) {
		/* Cyrus would hand the library a zero timeout: every operation fails at once. */
		warn(ctx, 0, "ldap_timeout %d is not positive, using %d", s->timeout,
		     LDAPC_DEFAULT_TIMEOUT);
		s->timeout = LDAPC_DEFAULT_TIMEOUT;
	}
}

bool sa_ldap_settings_load(struct sa_ldap_settings *s, const char *path, ldapc_warn_fn warn_fn,
                        void *warn_ctx, char *err, size_t errsz)
{
	struct config cfg;
	struct load_ctx ctx = { .s = s, .warn = warn_fn, .warn_ctx = warn_ctx };

	sa_ldap_settings_defaults(s);
	str_copy(s->path, sizeof(s->path), path);
	if (!config_load(&cfg, path, err, errsz))
		return false;
	/* In file order, so that the last occurrence of a key wins. */
	for (size_t i = 0; i < cfg.count; i++) {
		const struct config_entry *e = &cfg.entries[i];
		const struct key_def *k = find_key(e->key);
		char problem[LDAPC_WARN_MAX / 4];
		int cap = sh_policy_apply(&s->hash_policy, e->key, e->value, problem, sizeof(problem));
		if (cap < 0)
			warn(&ctx, e->line, "%s (line ignored)", problem);
		else if (cap == 0 && k != NULL)
			apply(&ctx, k, e);
		else if (cap == 0 && strncmp(e->key, LDAPC_KEY_PREFIX, strlen(LDAPC_KEY_PREFIX)) == 0)
			warn(&ctx, e->line, "unknown key %s (ignored)", e->key);
		/* else another mechanism's key (sql_, krb5_, httpform_...): with -a ldap,sql
		 * both read the same file. */
	}
	for (size_t i = 0; i < cfg.count; i++)
		secret_wipe(cfg.entries[i].value, strlen(cfg.entries[i].value));
	config_free(&cfg);
	derive(&ctx);
	return true;
}

void sa_ldap_settings_wipe(struct sa_ldap_settings *s)
{
	secret_wipe(s->password, sizeof(s->password));
}
