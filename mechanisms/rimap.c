/* rimap: check a password by logging in to an IMAP server.
 *
 * -O forms:
 *   host[/port]                       exactly Cyrus: cleartext IMAP, split at the first '/',
 *                                     port a service name or number (default "imap"),
 *                                     IPv6 literals without brackets.
 *   imap://host[:port][?k=v&...]      cleartext, same as above (143)
 *   imaps://host[:port][?k=v&...]     implicit TLS (993)
 *   imap+starttls://host[:port][?...] STARTTLS before LOGIN (143)
 * URL hosts put IPv6 literals in brackets. Query keys: cafile=/path (PEM bundle instead of
 * the system store), servername=name (the name the certificate must carry, also sent as
 * SNI; default the host), verify=no (no certificate checks at all; must be asked for),
 * timeout=seconds (bound of one exchange, default 30).
 * Several servers separated by spaces or commas are tried in order (failover) until one
 * gives a definite answer to LOGIN.
 *
 * Deliberate differences from Cyrus (which never uses literals and sends CR, LF and 8-bit
 * bytes raw inside quotes, producing invalid IMAP): a login or password that is not a
 * valid quoted string goes out as an IMAP literal — "{n+}" when the greeting advertises
 * LITERAL+, else "{n}" and we wait for the server's "+" continuation. Untagged lines
 * before the tagged reply are skipped (Cyrus refuses anything but "* CAPABILITY").
 * Connect (5 s) and the whole exchange (30 s) are bounded; a host that does not resolve
 * at start-up only logs a warning and is resolved again per request. The password is
 * never logged, even with -V.
 */
#include "mechanisms/rimap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "mechanisms/mechanism.h"
#include "mechanisms/remote_reply.h"

#define RIMAP_DEFAULT_SERVICE "imap"
#define RIMAP_DEFAULT_IMAP_PORT "143"
#define RIMAP_DEFAULT_IMAPS_PORT "993"
#define RIMAP_CONNECT_TIMEOUT_MS 5000
#define RIMAP_LINE_MAX 16384
#define RIMAP_TAG "saslauthd"
#define RIMAP_LOG_VALUE_MAX 512

/* ------------------------------------------------------------------ -O parsing */

static void server_defaults(struct rimap_server *s)
{
	memset(s, 0, sizeof(*s));
	s->security = RIMAP_PLAIN;
	s->verify = true;
	s->timeout_ms = RIMAP_EXCHANGE_TIMEOUT_MS;
}

/* Cyrus's form: split at the first '/'. */
static bool parse_cyrus_form(const char *spec, struct rimap_server *out, char *err, size_t errsz)
{
	const char *slash = strchr(spec, '/');
	size_t hostlen = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
	const char *port = slash != NULL ? slash + 1 : RIMAP_DEFAULT_SERVICE;

	if (hostlen == 0 || hostlen >= sizeof(out->host)) {
		str_format(err, errsz, "bad host in \"%s\"", spec);
		return false;
	}
	memcpy(out->host, spec, hostlen);
	out->host[hostlen] = '\0';
	if (*port == '\0' || !str_copy(out->port, sizeof(out->port), port)) {
		str_format(err, errsz, "bad port in \"%s\"", spec);
		return false;
	}
	return true;
}

static bool parse_query_item(const char *item, struct rimap_server *out, char *err,
                             size_t errsz)
{
	const char *eq = strchr(item, '=');
	long seconds;

	if (eq == NULL) {
		str_format(err, errsz, "query item \"%s\" has no '='", item);
		return false;
	}
	size_t klen = (size_t)(eq - item);
	const char *v = eq + 1;
	bool ok = true;
	if (klen == 6 && strncmp(item, "cafile", klen) == 0)
		ok = *v != '\0' && str_copy(out->cafile, sizeof(out->cafile), v);
	else if (klen == 10 && strncmp(item, "servername", klen) == 0)
		ok = *v != '\0' && str_copy(out->servername, sizeof(out->servername), v);
	else if (klen == 6 && strncmp(item, "verify", klen) == 0)
		ok = str_parse_switch(v, &out->verify);
	else if (klen == 7 && strncmp(item, "timeout", klen) == 0) {
		ok = str_to_long(v, 1, RIMAP_TIMEOUT_MAX_S, &seconds);
		if (ok)
			out->timeout_ms = (int)(seconds * SA_MS_PER_S);
	} else {
		str_format(err, errsz, "unknown option \"%.*s\"", (int)klen, item);
		return false;
	}
	if (!ok)
		str_format(err, errsz, "bad value in \"%s\"", item);
	return ok;
}

