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
 *
 * Layers: -O parsing in rimap_uri.c, IMAP syntax in imap_syntax.c, sockets and TLS in
 * line_client.c; this file is the exchange and the struct mechanism.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "mechanisms/imap_syntax.h"
#include "mechanisms/line_client.h"
#include "mechanisms/mechanism.h"
#include "mechanisms/remote_reply.h"
#include "mechanisms/rimap_uri.h"

#define RIMAP_CONNECT_TIMEOUT_MS 5000
#define RIMAP_LOG_VALUE_MAX 512
#define RIMAP_NOTE_MAX 384

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

static SSL_CTX *make_ssl_ctx(const struct rimap_server *s, char *err, size_t errsz)
{
	char why[256];
	SSL_CTX *ctx = lc_tls_context(s->verify, s->cafile, why, sizeof(why));

	if (ctx == NULL)
		str_format(err, errsz, "TLS setup for %s%s%s: %s", s->host,
		           s->cafile[0] != '\0' ? " with cafile " : "", s->cafile, why);
	return ctx;
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
		int rc = lc_resolve(servers[i].host, servers[i].port, &t[i].addrs);
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

/* ------------------------------------------------------------------ session */

struct imap_session {
	const struct rimap_target *target;
	struct line_client lc;
	char note[RIMAP_NOTE_MAX]; /* the greeting, or where the session failed (saslauthd --check) */
};

static void log_connect_failed(void *arg, const struct line_client *lc)
{
	struct imap_session *c = arg;
	const struct rimap_server *s = &c->target->server;

	log_mech(LOG_WARNING, "auth_rimap: connect %s[%s]/%s: %s", s->host, lc->peer, s->port,
	         lc->why);
	str_format(c->note, sizeof(c->note), "connect %s: %s", lc->peer, lc->why);
}

/* Connect to the first address that answers, resolving again when start-up could not. */
static bool session_connect(struct imap_session *c)
{
	const struct rimap_server *s = &c->target->server;
	struct addrinfo *fresh = NULL;
	const struct addrinfo *list = c->target->addrs;

	if (list == NULL) {
		int rc = lc_resolve(s->host, s->port, &fresh);
		if (rc != 0) {
			log_mech(LOG_WARNING, "auth_rimap: getaddrinfo %s/%s: %s", s->host, s->port,
			         gai_strerror(rc));
			str_format(c->note, sizeof(c->note), "getaddrinfo: %s", gai_strerror(rc));
			return false;
		}
		list = fresh;
	}
	bool ok = lc_connect(&c->lc, list, RIMAP_CONNECT_TIMEOUT_MS, log_connect_failed, c);
	if (fresh != NULL)
		freeaddrinfo(fresh);
	return ok;
}

static bool session_start_tls(struct imap_session *c)
{
	const struct rimap_server *s = &c->target->server;
	const char *name = s->servername[0] != '\0' ? s->servername : s->host;

	return lc_start_tls(&c->lc, c->target->ssl_ctx, name, s->verify);
}

static struct imap_session *session_new(const struct rimap_target *t)
{
	struct imap_session *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->target = t;
		lc_init(&c->lc);
	}
	return c;
}

