/* The sql mechanism's saslauthd.conf keys (saslauthd.conf(5), SQL Keys) on top of the
 * shared lexer (common/config.c): strict, since nothing older reads them. */
#include "mechanisms/sql.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build_config.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/secret.h"
#include "common/strutil.h"

#define SQL_DEFAULT_HOST "localhost"
#define SQL_DEFAULT_SCHEME "CRYPT"
#define SQL_PORT_MAX 65535
#define SQL_KEY_PREFIX "sql_"

#ifdef WITH_SQL_SQLITE
extern const struct sa_sql_engine sa_sql_sqlite3;
#endif
#ifdef WITH_SQL_PGSQL
extern const struct sa_sql_engine sa_sql_pgsql;
#endif
#ifdef WITH_SQL_MYSQL
extern const struct sa_sql_engine sa_sql_mysql;
#endif

const struct sa_sql_engine *const sa_sql_engines[] = {
#ifdef WITH_SQL_PGSQL
	&sa_sql_pgsql,
#endif
#ifdef WITH_SQL_MYSQL
	&sa_sql_mysql,
#endif
#ifdef WITH_SQL_SQLITE
	&sa_sql_sqlite3,
#endif
	NULL,
};

bool sa_sql_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = sa_ms_until(deadline);
		if (left <= 0)
			return false;
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return true;
		if (n == 0)
			return false;
		/* EINTR: try again with what is left. */
	}
}

/* ---------------------------------------------------------------- sql_select */

struct emitter {
	char *out;
	size_t outsz, len;
	bool overflow;
};

static void emit(struct emitter *e, const char *text, size_t n)
{
	if (e->len + n >= e->outsz) {
		e->overflow = true;
		return;
	}
	memcpy(e->out + e->len, text, n);
	e->len += n;
	e->out[e->len] = '\0';
}

static bool token_of(char c, enum sa_sql_token *t)
{
	switch (c) {
	case 'u':
		*t = SA_SQL_TOK_LOGIN;
		return true;
	case 'r':
		*t = SA_SQL_TOK_REALM;
		return true;
	case 'U':
		*t = SA_SQL_TOK_LOGIN_AT_REALM;
		return true;
	case 'h':
		*t = SA_SQL_TOK_NEW_HASH;
		return true;
	default:
		return false;
	}
}

bool sa_sql_template_compile(const char *tmpl, bool numbered, bool with_hash,
                             struct sa_sql_statement *st, char *err, size_t errsz)
{
	char *out = st->text;
	struct emitter e = { out, sizeof(st->text), 0, false };
	bool in_string = false;

