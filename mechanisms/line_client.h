/* A client for line-based TCP protocols (IMAP, POP3, SMTP...), plain or TLS: connect over
 * an address list with a timeout per address, upgrade to TLS (STARTTLS or from the first
 * byte) with certificate and host-name checks, read CRLF lines and write whole buffers.
 * Every operation after connecting is bounded by one absolute deadline, a sa_clock_ms()
 * value the caller sets in deadline_ms. Sockets are non-blocking; no signals are used. */
#ifndef SASLAUTHD_LINE_CLIENT_H
#define SASLAUTHD_LINE_CLIENT_H

#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* The longest line read, CR LF included. */
#define LC_LINE_MAX 16384
#define LC_WHY_MAX 256

enum lc_status { LC_OK, LC_EOF, LC_TIMEOUT, LC_ERROR, LC_TOOLONG };

struct line_client {
	int fd;
	SSL *ssl;                    /* NULL until TLS is started */
	int64_t deadline_ms;         /* bound of every read, write and handshake */
	char peer[INET6_ADDRSTRLEN]; /* numeric address connected to (or last tried) */
	char in[LC_LINE_MAX];
	size_t inlen;          /* bytes in in[] */
	size_t consumed;       /* bytes of in[] already handed out as lines */
	char why[LC_WHY_MAX];  /* the last failure, for the log */
};

/* Called for each address that could not be connected: c->peer and c->why say which and why. */
typedef void lc_connect_failed(void *arg, const struct line_client *c);

/* Ready to connect (no socket, no deadline yet). */
void lc_init(struct line_client *c);

/* getaddrinfo for a stream connection to host and port (name or number); its return. */
int lc_resolve(const char *host, const char *port, struct addrinfo **out);

/* Connect to the first address of list that answers within connect_timeout_ms each;
 * failed is called (when not NULL) for each that does not. */
bool lc_connect(struct line_client *c, const struct addrinfo *list, int64_t connect_timeout_ms,
                lc_connect_failed *failed, void *arg);

/* A TLS client context: at least TLS 1.2; with verify, the peer's chain is checked against
 * cafile (a PEM bundle) or, when cafile is NULL or "", the system store. NULL with the
 * reason in why. */
SSL_CTX *lc_tls_context(bool verify, const char *cafile, char *why, size_t whysz);

/* TLS over the connected socket, within the deadline: name is sent as SNI (unless it is an
 * IP address) and, with verify, the certificate must carry it. False with c->why. */
bool lc_start_tls(struct line_client *c, SSL_CTX *ctx, const char *name, bool verify);

/* The next line without its CR LF, NUL-terminated, valid until the next call. */
enum lc_status lc_read_line(struct line_client *c, char **line);

/* True when bytes beyond the lines handed out have been received. */
bool lc_has_unread(const struct line_client *c);

/* Write all n bytes. */
enum lc_status lc_write_all(struct line_client *c, const char *buf, size_t n);

/* Close the connection (one TLS close_notify, no waiting) and wipe what was received;
 * c may be connected again. */
void lc_close(struct line_client *c);

/* A short text for a status ("timed out", "connection closed by server"...). */
const char *lc_status_text(enum lc_status st);

#endif
