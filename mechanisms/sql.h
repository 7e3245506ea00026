/* The sql mechanism's internals (saslauthd.conf(5), SQL Keys): settings, the sql_select
 * template, and the small interface each database engine implements (sql_sqlite.c,
 * sql_pgsql.c, sql_mysql.c). The mechanism itself is mech_sql (mechanisms/sql.c). */
#ifndef SASLAUTHD_SQL_H
#define SASLAUTHD_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/stored_hash.h"

#define SA_SQL_HOSTS_MAX 8
#define SA_SQL_HOST_MAX 256
#define SA_SQL_NAME_MAX 256
#define SA_SQL_SECRET_MAX 1024
#define SA_SQL_STATEMENT_MAX 4096
#define SA_SQL_PARAMS_MAX 16
#define SA_SQL_VALUE_MAX 1024 /* a stored password; longer ones are refused */
#define SA_SQL_DEFAULT_TIMEOUT_S 5
#define SA_SQL_MAX_TIMEOUT_S 300
#define SA_SQL_ERR_MAX 256

enum sa_sql_token {
	SA_SQL_TOK_LOGIN,
	SA_SQL_TOK_REALM,
	SA_SQL_TOK_LOGIN_AT_REALM,
	SA_SQL_TOK_NEW_HASH, /* sql_update only */
};

/* A statement compiled from a template: the engine's placeholders, and the token each
 * binds, in order. */
struct sa_sql_statement {
	char text[SA_SQL_STATEMENT_MAX];
	enum sa_sql_token params[SA_SQL_PARAMS_MAX];
	size_t nparams;
};

struct sa_sql_host {
	char name[SA_SQL_HOST_MAX]; /* a host name, an address, or a UNIX socket path ("/...") */
	int port;                   /* 0: the engine's default */
};

struct sa_sql_engine;

struct sa_sql_settings {
	char path[SA_PATH_MAX]; /* the file these came from, for messages */
	const struct sa_sql_engine *engine;
	struct sa_sql_host hosts[SA_SQL_HOSTS_MAX];
	size_t nhosts;
	char user[SA_SQL_NAME_MAX];
	char passwd[SA_SQL_SECRET_MAX];
	char database[SA_PATH_MAX]; /* sqlite3: the database file */
	char select[SA_SQL_STATEMENT_MAX]; /* sql_select as written */
	struct sa_sql_statement query;     /* sql_select compiled */
	/* The hash upgrade: sql_update compiled (empty text: none) and sql_upgrade_scheme. */
	struct sa_sql_statement update;
	char upgrade_scheme[SH_SCHEME_NAME_MAX];
	int upgrade_strength;
	int timeout_ms;
	bool usessl;
	bool tls_verify;
	char tls_ca_file[SA_PATH_MAX];
	struct sh_policy hash_policy; /* password_max_* and sql_default_scheme */
};

/* What one lookup found. */
struct sa_sql_answer {
	int rows; /* 0, 1, or 2 for "two or more" */
	bool null;
	bool too_long;
	char value[SA_SQL_VALUE_MAX];
	size_t len;
};

struct sa_sql_engine {
	const char *name; /* the sql_engine value */
	bool numbered;    /* placeholders $1, $2... (PostgreSQL) instead of ? */
	bool uses_hosts;  /* false: sqlite3, whose sql_database is a file */
	/* Connect to one host and prepare sql_select, both before deadline (a sa_clock_ms()
	 * value). NULL with a reason in err. */
	void *(*open)(const struct sa_sql_settings *s, const struct sa_sql_host *h,
	              int64_t deadline, char *err, size_t errsz);
	/* Run the prepared statement with the given values. False (reason in err) when the
	 * connection or the statement failed: the caller closes the connection. */
	bool (*lookup)(void *conn, const char *const *values, size_t nvalues, int64_t deadline,
	               struct sa_sql_answer *answer, char *err, size_t errsz);
	/* Prepare sql_update on an open connection. False (reason in err) leaves the
	 * connection usable for lookups. */
	bool (*prepare_update)(void *conn, const struct sa_sql_settings *s, int64_t deadline,
	                       char *err, size_t errsz);
	/* Run the prepared sql_update; *changed: the rows it changed. False (reason in err)
	 * when it failed. */
	bool (*update)(void *conn, const char *const *values, size_t nvalues, int64_t deadline,
	               long *changed, char *err, size_t errsz);
	void (*close)(void *conn);
};

/* The engines compiled in (WITH_SQL_*), NULL-terminated. */
extern const struct sa_sql_engine *const sa_sql_engines[];

/* Compile a sql_select or sql_update template: %u the login, %r the realm, %U
 * login@realm (the login alone when the realm is empty), %h the new hash (only when
 * with_hash: sql_update), %% a percent sign. A token written inside single quotes ('%u',
 * as in libsasl2's examples) loses the quotes: every token is a bound parameter, never
 * text in the statement. Any other %x, a token inside a longer string literal, or too
 * many tokens: false with a reason in err. */
bool sa_sql_template_compile(const char *tmpl, bool numbered, bool with_hash,
                             struct sa_sql_statement *out, char *err, size_t errsz);

/* Parse a sql_hostnames list ("host[:port]", "[v6]:port" or "/socket", separated by commas
 * or blanks). False with a reason in err. */
bool sa_sql_hosts_parse(const char *list, struct sa_sql_host *hosts, size_t *nhosts, char *err,
                        size_t errsz);

/* Read and validate the sql keys of a file. False with "<path>[:<line>]: <problem>" in
 * err. Keys of other mechanisms in the same file are ignored. */
bool sa_sql_settings_load(struct sa_sql_settings *s, const char *path, char *err, size_t errsz);

void sa_sql_settings_wipe(struct sa_sql_settings *s);

/* Wait until fd is ready for events (POLLIN/POLLOUT) or the deadline passes. */
bool sa_sql_wait_fd(int fd, short events, int64_t deadline);

#endif
