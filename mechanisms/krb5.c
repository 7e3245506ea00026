/* kerberos5: MIT Kerberos password check, as Cyrus's auth_krb5 (master branch):
 * an AS exchange with the password, then verification of the ticket against a keytab
 * entry <verify_principal>/<servername> with "AP-REQ must succeed", so that a spoofed
 * KDC cannot fake a success. Replies are Cyrus's, byte for byte.
 *
 * Differences from Cyrus, on purpose: no ticket cache is ever created (the initial
 * credentials stay in memory and are freed after the check); the library context is
 * kept per worker process instead of being created per request; each check runs in a
 * short-lived child of the worker that is killed after krb5_timeout seconds (MIT krb5
 * 1.20 itself waits about 27 s for a KDC that accepts and never answers); a stopped or
 * unreachable KDC is reported as such in the log reason; library messages are escaped
 * before they reach the log, since they may quote the login.
 *
 * Configuration (the simple reader, saslauthd.conf(5) LEXICAL RULES): -O <file>, else SASLAUTHD_DEFAULT_CONF when
 * it exists. Keys: krb5_keytab, krb5_verify_principal, krb5_servername,
 * krb5_conv_krb4_instance, krb5_<service>_instance, krb5_uppercase_realm (Cyrus
 * master), and ours: krb5_timeout (seconds per check, 1..300, default 10). */
#include "build_config.h"
#include "mechanisms/mechanism.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <krb5.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define SA_KRB5_LEAK_CHECK() __lsan_do_leak_check()
#else
#define SA_KRB5_LEAK_CHECK() ((void)0)
#endif

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "mechanisms/krb5_report.h"

/* A principal name: login (≤ 256), '/', an instance from the config, '@', realm (≤ 256). */
#define PRINCIPAL_MAX (2 * CONFIG_LINE_MAX)
#define LIBMSG_MAX 512
/* krb5_timeout (our addition): seconds one check may take, KDC exchanges included. */
#define TIMEOUT_DEFAULT 10
#define TIMEOUT_MAX 300

struct sa_krb5_settings {
	struct config *cfg;     /* NULL when no file was read; krb5_<service>_instance lookups */
	const char *keytab;     /* NULL: the library's default keytab */
	const char *verify_principal;
	const char *servername; /* NULL: the local host name as the library canonicalises it */
	bool conv_krb4_instance;
	bool uppercase_realm;
	long timeout; /* seconds */
};

static struct sa_krb5_settings settings = { .verify_principal = "host", .timeout = TIMEOUT_DEFAULT };

/* The library context of this process, created on first use (never before fork: the
 * master only reads the configuration). */
static struct {
	krb5_context ctx;
	pid_t pid;
} lib;

/* ------------------------------------------------------------------ configuration */

static void warn_trailing_space(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_entry *e = &cfg->entries[i];
		size_t n = strlen(e->value);
		if (strncmp(e->key, "krb5_", 5) == 0 && n > 0 && isspace((unsigned char)e->value[n - 1]))
			log_core(LOG_WARNING,
			         "auth_krb5_init %s:%d: value of %s ends in white space, which is part "
			         "of the value", cfg->path, e->line, e->key);
	}
}

/* A number of seconds (trailing white space allowed: the reader keeps it). */
static bool parse_seconds(const char *value, long *out)
{
	char buf[32];
	size_t n;

	if (!str_copy(buf, sizeof(buf), value))
		return false;
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return str_to_long(buf, 1, TIMEOUT_MAX, out);
}

