/* rimap's -O parser (rimap_uri.h).
 *
 * libcurl's URL API (CURLU) is not used: it would make libcurl a dependency of rimap
 * (today only httpform, a separate build switch, links it) to parse three fixed schemes,
 * while Cyrus's "host/port" form, the query keys and the error messages would still be
 * ours, and CURLU's normalising (percent-decoding, IDN, ports as numbers only) would change
 * which -O values are accepted. */
#include "mechanisms/rimap_uri.h"

#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/strutil.h"

#define RIMAP_DEFAULT_SERVICE "imap"
#define RIMAP_DEFAULT_IMAP_PORT "143"
#define RIMAP_DEFAULT_IMAPS_PORT "993"

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
	/* No service name holds '/' or ':'; a URL's port with them is a path or a second
	 * port, and would not write back to the same value. */
	if (*port == '\0' || strpbrk(port, "/:") != NULL ||
	    !str_copy(out->port, sizeof(out->port), port))
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
	char copy[RIMAP_SPEC_MAX];

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
		char spec[RIMAP_SPEC_MAX];
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

/* ------------------------------------------------------------------ formatting */

const char *rimap_security_name(enum rimap_security security)
{
	switch (security) {
	case RIMAP_IMAPS:
		return "imaps";
	case RIMAP_STARTTLS:
		return "imap+starttls";
	case RIMAP_PLAIN:
		break;
	}
	return "imap";
}


/* IPv6 literals need brackets, and so does anything the parser would otherwise split. */
static bool needs_brackets(const struct rimap_server *s)
{
	return strchr(s->host, ':') != NULL || s->host[0] == '[';
}

bool rimap_format_authority(const struct rimap_server *s, char *out, size_t outsz)
{
	bool br = needs_brackets(s);
	return str_format(out, outsz, "%s://%s%s%s:%s", rimap_security_name(s->security),
	                  br ? "[" : "", s->host, br ? "]" : "", s->port);
}

static bool has_defaults(const struct rimap_server *s)
{
	return s->cafile[0] == '\0' && s->servername[0] == '\0' && s->verify &&
	       s->timeout_ms == RIMAP_EXCHANGE_TIMEOUT_MS;
}

/* One "k=v" of the query, after *sep ('?' first, then '&'). */
static bool append_item(char *out, size_t outsz, char *sep, const char *key, const char *value)
{
	size_t len = strlen(out);

	if (!str_format(out + len, outsz - len, "%c%s=%s", *sep, key, value))
		return false;
	*sep = '&';
	return true;
}

/* The options that differ from the defaults, appended to out. */
static bool format_query(const struct rimap_server *s, char *out, size_t outsz)
{
	char sep = '?';
	char seconds[24];

	str_format(seconds, sizeof(seconds), "%ld", (long)s->timeout_ms / SA_MS_PER_S);
	return (s->cafile[0] == '\0' || append_item(out, outsz, &sep, "cafile", s->cafile)) &&
	       (s->servername[0] == '\0' ||
	        append_item(out, outsz, &sep, "servername", s->servername)) &&
	       (s->verify || append_item(out, outsz, &sep, "verify", "no")) &&
	       (s->timeout_ms == RIMAP_EXCHANGE_TIMEOUT_MS ||
	        append_item(out, outsz, &sep, "timeout", seconds));
}

bool rimap_format_server(const struct rimap_server *s, char *out, size_t outsz)
{
	/* Cyrus's form unless it would read as a URL. */
	if (s->security == RIMAP_PLAIN && has_defaults(s) &&
	    str_format(out, outsz, "%s/%s", s->host, s->port) && strstr(out, "://") == NULL)
		return true;
	return rimap_format_authority(s, out, outsz) && format_query(s, out, outsz);
}