static bool parse_query(char *query, struct rimap_server *out, char *err, size_t errsz)
{
	char *save = NULL;
	for (char *item = strtok_r(query, "&", &save); item != NULL;
	     item = strtok_r(NULL, "&", &save)) {
		if (!parse_query_item(item, out, err, errsz))
			return false;
	}
	if (out->security == RIMAP_PLAIN && (out->cafile[0] != '\0' || out->servername[0] != '\0')) {
		str_format(err, errsz, "cafile/servername need imaps:// or imap+starttls://");
		return false;
	}
	return true;
}

/* "[v6]:port", "host:port", "host"; an optional trailing '/'. */
static bool parse_authority(char *auth, struct rimap_server *out, const char *defport,
                            char *err, size_t errsz)
{
	char *host = auth, *port = NULL;
	size_t alen = strlen(auth);

	if (alen > 0 && auth[alen - 1] == '/')
		auth[--alen] = '\0';
	if (*auth == '[') {
		char *close = strchr(auth, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			goto bad;
		*close = '\0';
		host = auth + 1;
		if (close[1] == ':')
			port = close + 2;
	} else {
		char *colon = strchr(auth, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			goto bad; /* an IPv6 literal must be bracketed in a URL */
		if (colon != NULL) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (*host == '\0' || strchr(host, '/') != NULL ||
	    !str_copy(out->host, sizeof(out->host), host))
		goto bad;
	if (port == NULL)
		port = (char *)defport;
	if (*port == '\0' || !str_copy(out->port, sizeof(out->port), port))
		goto bad;
	return true;
bad:
	str_format(err, errsz, "bad host or port in \"%s\"", auth);
	return false;
}

static bool parse_url_form(const char *spec, struct rimap_server *out, char *err, size_t errsz)
{
	static const struct {
		const char *prefix;
		enum rimap_security security;
		const char *port;
	} schemes[] = {
		{ "imap://", RIMAP_PLAIN, RIMAP_DEFAULT_IMAP_PORT },
		{ "imaps://", RIMAP_IMAPS, RIMAP_DEFAULT_IMAPS_PORT },
		{ "imap+starttls://", RIMAP_STARTTLS, RIMAP_DEFAULT_IMAP_PORT },
	};
	char copy[SA_PATH_MAX + RIMAP_HOST_MAX * 2 + 128];

	if (!str_copy(copy, sizeof(copy), spec)) {
		str_format(err, errsz, "server \"%.64s...\" too long", spec);
		return false;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t plen = strlen(schemes[i].prefix);
		if (strncasecmp(copy, schemes[i].prefix, plen) != 0)
			continue;
		out->security = schemes[i].security;
		char *query = strchr(copy + plen, '?');
		if (query != NULL)
			*query++ = '\0';
		if (!parse_authority(copy + plen, out, schemes[i].port, err, errsz))
			return false;
		return query == NULL || parse_query(query, out, err, errsz);
	}
	str_format(err, errsz, "unknown scheme in \"%s\" (imap://, imaps://, imap+starttls://)", spec);
	return false;
}

bool rimap_parse_server(const char *spec, struct rimap_server *out, char *err, size_t errsz)
{
	server_defaults(out);
	if (strstr(spec, "://") != NULL)
		return parse_url_form(spec, out, err, errsz);
	return parse_cyrus_form(spec, out, err, errsz);
}

int rimap_parse_servers(const char *option, struct rimap_server *out, size_t max, char *err,
                        size_t errsz)
{
	static const char separators[] = " \t,";
	size_t count = 0;
	const char *p = option;

	while (*p != '\0') {
		p += strspn(p, separators);
		size_t len = strcspn(p, separators);
		if (len == 0)
			break;
		char spec[SA_PATH_MAX + RIMAP_HOST_MAX * 2 + 128];
		if (len >= sizeof(spec)) {
			str_format(err, errsz, "server specification too long");
			return -1;
		}
		if (count == max) {
			str_format(err, errsz, "more than %zu servers", max);
			return -1;
		}
		memcpy(spec, p, len);
		spec[len] = '\0';
		if (!rimap_parse_server(spec, &out[count], err, errsz))
			return -1;
		count++;
		p += len;
	}
	if (count == 0) {
		str_format(err, errsz, "no hostname specified");
		return -1;
	}
	return (int)count;
}

/* ------------------------------------------------------------------ IMAP syntax */

bool imap_needs_literal(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			return true;
	}
	return false;
}

static bool token_in(const char *list, size_t len, const char *tok)
{
	size_t tlen = strlen(tok);
	size_t i = 0;

	while (i < len) {
		while (i < len && list[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && list[i] != ' ')
			i++;
		if (i - start == tlen && strncasecmp(list + start, tok, tlen) == 0)
			return true;
	}
	return false;
}

bool imap_greeting_has_capability(const char *greeting, const char *cap)
{
	static const char marker[] = "[CAPABILITY ";
	const char *p = strcasestr(greeting, marker);
	if (p == NULL)
		return false;
	p += sizeof(marker) - 1;
	const char *end = strchr(p, ']');
	if (end == NULL)
		return false;
	return token_in(p, (size_t)(end - p), cap);
}

static bool cmd_append(struct imap_command *cmd, const char *bytes, size_t n)
{
	if (n >= sizeof(cmd->buf) - cmd->len)
		return false;
	memcpy(cmd->buf + cmd->len, bytes, n);
	cmd->len += n;
	cmd->buf[cmd->len] = '\0';
	return true;
}

static bool cmd_append_quoted(struct imap_command *cmd, const char *s)
{
	if (!cmd_append(cmd, "\"", 1))
		return false;
	for (; *s != '\0'; s++) {
		if ((*s == '"' || *s == '\\') && !cmd_append(cmd, "\\", 1))
			return false;
		if (!cmd_append(cmd, s, 1))
			return false;
	}
	return cmd_append(cmd, "\"", 1);
}

static bool cmd_append_literal(struct imap_command *cmd, const char *s, bool literal_plus)
{
	char header[32];
	size_t n = strlen(s);
	int hlen = snprintf(header, sizeof(header), "{%zu%s}\r\n", n, literal_plus ? "+" : "");

	if (hlen < 0 || (size_t)hlen >= sizeof(header) || !cmd_append(cmd, header, (size_t)hlen))
		return false;
	if (!literal_plus) {
		if (cmd->ncuts == RIMAP_CUTS_MAX)
			return false;
		cmd->cuts[cmd->ncuts++] = cmd->len;
	}
	return cmd_append(cmd, s, n);
}

static bool cmd_append_astring(struct imap_command *cmd, const char *s, bool literal_plus)
{
	if (imap_needs_literal(s))
		return cmd_append_literal(cmd, s, literal_plus);
	return cmd_append_quoted(cmd, s);
}

bool imap_build_login(struct imap_command *cmd, const char *login, const char *password,
                      bool literal_plus)
{
	static const char verb[] = RIMAP_TAG " LOGIN ";

	cmd->len = 0;
	cmd->ncuts = 0;
	cmd->buf[0] = '\0';
	return cmd_append(cmd, verb, sizeof(verb) - 1) &&
	       cmd_append_astring(cmd, login, literal_plus) && cmd_append(cmd, " ", 1) &&
	       cmd_append_astring(cmd, password, literal_plus) && cmd_append(cmd, "\r\n", 2);
}

/* ------------------------------------------------------------------ state */

struct rimap_target {
	struct rimap_server server;
	struct addrinfo *addrs; /* NULL: resolve per request (start-up resolution failed) */
	SSL_CTX *ssl_ctx;       /* TLS modes only */
};

static struct {
	struct rimap_target targets[RIMAP_SERVERS_MAX];
	size_t count;
} rimap_state;

static void targets_free(struct rimap_target *t, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (t[i].addrs != NULL)
			freeaddrinfo(t[i].addrs);
		if (t[i].ssl_ctx != NULL)
			SSL_CTX_free(t[i].ssl_ctx);
		t[i].addrs = NULL;
		t[i].ssl_ctx = NULL;
	}
}

static int resolve(const struct rimap_server *s, struct addrinfo **out)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	*out = NULL;
	return getaddrinfo(s->host, s->port, &hints, out);
}

static const char *security_name(enum rimap_security s)
{
	switch (s) {
	case RIMAP_IMAPS:
		return "imaps";
	case RIMAP_STARTTLS:
		return "imap+starttls";
	case RIMAP_PLAIN:
		break;
	}
	return "imap";
}

static void log_openssl_errors(char *buf, size_t bufsz)
{
	unsigned long e = ERR_get_error();
	if (e == 0)
		str_copy(buf, bufsz, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, bufsz);
	ERR_clear_error();
}

static SSL_CTX *make_ssl_ctx(const struct rimap_server *s, char *err, size_t errsz)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		log_openssl_errors(why, sizeof(why));
		str_format(err, errsz, "SSL_CTX_new: %s", why);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!s->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (s->cafile[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, s->cafile, NULL) != 1)
			goto fail;
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		goto fail;
	}
	return ctx;
