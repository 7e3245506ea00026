/* httpform: check a password by POSTing a form to a web server (libcurl).
 *
 * Configuration (the simple reader, file from -O or the default saslauthd.conf):
 *   httpform_host (localhost), httpform_port (80, name or number), httpform_uri,
 *   httpform_data                    Cyrus's keys; the URL is http://host:port/uri.
 *   httpform_url: https://host[:port]/path
 *                                    ours: the whole URL, http or https; replaces
 *                                    host/port/uri (which are then ignored).
 *   httpform_cafile: /path           ours: CA bundle instead of the system store (https).
 *   httpform_verify: no              ours: no certificate/name checks (https); default yes.
 *   httpform_timeout: seconds        ours: bound of the whole request (default 30, Cyrus's
 *                                    alarm); connecting is bounded by 5 s.
 * Body: httpform_data with %u %p %r URL-encoded (httpform_expand). Verdict, as Cyrus: status
 * 200 or 204 → OK, 403 → "NO <reason phrase>", anything else → the [ALERT] texts.
 *
 * Differences from Cyrus: HTTPS; bounded connect; the host is resolved per request (a
 * daemon started while DNS was down works later); requests of any length are sent whole
 * (Cyrus truncates at 999 bytes); the whole status line is read before it is parsed; a
 * reply that is not HTTP is "unexpected" instead of a crash; proxies from the environment
 * are ignored (Cyrus connects directly); -V never logs the body (it holds the password).
 */
#include "mechanisms/httpform.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "build_config.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "mechanisms/mechanism.h"
#include "mechanisms/remote_reply.h"

#define HTTPFORM_DEFAULT_HOST "localhost"
#define HTTPFORM_DEFAULT_PORT "80"
#define HTTPFORM_CONNECT_TIMEOUT_MS 5000L
#define HTTPFORM_TIMEOUT_DEFAULT_S 30
#define HTTPFORM_TIMEOUT_MAX_S 300
#define HTTPFORM_BODY_DISCARD_MAX (64 * 1024) /* reply bytes we accept and throw away */
#define HTTPFORM_STATUS_LINE_MAX 512
#define HTTPFORM_LOG_VALUE_MAX 512
#define HTTP_OK 200
#define HTTP_NO_CONTENT 204
#define HTTP_FORBIDDEN 403

/* ------------------------------------------------------------------ pure helpers */

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Append n bytes at *len, writing only what fits (snprintf-style accounting). */
static void put(char *out, size_t outsz, size_t *len, const char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++, (*len)++) {
		if (*len + 1 < outsz)
			out[*len] = bytes[i];
	}
}

static void terminate(char *out, size_t outsz, size_t len)
{
	if (outsz > 0)
		out[len < outsz ? len : outsz - 1] = '\0';
}

static void put_encoded(char *out, size_t outsz, size_t *len, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (is_unreserved(*p)) {
			put(out, outsz, len, (const char *)p, 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 0x0f] };
			put(out, outsz, len, esc, sizeof(esc));
		}
	}
}

size_t httpform_urlencode(const char *in, char *out, size_t outsz)
{
	size_t len = 0;
	put_encoded(out, outsz, &len, in);
	terminate(out, outsz, len);
	return len;
}

size_t httpform_expand(const char *tmpl, const char *login, const char *password,
                       const char *realm, char *out, size_t outsz)
{
	size_t len = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			put(out, outsz, &len, p, 1);
			continue;
		}
		p++;
		switch (*p) {
		case 'u':
			put_encoded(out, outsz, &len, login);
			break;
		case 'p':
			put_encoded(out, outsz, &len, password);
			break;
		case 'r':
			put_encoded(out, outsz, &len, realm);
			break;
		case '%':
			put(out, outsz, &len, "%", 1);
			break;
		default: /* Cyrus copies unknown escapes unchanged */
			put(out, outsz, &len, p - 1, 2);
			break;
		}
	}
	terminate(out, outsz, len);
	return len;
}

/* A service name from /etc/services, or a number, as the decimal port curl needs. */
static bool port_number(const char *port, char *out, size_t outsz)
{
	long n;
	if (str_to_long(port, 1, 65535, &n))
		return str_format(out, outsz, "%ld", n);
	struct servent result, *found = NULL;
	char buf[1024];
	if (getservbyname_r(port, "tcp", &result, buf, sizeof(buf), &found) != 0 || found == NULL)
		return false;
	return str_format(out, outsz, "%d", ntohs((unsigned short)found->s_port));
}

