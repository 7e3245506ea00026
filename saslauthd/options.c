#include "saslauthd/options.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "build_config.h"
#include "common/log.h"
#include "common/strutil.h"
#include "saslauthd/policy.h"

#define MUX_NAME "/mux"
#define EXIT_USAGE 1
/* Our additions are long options, so no letter can clash with a future Cyrus one. */
#define OPT_MAX_REQUESTS 256
#define OPT_USER 257
#define OPT_SOCKET_MODE 258
#define OPT_SOCKET_GROUP 259
#define OPT_STATS 260
#define OPT_CHECK 261
#define OPT_PAM_SERVICES 262
#define OPT_MAX_WORKERS 263
#define OPT_WORKER_IDLE 264
#define OPT_FAIL_DELAY 268
#define OPT_NEGATIVE_TTL 269
#define OPT_STALE_TTL 270
/* The policy layer's own range, so parallel additions do not collide. */
#define OPT_THROTTLE_ADDR 280
#define OPT_THROTTLE_USER 281
#define OPT_THROTTLE_EXEMPT 282
#define OPT_POLICY_STORE 283
#define DEFAULT_SOCKET_MODE 0777

static const struct option long_options[] = {
	{ "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "pam-services", required_argument, NULL, OPT_PAM_SERVICES },
	{ "max-workers", required_argument, NULL, OPT_MAX_WORKERS },
	{ "worker-idle", required_argument, NULL, OPT_WORKER_IDLE },
	{ "fail-delay", required_argument, NULL, OPT_FAIL_DELAY },
	{ "negative-ttl", required_argument, NULL, OPT_NEGATIVE_TTL },
	{ "stale-ttl", required_argument, NULL, OPT_STALE_TTL },
	{ "throttle-addr", required_argument, NULL, OPT_THROTTLE_ADDR },
	{ "throttle-user", required_argument, NULL, OPT_THROTTLE_USER },
	{ "throttle-exempt", required_argument, NULL, OPT_THROTTLE_EXEMPT },
	{ "policy-store", required_argument, NULL, OPT_POLICY_STORE },
	{ NULL, 0, NULL, 0 },
};

void options_print_version(FILE *out)
{
	fprintf(out, "saslauthd %s\nauthentication mechanisms:", SASLAUTHD_VERSION);
	for (const struct mechanism *const *m = mechanism_table; *m != NULL; m++)
		fprintf(out, " %s", (*m)->name);
	fprintf(out, "\n\n");
}

static void print_usage(FILE *out)
{
	fprintf(out,
	        "usage: saslauthd [options]\n\n"
	        "option information:\n"
	        "  -a <authmech>[,<authmech>...]\n"
	        "                 Selects the authentication mechanism to use; with several,\n"
	        "                 they are asked in order until one says OK.\n"
	        "  -c             Enable credential caching.\n"
	        "  -d             Debugging (don't detach from tty, implies -V)\n"
	        "  -f             Foreground (don't detach from tty)\n"
	        "  -r             Combine the realm with the login before passing to\n"
	        "                 authentication mechanism\n"
	        "                 Ex. login: \"foo\" realm: \"bar\" will get passed as\n"
	        "                 login: \"foo@bar\"\n"
	        "                 The realm name is passed untouched.\n"
	        "  -O <option>    Optional argument to pass to the authentication\n"
	        "                 mechanism (sasldb: path of the sasldb2 file). With a chain:\n"
	        "                 once for every mechanism, or once per mechanism in -a's\n"
	        "                 order ('' for none).\n"
	        "  -l             Do not create the accept lock file mux.accept (kept for\n"
	        "                 compatibility; workers need no lock around accept()).\n"
	        "  -m <path>      Alternate path for the saslauthd working directory,\n"
	        "                 must be absolute.\n"
	        "  -n <procs>     Number of worker processes to run (0: one per connection).\n"
	        "  -s <kilobytes> Size of the credential cache (in kilobytes)\n"
	        "  -t <seconds>   Timeout for items in the credential cache (in seconds)\n"
	        "  --max-requests <n>\n"
	        "                 Replace a worker after it served n requests, so a leaking\n"
	        "                 module cannot grow it forever (default 10000, 0: never).\n"
	        "  --max-workers <n>\n"
	        "                 When every worker is deciding and requests wait, start\n"
	        "                 more, up to n in all (default 30, or -n if higher).\n"
	        "  --worker-idle <seconds>\n"
	        "                 Workers above -n stop after this long without a request\n"
	        "                 (default 60).\n"
	        "  --fail-delay <seconds>\n"
	        "                 Answer every reply but OK after this delay (decimal, up to\n"
	        "                 10) plus up to 50 %% random jitter, without holding a worker.\n"
	        "  --negative-ttl <seconds>\n"
	        "                 With -c: refuse the same wrong password for a user from the\n"
	        "                 cache for this long (up to 2 per user; others still go to\n"
	        "                 the back-end).\n"
	        "  --stale-ttl <seconds>\n"
	        "                 With -c: when the back-end cannot decide, an expired cache\n"
	        "                 entry for the same password answers OK this long past -t.\n"
	        "  --user <user>[:<group>]\n"
	        "                 Workers drop root for this identity once the socket\n"
	        "                 exists; shadow and pam keep a small root verifier each.\n"
	        "  --socket-mode <octal>, --socket-group <group>\n"
	        "                 Mode (default 0777, as Cyrus) and group of <run dir>/mux.\n"
	        "  --pam-services <service>[,<service>...]\n"
	        "                 pam: the only PAM services a request may name (default:\n"
	        "                 any plain name except system services such as su, sudo,\n"
	        "                 login, sshd).\n"
	        "  --throttle-addr <failures>/<seconds>\n"
	        "                 Refuse requests from a client address (IPv6: its /64)\n"
	        "                 with that many failed logins in the last <seconds>,\n"
	        "                 without asking the mechanism (default: off).\n"
	        "  --throttle-user <failures>/<seconds>\n"
	        "                 The same for a login, across addresses (default: off).\n"
	        "  --throttle-exempt <cidr>[,<cidr>...]\n"
	        "                 Addresses never throttled nor counted (e.g. webmail).\n"
	        "  --policy-store redis://<host>:<port>[/<db>] | redis:///<socket>[?db=<n>]\n"
	        "                 Keep the throttling counters in Redis, shared by a fleet.\n"
	        "  --check        Check the command line and the mechanism's configuration,\n"
	        "                 try the back-end once, print a report and exit (0: usable).\n"
	        "  --stats        Print the counters of the daemon running in the -m\n"
	        "                 directory (Prometheus text format) and exit.\n"
	        "  -v             Display version information and available mechs\n"
	        "  -V             Enable verbose logging\n"
	        "  -h             Display this message.\n\n");
	options_print_version(out);
}

static void set_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	str_copy(opts->run_dir, sizeof(opts->run_dir), SASLAUTHD_DEFAULT_RUNDIR);
	opts->workers = OPTIONS_DEFAULT_WORKERS;
	opts->cache_kb = OPTIONS_DEFAULT_CACHE_KB;
	opts->cache_timeout = OPTIONS_DEFAULT_CACHE_TIMEOUT;
	opts->accept_lock = true;
	opts->max_requests = OPTIONS_DEFAULT_MAX_REQUESTS;
	opts->max_workers = -1; /* resolved once -n is known */
	opts->worker_idle = OPTIONS_DEFAULT_WORKER_IDLE;
	opts->socket_mode = DEFAULT_SOCKET_MODE;
}