fail:
	log_openssl_errors(why, sizeof(why));
	str_format(err, errsz, "TLS setup for %s%s%s: %s", s->host,
	           s->cafile[0] != '\0' ? " with cafile " : "", s->cafile, why);
	SSL_CTX_free(ctx);
	return NULL;
}

/* Build targets from -O into t. Resolution failures are warnings, everything else fails. */
static int targets_load(const char *option, struct rimap_target *t, size_t *count, char *err,
                        size_t errsz)
{
	struct rimap_server servers[RIMAP_SERVERS_MAX];

	if (option == NULL || *option == '\0') {
		str_format(err, errsz, "rimap_init: no hostname specified");
		return -1;
	}
	int n = rimap_parse_servers(option, servers, RIMAP_SERVERS_MAX, err, errsz);
	if (n < 0)
		return -1;
	memset(t, 0, sizeof(*t) * RIMAP_SERVERS_MAX);
	*count = 0;
	for (int i = 0; i < n; i++) {
		t[i].server = servers[i];
		*count = (size_t)i + 1;
		int rc = resolve(&servers[i], &t[i].addrs);
		if (rc == EAI_SERVICE) {
			str_format(err, errsz, "auth_rimap_init: getaddrinfo %s/%s: %s", servers[i].host,
			           servers[i].port, gai_strerror(rc));
			return -1;
		}
		if (rc != 0) {
			t[i].addrs = NULL;
			log_mech(LOG_WARNING,
			         "auth_rimap_init: getaddrinfo %s/%s: %s (will resolve per request)",
			         servers[i].host, servers[i].port, gai_strerror(rc));
		}
		if (servers[i].security != RIMAP_PLAIN) {
			t[i].ssl_ctx = make_ssl_ctx(&servers[i], err, errsz);
			if (t[i].ssl_ctx == NULL)
				return -1;
			if (!servers[i].verify)
				log_mech(LOG_WARNING, "auth_rimap_init: certificate verification is OFF for %s",
				         servers[i].host);
		}
	}
	return 0;
}