	st->nparams = 0;
	out[0] = '\0';
	for (const char *p = tmpl; *p != '\0'; p++) {
		enum sa_sql_token t;
		if (*p == '%' && p[1] == '%') {
			emit(&e, "%", 1);
			p++;
			continue;
		}
		if (*p != '%') {
			if (*p == '\'')
				in_string = !in_string; /* '' inside a literal toggles twice: still right */
			emit(&e, p, 1);
			continue;
		}
		if (!token_of(p[1], &t)) {
			str_format(err, errsz, "unknown token %%%c (use %%u, %%r, %%U%s or %%%%)",
			           p[1] != '\0' ? p[1] : ' ', with_hash ? ", %h" : "");
			return false;
		}
		if (t == SA_SQL_TOK_NEW_HASH && !with_hash) {
			str_format(err, errsz, "%%h is only for sql_update");
			return false;
		}
		if (in_string) {
			/* Only the whole literal '%u' can become a parameter. */
			bool whole = e.len > 0 && out[e.len - 1] == '\'' && p[2] == '\'';
			if (!whole) {
				str_format(err, errsz, "%%%c inside a string literal cannot be bound as a "
				           "parameter", p[1]);
				return false;
			}
			out[--e.len] = '\0';
			in_string = false;
			p++; /* the closing quote is skipped below */
		}
		if (st->nparams == SA_SQL_PARAMS_MAX) {
			str_format(err, errsz, "more than %d tokens", SA_SQL_PARAMS_MAX);
			return false;
		}
		st->params[st->nparams++] = t;
		char ph[16];
		if (numbered)
			snprintf(ph, sizeof(ph), "$%zu", st->nparams);
		else
			snprintf(ph, sizeof(ph), "?");
		emit(&e, ph, strlen(ph));
		p++;
	}
	if (e.overflow) {
		str_format(err, errsz, "longer than %zu bytes", sizeof(st->text) - 1);
		return false;
	}
	if (in_string) {
		str_format(err, errsz, "unterminated string literal");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- sql_hostnames */

static bool parse_port(const char *s, int *port)
{
	long v;

	if (!str_to_long(s, 1, SQL_PORT_MAX, &v))
		return false;
	*port = (int)v;
	return true;
}

static bool parse_host(char *item, struct sa_sql_host *h, char *err, size_t errsz)
{
	char *port = NULL;

	h->port = 0;
	if (item[0] == '/') {
		/* A UNIX socket; ":port" after it picks PostgreSQL's .s.PGSQL.<port>. */
		port = strrchr(item, ':');
		if (port != NULL && strspn(port + 1, "0123456789") == strlen(port + 1) && port[1] != '\0')
			*port++ = '\0';
		else
			port = NULL;
	} else if (item[0] == '[') {
		char *close = strchr(item, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			str_format(err, errsz, "sql_hostnames: bad address %s", item);
			return false;
		}
		*close = '\0';
		port = close[1] == ':' ? close + 2 : NULL;
		item++;
	} else {
		port = strchr(item, ':');
		if (port != NULL && strchr(port + 1, ':') != NULL) {
			str_format(err, errsz, "sql_hostnames: write IPv6 addresses as [%s]", item);
			return false;
		}
		if (port != NULL)
			*port++ = '\0';
	}
	if (item[0] == '\0' || (port != NULL && !parse_port(port, &h->port))) {
		str_format(err, errsz, "sql_hostnames: bad host or port in %s", item);
		return false;
	}
	if (!str_copy(h->name, sizeof(h->name), item)) {
		str_format(err, errsz, "sql_hostnames: host name too long");
		return false;
	}
	return true;
}

bool sa_sql_hosts_parse(const char *list, struct sa_sql_host *hosts, size_t *nhosts, char *err,
                        size_t errsz)
{
	char copy[SA_SQL_HOSTS_MAX * SA_SQL_HOST_MAX];
	char *save = NULL;

	*nhosts = 0;
	if (!str_copy(copy, sizeof(copy), list)) {
		str_format(err, errsz, "sql_hostnames: too long");
		return false;
	}
	for (char *item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save)) {
		if (*nhosts == SA_SQL_HOSTS_MAX) {
			str_format(err, errsz, "sql_hostnames: more than %d hosts", SA_SQL_HOSTS_MAX);
			return false;
		}
		if (!parse_host(item, &hosts[*nhosts], err, errsz))
			return false;
		(*nhosts)++;
	}
	if (*nhosts == 0) {
		str_format(err, errsz, "sql_hostnames: no host");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- the file */

enum key_id {
	K_ENGINE, K_HOSTNAMES, K_USER, K_PASSWD, K_DATABASE, K_SELECT, K_USESSL, K_TIMEOUT,
	K_DEFAULT_SCHEME, K_TLS_CA_FILE, K_TLS_VERIFY, K_UPDATE, K_UPGRADE_SCHEME, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	"sql_engine", "sql_hostnames", "sql_user", "sql_passwd", "sql_database", "sql_select",
	"sql_usessl", "sql_timeout", "sql_default_scheme", "sql_tls_ca_file", "sql_tls_verify",
	"sql_update", "sql_upgrade_scheme",
};

struct load_state {
	struct sa_sql_settings *s;
	const char *values[K_COUNT];
	int lines[K_COUNT];
};

static bool fail_at(const struct sa_sql_settings *s, int line, char *err, size_t errsz,
                    const char *problem)
{
	if (line > 0)
		str_format(err, errsz, "%s:%d: %s", s->path, line, problem);
	else
		str_format(err, errsz, "%s: %s", s->path, problem);
	return false;
}

static bool set_string(const struct load_state *st, enum key_id k, char *dst, size_t dstsz,
                       char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];

	if (st->values[k] == NULL || str_copy(dst, dstsz, st->values[k]))
		return true;
	str_format(problem, sizeof(problem), "%s longer than %zu bytes", key_names[k], dstsz - 1);
	return fail_at(st->s, st->lines[k], err, errsz, problem);
}

static bool set_switch(const struct load_state *st, enum key_id k, bool *dst, char *err,
                       size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];

	if (st->values[k] == NULL || str_parse_switch(st->values[k], dst))
		return true;
	str_format(problem, sizeof(problem), "%s must be yes or no", key_names[k]);
	return fail_at(st->s, st->lines[k], err, errsz, problem);
}

/* Collect the entries: sql_* keys once each, the password_max_* caps applied. */
static bool collect(struct load_state *st, const struct config *cfg, char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];

	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_entry *e = &cfg->entries[i];
		int cap = sh_policy_apply(&st->s->hash_policy, e->key, e->value, problem,
		                          sizeof(problem));
		if (cap < 0)
			return fail_at(st->s, e->line, err, errsz, problem);
		if (cap > 0 || strncmp(e->key, SQL_KEY_PREFIX, strlen(SQL_KEY_PREFIX)) != 0)
			continue; /* a cap, or another mechanism's key */
		size_t k = 0;
		while (k < K_COUNT && strcmp(e->key, key_names[k]) != 0)
			k++;
		if (k == K_COUNT) {
			str_format(problem, sizeof(problem), "unknown key %s", e->key);
			return fail_at(st->s, e->line, err, errsz, problem);
		}
		if (st->values[k] != NULL) {
			str_format(problem, sizeof(problem), "%s given twice (first on line %d)",
			           e->key, st->lines[k]);
			return fail_at(st->s, e->line, err, errsz, problem);
		}
		st->values[k] = e->value;
		st->lines[k] = e->line;
	}
	return true;
}

