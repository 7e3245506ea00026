#include "saslauthd/check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strutil.h"
#include "saslauthd/daemon.h"
#include "saslauthd/policy.h"
#include "saslauthd/policy_redis.h"
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

/* "sasldb: " before a detail when the chain has several mechanisms. */
static const char *step_detail(const struct chain *c, const struct chain_step *s,
                               const char *detail, char *buf, size_t bufsz)
{
	if (c->count == 1)
		return detail;
	str_format(buf, bufsz, "%s: %s", s->mech->name, detail);
	return buf;
}

/* One mechanism of the chain: its configuration, then its back-end once. */
static int check_step(const struct chain *c, const struct chain_step *s, FILE *out)
{
	char report[REPORT_MAX] = "";
	char detail[REPORT_MAX + 64];

	if (s->mech->init != NULL && s->mech->init(&s->settings, report, sizeof(report)) != 0)
		return line(out, false, "configuration",
		            step_detail(c, s, report[0] ? report : "rejected", detail, sizeof(detail)));
	int failures = line(out, true, "configuration",
	                    step_detail(c, s, "accepted", detail, sizeof(detail)));
	if (s->mech->check != NULL) {
		report[0] = '\0';
		int rc = s->mech->check(&s->settings, report, sizeof(report));
		failures += line(out, rc == 0, "back-end",
		                 step_detail(c, s, report[0] ? report : "no detail", detail,
		                             sizeof(detail)));
	} else {
		failures += line(out, true, "back-end",
		                 step_detail(c, s, "nothing to contact for this mechanism", detail,
		                             sizeof(detail)));
	}
	if (s->mech->cleanup != NULL)
		s->mech->cleanup();
	return failures;
}

static void print_header(const struct options *opts, FILE *out)
{
	const struct chain *c = &opts->chain;

	if (c->count == 1) {
		fprintf(out, "saslauthd --check: mechanism %s%s%s\n", c->name,
		        opts->mech_option != NULL ? ", -O " : "",
		        opts->mech_option != NULL ? opts->mech_option : "");
		return;
	}
	fprintf(out, "saslauthd --check: mechanisms");
	for (int i = 0; i < c->count; i++) {
		const struct chain_step *s = &c->steps[i];
		fprintf(out, "%s %s%s%s%s", i > 0 ? "," : "", s->mech->name,
		        s->settings.option != NULL ? " (-O " : "",
		        s->settings.option != NULL ? s->settings.option : "",
		        s->settings.option != NULL ? ")" : "");
	}
	fprintf(out, ", asked in this order\n");
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
	char report[REPORT_MAX] = "";
	int failures = 0;

	print_header(opts, out);
	failures += line(out, true, "command line", "parsed");
	failures += check_run_dir(opts, out);
	if (opts->run_as != NULL) {
		struct privsep_identity id;
		bool ok = privsep_resolve(opts->run_as, &id, report, sizeof(report));
		failures += line(out, ok, "--user", ok ? opts->run_as : report);
	}
	report_failure_handling(opts, out);
	failures += check_policy(opts, out);
	for (int i = 0; i < opts->chain.count; i++)
		failures += check_step(&opts->chain, &opts->chain.steps[i], out);
	if (failures == 0)
		fprintf(out, "result: OK\n");
	else
		fprintf(out, "result: FAIL (%d problem%s)\n", failures, failures == 1 ? "" : "s");
	return failures == 0 ? 0 : 1;
}