static int rimap_init(const struct mech_settings *settings, char *err, size_t errsz)
{
	struct rimap_target fresh[RIMAP_SERVERS_MAX];
	size_t count = 0;

	if (targets_load(settings->option, fresh, &count, err, errsz) != 0) {
		targets_free(fresh, count);
		return -1;
	}
	targets_free(rimap_state.targets, rimap_state.count);
	memcpy(rimap_state.targets, fresh, sizeof(fresh));
	rimap_state.count = count;
	return 0;
}

static void rimap_cleanup(void)
{
	targets_free(rimap_state.targets, rimap_state.count);
	rimap_state.count = 0;
}

/* ------------------------------------------------------------------ connection */

enum io_status { IO_OK, IO_EOF, IO_TIMEOUT, IO_ERROR, IO_TOOLONG };

struct imap_conn {
	const struct rimap_target *target;
	int fd;
	SSL *ssl;
	int64_t deadline_ms;
	char peer[INET6_ADDRSTRLEN];
	char in[RIMAP_LINE_MAX];
	size_t inlen;    /* bytes in in[] */
	size_t consumed; /* bytes of in[] already handed out as lines */
	char why[256];   /* last failure, for the log */
	char note[384];  /* the greeting, or where the session failed (saslauthd --check) */
};

/* Wait for events until the deadline: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = sa_ms_until(deadline);
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

static int connect_one(const struct addrinfo *ai, char *why, size_t whysz)
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
	int ready = wait_fd(fd, POLLOUT, sa_clock_ms() + RIMAP_CONNECT_TIMEOUT_MS);
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

/* Connect to the first address that answers. */
static bool conn_open(struct imap_conn *c)
{
	const struct rimap_server *s = &c->target->server;
	struct addrinfo *fresh = NULL;
	const struct addrinfo *list = c->target->addrs;

	if (list == NULL) {
		int rc = resolve(s, &fresh);
		if (rc != 0) {
			log_mech(LOG_WARNING, "auth_rimap: getaddrinfo %s/%s: %s", s->host, s->port,
			         gai_strerror(rc));
			str_format(c->note, sizeof(c->note), "getaddrinfo: %s", gai_strerror(rc));
			return false;
		}
		list = fresh;
	}
	for (const struct addrinfo *ai = list; ai != NULL && c->fd < 0; ai = ai->ai_next) {
		char why[128];
		addr_text(ai, c->peer, sizeof(c->peer));
		c->fd = connect_one(ai, why, sizeof(why));
		if (c->fd < 0) {
			log_mech(LOG_WARNING, "auth_rimap: connect %s[%s]/%s: %s", s->host, c->peer,
			         s->port, why);
			str_format(c->note, sizeof(c->note), "connect %s: %s", c->peer, why);
		}
	}
	if (fresh != NULL)
		freeaddrinfo(fresh);
	return c->fd >= 0;
}

static void conn_close(struct imap_conn *c)
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
	ERR_clear_error();
}

