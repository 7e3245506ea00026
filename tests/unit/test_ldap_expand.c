/* ldap templates: token expansion and filter/DN escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mechanisms/ldap_expand.h"

static char out[512];

static const char *x(const char *tmpl, const char *user, const char *realm, enum sa_ldap_context c)
{
	struct sa_ldap_tokens t = { .user = user, .service = "imap", .realm = realm, .dn = NULL };
	assert_true(sa_ldap_expand(tmpl, &t, c, out, sizeof(out)));
	return out;
}

static void tokens(void **state)
{
	(void)state;
	assert_string_equal(x("(uid=%u)", "bob", "example.com", SA_LDAP_CTX_FILTER), "(uid=bob)");
	assert_string_equal(x("%u|%U|%d|%r|%R|%s|%%", "bob@a.example.org", "r.test", SA_LDAP_CTX_FILTER),
	                    "bob@a.example.org|bob|a.example.org|r.test|@r.test|imap|%");
	/* %d has no realm fallback (code, not docs) */
	assert_string_equal(x("[%d]", "bob", "example.com", SA_LDAP_CTX_FILTER), "[]");
	/* %1..%9 from the login's domain, else the realm; nothing past the last label */
	assert_string_equal(x("%1.%2.%3.%4", "bob@a.example.org", "x.y", SA_LDAP_CTX_FILTER), "org.example.a.");
	assert_string_equal(x("dc=%2,dc=%1", "bob", "example.com", SA_LDAP_CTX_DN), "dc=example,dc=com");
	assert_string_equal(x("[%R][%1]", "bob", "", SA_LDAP_CTX_FILTER), "[][]");
	/* unknown token and trailing % dropped; %D absent where not provided */
	assert_string_equal(x("a%qb%Dc%", "bob", "", SA_LDAP_CTX_FILTER), "abc");
}

static void filter_escaping(void **state)
{
	(void)state;
	assert_string_equal(x("(uid=%u)", "*)(uid=*", "", SA_LDAP_CTX_FILTER), "(uid=\\2a\\29\\28uid=\\2a)");
	assert_string_equal(x("(uid=%u)", "admin\\29", "", SA_LDAP_CTX_FILTER), "(uid=admin\\5c29)");
	assert_string_equal(x("(uid=%U)(d=%d)", "a*@b(c", "", SA_LDAP_CTX_FILTER), "(uid=a\\2a)(d=b\\28c)");
	/* DN specials are data in a filter */
	assert_string_equal(x("(cn=%u)", "a,b=c", "", SA_LDAP_CTX_FILTER), "(cn=a,b=c)");
}

static void dn_escaping(void **state)
{
	(void)state;
	/* stricter than Cyrus: a login cannot add RDNs or attribute values */
	assert_string_equal(x("uid=%U,ou=people", "x,ou=admins", "", SA_LDAP_CTX_DN),
	                    "uid=x\\2cou\\3dadmins,ou=people");
	assert_string_equal(x("uid=%u,o=t", " #a+b;c<d>\"e ", "", SA_LDAP_CTX_DN),
	                    "uid=\\20#a\\2bb\\3bc\\3cd\\3e\\22e\\20,o=t");
	assert_string_equal(x("uid=%u,o=t", "#a*", "", SA_LDAP_CTX_DN), "uid=\\23a\\2a,o=t");
}

static void user_dn_token(void **state)
{
	struct sa_ldap_tokens t = { .user = "bob", .service = "smtp", .realm = "", .dn = "uid=b\\2c(x),o=t" };
	(void)state;
	assert_true(sa_ldap_expand("(member=%D)", &t, SA_LDAP_CTX_FILTER, out, sizeof(out)));
	assert_string_equal(out, "(member=uid=b\\5c2c\\28x\\29,o=t)");
	assert_true(sa_ldap_expand("ou=g,%D", &t, SA_LDAP_CTX_DN, out, sizeof(out)));
	assert_string_equal(out, "ou=g,uid=b\\2c(x),o=t"); /* a server DN goes in as it is */
}

static void overflow(void **state)
{
	char small[8];
	struct sa_ldap_tokens t = { .user = "abcdef", .service = "", .realm = "", .dn = NULL };
	(void)state;
	assert_false(sa_ldap_expand("(uid=%u)", &t, SA_LDAP_CTX_FILTER, small, sizeof(small)));
	assert_true(sa_ldap_expand("%u", &t, SA_LDAP_CTX_FILTER, small, sizeof(small)));
	assert_string_equal(small, "abcdef");
	t.user = "a*cdef"; /* escaping makes it 8 + NUL */
	assert_false(sa_ldap_expand("%u", &t, SA_LDAP_CTX_FILTER, small, sizeof(small)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens),
		cmocka_unit_test(filter_escaping),
		cmocka_unit_test(dn_escaping),
		cmocka_unit_test(user_dn_token),
		cmocka_unit_test(overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
