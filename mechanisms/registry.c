/* The single table of compiled-in mechanisms. Adding a mechanism: one file, one line here. */
#include "build_config.h"
#include "mechanisms/mechanism.h"

#include <strings.h>

extern const struct mechanism mech_sasldb;
extern const struct mechanism mech_getpwent;
extern const struct mechanism mech_shadow;
extern const struct mechanism mech_kerberos5;
extern const struct mechanism mech_pam;
extern const struct mechanism mech_rimap;
extern const struct mechanism mech_ldap;
extern const struct mechanism mech_httpform;
extern const struct mechanism mech_sql;

/* Cyrus's -v order: sasldb getpwent kerberos5 pam rimap shadow ldap httpform; then ours. */
const struct mechanism *const mechanism_table[] = {
#ifdef WITH_SASLDB
	&mech_sasldb,
#endif
#ifdef WITH_GETPWENT
	&mech_getpwent,
#endif
#ifdef WITH_KRB5
	&mech_kerberos5,
#endif
#ifdef WITH_PAM
	&mech_pam,
#endif
#ifdef WITH_RIMAP
	&mech_rimap,
#endif
#ifdef WITH_SHADOW
	&mech_shadow,
#endif
#ifdef WITH_LDAP
	&mech_ldap,
#endif
#ifdef WITH_HTTPFORM
	&mech_httpform,
#endif
#ifdef WITH_SQL
	&mech_sql,
#endif
	NULL,
};

const struct mechanism *mechanism_find(const char *name)
{
	for (const struct mechanism *const *m = mechanism_table; *m != NULL; m++) {
		if (strcasecmp((*m)->name, name) == 0)
			return *m;
	}
	return NULL;
}
