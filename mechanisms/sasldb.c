/* sasldb: plaintext userPassword entries in a Cyrus sasldb2 (Berkeley DB hash) file.
 * Unlike Cyrus, the path can be given with -O, and the database stays open across
 * requests; a stat() per request notices when saslpasswd2 replaced or changed it. */
#include "build_config.h"
#include "mechanisms/mechanism.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/sasldb_store.h"
#include "common/secret.h"
#include "common/strutil.h"


static struct {
	char path[SA_PATH_MAX];
	struct sasldb *db;
	struct stat opened; /* identity of the file the handle reads */
} sasldb_state;

static bool same_file_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void close_db(void)
{
	if (sasldb_state.db != NULL) {
		sasldb_close(sasldb_state.db);
		sasldb_state.db = NULL;
	}
}

/* Make sure the handle reads the file as it is now. False with a reason on failure. */
static bool current_db(char *err, size_t errsz)
{
	struct stat now;

	if (stat(sasldb_state.path, &now) != 0) {
		str_format(err, errsz, "cannot open %s: %s", sasldb_state.path, strerror(errno));
		close_db();
		return false;
	}
	if (sasldb_state.db != NULL && same_file_version(&now, &sasldb_state.opened))
		return true;
	close_db();
	sasldb_state.db = sasldb_open_readonly(sasldb_state.path, err, errsz);
	if (sasldb_state.db == NULL)
		return false;
	sasldb_state.opened = now;
	return true;
}

static int sasldb_init(const struct mech_settings *settings, char *err, size_t errsz)
{
	const char *path = settings->option != NULL ? settings->option : SASLAUTHD_DEFAULT_SASLDB;
	char why[512];

	if (!str_copy(sasldb_state.path, sizeof(sasldb_state.path), path)) {
		str_format(err, errsz, "sasldb path too long");
		return -1;
	}
	/* A missing file is not fatal (Cyrus starts too, and saslpasswd2 may create it
	 * later), but the admin should hear about it now rather than at the first login. */
	if (!current_db(why, sizeof(why)))
		log_core(LOG_WARNING, "sasldb: %s (every login fails until this is fixed)", why);
	close_db();
	return 0;
}

static void sasldb_auth(const struct mech_request *req, struct mech_result *result)
{
	char realm[SASLDB_NAME_MAX + 1];
	char stored[SASLDB_VALUE_MAX];
	char why[512];
	size_t stored_len = 0;

	if (req->realm[0] != '\0') {
		if (!str_copy(realm, sizeof(realm), req->realm)) {
			mech_result_set(result, VERDICT_NO, "NO", "realm too long");
			return;
		}
	} else if (gethostname(realm, sizeof(realm)) != 0) {
		/* Cyrus's default realm is the unqualified host name, as saslpasswd2 uses. */
		mech_result_set(result, VERDICT_FAIL, "NO", "cannot get host name: %s",
		                strerror(errno));
		return;
	}
	realm[sizeof(realm) - 1] = '\0';
	if (!current_db(why, sizeof(why))) {
		mech_result_set(result, VERDICT_FAIL, "NO", "%s", why);
		return;
	}
	switch (sasldb_fetch(sasldb_state.db, req->login, realm, SASLDB_PASSWORD_PROPERTY, stored,
	                     sizeof(stored), &stored_len)) {
	case SASLDB_OK:
		if (secret_equal(stored, stored_len, req->password, strlen(req->password)))
			mech_result_set(result, VERDICT_OK, "OK", NULL);
		else
			mech_result_set(result, VERDICT_NO, "NO", "Incorrect password");
		break;
	case SASLDB_NOT_FOUND:
		mech_result_set(result, VERDICT_NO, "NO", "user not found");
		break;
	case SASLDB_TOO_LONG:
		mech_result_set(result, VERDICT_NO, "NO", "stored password too long");
		break;
	case SASLDB_ERROR:
		mech_result_set(result, VERDICT_FAIL, "NO", "%s: %s", sasldb_state.path,
		                sasldb_error(sasldb_state.db));
		/* Reopen next time: the file may be repaired or replaced meanwhile. */
		close_db();
		break;
	}
	secret_wipe(stored, sizeof(stored));
}

static int sasldb_reload(const struct mech_settings *settings, char *err, size_t errsz)
{
	close_db();
	return sasldb_init(settings, err, errsz);
}

static bool count_password(const char *user, const char *realm, const char *property, void *ctx)
{
	(void)user;
	(void)realm;
	if (strcmp(property, SASLDB_PASSWORD_PROPERTY) == 0)
		(*(long *)ctx)++;
	return true;
}

static int sasldb_check(const struct mech_settings *settings, char *report, size_t reportsz)
{
	char why[512];
	long users = 0;

	(void)settings;
	if (!current_db(why, sizeof(why))) {
		str_format(report, reportsz, "%s", why);
		return -1;
	}
	enum sasldb_status st = sasldb_foreach(sasldb_state.db, count_password, &users);
	if (st != SASLDB_OK) {
		str_format(report, reportsz, "%s: %s", sasldb_state.path, sasldb_error(sasldb_state.db));
		close_db();
		return -1;
	}
	str_format(report, reportsz, "%s: readable, %ld users with a password", sasldb_state.path,
	           users);
	close_db();
	return 0;
}

static void sasldb_cleanup(void)
{
	close_db();
}

const struct mechanism mech_sasldb = {
	.name = "sasldb",
	.option_means = "sasldb file",
	.init = sasldb_init,
	.auth = sasldb_auth,
	.reload = sasldb_reload,
	.cleanup = sasldb_cleanup,
	.check = sasldb_check,
};
