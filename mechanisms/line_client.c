/* Deadline-bounded line client, plain and TLS (line_client.h). */
#include "mechanisms/line_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/clock.h"
#include "common/secret.h"
#include "common/strutil.h"

/* The first queued OpenSSL error as text; the queue is emptied. */
static void ssl_error_text(char *buf, size_t bufsz)
{
	unsigned long e = ERR_get_error();
	if (e == 0)
		str_copy(buf, bufsz, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, bufsz);
	ERR_clear_error();
}

void lc_init(struct line_client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int lc_resolve(const char *host, const char *port, struct addrinfo **out)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	*out = NULL;
	return getaddrinfo(host, port, &hints, out);
}

/* Wait for events until the deadline: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = sa_ms_until(deadline_ms);
		if (left == 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int connect_one(const struct addrinfo *ai, int64_t timeout_ms, char *why, size_t whysz)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0) {
		str_copy(why, whysz, strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		str_copy(why, whysz, strerror(errno));
		close(fd);
		return -1;
	}
	int ready = wait_fd(fd, POLLOUT, sa_clock_ms() + timeout_ms);
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (ready == 0) {
		str_copy(why, whysz, "connect timed out");
	} else if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
		str_copy(why, whysz, strerror(errno));
	} else if (soerr != 0) {
		str_copy(why, whysz, strerror(soerr));
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

static void addr_text(const struct addrinfo *ai, char *buf, size_t bufsz)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, (socklen_t)bufsz, NULL, 0,
	                NI_NUMERICHOST) != 0)
		str_copy(buf, bufsz, "?");
}

bool lc_connect(struct line_client *c, const struct addrinfo *list, int64_t connect_timeout_ms,
                lc_connect_failed *failed, void *arg)
{
	for (const struct addrinfo *ai = list; ai != NULL && c->fd < 0; ai = ai->ai_next) {
		addr_text(ai, c->peer, sizeof(c->peer));
		c->fd = connect_one(ai, connect_timeout_ms, c->why, sizeof(c->why));
		if (c->fd < 0 && failed != NULL)
			failed(arg, c);
	}
	return c->fd >= 0;
}

void lc_close(struct line_client *c)
{
	if (c->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl); /* one close_notify, no waiting for the peer's */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	secret_wipe(c->in, sizeof(c->in));
	c->inlen = c->consumed = 0;
	ERR_clear_error();
}

SSL_CTX *lc_tls_context(bool verify, const char *cafile, char *why, size_t whysz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		ssl_error_text(why, whysz);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cafile != NULL && cafile[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
			goto fail;
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		goto fail;
	}
	return ctx;
fail:
	ssl_error_text(why, whysz);
	SSL_CTX_free(ctx);
	return NULL;
}

/* Wait as OpenSSL asks after a non-blocking call: LC_OK to retry. */
static enum lc_status ssl_wait(struct line_client *c, int rc)
{
	int e = SSL_get_error(c->ssl, rc);
	int ready;

	if (e == SSL_ERROR_WANT_READ)
		ready = wait_fd(c->fd, POLLIN, c->deadline_ms);
	else if (e == SSL_ERROR_WANT_WRITE)
		ready = wait_fd(c->fd, POLLOUT, c->deadline_ms);
	else if (e == SSL_ERROR_ZERO_RETURN)
		return LC_EOF;
	else {
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			str_copy(c->why, sizeof(c->why), errno != 0 ? strerror(errno) : "connection closed");
		else
			ssl_error_text(c->why, sizeof(c->why));
		return LC_ERROR;
	}
	if (ready == 0)
		return LC_TIMEOUT;
	return ready > 0 ? LC_OK : LC_ERROR;
}

static bool name_setup(SSL *ssl, const char *name, bool verify)
{
	unsigned char ipbuf[sizeof(struct in6_addr)];
	bool is_ip = inet_pton(AF_INET, name, ipbuf) == 1 || inet_pton(AF_INET6, name, ipbuf) == 1;

	/* RFC 6066: SNI carries host names only. */
	if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		return false;
	if (!verify)
		return true;
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
	return SSL_set1_host(ssl, name) == 1;
}