/* Read the configuration into *out (allocated; NULL when there is no file to read). */
static int load_settings(const struct mech_settings *ms, struct sa_krb5_settings *out, char *err,
                         size_t errsz)
{
	const char *path = mech_config_file(ms, true);
	struct config *cfg;
	char why[CONFIG_LINE_MAX + 128];
	const char *timeout;

	memset(out, 0, sizeof(*out));
	out->verify_principal = "host";
	out->timeout = TIMEOUT_DEFAULT;
	if (path == NULL)
		return 0;
	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		str_format(err, errsz, "auth_krb5_init out of memory");
		return -1;
	}
	if (!config_load(cfg, path, why, sizeof(why))) {
		free(cfg);
		str_format(err, errsz, "auth_krb5_init %s", why);
		return -1;
	}
	out->cfg = cfg;
	out->keytab = config_get(cfg, "krb5_keytab");
	if (config_get(cfg, "krb5_verify_principal") != NULL)
		out->verify_principal = config_get(cfg, "krb5_verify_principal");
	out->servername = config_get(cfg, "krb5_servername");
	out->conv_krb4_instance = config_get_bool(cfg, "krb5_conv_krb4_instance", false);
	out->uppercase_realm = config_get_bool(cfg, "krb5_uppercase_realm", false);
	timeout = config_get(cfg, "krb5_timeout");
	if (timeout != NULL && !parse_seconds(timeout, &out->timeout)) {
		str_format(err, errsz, "auth_krb5_init %s: krb5_timeout must be a number of seconds "
		           "from 1 to %d", path, TIMEOUT_MAX);
		config_free(cfg);
		free(cfg);
		out->cfg = NULL;
		return -1;
	}
	warn_trailing_space(cfg);
	return 0;
}

static void free_settings(struct sa_krb5_settings *s)
{
	if (s->cfg != NULL) {
		config_free(s->cfg);
		free(s->cfg);
	}
	memset(s, 0, sizeof(*s));
	s->verify_principal = "host";
	s->timeout = TIMEOUT_DEFAULT;
}

/* ------------------------------------------------------------------ library helpers */

/* The library's text for code (escaped for the log: it may quote the login). */
static const char *lib_message(krb5_context ctx, krb5_error_code code, char *out, size_t outsz)
{
	/* A NULL context is allowed: the plain com_err text (and freeing it is a no-op). */
	const char *msg = krb5_get_error_message(ctx, code);

	log_escape(msg != NULL ? msg : "unknown error", out, outsz);
	if (msg != NULL)
		krb5_free_error_message(ctx, msg);
	return out;
}

static void log_lib_error(int priority, krb5_context ctx, krb5_error_code code, const char *step,
                          char *msg, size_t msgsz)
{
	lib_message(ctx, code, msg, msgsz);
	log_mech(priority, "auth_krb5: %s: %s (%ld)", step, msg, (long)code);
}

/* This process's context, made on first use. NULL with the library's reason in msg. */
static krb5_context worker_context(char *msg, size_t msgsz)
{
	krb5_error_code rc;

	if (lib.ctx != NULL && lib.pid == getpid())
		return lib.ctx;
	/* A context inherited from another process is not ours to use (or free). */
	lib.ctx = NULL;
	rc = krb5_init_context(&lib.ctx);
	if (rc != 0) {
		lib.ctx = NULL;
		log_lib_error(LOG_ERR, NULL, rc, "krb5_init_context", msg, msgsz);
		return NULL;
	}
	lib.pid = getpid();
	return lib.ctx;
}

/* The verification principal <verify_principal>/<servername>@<realm of that host>. */
static krb5_error_code server_principal(krb5_context ctx, krb5_principal *server)
{
	return krb5_sname_to_principal(ctx, settings.servername, settings.verify_principal,
	                               KRB5_NT_SRV_HST, server);
}

