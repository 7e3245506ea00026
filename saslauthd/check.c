#include "saslauthd/check.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* --fail-delay, -c and its --negative-ttl/--stale-ttl, as the daemon would apply them. */
static void report_failure_handling(const struct options *opts, FILE *out)
{
	char detail[DETAIL_MAX];

	if (opts->fail_delay_ms > 0)
		snprintf(detail, sizeof(detail), "--fail-delay %ld.%03ld s plus up to 50 %% jitter",
		         opts->fail_delay_ms / 1000, opts->fail_delay_ms % 1000);
	else
		snprintf(detail, sizeof(detail), "off: failures are answered at once");
	line(out, true, "failure delay", detail);
	if (!opts->cache) {
		line(out, true, "cache", "off (no -c)");
		return;
	}
	char negative[32] = "off", stale[32] = "off";
	if (opts->negative_ttl > 0)
		snprintf(negative, sizeof(negative), "%ld s", opts->negative_ttl);
	if (opts->stale_ttl > 0)
		snprintf(stale, sizeof(stale), "%ld s", opts->stale_ttl);
	snprintf(detail, sizeof(detail), "-t %ld s, --negative-ttl %s, --stale-ttl %s",
	         opts->cache_timeout, negative, stale);
	line(out, true, "cache", detail);
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
	report_failure_handling(opts, out);
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
