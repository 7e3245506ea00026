/* Token expansion and escaping for ldap templates (saslauthd.conf(5), LDAP Tokens and Escaping). */
#include "mechanisms/ldap_expand.h"

#include <stdio.h>
#include <string.h>

#define HEX_ESCAPE_LEN 3 /* "\XX" */
#define MAX_LABEL_TOKEN 9

static bool append_bytes(const char *s, size_t n, char *out, size_t outsz, size_t *len)
{
	if (n >= outsz - *len)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return true;
}

static bool append_hex(unsigned char c, char *out, size_t outsz, size_t *len)
{
	char buf[HEX_ESCAPE_LEN + 1];
	snprintf(buf, sizeof(buf), "\\%02x", c);
	return append_bytes(buf, HEX_ESCAPE_LEN, out, outsz, len);
}

static bool filter_special(unsigned char c)
{
	return c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0';
}

/* RFC 4514 §2.4 specials, plus the filter specials so a DN sees the same bytes Cyrus sent
 * for them ("\2a" is a valid DN escape of '*'). */
static bool dn_special(unsigned char c)
{
	return filter_special(c) || strchr(",+\"<>;=", c) != NULL;
}

static bool escape_span(const char *v, size_t n, enum sa_ldap_context ctx, char *out,
                        size_t outsz, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		bool esc;
		if (ctx == SA_LDAP_CTX_FILTER)
			esc = filter_special(c);
		else
			esc = dn_special(c) || (i == 0 && (c == ' ' || c == '#')) ||
			      (i == n - 1 && c == ' ');
		bool ok = esc ? append_hex(c, out, outsz, len) : append_bytes(v + i, 1, out, outsz, len);
		if (!ok)
			return false;
	}
	return true;
}

bool sa_ldap_escape_append(const char *value, enum sa_ldap_context ctx, char *out, size_t outsz,
                        size_t *len)
{
	return escape_span(value, strlen(value), ctx, out, outsz, len);
}

/* The domain part %1..%9 count in: the user's, after the first '@', else the realm. */
static const char *label_source(const struct sa_ldap_tokens *t)
{
	const char *at = strchr(t->user, '@');
	if (at != NULL && at[1] != '\0')
		return at + 1;
	return t->realm;
}

/* Find the n-th dot-separated label from the right (n >= 1). False if there are fewer. */
static bool nth_label(const char *dom, int n, const char **start, size_t *span)
{
	const char *end = dom + strlen(dom);

	for (int level = 1;; level++) {
		const char *p = end;
		while (p > dom && p[-1] != '.')
			p--;
		if (level == n) {
			*start = p;
			*span = (size_t)(end - p);
			return *span > 0;
		}
		if (p == dom)
			return false;
		end = p - 1;
	}
}

static bool expand_token(char tok, const struct sa_ldap_tokens *t, enum sa_ldap_context ctx,
                         char *out, size_t outsz, size_t *len)
{
	const char *at = strchr(t->user, '@');

	switch (tok) {
	case '%':
		return append_bytes("%", 1, out, outsz, len);
	case 'u':
		return escape_span(t->user, strlen(t->user), ctx, out, outsz, len);
	case 'U':
		return escape_span(t->user, at != NULL ? (size_t)(at - t->user) : strlen(t->user), ctx,
		                   out, outsz, len);
	case 'd':
		/* Cyrus substitutes nothing when the login has no domain (no realm fallback). */
		return at == NULL || escape_span(at + 1, strlen(at + 1), ctx, out, outsz, len);
	case 'r':
		return escape_span(t->realm, strlen(t->realm), ctx, out, outsz, len);
	case 'R':
		if (t->realm[0] == '\0')
			return true;
		return append_bytes("@", 1, out, outsz, len) &&
		       escape_span(t->realm, strlen(t->realm), ctx, out, outsz, len);
	case 's':
		return escape_span(t->service, strlen(t->service), ctx, out, outsz, len);
	case 'D':
		if (t->dn == NULL)
			return true;
		/* A DN from the server is already a valid DN: only a filter needs escaping. */
		if (ctx == SA_LDAP_CTX_DN)
			return append_bytes(t->dn, strlen(t->dn), out, outsz, len);
		return escape_span(t->dn, strlen(t->dn), ctx, out, outsz, len);
	default:
		break;
	}
	if (tok >= '1' && tok <= '0' + MAX_LABEL_TOKEN) {
		const char *start;
		size_t span;
		if (!nth_label(label_source(t), tok - '0', &start, &span))
			return true;
		return escape_span(start, span, ctx, out, outsz, len);
	}
	return true; /* '%' + any other character: both dropped, as Cyrus */
}

bool sa_ldap_expand(const char *tmpl, const struct sa_ldap_tokens *t, enum sa_ldap_context ctx,
                 char *out, size_t outsz)
{
	size_t len = 0;

	if (outsz == 0)
		return false;
	out[0] = '\0';
	for (const char *p = tmpl; *p != '\0'; p++) {
		bool ok;
		if (*p != '%')
			ok = append_bytes(p, 1, out, outsz, &len);
		else if (p[1] == '\0')
			ok = true; /* a lone trailing '%' is dropped (Cyrus: incomplete format) */
		else
			ok = expand_token(*++p, t, ctx, out, outsz, &len);
		if (!ok)
			return false;
	}
	return true;
}