bool httpform_build_url(const char *host, const char *port, const char *uri, char *out,
                        size_t outsz, char *err, size_t errsz)
{
	char num[16];
	bool v6 = strchr(host, ':') != NULL && host[0] != '[';

	if (*host == '\0' || strpbrk(host, "/?#@ ") != NULL) {
		str_format(err, errsz, "bad httpform_host \"%s\"", host);
		return false;
	}
	if (!port_number(port, num, sizeof(num))) {
		str_format(err, errsz, "unknown httpform_port \"%s\"", port);
		return false;
	}
	if (!str_format(out, outsz, "http://%s%s%s:%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "",
	                num, uri[0] == '/' ? "" : "/", uri)) {
		str_format(err, errsz, "URL too long");
		return false;
	}
	return true;
}

void httpform_reason_phrase(const char *status_line, char *out, size_t outsz)
{
	const char *p = strchr(status_line, ' '); /* after the version */
	size_t len = 0;

	if (p != NULL)
		p = strchr(p + 1, ' '); /* after the code */
	if (p != NULL) {
		for (p++; *p != '\0'; p++) {
			if ((unsigned char)*p >= 0x20 && *p != 0x7f)
				put(out, outsz, &len, p, 1);
		}
	}
	terminate(out, outsz, len);
	/* Trailing blanks carry nothing, also where a long phrase was cut. */
	size_t kept = outsz == 0 ? 0 : len < outsz ? len : outsz - 1;
	while (kept > 0 && out[kept - 1] == ' ')
		out[--kept] = '\0';
}

enum verdict httpform_classify(long code, const char *status_line, char *reply, size_t replysz)
{
	char phrase[MECH_REPLY_MAX - 4];

	if (code == HTTP_OK || code == HTTP_NO_CONTENT) {
		str_copy(reply, replysz, REMOTE_REPLY_OK);
		return VERDICT_OK;
	}
	if (code == HTTP_FORBIDDEN) {
		httpform_reason_phrase(status_line, phrase, sizeof(phrase));
		if (phrase[0] == '\0' || !str_format(reply, replysz, "NO %s", phrase))
			str_copy(reply, replysz, "NO");
		return VERDICT_NO;
	}
	str_copy(reply, replysz, REMOTE_REPLY_UNEXPECTED);
	return VERDICT_FAIL;
}

bool httpform_take_status_line(const char *header, size_t len, char *out, size_t outsz)
{
	if (len < 5 || strncmp(header, "HTTP/", 5) != 0 || outsz == 0)
		return false;
	size_t keep = len < outsz - 1 ? len : outsz - 1;
	memcpy(out, header, keep);
	out[keep] = '\0';
	return true;
}

/* ------------------------------------------------------------------ configuration */

struct httpform_conf {
	char url[HTTPFORM_URL_MAX];
	char *data; /* the template (malloc'ed) */
	char cafile[SA_PATH_MAX];
	bool verify;
	long timeout_ms;
};

static struct httpform_conf httpform_state;

static void conf_free(struct httpform_conf *c)
{
	free(c->data);
	c->data = NULL;
}

static bool conf_url(const struct config *cfg, struct httpform_conf *c, char *err, size_t errsz)
{
	const char *url = config_get(cfg, "httpform_url");
	const char *uri = config_get(cfg, "httpform_uri");

	if (url != NULL) {
		if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
			str_format(err, errsz, "auth_httpform_init httpform_url must start with http:// or https://");
			return false;
		}
		if (!str_copy(c->url, sizeof(c->url), url)) {
			str_format(err, errsz, "auth_httpform_init httpform_url too long");
			return false;
		}
		return true;
	}
	const char *host = config_get(cfg, "httpform_host");
	const char *port = config_get(cfg, "httpform_port");
	char why[256];
	if (!httpform_build_url(host != NULL ? host : HTTPFORM_DEFAULT_HOST,
	                        port != NULL ? port : HTTPFORM_DEFAULT_PORT, uri, c->url,
	                        sizeof(c->url), why, sizeof(why))) {
		str_format(err, errsz, "auth_httpform_init %s", why);
		return false;
	}
	return true;
}