/* The KDC could not be asked at all: the back-end cannot decide. */
static bool kdc_unreachable(krb5_error_code rc)
{
	switch (rc) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
	case KRB5_REALM_UNKNOWN:
	case KRB5_KDCREP_SKEW:
	case KRB5KDC_ERR_SVC_UNAVAILABLE:
	case ETIMEDOUT:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

/* The KDC's answer means: these credentials do not log in. */
static bool credentials_refused(krb5_error_code rc)
{
	switch (rc) {
	case KRB5KDC_ERR_PREAUTH_FAILED:
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
	case KRB5KDC_ERR_CLIENT_REVOKED:
	case KRB5KDC_ERR_CLIENT_NOTYET:
	case KRB5KDC_ERR_KEY_EXP:
	case KRB5KDC_ERR_NAME_EXP:
	case KRB5KDC_ERR_POLICY:
	case KRB5_PREAUTH_FAILED:
		return true;
	default:
		return false;
	}
}

/* Verification failed because of the keytab (a server-side configuration problem). */
static bool keytab_problem(krb5_error_code rc)
{
	switch (rc) {
	case KRB5_KT_NOTFOUND:
	case KRB5_KT_KVNONOTFOUND:
	case KRB5_KT_BADNAME:
	case KRB5_KT_UNKNOWN_TYPE:
	case KRB5_KT_END:
	case KRB5_KT_FORMAT:
	case KRB5_KT_IOERR:
	case KRB5_KT_NAME_TOOLONG:
	case ENOENT:
	case EACCES:
	case EPERM:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ principal name */

/* login [/forced instance] [@realm], as Cyrus's form_principal_name. -1: the login names
 * an instance other than the forced one, or the name is too long. */
static int form_principal_name(const struct mech_request *req, char *pname, size_t pnamesz)
{
	char keyname[64 + 2 * 256];
	const char *forced = NULL;
	char realm[PRINCIPAL_MAX];
	size_t len;

	if (!str_copy(pname, pnamesz, req->login))
		return -1;
	if (settings.conv_krb4_instance) {
		char *dot = strchr(pname, '.');
		if (dot != NULL)
			*dot = '/';
	}
	if (settings.cfg != NULL &&
	    str_format(keyname, sizeof(keyname), "krb5_%s_instance", req->service))
		forced = config_get(settings.cfg, keyname);
	if (forced != NULL) {
		const char *given = strchr(pname, '/');
		if (given != NULL) {
			if (strcmp(given + 1, forced) != 0)
				return -1; /* the user may not override the administrator */
			forced = NULL; /* already there */
		}
	}
	if (!str_copy(realm, sizeof(realm), req->realm))
		return -1;
	if (settings.uppercase_realm) {
		for (char *p = realm; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	len = strlen(pname);
	if (!str_format(pname + len, pnamesz - len, "%s%s%s%s", forced != NULL ? "/" : "",
	                forced != NULL ? forced : "", realm[0] != '\0' ? "@" : "", realm))
		return -1;
	return 0;
}

/* True when the user's realm is the verification principal's realm. A server principal
 * in the referral (empty) realm -- a host name without [domain_realm] mapping -- is
 * taken to be in the default realm. */
static bool same_realm(krb5_context ctx, krb5_const_principal user, krb5_const_principal server)
{
	const krb5_data *ur = krb5_princ_realm(ctx, user);
	const krb5_data *sr = krb5_princ_realm(ctx, server);
	char *def = NULL;
	bool same;

	if (!krb5_is_referral_realm(sr))
		return krb5_realm_compare(ctx, user, server) != 0;
	if (krb5_get_default_realm(ctx, &def) != 0)
		return false;
	same = ur->length == strlen(def) && memcmp(ur->data, def, ur->length) == 0;
	krb5_free_default_realm(ctx, def);
	return same;
}

/* ------------------------------------------------------------------ the check */

/* Everything one check allocates, freed in one place. */
struct attempt {
	krb5_context ctx;
	krb5_principal user;
	krb5_principal server;
	krb5_keytab keytab;
	krb5_get_init_creds_opt *gic_opt;
	krb5_creds creds;
	bool have_creds;
	int progress_fd; /* the step about to talk to the KDC is written here (one byte) */
	/* The check's one log line, logged by the worker (so it carries the worker's pid). */
	int log_priority;
	char log_line[LOG_LINE_MAX];
};

static void attempt_log(struct attempt *a, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void attempt_log(struct attempt *a, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->log_line, sizeof(a->log_line), fmt, ap);
	va_end(ap);
	a->log_priority = priority;
}

static void attempt_lib_error(struct attempt *a, krb5_error_code code, const char *step,
                              char *msg, size_t msgsz)
{
	lib_message(a->ctx, code, msg, msgsz);
	attempt_log(a, LOG_ERR, "auth_krb5: %s: %s (%ld)", step, msg, (long)code);
}

static void attempt_free(struct attempt *a)
{
	if (a->have_creds)
		krb5_free_cred_contents(a->ctx, &a->creds);
	if (a->gic_opt != NULL)
		krb5_get_init_creds_opt_free(a->ctx, a->gic_opt);
	if (a->keytab != NULL)
		krb5_kt_close(a->ctx, a->keytab);
	if (a->server != NULL)
		krb5_free_principal(a->ctx, a->server);
	if (a->user != NULL)
		krb5_free_principal(a->ctx, a->user);
	/* Extended error messages stay attached to the context otherwise. */
	krb5_clear_error_message(a->ctx);
	/* No stale pointers: the sanitizer's leak check in the child must not find them. */
	memset(&a->creds, 0, sizeof(a->creds));
	a->have_creds = false;
	a->gic_opt = NULL;
	a->keytab = NULL;
	a->server = NULL;
	a->user = NULL;
}

enum { STEP_AS = 'A', STEP_VERIFY = 'V', STEP_RESULT = SA_KRB5_REPORT_TAG };

static void report_step(const struct attempt *a, char step)
{
	if (write(a->progress_fd, &step, 1) != 1) {
		/* The parent reads the result regardless; a lost step only blurs a timeout's reason. */
	}
}

static void internal_error(struct mech_result *result, const char *step, const char *msg)
{
	mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error", "%s: %s", step, msg);
}

static void sa_krb5_auth_check(struct attempt *a, const struct mech_request *req,
                            struct mech_result *result)
{
	char pname[PRINCIPAL_MAX];
	char msg[LIBMSG_MAX];
	krb5_verify_init_creds_opt vopt;
	krb5_error_code rc;

	if (form_principal_name(req, pname, sizeof(pname)) != 0) {
		attempt_log(a, LOG_ERR, "auth_krb5: form_principal_name");
		mech_result_set(result, VERDICT_NO, "NO saslauthd principal name error",
		                "principal name error (instance not allowed for service, or too long)");
		return;
	}
	if ((rc = krb5_parse_name(a->ctx, pname, &a->user)) != 0) {
		attempt_lib_error(a, rc, "krb5_parse_name", msg, sizeof(msg));
		internal_error(result, "krb5_parse_name", msg);
		return;
	}
	if ((rc = server_principal(a->ctx, &a->server)) != 0) {
		attempt_lib_error(a, rc, "krb5_sname_to_principal", msg, sizeof(msg));
		internal_error(result, "krb5_sname_to_principal", msg);
		return;
	}
	if (!same_realm(a->ctx, a->user, a->server)) {
		const krb5_data *ur = krb5_princ_realm(a->ctx, a->user);
		const krb5_data *sr = krb5_princ_realm(a->ctx, a->server);
		attempt_log(a, LOG_ERR, "auth_krb5: realm mismatch");
		mech_result_set(result, VERDICT_NO, "NO saslauthd realm mismatch",
		                "realm mismatch: user realm %.*s, verification principal realm %.*s",
		                (int)ur->length, ur->data, (int)sr->length, sr->data);
		return;
	}
	if (settings.keytab != NULL && (rc = krb5_kt_resolve(a->ctx, settings.keytab, &a->keytab))) {
		attempt_lib_error(a, rc, "krb5_kt_resolve", msg, sizeof(msg));
		internal_error(result, "krb5_kt_resolve", msg);
		return;
	}
	if ((rc = krb5_get_init_creds_opt_alloc(a->ctx, &a->gic_opt)) != 0) {
		attempt_lib_error(a, rc, "krb5_get_init_creds_opt_alloc", msg, sizeof(msg));
		internal_error(result, "krb5_get_init_creds_opt_alloc", msg);
		return;
	}
	/* The ticket lives a few milliseconds in memory; ask for nothing special. No
	 * out_ccache: nothing is written anywhere. */
	krb5_get_init_creds_opt_set_tkt_life(a->gic_opt, 5 * 60);
	krb5_get_init_creds_opt_set_forwardable(a->gic_opt, 0);
	krb5_get_init_creds_opt_set_proxiable(a->gic_opt, 0);
	krb5_get_init_creds_opt_set_renew_life(a->gic_opt, 0);

	report_step(a, STEP_AS);
	rc = krb5_get_init_creds_password(a->ctx, &a->creds, a->user, req->password, NULL, NULL, 0,
	                                  NULL, a->gic_opt);
	if (rc != 0) {
		static const char reply[] = "NO krb5_get_init_creds_password failed";
		attempt_lib_error(a, rc, "krb5_get_init_creds_password", msg, sizeof(msg));
		if (kdc_unreachable(rc))
			mech_result_set(result, VERDICT_FAIL, reply, "KDC unreachable: %s", msg);
		else if (credentials_refused(rc))
			mech_result_set(result, VERDICT_NO, reply, "%s", msg);
		else
			mech_result_set(result, VERDICT_FAIL, reply, "krb5_get_init_creds_password: %s",
			                msg);
		return;
	}
	a->have_creds = true;

	report_step(a, STEP_VERIFY);
	krb5_verify_init_creds_opt_init(&vopt);
	krb5_verify_init_creds_opt_set_ap_req_nofail(&vopt, 1);
	/* ccache NULL: a service ticket fetched on the way stays in memory and is destroyed. */
	rc = krb5_verify_init_creds(a->ctx, &a->creds, a->server, a->keytab, NULL, &vopt);
	if (rc != 0) {
		static const char reply[] = "NO krb5_verify_init_creds failed";
		attempt_lib_error(a, rc, "krb5_verify_init_creds", msg, sizeof(msg));
		if (kdc_unreachable(rc))
			mech_result_set(result, VERDICT_FAIL, reply, "KDC unreachable: %s", msg);
		else if (keytab_problem(rc))
			mech_result_set(result, VERDICT_FAIL, reply, "verification keytab: %s", msg);
		else
			mech_result_set(result, VERDICT_NO, reply, "ticket verification failed: %s", msg);
		return;
	}
	mech_result_set(result, VERDICT_OK, "OK", NULL);
}

#define child_report sa_krb5_report

/* In the child: one check, its result written to fd, then gone. */
/* One check in the child, its report written to fd. Not inlined: when it returns, its
 * frames (and any stale pointers in them) are below the stack pointer, out of the
 * sanitizer's leak scan. */
static void __attribute__((noinline)) child_run(krb5_context ctx, const struct mech_request *req,
                                                int fd)
{
	struct attempt a;
	struct child_report rep;
	unsigned char msg[SA_KRB5_REPORT_LEN];

	memset(&a, 0, sizeof(a));
	memset(&rep, 0, sizeof(rep));
	a.ctx = ctx;
	a.progress_fd = fd;
	sa_krb5_auth_check(&a, req, &rep.result);
	attempt_free(&a);
	rep.log_priority = a.log_priority;
	memcpy(rep.log_line, a.log_line, sizeof(rep.log_line));
	/* Under PIPE_BUF bytes in all: one write, never partial. */
	sa_krb5_report_encode(&rep, msg);
	if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		_exit(2);
}

static void __attribute__((noreturn)) child_check(krb5_context ctx, const struct mech_request *req,
                                                  int fd, pid_t parent)
{
	static const int defaults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
	                                SIGTERM, SIGINT,  SIGHUP, SIGPIPE };
	struct sigaction sa;
	sigset_t none;

	/* Not the worker's crash handler (the parent answers the client) nor its stop flag;
	 * and gone with the worker. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		sigaction(defaults[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	child_run(ctx, req, fd);
	/* Every krb5 object of the check must be freed by now (sanitizer builds check). */
	SA_KRB5_LEAK_CHECK();
	_exit(0);
}

/* Read the child's progress bytes and its result until it is done or the deadline passes.
 * Returns true with *rep filled; false on timeout or a child that died (*step: the last
 * step it reported, 0 for none). */
static bool collect(int fd, int64_t deadline, struct child_report *rep, char *step)
{
	unsigned char buf[SA_KRB5_REPORT_LEN];
	size_t have = 0;

	*step = 0;
	for (;;) {
		int64_t left = deadline - sa_clock_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return false;
		if (n <= 0)
			continue;
		ssize_t got = read(fd, buf + have, have == 0 ? 1 : sizeof(buf) - have);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return false; /* closed without a result: the child died */
		if (have == 0 && buf[0] != STEP_RESULT) {
			*step = (char)buf[0];
			continue;
		}
		have += (size_t)got;
		if (have == sizeof(buf)) {
			bool ok = sa_krb5_report_decode(buf, have, rep);
			secret_wipe(buf, sizeof(buf));
			if (!ok)
				log_mech(LOG_ERR, "auth_krb5: malformed result from the check process");
			return ok; /* a malformed one is treated as a child without a result */
		}
	}
}

/* The check runs in a child process so that it can be abandoned: MIT krb5 1.20 has no
 * bound on a KDC that accepts a connection and never answers (about 27 s per KDC). */
static void sa_krb5_auth(const struct mech_request *req, struct mech_result *result)
{
	char msg[LIBMSG_MAX];
	krb5_context ctx = worker_context(msg, sizeof(msg));
	int fds[2];
	pid_t pid, parent = getpid();
	char step = 0;
	int status = 0;
	struct child_report rep;

	if (ctx == NULL) {
		mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error",
		                "krb5_init_context: %s", msg);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error", "pipe: %s",
		                strerror(errno));
		return;
	}
	int64_t deadline = sa_clock_ms() + settings.timeout * SA_MS_PER_S;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_check(ctx, req, fds[1], parent);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error", "fork: %s",
		                strerror(errno));
		return;
	}
	bool done = collect(fds[0], deadline, &rep, &step);
	close(fds[0]);
	if (!done)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (done) {
		if (rep.log_line[0] != '\0')
			log_mech(rep.log_priority, "%s", rep.log_line);
		*result = rep.result;
		secret_wipe(&rep, sizeof(rep));
		return;
	}
	if (sa_clock_ms() >= deadline) {
		const char *what = step == STEP_VERIFY ? "krb5_verify_init_creds"
		                                      : "krb5_get_init_creds_password";
		log_mech(LOG_ERR, "auth_krb5: %s: no answer from the KDC within %ld s, abandoned (timeout)",
		         what, settings.timeout);
		mech_result_set(result, VERDICT_FAIL,
		                step == STEP_VERIFY ? "NO krb5_verify_init_creds failed"
		                                    : "NO krb5_get_init_creds_password failed",
		                "KDC unreachable: no answer within %ld s (krb5_timeout)", settings.timeout);
		return;
	}
	if (WIFSIGNALED(status)) {
		log_mech(LOG_ERR, "auth_krb5: check process killed by signal %d", WTERMSIG(status));
		mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error",
		                "Kerberos check process killed by signal %d", WTERMSIG(status));
	} else {
		log_mech(LOG_ERR, "auth_krb5: check process exited with status %d without a result",
		         WEXITSTATUS(status));
		mech_result_set(result, VERDICT_FAIL, "NO saslauthd internal error",
		                "Kerberos check process exited without a result");
	}
}

