#include "saslauthd/check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saslauthd/daemon.h"
#include "saslauthd/privsep.h"

#define REPORT_MAX 1024
#define DETAIL_MAX (3 * SA_PATH_MAX + 256)

static int line(FILE *out, bool ok, const char *what, const char *detail)
{
	fprintf(out, "  %-4s %-14s %s\n", ok ? "ok" : "FAIL", what, detail);
	return ok ? 0 : 1;
}

/* The same judgement as the daemon's start: a directory it would refuse fails here. */
static int check_run_dir(const struct options *opts, FILE *out)
{
	char detail[DETAIL_MAX];
	char why[SA_PATH_MAX + 128];
	int fd = open(opts->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		snprintf(detail, sizeof(detail), "%s does not exist yet (it will be created)",
		         opts->run_dir);
		return line(out, true, "run directory", detail);
	}
	if (fd < 0) {
		snprintf(detail, sizeof(detail), "%s: %s", opts->run_dir, strerror(errno));
		return line(out, false, "run directory", detail);
	}
	enum run_dir_verdict v = daemon_judge_run_dir(fd, opts->run_dir, why, sizeof(why));
	close(fd);
	if (v == RUN_DIR_REFUSED)
		snprintf(detail, sizeof(detail), "%s would be refused: %s", opts->run_dir, why);
	else if (v == RUN_DIR_UNSAFE_ABOVE)
		snprintf(detail, sizeof(detail), "%s (warning: %s)", opts->run_dir, why);
	else
		snprintf(detail, sizeof(detail), "%s", opts->run_dir);
	return line(out, v != RUN_DIR_REFUSED, "run directory", detail);
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