static bool apply_engine(struct load_state *st, char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];
	const char *v = st->values[K_ENGINE];

	if (v == NULL)
		return fail_at(st->s, 0, err, errsz, "sql_engine is required (pgsql, mysql or sqlite3)");
	for (const struct sa_sql_engine *const *e = sa_sql_engines; *e != NULL; e++) {
		if (strcasecmp(v, (*e)->name) == 0) {
			st->s->engine = *e;
			return true;
		}
	}
	str_format(problem, sizeof(problem), "sql_engine %s is not built in (built:", v);
	for (const struct sa_sql_engine *const *e = sa_sql_engines; *e != NULL; e++) {
		size_t len = strlen(problem);
		snprintf(problem + len, sizeof(problem) - len, " %s", (*e)->name);
	}
	size_t len = strlen(problem);
	snprintf(problem + len, sizeof(problem) - len, ")");
	return fail_at(st->s, st->lines[K_ENGINE], err, errsz, problem);
}

static bool apply_numbers(struct load_state *st, char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];
	long v = SA_SQL_DEFAULT_TIMEOUT_S;

	if (st->values[K_TIMEOUT] != NULL &&
	    !str_to_long(st->values[K_TIMEOUT], 1, SA_SQL_MAX_TIMEOUT_S, &v)) {
		str_format(problem, sizeof(problem), "sql_timeout must be 1..%d seconds",
		           SA_SQL_MAX_TIMEOUT_S);
		return fail_at(st->s, st->lines[K_TIMEOUT], err, errsz, problem);
	}
	st->s->timeout_ms = (int)(v * SA_MS_PER_S);
	const char *scheme = st->values[K_DEFAULT_SCHEME] != NULL ? st->values[K_DEFAULT_SCHEME]
	                                                          : SQL_DEFAULT_SCHEME;
	if (!sh_scheme_known(scheme) ||
	    !str_copy(st->s->hash_policy.default_scheme, sizeof(st->s->hash_policy.default_scheme),
	              scheme)) {
		str_format(problem, sizeof(problem), "sql_default_scheme %s is not a supported scheme",
		           scheme);
		return fail_at(st->s, st->lines[K_DEFAULT_SCHEME], err, errsz, problem);
	}
	return true;
}

static bool apply_hosts(struct load_state *st, char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];
	const char *v = st->values[K_HOSTNAMES] != NULL ? st->values[K_HOSTNAMES] : SQL_DEFAULT_HOST;

	if (!st->s->engine->uses_hosts)
		return true;
	if (sa_sql_hosts_parse(v, st->s->hosts, &st->s->nhosts, problem, sizeof(problem)))
		return true;
	return fail_at(st->s, st->lines[K_HOSTNAMES], err, errsz, problem);
}

/* A template key compiled into st: "<key>: <problem>" at its line when it is bad. */
static bool compile_key(struct load_state *st, enum key_id k, bool with_hash,
                        struct sa_sql_statement *out, char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX], why[SA_SQL_ERR_MAX];

	if (sa_sql_template_compile(st->values[k], st->s->engine->numbered, with_hash, out, why,
	                            sizeof(why)))
		return true;
	str_format(problem, sizeof(problem), "%s: %s", key_names[k], why);
	return fail_at(st->s, st->lines[k], err, errsz, problem);
}

