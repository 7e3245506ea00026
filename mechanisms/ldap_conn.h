/* One LDAP connection of the ldap mechanism: connecting with fail-over across
 * ldap_servers, and the operations it needs, each bounded by a deadline. A connection
 * whose operation failed at the transport level (server down, timeout) is marked broken
 * and is reopened by the next request. */
#ifndef SASLAUTHD_LDAP_CONN_H
#define SASLAUTHD_LDAP_CONN_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mechanisms/ldap_config.h"

struct lconn {
	LDAP *ld;
	bool broken;
	char uri[LDAPC_URI_MAX]; /* the server this connection reached */
};

/* Who a fresh connection binds as (the bind also proves the server answers). */
enum lconn_identity {
	LCONN_SERVICE,  /* ldap_bind_dn/ldap_password, or SASL with ldap_id & co. */
	LCONN_ANONYMOUS /* for a connection that will carry user binds */
};

enum lconn_open_result {
	LCONN_OPEN_OK,
	LCONN_OPEN_DOWN,  /* no server answered in time */
	LCONN_OPEN_REFUSED /* a server answered but refused the service identity */
};

/* Monotonic clock point past which no operation of the current request may run. */
int64_t lconn_deadline(int seconds);

/* Connect to the first server of s->servers that answers (prefer_uri first if given),
 * splitting the time left before the deadline between the servers still to try, so that
 * a server that accepts but never answers cannot use up the whole budget. */
enum lconn_open_result lconn_open(struct lconn *c, const struct sa_ldap_settings *s,
                                  const char *prefer_uri, enum lconn_identity who,
                                  int64_t deadline, char *err, size_t errsz);

/* What one server did during lconn_open_traced (saslauthd --check reports it). */
struct lconn_attempt {
	const char *uri;
	enum lconn_open_result result;
	int bind_rc;        /* result of the bind; -1 when the bind was not reached */
	const char *detail; /* why a server that was not reached or refused failed, else "" */
};
typedef void (*lconn_trace_fn)(void *ctx, const struct lconn_attempt *attempt);

/* lconn_open, telling trace about every server tried, in order. */
enum lconn_open_result lconn_open_traced(struct lconn *c, const struct sa_ldap_settings *s,
                                         const char *prefer_uri, enum lconn_identity who,
                                         int64_t deadline, char *err, size_t errsz,
                                         lconn_trace_fn trace, void *trace_ctx);
void lconn_close(struct lconn *c);
bool lconn_usable(const struct lconn *c);

/* Each returns an LDAP result code; transport failures (LDAP_SERVER_DOWN, LDAP_TIMEOUT, ...)
 * also mark the connection broken. */
int lconn_simple_bind(struct lconn *c, const char *dn, const char *password,
                      int64_t deadline);
/* authcid/authzid/realm/mech may be empty (library default). */
int lconn_sasl_bind(struct lconn *c, const char *mech, const char *authcid,
                    const char *authzid, const char *realm, const char *password,
                    int64_t deadline);
int lconn_search(struct lconn *c, const char *base, int scope, const char *filter,
                 char **attrs, int sizelimit, int64_t deadline, LDAPMessage **res);
int lconn_compare(struct lconn *c, const char *dn, const char *attr, const char *value,
                  int64_t deadline);
/* "Who am I?": the bound identity's DN (without "dn:") into out. */
int lconn_whoami(struct lconn *c, int64_t deadline, char *out, size_t outsz);

/* True for result codes that mean the connection (not the request) failed. */
bool lconn_transport_error(int rc);

/* The library's diagnostic message for the last failure on c as " (text)", or "" when
 * there is none. */
#define LCONN_DIAG_MAX 160
void lconn_diagnostic(const struct lconn *c, char *out, size_t outsz);

#endif