static void session_free(struct imap_session *c)
{
	lc_close(&c->lc);
	free(c);
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

static void log_server_problem(const struct imap_session *c, const char *stage, enum lc_status st)
{
	const struct rimap_server *s = &c->target->server;
	log_mech(LOG_WARNING, "auth_rimap: %s://%s[%s]/%s: %s: %s%s%s", rimap_security_name(s->security),
	         s->host, c->lc.peer, s->port, stage, lc_status_text(st), st == LC_ERROR ? ": " : "",
	         st == LC_ERROR ? c->lc.why : "");
}

/* Append a server's line to the note, control bytes shown as '?'. */
static void note_text(struct imap_session *c, const char *line)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t len = strlen(c->note);

	for (; *p != '\0' && len + 1 < sizeof(c->note); p++)
		c->note[len++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
	c->note[len] = '\0';
}

/* Greeting: "* OK" goes on; "* NO"/"* BYE" unavailable; anything else unexpected. */
static enum outcome read_greeting(struct imap_session *c, bool *literal_plus)
{
	char *line = NULL;
	char esc[RIMAP_LOG_VALUE_MAX];
	enum lc_status st = lc_read_line(&c->lc, &line);

	if (st != LC_OK) {
		log_server_problem(c, "reading greeting", st);
		str_format(c->note, sizeof(c->note), "reading greeting: %s%s%s", lc_status_text(st),
		           st == LC_ERROR ? ": " : "", st == LC_ERROR ? c->lc.why : "");
		/* Cyrus: a read error or overflow is a synchronisation error; EOF and timeout
		 * leave nothing that starts with "* OK". */
		return st == LC_ERROR || st == LC_TOOLONG ? OUT_SYNC : OUT_UNEXPECTED;
	}
	enum imap_line kind = imap_classify_greeting(line);
	str_format(c->note, sizeof(c->note), "%sgreeting ", kind == IMAP_LINE_OTHER ? "unexpected " : "");
	note_text(c, line);
	if (kind == IMAP_LINE_NO || kind == IMAP_LINE_BYE)
		return OUT_UNAVAILABLE;
	if (kind != IMAP_LINE_OK) {
		log_mech(LOG_WARNING, "auth_rimap: unexpected greeting: %s",
		         log_escape(line, esc, sizeof(esc)));
		return OUT_UNEXPECTED;
	}
	*literal_plus = imap_greeting_has_capability(line, "LITERAL+");
	return OUT_OK;
}

/* Read up to the tagged reply (or a continuation when want_cont), skipping untagged lines.
 * *line points into the buffer. */
static enum lc_status read_response(struct imap_session *c, bool want_cont, char **line)
{
	for (;;) {
		enum lc_status st = lc_read_line(&c->lc, line);
		if (st != LC_OK)
			return st;
		enum imap_line kind = imap_classify_reply(*line);
		if (want_cont && kind == IMAP_LINE_CONTINUATION)
			return LC_OK;
		if (kind == IMAP_LINE_UNTAGGED) {
			/* Cyrus skips "* CAPABILITY" only and fails on other untagged lines; an IMAP
			 * client must accept unsolicited untagged data, so we skip them all. */
			if (log_verbose() && strncmp(*line, "* CAPABILITY", strlen("* CAPABILITY")) != 0) {
				char esc[RIMAP_LOG_VALUE_MAX];
				log_mech(LOG_DEBUG, "auth_rimap: skipping untagged line: %s",
				         log_escape(*line, esc, sizeof(esc)));
			}
			continue;
		}
		return LC_OK;
	}
}

static enum outcome starttls(struct imap_session *c)
{
	static const char cmd[] = IMAP_TAG " STARTTLS\r\n";
	char *line = NULL;
	enum lc_status st = lc_write_all(&c->lc, cmd, sizeof(cmd) - 1);

	if (st == LC_OK)
		st = read_response(c, false, &line);
	if (st != LC_OK) {
		log_server_problem(c, "STARTTLS", st);
		str_format(c->note, sizeof(c->note), "STARTTLS: %s", lc_status_text(st));
		return OUT_UNEXPECTED;
	}
	if (imap_classify_reply(line) != IMAP_LINE_OK) {
		char esc[RIMAP_LOG_VALUE_MAX];
		log_mech(LOG_WARNING, "auth_rimap: %s refused STARTTLS: %s", c->target->server.host,
		         log_escape(line, esc, sizeof(esc)));
		str_copy(c->note, sizeof(c->note), "STARTTLS refused: ");
		note_text(c, line);
		return OUT_UNEXPECTED;
	}
	/* Bytes after the OK were sent in clear before the handshake: a man in the middle
	 * could inject responses (CVE-2011-0411 class), so they are refused. */
	if (lc_has_unread(&c->lc)) {
		log_mech(LOG_WARNING, "auth_rimap: %s sent data after STARTTLS OK; refusing",
		         c->target->server.host);
		str_copy(c->note, sizeof(c->note), "data after STARTTLS OK (refused)");
		return OUT_UNEXPECTED;
	}
	if (!session_start_tls(c)) {
		log_mech(LOG_WARNING, "auth_rimap: TLS with %s[%s]/%s failed: %s", c->target->server.host,
		         c->lc.peer, c->target->server.port, c->lc.why);
		str_format(c->note, sizeof(c->note), "TLS after STARTTLS: %s", c->lc.why);
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
	enum imap_line kind = imap_classify_reply(line);
	if (kind == IMAP_LINE_OK)
		return OUT_OK;
	if (kind == IMAP_LINE_NO)
		return OUT_REJECTED;
	log_mech(LOG_WARNING, "auth_rimap: unexpected response to auth request: %s",
	         log_escape(line, esc, sizeof(esc)));
	return OUT_UNEXPECTED;
}

static enum outcome reply_io_outcome(struct imap_session *c, enum lc_status st)
{
	log_server_problem(c, "reading LOGIN reply", st);
	/* Cyrus: read error/overflow → internal error; EOF/timeout → unexpected response. */
	return st == LC_ERROR || st == LC_TOOLONG ? OUT_INTERNAL : OUT_UNEXPECTED;
}

static void log_login_verbose(const char *login)
{
	char lesc[RIMAP_LOG_VALUE_MAX];
	if (log_verbose())
		log_mech(LOG_DEBUG, "auth_rimap: sending %s LOGIN [%s] <password not logged>", IMAP_TAG,
		         log_escape(login, lesc, sizeof(lesc)));
}

/* Send LOGIN (pausing for continuations at literal cuts) and classify the tagged reply. */
static enum outcome login(struct imap_session *c, const struct mech_request *req, bool literal_plus)
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
		enum lc_status st = lc_write_all(&c->lc, cmd.buf + sent, end - sent);
		if (st != LC_OK) {
			log_server_problem(c, "sending LOGIN", st);
			goto out;
		}
		sent = end;
		st = read_response(c, i < cmd.ncuts, &line);
		if (st != LC_OK) {
			result = reply_io_outcome(c, st);
			goto out;
		}
		if (i < cmd.ncuts && imap_classify_reply(line) != IMAP_LINE_CONTINUATION) /* refused */
			break;
	}
	if (line != NULL)
		result = classify_reply(line, req->login);
out:
	secret_wipe(cmd.buf, sizeof(cmd.buf));
	return result;
}