static bool conf_load(const char *path, struct httpform_conf *c, char *err, size_t errsz)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	char why[512];
	bool ok = false;
	long seconds = HTTPFORM_TIMEOUT_DEFAULT_S;

	memset(c, 0, sizeof(*c));
	if (cfg == NULL) {
		str_format(err, errsz, "auth_httpform_init out of memory");
		return false;
	}
	if (!config_load(cfg, path, why, sizeof(why))) {
		str_format(err, errsz, "auth_httpform_init %s", why);
		goto out;
	}
	const char *data = config_get(cfg, "httpform_data");
	if (data == NULL || (config_get(cfg, "httpform_uri") == NULL &&
	                     config_get(cfg, "httpform_url") == NULL)) {
		str_format(err, errsz, "auth_httpform_init formdata and uri must be specified");
		goto out;
	}
	const char *timeout = config_get(cfg, "httpform_timeout");
	if (timeout != NULL && !str_to_long(timeout, 1, HTTPFORM_TIMEOUT_MAX_S, &seconds)) {
		str_format(err, errsz, "auth_httpform_init httpform_timeout must be 1..%d seconds",
		           HTTPFORM_TIMEOUT_MAX_S);
		goto out;
	}
	const char *cafile = config_get(cfg, "httpform_cafile");
	if (cafile != NULL && !str_copy(c->cafile, sizeof(c->cafile), cafile)) {
		str_format(err, errsz, "auth_httpform_init httpform_cafile too long");
		goto out;
	}
	c->timeout_ms = seconds * SA_MS_PER_S;
	c->verify = config_get_bool(cfg, "httpform_verify", true);
	c->data = strdup(data);
	if (c->data == NULL) {
		str_format(err, errsz, "auth_httpform_init out of memory");
		goto out;
	}
	ok = conf_url(cfg, c, err, errsz);
out:
	config_free(cfg);
	free(cfg);
	if (!ok)
		conf_free(c);
	return ok;
}

static int httpform_init(const struct mech_settings *settings, char *err, size_t errsz)
{
	static bool curl_ready;
	struct httpform_conf fresh;
	const char *path = mech_config_file(settings, false);

	if (!curl_ready) {
		/* Once, before any fork: libcurl's global state (OpenSSL) is not fork-safe to set up
		 * lazily in many workers at once. */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			str_format(err, errsz, "auth_httpform_init curl_global_init failed");
			return -1;
		}
		curl_ready = true;
	}
	if (!conf_load(path, &fresh, err, errsz))
		return -1;
	if (!fresh.verify && strncasecmp(fresh.url, "https://", 8) == 0)
		log_mech(LOG_WARNING, "auth_httpform_init: certificate verification is OFF for %s",
		         fresh.url);
	conf_free(&httpform_state);
	httpform_state = fresh;
	return 0;
}

static void httpform_cleanup(void)
{
	conf_free(&httpform_state);
}

/* ------------------------------------------------------------------ request */

struct http_reply {
	char status_line[HTTPFORM_STATUS_LINE_MAX];
	bool have_status;
	size_t body_bytes;
};

/* The first header line is the status line (a 1xx interim answer is replaced by the next). */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	struct http_reply *r = userp;
	size_t len = size * n;

	if (httpform_take_status_line(data, len, r->status_line, sizeof(r->status_line)))
		r->have_status = true;
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct http_reply *r = userp;
	(void)data;
	r->body_bytes += size * n;
	/* Returning less than given aborts the transfer: the body is never needed. */
	return r->body_bytes > HTTPFORM_BODY_DISCARD_MAX ? 0 : size * n;
}

static bool contact_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		return true;
	default:
		return false;
	}
}

static struct curl_slist *request_headers(void)
{
	static const char *const headers[] = {
		"User-Agent: saslauthd",
		"Accept: */*",
		"Content-Type: application/x-www-form-urlencoded",
		"Connection: close",
		"Expect:", /* no "100-continue" round trip for longer bodies */
	};
	struct curl_slist *list = NULL;
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct curl_slist *next = curl_slist_append(list, headers[i]);
		if (next == NULL) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = next;
	}
	return list;
}

static bool set_options(CURL *h, const struct httpform_conf *c, struct curl_slist *hdrs,
                        const char *body, size_t bodylen, struct http_reply *r, char *errbuf)
{
	bool ok = true;
#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_PROXY, ""); /* Cyrus connects directly; never an environment proxy */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, HTTPFORM_CONNECT_TIMEOUT_MS);
	SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, body);
		SET(CURLOPT_POSTFIELDSIZE, (long)bodylen);
	} else {
		SET(CURLOPT_NOBODY, 1L); /* HEAD */
	}
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, r);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
	if (c->cafile[0] != '\0')
		SET(CURLOPT_CAINFO, c->cafile);
#undef SET
	return ok;
}

/* Status code → reply, as Cyrus; what was unexpected is logged. */
static void classify(const struct http_reply *r, long code, struct mech_result *result)
{
	char reply[MECH_REPLY_MAX];
	char esc[HTTPFORM_STATUS_LINE_MAX * 4];
	enum verdict v = httpform_classify(code, r->status_line, reply, sizeof(reply));

	if (v == VERDICT_FAIL)
		log_mech(LOG_WARNING, "auth_httpform: unexpected response: %s",
		         log_escape(r->status_line, esc, sizeof(esc)));
	mech_result_set(result, v, reply, NULL);
}

