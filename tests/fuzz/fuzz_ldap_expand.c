/* Fuzz target for ldap template expansion (mechanisms/ldap_expand.c). Input: template,
 * login, realm, service and DN separated by NUL bytes.
 * Filter: every '(' ')' '*' in the result comes from the template's own text, never from a
 * token, and a template with balanced parentheses gives a balanced filter.
 * DN: when the template with neutral values ('x' for every byte but '@' and '.', which
 * shape %U %d %1-%9) is a DN OpenLDAP parses, the real expansion never parses into a
 * different number of RDNs (or AVAs): no login can add or split an RDN. It may fail to
 * parse (a token inside an attribute type, bytes that are not UTF-8: the server refuses
 * such a DN too), but not when every token stands in a value and the values are
 * printable ASCII: such a login must still be usable. */
#include <ldap.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mechanisms/ldap_expand.h"
#include "tests/fuzz/fuzz_input.h"

#define FUZZ_PART_MAX 1024
#define FUZZ_OUT_MAX 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Specials of the template's literal text (what expansion copies as is). */
static void literal_specials(const char *tmpl, long counts[3], bool *balanced)
{
	long depth = 0;
	*balanced = true;
	memset(counts, 0, 3 * sizeof(long));
	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p == '%') {
			if (p[1] == '\0')
				break;
			p++;
			continue; /* "%%" gives a '%', anything else a token */
		}
		if (*p == '(') {
			counts[0]++;
			depth++;
		} else if (*p == ')') {
			counts[1]++;
			if (--depth < 0)
				*balanced = false;
		} else if (*p == '*') {
			counts[2]++;
		}
	}
	if (depth != 0)
		*balanced = false;
}

static void check_filter(const char *tmpl, const struct sa_ldap_tokens *t)
{
	static char out[FUZZ_OUT_MAX];
	long want[3], depth = 0, got[3] = { 0, 0, 0 };
	bool balanced, out_balanced = true;

	if (!sa_ldap_expand(tmpl, t, SA_LDAP_CTX_FILTER, out, sizeof(out)))
		return;
	literal_specials(tmpl, want, &balanced);
	for (const char *p = out; *p != '\0'; p++) {
		if (*p == '(') {
			got[0]++;
			depth++;
		} else if (*p == ')') {
			got[1]++;
			if (--depth < 0)
				out_balanced = false;
		} else if (*p == '*') {
			got[2]++;
		}
	}
	if (got[0] != want[0] || got[1] != want[1] || got[2] != want[2])
		abort(); /* a token brought in a raw filter special */
	if (balanced && (!out_balanced || depth != 0))
		abort();
}

static void neutral(const char *in, char *out)
{
	size_t i = 0;
	for (; in[i] != '\0'; i++)
		out[i] = (in[i] == '@' || in[i] == '.') ? in[i] : 'x';
	out[i] = '\0';
}

/* Every token of the template stands after an '=' of its RDN (in a value). */
static bool tokens_in_values(const char *tmpl)
{
	char last = ',';
	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p == '%' && p[1] != '\0') {
			if (last != '=')
				return false;
			p++;
		} else if (*p == ',' || *p == '+' || *p == '=') {
			last = *p;
		} else if (*p == '\\') {
			return false; /* template escapes of its own: leave them be */
		}
	}
	return true;
}

static bool printable_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	}
	return true;
}

static bool dn_shape(const char *s, int *rdns, int *avas)
{
	LDAPDN dn = NULL;
	if (ldap_str2dn(s, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return false;
	*rdns = 0;
	*avas = 0;
	for (int i = 0; dn != NULL && dn[i] != NULL; i++) {
		(*rdns)++;
		for (int j = 0; dn[i][j] != NULL; j++)
			(*avas)++;
	}
	ldap_dnfree(dn);
	return true;
}

static void check_dn(const char *tmpl, const struct sa_ldap_tokens *t)
{
	static char out[FUZZ_OUT_MAX], base[FUZZ_OUT_MAX];
	static char nu[FUZZ_PART_MAX + 1], nr[FUZZ_PART_MAX + 1], ns[FUZZ_PART_MAX + 1];
	struct sa_ldap_tokens plain = { .user = nu, .realm = nr, .service = ns, .dn = NULL };
	int rdns, avas, brdns, bavas;

	neutral(t->user, nu);
	neutral(t->realm, nr);
	neutral(t->service, ns);
	if (!sa_ldap_expand(tmpl, &plain, SA_LDAP_CTX_DN, base, sizeof(base)) ||
	    !dn_shape(base, &brdns, &bavas))
		return;
	if (!sa_ldap_expand(tmpl, t, SA_LDAP_CTX_DN, out, sizeof(out)))
		return;
	if (!dn_shape(out, &rdns, &avas)) {
		if (tokens_in_values(tmpl) && printable_ascii(t->user) && printable_ascii(t->realm) &&
		    printable_ascii(t->service))
			abort(); /* escaping broke a usable DN */
		return;
	}
	if (rdns != brdns || avas != bavas)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char tmpl[FUZZ_PART_MAX + 1], user[FUZZ_PART_MAX + 1], realm[FUZZ_PART_MAX + 1],
		service[FUZZ_PART_MAX + 1], dn[FUZZ_PART_MAX + 1];
	size_t pos = 0;

	fuzz_take_part(data, size, &pos, tmpl, sizeof(tmpl));
	fuzz_take_part(data, size, &pos, user, sizeof(user));
	fuzz_take_part(data, size, &pos, realm, sizeof(realm));
	fuzz_take_part(data, size, &pos, service, sizeof(service));
	fuzz_take_part(data, size, &pos, dn, sizeof(dn));
	struct sa_ldap_tokens t = { .user = user, .realm = realm, .service = service, .dn = dn };
	check_filter(tmpl, &t);
	t.dn = NULL; /* %D in a DN is the server's own DN, copied as is */
	check_dn(tmpl, &t);
	return 0;
}