static bool apply_select(struct load_state *st, char *err, size_t errsz)
{
	struct sa_sql_settings *s = st->s;

	if (st->values[K_SELECT] == NULL)
		return fail_at(s, 0, err, errsz, "sql_select is required");
	return set_string(st, K_SELECT, s->select, sizeof(s->select), err, errsz) &&
	       compile_key(st, K_SELECT, false, &s->query, err, errsz);
}

/* sql_update and sql_upgrade_scheme: both or neither. */
static bool apply_update(struct load_state *st, char *err, size_t errsz)
{
	char problem[SA_SQL_ERR_MAX];
	struct sa_sql_settings *s = st->s;
	const char *scheme = st->values[K_UPGRADE_SCHEME];

	if (st->values[K_UPDATE] == NULL && scheme == NULL)
		return true;
	if (st->values[K_UPDATE] == NULL || scheme == NULL) {
		enum key_id given = scheme == NULL ? K_UPDATE : K_UPGRADE_SCHEME;
		str_format(problem, sizeof(problem), "%s needs %s too", key_names[given],
		           key_names[given == K_UPDATE ? K_UPGRADE_SCHEME : K_UPDATE]);
		return fail_at(s, st->lines[given], err, errsz, problem);
	}
	s->upgrade_strength = sh_make_strength(scheme);
	if (s->upgrade_strength < 0 ||
	    !str_copy(s->upgrade_scheme, sizeof(s->upgrade_scheme), scheme)) {
		str_format(problem, sizeof(problem), "sql_upgrade_scheme %s: use SHA256-CRYPT, "
		           "SHA512-CRYPT, BLF-CRYPT or ARGON2ID", scheme);
		return fail_at(s, st->lines[K_UPGRADE_SCHEME], err, errsz, problem);
	}
	if (!compile_key(st, K_UPDATE, true, &s->update, err, errsz))
		return false;
	for (size_t i = 0; i < s->update.nparams; i++) {
		if (s->update.params[i] == SA_SQL_TOK_NEW_HASH)
			return true;
	}
	return fail_at(s, st->lines[K_UPDATE], err, errsz, "sql_update: no %h (the new hash)");
}

static bool apply_all(struct load_state *st, char *err, size_t errsz)
{
	struct sa_sql_settings *s = st->s;

	if (!apply_engine(st, err, errsz) || !apply_numbers(st, err, errsz) ||
	    !apply_hosts(st, err, errsz) || !apply_select(st, err, errsz) ||
	    !apply_update(st, err, errsz) ||
	    !set_string(st, K_USER, s->user, sizeof(s->user), err, errsz) ||
	    !set_string(st, K_PASSWD, s->passwd, sizeof(s->passwd), err, errsz) ||
	    !set_string(st, K_DATABASE, s->database, sizeof(s->database), err, errsz) ||
	    !set_string(st, K_TLS_CA_FILE, s->tls_ca_file, sizeof(s->tls_ca_file), err, errsz) ||
	    !set_switch(st, K_USESSL, &s->usessl, err, errsz) ||
	    !set_switch(st, K_TLS_VERIFY, &s->tls_verify, err, errsz))
		return false;
	if (s->database[0] == '\0')
		return fail_at(s, 0, err, errsz, "sql_database is required");
	return true;
}

bool sa_sql_settings_load(struct sa_sql_settings *s, const char *path, char *err, size_t errsz)
{
	struct config cfg;
	struct load_state st = { .s = s };

	memset(s, 0, sizeof(*s));
	str_copy(s->path, sizeof(s->path), path);
	sh_policy_defaults(&s->hash_policy);
	s->tls_verify = true;
	if (!config_load(&cfg, path, err, errsz))
		return false;
	bool ok = collect(&st, &cfg, err, errsz) && apply_all(&st, err, errsz);
	for (size_t i = 0; i < cfg.count; i++)
		secret_wipe(cfg.entries[i].value, strlen(cfg.entries[i].value));
	config_free(&cfg);
	if (!ok)
		sa_sql_settings_wipe(s);
	return ok;
}

void sa_sql_settings_wipe(struct sa_sql_settings *s)
{
	secret_wipe(s->passwd, sizeof(s->passwd));
}