static void logout(struct imap_session *c)
{
	static const char cmd[] = IMAP_TAG " LOGOUT\r\n";
	if (log_verbose())
		log_mech(LOG_DEBUG, "auth_rimap: sending %s LOGOUT", IMAP_TAG);
	if (lc_write_all(&c->lc, cmd, sizeof(cmd) - 1) != LC_OK)
		log_mech(LOG_INFO, "auth_rimap: failed to send LOGOUT");
}

/* Connect, TLS when configured, greeting, STARTTLS when configured: ready for LOGIN.
 * *literal_plus tells whether the (trusted) greeting advertised LITERAL+. */
static enum outcome session_open(struct imap_session *c, bool *literal_plus)
{
	const struct rimap_target *t = c->target;
	enum outcome o;

	*literal_plus = false;
	if (!session_connect(c))
		return OUT_NO_CONTACT;
	c->lc.deadline_ms = sa_clock_ms() + t->server.timeout_ms;
	if (t->server.security == RIMAP_IMAPS && !session_start_tls(c)) {
		log_mech(LOG_WARNING, "auth_rimap: TLS with %s[%s]/%s failed: %s", t->server.host,
		         c->lc.peer, t->server.port, c->lc.why);
		str_format(c->note, sizeof(c->note), "TLS: %s", c->lc.why);
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
	struct imap_session *c = session_new(t);
	bool literal_plus = false;

	if (c == NULL)
		return OUT_INTERNAL;
	enum outcome o = session_open(c, &literal_plus);
	if (o == OUT_OK) {
		o = login(c, req, literal_plus);
		logout(c);
	}
	session_free(c);
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
		struct imap_session *c = session_new(t);
		bool literal_plus;
		char name[RIMAP_SPEC_MAX];

		if (c == NULL) {
			str_format(report, reportsz, "out of memory");
			return -1;
		}
		enum outcome o = session_open(c, &literal_plus);
		if (o == OUT_OK) {
			usable++;
			logout(c);
		}
		if (!rimap_format_authority(s, name, sizeof(name)))
			str_copy(name, sizeof(name), s->host);
		snprintf(report + len, reportsz - len, "%s%s: %s%s", i > 0 ? "; " : "", name,
		         c->note[0] != '\0' ? c->note : outcome_reply(o),
		         o != OUT_OK                     ? ""
		         : s->security == RIMAP_IMAPS    ? " (over TLS)"
		         : s->security == RIMAP_STARTTLS ? ", then STARTTLS ok"
		                                         : "");
		len = strlen(report);
		session_free(c);
	}
	return usable > 0 ? 0 : -1;
}

const struct mechanism mech_rimap = {
	.name = "rimap",
	.option_means = "IMAP server list",
	.init = rimap_init,
	.auth = rimap_auth,
	.reload = rimap_init,
	.cleanup = rimap_cleanup,
	.check = rimap_check,
};