/* One request to the configured URL: a POST of body, or a HEAD when body is NULL.
 * Returns curl's code, CURLE_OK also when we stopped reading a body after the status;
 * *code is the status (0 when none). *setup_failed when curl could not be set up. */
static CURLcode transfer(const struct httpform_conf *c, const char *body, size_t bodylen,
                         struct http_reply *r, long *code, char errbuf[CURL_ERROR_SIZE],
                         bool *setup_failed)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = request_headers();
	CURLcode rc = CURLE_FAILED_INIT;

	memset(r, 0, sizeof(*r));
	errbuf[0] = '\0';
	*code = 0;
	*setup_failed = h == NULL || hdrs == NULL || !set_options(h, c, hdrs, body, bodylen, r, errbuf);
	if (*setup_failed)
		goto out;
	rc = curl_easy_perform(h);
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code) != CURLE_OK)
		*code = 0;
	/* A body we stopped reading is not a failure once the status is known. */
	if (rc == CURLE_WRITE_ERROR && r->have_status && *code > 0)
		rc = CURLE_OK;
out:
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	return rc;
}

static void perform(const struct httpform_conf *c, const char *body, size_t bodylen,
                    struct mech_result *result)
{
	struct http_reply r;
	char errbuf[CURL_ERROR_SIZE];
	long code;
	bool setup_failed;
	CURLcode rc = transfer(c, body, bodylen, &r, &code, errbuf, &setup_failed);

	if (setup_failed) {
		log_mech(LOG_ERR, "auth_httpform: cannot set up the request");
		mech_result_set(result, VERDICT_FAIL, REMOTE_REPLY_INTERNAL, NULL);
		return;
	}
	if (rc == CURLE_OK) {
		classify(&r, code, result);
		return;
	}
	log_mech(LOG_WARNING, "auth_httpform: %s: %s", c->url,
	         errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	mech_result_set(result, VERDICT_FAIL, contact_error(rc) ? REMOTE_REPLY_NO_CONTACT : REMOTE_REPLY_UNEXPECTED,
	                NULL);
}

static void httpform_auth(const struct mech_request *req, struct mech_result *result)
{
	const struct httpform_conf *c = &httpform_state;
	char lesc[HTTPFORM_LOG_VALUE_MAX];

	if (c->data == NULL) {
		mech_result_set(result, VERDICT_FAIL, REMOTE_REPLY_INTERNAL, "httpform not configured");
		return;
	}
	size_t len = httpform_expand(c->data, req->login, req->password, req->realm, NULL, 0);
	char *body = malloc(len + 1);
	if (body == NULL) {
		mech_result_set(result, VERDICT_FAIL, REMOTE_REPLY_INTERNAL, NULL);
		return;
	}
	httpform_expand(c->data, req->login, req->password, req->realm, body, len + 1);
	if (log_verbose())
		log_mech(LOG_DEBUG, "auth_httpform: POST %s for [%s] (%zu-byte form, not logged)", c->url,
		         log_escape(req->login, lesc, sizeof(lesc)), len);
	perform(c, body, len, result);
	secret_wipe(body, len + 1);
	free(body);
}

/* saslauthd --check: a HEAD of the configured URL, no credentials; any HTTP status
 * means the server is reachable (a form endpoint may well refuse HEAD). */
static int httpform_check(const struct mech_settings *settings, char *report, size_t reportsz)
{
	const struct httpform_conf *c = &httpform_state;
	struct http_reply r;
	char errbuf[CURL_ERROR_SIZE];
	char phrase[HTTPFORM_STATUS_LINE_MAX];
	long code;
	bool setup_failed;

	(void)settings;
	CURLcode rc = transfer(c, NULL, 0, &r, &code, errbuf, &setup_failed);
	if (setup_failed) {
		str_format(report, reportsz, "%s: cannot set up the request", c->url);
		return -1;
	}
	if (rc != CURLE_OK || code <= 0) {
		str_format(report, reportsz, "%s: %s", c->url,
		           errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	httpform_reason_phrase(r.status_line, phrase, sizeof(phrase));
	str_format(report, reportsz, "%s: reachable, HEAD answered %ld%s%s", c->url, code,
	           phrase[0] != '\0' ? " " : "", phrase);
	return 0;
}

const struct mechanism mech_httpform = {
	.name = "httpform",
	.option_means = MECH_OPTION_CONF_FILE,
	.init = httpform_init,
	.auth = httpform_auth,
	.reload = httpform_init,
	.cleanup = httpform_cleanup,
	.check = httpform_check,
};