/* Wait as OpenSSL asks after a non-blocking call: IO_OK to retry. */
static enum io_status ssl_wait(struct imap_conn *c, int rc)
{
	int e = SSL_get_error(c->ssl, rc);
	int ready;

	if (e == SSL_ERROR_WANT_READ)
		ready = wait_fd(c->fd, POLLIN, c->deadline_ms);
	else if (e == SSL_ERROR_WANT_WRITE)
		ready = wait_fd(c->fd, POLLOUT, c->deadline_ms);
	else if (e == SSL_ERROR_ZERO_RETURN)
		return IO_EOF;
	else {
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			str_copy(c->why, sizeof(c->why), errno != 0 ? strerror(errno) : "connection closed");
		else
			log_openssl_errors(c->why, sizeof(c->why));
		return IO_ERROR;
	}
	if (ready == 0)
		return IO_TIMEOUT;
	return ready > 0 ? IO_OK : IO_ERROR;
}

static bool verify_name_setup(struct imap_conn *c)
{
	const struct rimap_server *s = &c->target->server;
	const char *name = s->servername[0] != '\0' ? s->servername : s->host;
	unsigned char ipbuf[sizeof(struct in6_addr)];
	bool is_ip = inet_pton(AF_INET, name, ipbuf) == 1 || inet_pton(AF_INET6, name, ipbuf) == 1;

	if (!is_ip && SSL_set_tlsext_host_name(c->ssl, name) != 1)
		return false;
	if (!s->verify)
		return true;
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) == 1;
	return SSL_set1_host(c->ssl, name) == 1;
}

static bool conn_start_tls(struct imap_conn *c)
{
	ERR_clear_error();
	c->ssl = SSL_new(c->target->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || !verify_name_setup(c)) {
		log_openssl_errors(c->why, sizeof(c->why));
		return false;
	}
	for (;;) {
		ERR_clear_error();
		int rc = SSL_connect(c->ssl);
		if (rc == 1)
			return true;
		long vr = SSL_get_verify_result(c->ssl);
		enum io_status st = ssl_wait(c, rc);
		if (st == IO_OK)
			continue;
		if (vr != X509_V_OK)
			str_format(c->why, sizeof(c->why), "certificate verify failed: %s",
			           X509_verify_cert_error_string(vr));
		else if (st == IO_TIMEOUT)
			str_copy(c->why, sizeof(c->why), "TLS handshake timed out");
		else if (st == IO_EOF)
			str_copy(c->why, sizeof(c->why), "connection closed during TLS handshake");
		return false;
	}
}

static enum io_status conn_read_some(struct imap_conn *c, char *buf, size_t n, size_t *got)
{
	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			int rc = SSL_read(c->ssl, buf, (int)n);
			if (rc > 0) {
				*got = (size_t)rc;
				return IO_OK;
			}
			enum io_status st = ssl_wait(c, rc);
			if (st != IO_OK)
				return st;
			continue;
		}
		ssize_t rc = recv(c->fd, buf, n, 0);
		if (rc > 0) {
			*got = (size_t)rc;
			return IO_OK;
		}
		if (rc == 0)
			return IO_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			str_copy(c->why, sizeof(c->why), strerror(errno));
			return IO_ERROR;
		}
		int ready = wait_fd(c->fd, POLLIN, c->deadline_ms);
		if (ready <= 0)
			return ready == 0 ? IO_TIMEOUT : IO_ERROR;
	}
}

static enum io_status conn_write_all(struct imap_conn *c, const char *buf, size_t n)
{
	while (n > 0) {
		size_t done = 0;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int rc = SSL_write(c->ssl, buf, (int)n);
			if (rc <= 0) {
				enum io_status st = ssl_wait(c, rc);
				if (st != IO_OK)
					return st;
				continue;
			}
			done = (size_t)rc;
		} else {
			ssize_t rc = send(c->fd, buf, n, MSG_NOSIGNAL);
			if (rc < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
					str_copy(c->why, sizeof(c->why), strerror(errno));
					return IO_ERROR;
				}
				int ready = wait_fd(c->fd, POLLOUT, c->deadline_ms);
				if (ready <= 0)
					return ready == 0 ? IO_TIMEOUT : IO_ERROR;
				continue;
			}
			done = (size_t)rc;
		}
		buf += done;
		n -= done;
	}
	return IO_OK;
}

/* The next line without its CR LF, NUL-terminated, valid until the next call. */
static enum io_status conn_read_line(struct imap_conn *c, char **line)
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
			return IO_OK;
		}
		if (c->inlen >= sizeof(c->in) - 1)
			return IO_TOOLONG;
		size_t got = 0;
		enum io_status st = conn_read_some(c, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, &got);
		if (st != IO_OK)
			return st;
		c->inlen += got;
	}
}

