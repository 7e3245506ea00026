/* rimap's -O: Cyrus's "host[/port]" and our imap://, imaps://, imap+starttls:// URLs
 * (saslauthd(8), the rimap mechanism). Pure string work: no I/O, no resolution. */
#ifndef SASLAUTHD_RIMAP_URI_H
#define SASLAUTHD_RIMAP_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"

#define RIMAP_SERVERS_MAX 8
#define RIMAP_HOST_MAX 256
#define RIMAP_PORT_MAX 64
/* One server specification: a URL carries at most a path and two names. */
#define RIMAP_SPEC_MAX (SA_PATH_MAX + RIMAP_HOST_MAX * 2 + 128)
/* Cyrus's bound on each read of the exchange; ours bounds the whole exchange with it. */
#define RIMAP_EXCHANGE_TIMEOUT_MS 30000
#define RIMAP_TIMEOUT_MAX_S 300

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

/* The URL scheme of a mode, without "://". */
const char *rimap_security_name(enum rimap_security security);

/* "scheme://host:port", the host in brackets where a URL needs them: how the log and
 * saslauthd --check name a server. False when out is too small. */
bool rimap_format_authority(const struct rimap_server *s, char *out, size_t outsz);

/* A specification rimap_parse_server() reads back to the same values: Cyrus's form when it
 * says everything, else a URL with the options that differ from the defaults. False when
 * out is too small. */
bool rimap_format_server(const struct rimap_server *s, char *out, size_t outsz);

#endif