static bool run_dir_fits(const char *dir)
{
	struct sockaddr_un sun;
	/* The client refuses a socket path that does not fit sun_path; Cyrus silently
	 * truncated it, binding somewhere no client looks. */
	return strlen(dir) + strlen(MUX_NAME) < sizeof(sun.sun_path);
}

/* Keeps the last CHAIN_MAX: a chain takes at most that many, and a single mechanism
 * only the last (Cyrus). */
static void take_mech_option(struct options *opts, const char *arg)
{
	if (opts->mech_option_count >= CHAIN_MAX)
		memmove(opts->mech_options, opts->mech_options + 1,
		        (CHAIN_MAX - 1) * sizeof(opts->mech_options[0]));
	opts->mech_options[opts->mech_option_count < CHAIN_MAX ? opts->mech_option_count
	                                                       : CHAIN_MAX - 1] = arg;
	opts->mech_option_count++;
	opts->mech_option = arg;
}

/* Decimal seconds with at most millisecond precision ("2", "0.5", "1.250") into
 * milliseconds; nothing else (no sign, exponent or locale) is accepted. */
static bool parse_seconds_ms(const char *s, long max_ms, long *out)
{
	long ms = 0;
	int frac_digits = -1; /* -1: no '.' seen */
	bool any_digit = false;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '.' && frac_digits < 0) {
			frac_digits = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || frac_digits >= 3 || ms > max_ms)
			return false;
		ms = ms * 10 + (*p - '0');
		any_digit = true;
		if (frac_digits >= 0)
			frac_digits++;
	}
	for (int i = frac_digits < 0 ? 0 : frac_digits; i < 3; i++)
		ms *= 10;
	if (!any_digit || ms > max_ms)
		return false;
	*out = ms;
	return true;
}