/* ------------------------------------------------------------------ exchange */

enum outcome {
	OUT_OK,
	OUT_REJECTED,
	OUT_NO_CONTACT,
	OUT_UNAVAILABLE,
	OUT_UNEXPECTED,
	OUT_SYNC,
	OUT_INTERNAL,
};

static const char *outcome_reply(enum outcome o)
{
	switch (o) {
	case OUT_OK:
		return REMOTE_REPLY_OK;
	case OUT_REJECTED:
		return REMOTE_REPLY_REJECTED;
	case OUT_NO_CONTACT:
		return REMOTE_REPLY_NO_CONTACT;
	case OUT_UNAVAILABLE:
		return REMOTE_REPLY_UNAVAILABLE;
	case OUT_UNEXPECTED:
		return REMOTE_REPLY_UNEXPECTED;
	case OUT_SYNC:
		return REMOTE_REPLY_SYNC;
	case OUT_INTERNAL:
		break;
	}
	return REMOTE_REPLY_INTERNAL;
}

static const char *io_text(enum io_status st)
{
	switch (st) {
	case IO_EOF:
		return "connection closed by server";
	case IO_TIMEOUT:
		return "timed out";
	case IO_TOOLONG:
		return "line too long";
	case IO_ERROR:
		return "I/O error";
	case IO_OK:
		break;
	}
	return "ok";
}