/* ------------------------------------------------------------------ life cycle */

/* Where the verification key was looked for, and what was found. */
struct keytab_probe {
	char principal[PRINCIPAL_MAX]; /* the verification principal, "?" when unknown */
	char realm[PRINCIPAL_MAX];     /* its realm (the default realm for a referral realm) */
	char ktname[1024];
	const char *step;              /* the library call that failed; NULL when the key is there */
	krb5_error_code rc;
	char msg[LIBMSG_MAX];          /* the library's text for rc */
};

/* Look the verification principal's key up in the keytab (short-lived context). False
 * with step/rc/msg filled when it is not there or cannot be looked for. */
static bool probe_keytab(struct keytab_probe *p)
{
	krb5_context ctx = NULL;
	krb5_principal server = NULL;
	krb5_keytab kt = NULL;
	krb5_keytab_entry entry;
	char *name = NULL;

	memset(p, 0, sizeof(*p));
	str_copy(p->principal, sizeof(p->principal), "?");
	str_copy(p->ktname, sizeof(p->ktname), "?");
	p->step = "krb5_init_context";
	if ((p->rc = krb5_init_context(&ctx)) != 0) {
		lib_message(NULL, p->rc, p->msg, sizeof(p->msg));
		return false;
	}
	p->step = "krb5_sname_to_principal";
	if ((p->rc = server_principal(ctx, &server)) != 0)
		goto out;
	if (krb5_unparse_name(ctx, server, &name) == 0)
		str_copy(p->principal, sizeof(p->principal), name);
	const krb5_data *realm = krb5_princ_realm(ctx, server);
	char *def = NULL;
	if (!krb5_is_referral_realm(realm))
		str_format(p->realm, sizeof(p->realm), "%.*s", (int)realm->length, realm->data);
	else if (krb5_get_default_realm(ctx, &def) == 0)
		str_copy(p->realm, sizeof(p->realm), def);
	krb5_free_default_realm(ctx, def);
	p->step = "krb5_kt_resolve";
	p->rc = settings.keytab != NULL ? krb5_kt_resolve(ctx, settings.keytab, &kt)
	                                : krb5_kt_default(ctx, &kt);
	if (p->rc != 0)
		goto out;
	if (krb5_kt_get_name(ctx, kt, p->ktname, sizeof(p->ktname)) != 0)
		str_copy(p->ktname, sizeof(p->ktname), "?");
	p->step = "krb5_kt_get_entry";
	p->rc = krb5_kt_get_entry(ctx, kt, server, 0, 0, &entry);
	if (p->rc == 0) {
		krb5_free_keytab_entry_contents(ctx, &entry);
		p->step = NULL;
	}
out:
	if (p->rc != 0)
		lib_message(ctx, p->rc, p->msg, sizeof(p->msg));
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	krb5_free_unparsed_name(ctx, name);
	if (server != NULL)
		krb5_free_principal(ctx, server);
	krb5_free_context(ctx);
	return p->step == NULL;
}