/* --negative-ttl, --stale-ttl: whole seconds, 0 = off. */
static int take_failure_ttl(const char *name, const char *arg, long *out)
{
	if (!str_to_long(arg, 0, OPTIONS_MAX_FAILURE_TTL, out)) {
		log_core(LOG_ERR, "--%s must be a number of seconds 0..%d", name,
		         OPTIONS_MAX_FAILURE_TTL);
		return 1;
	}
	return -1;
}

/* --throttle-* and --policy-store. Returns -1 to continue, else an exit status. */
static int take_policy_option(struct policy_settings *p, int c, const char *arg)
{
	char err[POLICY_ERR_MAX];
	bool ok = true;

	switch (c) {
	case OPT_THROTTLE_ADDR:
		ok = policy_parse_limit(arg, &p->addr, err, sizeof(err));
		break;
	case OPT_THROTTLE_USER:
		ok = policy_parse_limit(arg, &p->user, err, sizeof(err));
		break;
	case OPT_THROTTLE_EXEMPT:
		ok = policy_parse_exempt(arg, &p->exempt, err, sizeof(err));
		break;
	default:
		p->store = arg;
		break;
	}
	if (ok)
		return -1;
	if (c == OPT_THROTTLE_ADDR || c == OPT_THROTTLE_USER)
		log_core(LOG_ERR, "%s: %s", c == OPT_THROTTLE_ADDR ? "--throttle-addr" : "--throttle-user",
		         err);
	else
		log_core(LOG_ERR, "%s", err);
	return 1;
}

