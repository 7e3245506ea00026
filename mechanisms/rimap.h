/* rimap internals exposed for the unit tests: -O parsing and IMAP command building.
 * The mechanism itself is mech_rimap (mechanisms/rimap.c). */
#ifndef SASLAUTHD_RIMAP_H
#define SASLAUTHD_RIMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"
#include "common/protocol.h"

#define RIMAP_SERVERS_MAX 8
#define RIMAP_HOST_MAX 256
#define RIMAP_PORT_MAX 64
/* Cyrus's bound on each read of the exchange; ours bounds the whole exchange with it. */
#define RIMAP_EXCHANGE_TIMEOUT_MS 30000
#define RIMAP_TIMEOUT_MAX_S 300
/* "saslauthd LOGIN " + two astrings (worst case: every byte quoted, or a literal
 * header plus the bytes) + CRLF. */
#define RIMAP_CMD_MAX (2 * (2 * PROTOCOL_FIELD_MAX + 32) + 64)
/* A LOGIN needs at most one pause per argument (synchronising literals). */
#define RIMAP_CUTS_MAX 2

enum rimap_security {
	RIMAP_PLAIN,    /* Cyrus's only mode: cleartext IMAP */
	RIMAP_IMAPS,    /* TLS from the first byte (port 993) */
	RIMAP_STARTTLS, /* cleartext greeting, then STARTTLS before LOGIN */
};

struct rimap_server {
	enum rimap_security security;
	char host[RIMAP_HOST_MAX];       /* as given; IPv6 literal without brackets */
	char port[RIMAP_PORT_MAX];       /* service name or number, for getaddrinfo */
	char cafile[SA_PATH_MAX];        /* "" → the system CA store */
	char servername[RIMAP_HOST_MAX]; /* name the certificate must carry; "" → host */
	bool verify;                     /* certificate and name checks (TLS modes) */
	int timeout_ms;                  /* bound of one exchange after connect */
};

/* Parse one server: Cyrus's "host[/port]" or our "imap://", "imaps://",
 * "imap+starttls://host[:port][?key=value&...]". False with a reason on error. */
bool rimap_parse_server(const char *spec, struct rimap_server *out, char *err, size_t errsz);

/* Parse -O: one or more servers separated by spaces or commas (tried in order).
 * Returns the count (≥ 1), or -1 with a reason. */
int rimap_parse_servers(const char *option, struct rimap_server *out, size_t max, char *err,
                        size_t errsz);

/* True when s cannot be sent as an IMAP quoted string (CR, LF, other control bytes,
 * DEL, 8-bit bytes) and must go as a literal. */
bool imap_needs_literal(const char *s);

/* True when the greeting's [CAPABILITY ...] response code lists cap (case-insensitive). */
bool imap_greeting_has_capability(const char *greeting, const char *cap);

/* A command to send in pieces: after each cut the client waits for a "+" continuation. */
struct imap_command {
	char buf[RIMAP_CMD_MAX];
	size_t len;
	size_t cuts[RIMAP_CUTS_MAX];
	size_t ncuts;
};

/* "saslauthd LOGIN <login> <password>" CRLF, each argument a quoted string when valid,
 * else a literal ("{n+}" when literal_plus, else "{n}" with a cut). False if too long. */
bool imap_build_login(struct imap_command *cmd, const char *login, const char *password,
                      bool literal_plus);

#endif