bool lc_start_tls(struct line_client *c, SSL_CTX *ctx, const char *name, bool verify)
{
	ERR_clear_error();
	c->inlen = c->consumed = 0; /* nothing read in clear may count as protected */
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || !name_setup(c->ssl, name, verify)) {
		ssl_error_text(c->why, sizeof(c->why));
		return false;
	}
	for (;;) {
		ERR_clear_error();
		int rc = SSL_connect(c->ssl);
		if (rc == 1)
			return true;
		long vr = SSL_get_verify_result(c->ssl);
		enum lc_status st = ssl_wait(c, rc);
		if (st == LC_OK)
			continue;
		if (vr != X509_V_OK)
			str_format(c->why, sizeof(c->why), "certificate verify failed: %s",
			           X509_verify_cert_error_string(vr));
		else if (st == LC_TIMEOUT)
			str_copy(c->why, sizeof(c->why), "TLS handshake timed out");
		else if (st == LC_EOF)
			str_copy(c->why, sizeof(c->why), "connection closed during TLS handshake");
		return false;
	}
}

/* A plain socket call that would block: wait for events. LC_OK to retry. */
static enum lc_status plain_wait(struct line_client *c, short events)
{
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		str_copy(c->why, sizeof(c->why), strerror(errno));
		return LC_ERROR;
	}
	int ready = wait_fd(c->fd, events, c->deadline_ms);
	if (ready <= 0)
		return ready == 0 ? LC_TIMEOUT : LC_ERROR;
	return LC_OK;
}

/* One read or write of at most n bytes: LC_OK with *done > 0, or why not. */
static enum lc_status transfer_some(struct line_client *c, char *rbuf, const char *wbuf,
                                    size_t n, size_t *done)
{
	for (;;) {
		enum lc_status st;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int rc = rbuf != NULL ? SSL_read(c->ssl, rbuf, (int)n) : SSL_write(c->ssl, wbuf, (int)n);
			if (rc > 0) {
				*done = (size_t)rc;
				return LC_OK;
			}
			st = ssl_wait(c, rc);
		} else {
			ssize_t rc = rbuf != NULL ? recv(c->fd, rbuf, n, 0) : send(c->fd, wbuf, n, MSG_NOSIGNAL);
			if (rc > 0 || (rc == 0 && rbuf == NULL)) {
				*done = (size_t)rc;
				return LC_OK;
			}
			if (rc == 0)
				return LC_EOF;
			st = plain_wait(c, rbuf != NULL ? POLLIN : POLLOUT);
		}
		if (st != LC_OK)
			return st;
	}
}

enum lc_status lc_write_all(struct line_client *c, const char *buf, size_t n)
{
	while (n > 0) {
		size_t done = 0;
		enum lc_status st = transfer_some(c, NULL, buf, n, &done);
		if (st != LC_OK)
			return st;
		buf += done;
		n -= done;
	}
	return LC_OK;
}

enum lc_status lc_read_line(struct line_client *c, char **line)
{
	if (c->consumed > 0) {
		memmove(c->in, c->in + c->consumed, c->inlen - c->consumed);
		c->inlen -= c->consumed;
		c->consumed = 0;
	}
	for (;;) {
		char *lf = memchr(c->in, '\n', c->inlen);
		if (lf != NULL) {
			c->consumed = (size_t)(lf - c->in) + 1;
			*lf = '\0';
			if (lf > c->in && lf[-1] == '\r')
				lf[-1] = '\0';
			*line = c->in;
			return LC_OK;
		}
		if (c->inlen >= sizeof(c->in) - 1)
			return LC_TOOLONG;
		size_t got = 0;
		enum lc_status st = transfer_some(c, c->in + c->inlen, NULL, sizeof(c->in) - 1 - c->inlen, &got);
		if (st != LC_OK)
			return st;
		c->inlen += got;
	}
}

bool lc_has_unread(const struct line_client *c)
{
	return c->inlen != c->consumed;
}

const char *lc_status_text(enum lc_status st)
{
	switch (st) {
	case LC_EOF:
		return "connection closed by server";
	case LC_TIMEOUT:
		return "timed out";
	case LC_TOOLONG:
		return "line too long";
	case LC_ERROR:
		return "I/O error";
	case LC_OK:
		break;
	}
	return "ok";
}