static void log_server_problem(const struct imap_conn *c, const char *stage, enum io_status st)
{
	const struct rimap_server *s = &c->target->server;
	log_mech(LOG_WARNING, "auth_rimap: %s://%s[%s]/%s: %s: %s%s%s", security_name(s->security),
	         s->host, c->peer, s->port, stage, io_text(st), st == IO_ERROR ? ": " : "",
	         st == IO_ERROR ? c->why : "");
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Append a server's line to the note, control bytes shown as '?'. */
static void note_text(struct imap_conn *c, const char *line)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t len = strlen(c->note);

	for (; *p != '\0' && len + 1 < sizeof(c->note); p++)
		c->note[len++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
	c->note[len] = '\0';
}

/* Greeting: "* OK" goes on; "* NO"/"* BYE" unavailable; anything else unexpected. */
static enum outcome read_greeting(struct imap_conn *c, bool *literal_plus)
{
	char *line = NULL;
	char esc[RIMAP_LOG_VALUE_MAX];
	enum io_status st = conn_read_line(c, &line);

	if (st != IO_OK) {
		log_server_problem(c, "reading greeting", st);
		str_format(c->note, sizeof(c->note), "reading greeting: %s%s%s", io_text(st),
		           st == IO_ERROR ? ": " : "", st == IO_ERROR ? c->why : "");
		/* Cyrus: a read error or overflow is a synchronisation error; EOF and timeout
		 * leave nothing that starts with "* OK". */
		return st == IO_ERROR || st == IO_TOOLONG ? OUT_SYNC : OUT_UNEXPECTED;
	}
	bool ok = starts_with(line, "* OK");
	str_format(c->note, sizeof(c->note), "%sgreeting ",
	           ok || starts_with(line, "* NO") || starts_with(line, "* BYE") ? "" : "unexpected ");
	note_text(c, line);
	if (starts_with(line, "* NO") || starts_with(line, "* BYE"))
		return OUT_UNAVAILABLE;
	if (!ok) {
		log_mech(LOG_WARNING, "auth_rimap: unexpected greeting: %s",
		         log_escape(line, esc, sizeof(esc)));
		return OUT_UNEXPECTED;
	}
	*literal_plus = imap_greeting_has_capability(line, "LITERAL+");
	return OUT_OK;
}

/* Read up to the tagged reply (or a continuation when want_cont), skipping untagged lines.
 * *line points into the buffer. */
static enum io_status read_response(struct imap_conn *c, bool want_cont, char **line)
{
	for (;;) {
		enum io_status st = conn_read_line(c, line);
		if (st != IO_OK)
			return st;
		if (want_cont && (*line)[0] == '+')
			return IO_OK;
		if (starts_with(*line, "* ")) {
			/* Cyrus skips "* CAPABILITY" only and fails on other untagged lines; an IMAP
			 * client must accept unsolicited untagged data, so we skip them all. */
			if (log_verbose() && !starts_with(*line, "* CAPABILITY")) {
				char esc[RIMAP_LOG_VALUE_MAX];
				log_mech(LOG_DEBUG, "auth_rimap: skipping untagged line: %s",
				         log_escape(*line, esc, sizeof(esc)));
			}
			continue;
		}
		return IO_OK;
	}
}

static enum outcome starttls(struct imap_conn *c)
{
	static const char cmd[] = RIMAP_TAG " STARTTLS\r\n";
	char *line = NULL;
	enum io_status st = conn_write_all(c, cmd, sizeof(cmd) - 1);

	if (st == IO_OK)
		st = read_response(c, false, &line);
	if (st != IO_OK) {
		log_server_problem(c, "STARTTLS", st);
		str_format(c->note, sizeof(c->note), "STARTTLS: %s", io_text(st));
		return OUT_UNEXPECTED;
	}
	if (!starts_with(line, RIMAP_TAG " OK")) {
		char esc[RIMAP_LOG_VALUE_MAX];
		log_mech(LOG_WARNING, "auth_rimap: %s refused STARTTLS: %s", c->target->server.host,
		         log_escape(line, esc, sizeof(esc)));
		str_copy(c->note, sizeof(c->note), "STARTTLS refused: ");
		note_text(c, line);
		return OUT_UNEXPECTED;
	}
	/* Bytes after the OK were sent in clear before the handshake: a man in the middle
	 * could inject responses (CVE-2011-0411 class), so they are refused. */
	if (c->inlen != c->consumed) {
		log_mech(LOG_WARNING, "auth_rimap: %s sent data after STARTTLS OK; refusing",
		         c->target->server.host);
		str_copy(c->note, sizeof(c->note), "data after STARTTLS OK (refused)");
		return OUT_UNEXPECTED;
	}
	c->inlen = c->consumed = 0;
	if (!conn_start_tls(c)) {
		log_mech(LOG_WARNING, "auth_rimap: TLS with %s[%s]/%s failed: %s", c->target->server.host,
		         c->peer, c->target->server.port, c->why);
		str_format(c->note, sizeof(c->note), "TLS after STARTTLS: %s", c->why);
		return OUT_NO_CONTACT;
	}
	return OUT_OK;
}

static enum outcome classify_reply(const char *line, const char *login)
{
	char esc[RIMAP_LOG_VALUE_MAX], lesc[RIMAP_LOG_VALUE_MAX];

	if (log_verbose())
		log_mech(LOG_DEBUG, "auth_rimap: [%s] %s", log_escape(login, lesc, sizeof(lesc)),
		         log_escape(line, esc, sizeof(esc)));
	if (starts_with(line, RIMAP_TAG " OK"))
		return OUT_OK;
	if (starts_with(line, RIMAP_TAG " NO"))
		return OUT_REJECTED;
	log_mech(LOG_WARNING, "auth_rimap: unexpected response to auth request: %s",
	         log_escape(line, esc, sizeof(esc)));
	return OUT_UNEXPECTED;
}

static enum outcome reply_io_outcome(struct imap_conn *c, enum io_status st)
{
	log_server_problem(c, "reading LOGIN reply", st);
	/* Cyrus: read error/overflow → internal error; EOF/timeout → unexpected response. */
	return st == IO_ERROR || st == IO_TOOLONG ? OUT_INTERNAL : OUT_UNEXPECTED;
}

static void log_login_verbose(const char *login)
{
	char lesc[RIMAP_LOG_VALUE_MAX];
	if (log_verbose())
		log_mech(LOG_DEBUG, "auth_rimap: sending %s LOGIN [%s] <password not logged>", RIMAP_TAG,
		         log_escape(login, lesc, sizeof(lesc)));
}

/* Send LOGIN (pausing for continuations at literal cuts) and classify the tagged reply. */
static enum outcome login(struct imap_conn *c, const struct mech_request *req, bool literal_plus)
{
	struct imap_command cmd;
	enum outcome result = OUT_INTERNAL;
	size_t sent = 0;
	char *line = NULL;

	if (!imap_build_login(&cmd, req->login, req->password, literal_plus)) {
		log_mech(LOG_ERR, "auth_rimap: LOGIN command too long");
		goto out;
	}
	log_login_verbose(req->login);
	for (size_t i = 0; i <= cmd.ncuts; i++) {
		size_t end = i < cmd.ncuts ? cmd.cuts[i] : cmd.len;
		enum io_status st = conn_write_all(c, cmd.buf + sent, end - sent);
		if (st != IO_OK) {
			log_server_problem(c, "sending LOGIN", st);
			goto out;
		}
		sent = end;
		st = read_response(c, i < cmd.ncuts, &line);
		if (st != IO_OK) {
			result = reply_io_outcome(c, st);
			goto out;
		}
		if (i < cmd.ncuts && line[0] != '+') /* refused before the literal */
			break;
	}
	if (line != NULL)
		result = classify_reply(line, req->login);
out:
	secret_wipe(cmd.buf, sizeof(cmd.buf));
	return result;
}

static void logout(struct imap_conn *c)
{
	static const char cmd[] = RIMAP_TAG " LOGOUT\r\n";
	if (log_verbose())
		log_mech(LOG_DEBUG, "auth_rimap: sending %s LOGOUT", RIMAP_TAG);
	if (conn_write_all(c, cmd, sizeof(cmd) - 1) != IO_OK)
		log_mech(LOG_INFO, "auth_rimap: failed to send LOGOUT");
}

static struct imap_conn *conn_new(const struct rimap_target *t)
{
	struct imap_conn *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->target = t;
		c->fd = -1;
	}
	return c;
}

