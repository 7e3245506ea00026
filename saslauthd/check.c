#include "saslauthd/check.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saslauthd/policy.h"
#include "saslauthd/policy_redis.h"
#include "saslauthd/privsep.h"

#define REPORT_MAX 1024
#define DETAIL_MAX (SA_PATH_MAX + 64)

static int line(FILE *out, bool ok, const char *what, const char *detail)
{
	fprintf(out, "  %-4s %-14s %s\n", ok ? "ok" : "FAIL", what, detail);
	return ok ? 0 : 1;
}

static int check_run_dir(const struct options *opts, FILE *out)
{
	struct stat st;
	char detail[DETAIL_MAX];

	if (stat(opts->run_dir, &st) != 0) {
		snprintf(detail, sizeof(detail), "%s does not exist yet (it will be created)",
		         opts->run_dir);
		return line(out, true, "run directory", detail);
	}
	snprintf(detail, sizeof(detail), "%s (mode %o)%s", opts->run_dir,
	         (unsigned)(st.st_mode & 07777), S_ISDIR(st.st_mode) ? "" : " is not a directory");
	return line(out, S_ISDIR(st.st_mode), "run directory", detail);
}

/* The throttling settings, and whether the policy store answers (a store that does not
 * is not fatal to the daemon, which falls back to local counters, but worth knowing). */
static int check_policy(const struct options *opts, FILE *out)
{
	const struct policy_settings *p = &opts->policy;
	char detail[REPORT_MAX];
	struct policy_store_uri uri;

	if (p->addr.failures == 0 && p->user.failures == 0)
		return line(out, true, "throttling", "off");
	policy_describe(p, detail, sizeof(detail));
	int failures = line(out, true, "throttling", detail);
	if (p->store == NULL)
		return failures;
	bool ok = policy_store_parse(p->store, &uri, detail, sizeof(detail)) &&
	          policy_redis_probe(&uri, detail, sizeof(detail));
	return failures + line(out, ok, "policy store", detail);
}

int check_run(const struct options *opts, FILE *out)
{
	const struct mechanism *mech = opts->mech;
	struct mech_settings settings = { .option = opts->mech_option,
	                                  .services = opts->pam_services };
	char report[REPORT_MAX] = "";
	int failures = 0;

	fprintf(out, "saslauthd --check: mechanism %s%s%s\n", mech->name,
	        opts->mech_option != NULL ? ", -O " : "",
	        opts->mech_option != NULL ? opts->mech_option : "");
	failures += line(out, true, "command line", "parsed");
	failures += check_run_dir(opts, out);
	if (opts->run_as != NULL) {
		struct privsep_identity id;
		bool ok = privsep_resolve(opts->run_as, &id, report, sizeof(report));
		failures += line(out, ok, "--user", ok ? opts->run_as : report);
	}
	failures += check_policy(opts, out);
	report[0] = '\0';
	if (mech->init != NULL && mech->init(&settings, report, sizeof(report)) != 0) {
		failures += line(out, false, "configuration", report[0] ? report : "rejected");
		fprintf(out, "result: FAIL (%d problem%s)\n", failures, failures == 1 ? "" : "s");
		return 1;
	}
	failures += line(out, true, "configuration", "accepted");
	if (mech->check != NULL) {
		report[0] = '\0';
		int rc = mech->check(&settings, report, sizeof(report));
		failures += line(out, rc == 0, "back-end", report[0] ? report : "no detail");
	} else {
		failures += line(out, true, "back-end", "nothing to contact for this mechanism");
	}
	if (mech->cleanup != NULL)
		mech->cleanup();
	if (failures == 0)
		fprintf(out, "result: OK\n");
	else
		fprintf(out, "result: FAIL (%d problem%s)\n", failures, failures == 1 ? "" : "s");
	return failures == 0 ? 0 : 1;
}