/* At start-up and reload: say which verification key will be needed, and warn (the
 * daemon still starts, as Cyrus's does) when the keytab does not have it. Uses a
 * short-lived context, freed before the workers are forked. */
static void preflight(void)
{
	struct keytab_probe p;

	if (probe_keytab(&p))
		log_debug("auth_krb5: verifying tickets with %s from %s", p.principal, p.ktname);
	else if (strcmp(p.step, "krb5_kt_get_entry") == 0)
		log_core(LOG_WARNING,
		         "auth_krb5: no key for %s in %s (%s); every login will fail with "
		         "\"krb5_verify_init_creds failed\" until it is added",
		         p.principal, p.ktname, p.msg);
	else
		log_mech(LOG_WARNING, "auth_krb5: %s: %s (%ld)", p.step, p.msg, (long)p.rc);
}

/* saslauthd --check: the verification key in the keytab, then one AS exchange for a
 * principal that cannot exist in the verification principal's realm, through the same
 * bounded child process as a login. "Client not found" proves the KDC answers. */
static int sa_krb5_check(const struct mech_settings *ms, char *report, size_t reportsz)
{
	struct keytab_probe p;
	struct mech_result result;
	char login[96];
	int status = 0;

	(void)ms;
	if (probe_keytab(&p)) {
		str_format(report, reportsz, "key for %s in %s: ok", p.principal, p.ktname);
	} else {
		if (strcmp(p.step, "krb5_kt_get_entry") == 0)
			str_format(report, reportsz, "no key for %s in %s: %s", p.principal, p.ktname, p.msg);
		else
			str_format(report, reportsz, "keytab for %s: %s: %s", p.principal, p.step, p.msg);
		status = -1;
	}
	if (p.realm[0] == '\0')
		return -1; /* no realm to ask for: already reported */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	str_format(login, sizeof(login), "saslauthd-check-%ld-%ld", (long)getpid(), (long)now.tv_nsec);
	/* Not a secret: the principal does not exist, the KDC refuses before any key is used. */
	struct mech_request req = { .login = login, .password = "no-such-principal", .service = "",
	                            .realm = p.realm, .client_addr = "" };
	sa_krb5_auth(&req, &result);
	size_t len = strlen(report);
	if (result.verdict == VERDICT_FAIL) {
		snprintf(report + len, reportsz - len, "; KDC for %s: %s", p.realm, result.reason);
		return -1;
	}
	snprintf(report + len, reportsz - len, "; KDC for %s answers (%s)", p.realm,
	         result.verdict == VERDICT_NO ? result.reason : "probe principal accepted?!");
	return status;
}

static int sa_krb5_init(const struct mech_settings *ms, char *err, size_t errsz)
{
	struct sa_krb5_settings fresh;

	if (load_settings(ms, &fresh, err, errsz) != 0)
		return -1;
	free_settings(&settings);
	settings = fresh;
	preflight();
	return 0;
}

static int sa_krb5_reload(const struct mech_settings *ms, char *err, size_t errsz)
{
	/* A rejected file keeps the settings in force. */
	return sa_krb5_init(ms, err, errsz);
}

static void sa_krb5_cleanup(void)
{
	if (lib.ctx != NULL && lib.pid == getpid())
		krb5_free_context(lib.ctx);
	lib.ctx = NULL;
	free_settings(&settings);
}

const struct mechanism mech_kerberos5 = {
	.name = "kerberos5",
	.option_means = MECH_OPTION_CONF_FILE,
	.init = sa_krb5_init,
	.auth = sa_krb5_auth,
	.reload = sa_krb5_reload,
	.cleanup = sa_krb5_cleanup,
	.check = sa_krb5_check,
};