static void conn_free(struct imap_conn *c)
{
	conn_close(c);
	secret_wipe(c->in, sizeof(c->in));
	free(c);
}

/* Connect, TLS when configured, greeting, STARTTLS when configured: ready for LOGIN.
 * *literal_plus tells whether the (trusted) greeting advertised LITERAL+. */
static enum outcome session_open(struct imap_conn *c, bool *literal_plus)
{
	const struct rimap_target *t = c->target;
	enum outcome o;

	*literal_plus = false;
	if (!conn_open(c))
		return OUT_NO_CONTACT;
	c->deadline_ms = sa_clock_ms() + t->server.timeout_ms;
	if (t->server.security == RIMAP_IMAPS && !conn_start_tls(c)) {
		log_mech(LOG_WARNING, "auth_rimap: TLS with %s[%s]/%s failed: %s", t->server.host,
		         c->peer, t->server.port, c->why);
		str_format(c->note, sizeof(c->note), "TLS: %s", c->why);
		return OUT_NO_CONTACT;
	}
	o = read_greeting(c, literal_plus);
	if (o == OUT_OK && t->server.security == RIMAP_STARTTLS) {
		o = starttls(c);
		*literal_plus = false; /* capabilities seen before TLS must not be trusted */
	}
	return o;
}

static enum outcome try_target(const struct rimap_target *t, const struct mech_request *req)
{
	struct imap_conn *c = conn_new(t);
	bool literal_plus = false;

	if (c == NULL)
		return OUT_INTERNAL;
	enum outcome o = session_open(c, &literal_plus);
	if (o == OUT_OK) {
		o = login(c, req, literal_plus);
		logout(c);
	}
	conn_free(c);
	return o;
}

static void rimap_auth(const struct mech_request *req, struct mech_result *result)
{
	enum outcome o = OUT_INTERNAL;

	for (size_t i = 0; i < rimap_state.count; i++) {
		o = try_target(&rimap_state.targets[i], req);
		/* A definite answer to LOGIN ends the search; anything else fails over. */
		if (o == OUT_OK || o == OUT_REJECTED)
			break;
	}
	enum verdict v = o == OUT_OK ? VERDICT_OK : o == OUT_REJECTED ? VERDICT_NO : VERDICT_FAIL;
	mech_result_set(result, v, outcome_reply(o), NULL);
}

/* saslauthd --check: every server in turn, up to its greeting (and TLS where configured),
 * then LOGOUT. No LOGIN is ever sent. Usable when one of them greets with "* OK". */
static int rimap_check(const struct mech_settings *settings, char *report, size_t reportsz)
{
	int usable = 0;
	size_t len = 0;

	(void)settings;
	report[0] = '\0';
	for (size_t i = 0; i < rimap_state.count && len + 1 < reportsz; i++) {
		const struct rimap_target *t = &rimap_state.targets[i];
		const struct rimap_server *s = &t->server;
		struct imap_conn *c = conn_new(t);
		bool literal_plus;
		bool v6 = strchr(s->host, ':') != NULL;

		if (c == NULL) {
			str_format(report, reportsz, "out of memory");
			return -1;
		}
		enum outcome o = session_open(c, &literal_plus);
		if (o == OUT_OK) {
			usable++;
			logout(c);
		}
		snprintf(report + len, reportsz - len, "%s%s://%s%s%s:%s: %s%s", i > 0 ? "; " : "",
		         security_name(s->security), v6 ? "[" : "", s->host, v6 ? "]" : "", s->port,
		         c->note[0] != '\0' ? c->note : outcome_reply(o),
		         o != OUT_OK                     ? ""
		         : s->security == RIMAP_IMAPS    ? " (over TLS)"
		         : s->security == RIMAP_STARTTLS ? ", then STARTTLS ok"
		                                         : "");
		len = strlen(report);
		conn_free(c);
	}
	return usable > 0 ? 0 : -1;
}

const struct mechanism mech_rimap = {
	.name = "rimap",
	.init = rimap_init,
	.auth = rimap_auth,
	.reload = rimap_init,
	.cleanup = rimap_cleanup,
	.check = rimap_check,
};