/* One option letter. Returns -1 to continue, else an exit status. */
static int take_option(struct options *opts, int c, const char *arg, FILE *err)
{
	long v;

	switch (c) {
	case 'a':
		if (opts->mech_name != NULL) {
			fprintf(err, "saslauthd: only one -a option is allowed\n");
			print_usage(err);
			return EXIT_USAGE;
		}
		opts->mech_name = arg;
		return -1;
	case 'O': take_mech_option(opts, arg); return -1;
	case 'c': opts->cache = true; return -1;
	case 'l': opts->accept_lock = false; return -1;
	case 'r': opts->realm_concat = true; return -1;
	case 'V': opts->verbose = true; return -1;
	case 'f': opts->foreground = true; return -1;
	case 'd': opts->verbose = true; opts->foreground = true; return -1;
	case OPT_MAX_REQUESTS:
		if (!str_to_long(arg, 0, LONG_MAX, &v)) {
			log_core(LOG_ERR, "--max-requests must be a number (0: never replace workers)");
			return 1;
		}
		opts->max_requests = v;
		return -1;
	case OPT_MAX_WORKERS:
		if (!str_to_long(arg, 1, OPTIONS_MAX_WORKERS, &v)) {
			log_core(LOG_ERR, "--max-workers must be a number 1..%d", OPTIONS_MAX_WORKERS);
			return 1;
		}
		opts->max_workers = (int)v;
		return -1;
	case OPT_WORKER_IDLE:
		if (!str_to_long(arg, 1, OPTIONS_MAX_WORKER_IDLE, &v)) {
			log_core(LOG_ERR, "--worker-idle must be a number of seconds 1..%d",
			         OPTIONS_MAX_WORKER_IDLE);
			return 1;
		}
		opts->worker_idle = v;
		return -1;
	case OPT_FAIL_DELAY:
		if (!parse_seconds_ms(arg, OPTIONS_MAX_FAIL_DELAY_MS, &opts->fail_delay_ms)) {
			log_core(LOG_ERR, "--fail-delay must be seconds 0..%d with at most 3 decimals "
			         "(e.g. 0.5)", OPTIONS_MAX_FAIL_DELAY_MS / 1000);
			return 1;
		}
		return -1;
	case OPT_NEGATIVE_TTL: return take_failure_ttl("negative-ttl", arg, &opts->negative_ttl);
	case OPT_STALE_TTL: return take_failure_ttl("stale-ttl", arg, &opts->stale_ttl);
	case OPT_USER: opts->run_as = arg; return -1;
	case OPT_SOCKET_GROUP: opts->socket_group = arg; return -1;
	case OPT_PAM_SERVICES: opts->pam_services = arg; return -1;
	case OPT_STATS: opts->print_stats = true; return -1;
	case OPT_THROTTLE_ADDR:
	case OPT_THROTTLE_USER:
	case OPT_THROTTLE_EXEMPT:
	case OPT_POLICY_STORE:
		return take_policy_option(&opts->policy, c, arg);
	case OPT_CHECK: opts->check_only = true; return -1;
	case OPT_SOCKET_MODE: {
		char *end = NULL;
		unsigned long mode = strtoul(arg, &end, 8);
		if (arg[0] == '\0' || *end != '\0' || mode > 0777) {
			log_core(LOG_ERR, "--socket-mode must be an octal mode such as 0660");
			return 1;
		}
		opts->socket_mode = (unsigned)mode;
		return -1;
	}
	case 'v': options_print_version(err); return 0;
	case 'h': print_usage(err); return 0;
	case 'm':
		if (arg[0] != '/') {
			log_core(LOG_ERR, "-m requires an absolute pathname");
			return 1;
		}
		if (!run_dir_fits(arg) || !str_copy(opts->run_dir, sizeof(opts->run_dir), arg)) {
			log_core(LOG_ERR, "-m path too long: %s" MUX_NAME " must fit in %zu bytes",
			         arg, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return 1;
		}
		return -1;
	case 'n':
		if (!str_to_long(arg, 0, OPTIONS_MAX_WORKERS, &v)) {
			log_core(LOG_ERR, "invalid number of worker processes defined");
			return 1;
		}
		opts->workers = (int)v;
		return -1;
	case 's':
		if (!str_to_long(arg, 1, 1024L * 1024, &v)) {
			log_core(LOG_ERR, "cache size must be positive and non zero");
			return 1;
		}
		opts->cache_kb = v;
		return -1;
	case 't':
		if (!str_to_long(arg, 1, 10L * 365 * 24 * 3600, &v)) {
			log_core(LOG_ERR, "cache timeout must be positive");
			return 1;
		}
		opts->cache_timeout = v;
		return -1;
	default:
		/* getopt already printed "invalid option" / "option requires an argument". */
		print_usage(err);
		return EXIT_USAGE;
	}
}

int options_parse(struct options *opts, int argc, char **argv, FILE *err)
{
	int c;

	set_defaults(opts);
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:cdfhO:lm:n:rs:t:vV", long_options, NULL)) != -1) {
		int status = take_option(opts, c, optarg, err);
		if (status >= 0)
			return status;
	}
	if (opts->print_stats)
		return -1; /* needs only -m */
	if (opts->max_workers < 0)
		opts->max_workers = opts->workers > OPTIONS_DEFAULT_MAX_WORKERS ? opts->workers
		                                                                : OPTIONS_DEFAULT_MAX_WORKERS;
	else if (opts->workers > 0 && opts->max_workers < opts->workers) {
		log_core(LOG_ERR, "--max-workers (%d) must not be below -n (%d)", opts->max_workers,
		         opts->workers);
		return 1;
	}
	if (opts->mech_name == NULL) {
		log_core(LOG_ERR, "no authentication mechanism specified");
		print_usage(err);
		return EXIT_USAGE;
	}
	char why[CHAIN_ERR_MAX];
	if (!chain_parse(&opts->chain, opts->mech_name, opts->mech_options,
	                 opts->mech_option_count, opts->pam_services, why, sizeof(why))) {
		log_core(LOG_ERR, "%s", why);
		return 1;
	}
	opts->mech = opts->chain.steps[0].mech;
	if ((opts->negative_ttl > 0 || opts->stale_ttl > 0) && !opts->cache) {
		log_core(LOG_ERR, "--%s needs the credential cache: add -c",
		         opts->negative_ttl > 0 ? "negative-ttl" : "stale-ttl");
		return EXIT_USAGE;
	}
	if (opts->pam_services != NULL && !chain_has(&opts->chain, "pam")) {
		log_core(LOG_ERR, "--pam-services applies to -a pam only");
		return EXIT_USAGE;
	}
	if (!run_dir_fits(opts->run_dir)) {
		log_core(LOG_ERR, "run directory path too long: %s", opts->run_dir);
		return 1;
	}
	char policy_why[POLICY_ERR_MAX];
	if (!policy_validate(&opts->policy, policy_why, sizeof(policy_why))) {
		log_core(LOG_ERR, "%s", policy_why);
		return 1;
	}
	return -1;
}
