/* saslpasswd2: set or delete a user's password in a sasldb2 file, with the options,
 * messages and exit statuses of Cyrus SASL 2.1.28's saslpasswd2 (utils/saslpasswd.c).
 * The file is changed through sasldb_store, i.e. on a copy renamed over the original. */
#include "build_config.h"
#include "common/sasldb_store.h"
#include "common/secret.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Cyrus reads the password with one read() into a buffer of this size. */
#define PASSWORD_MAX 2048
/* Cyrus's host name buffer: gethostname() into 1025 bytes, the last kept NUL. */
#define HOSTNAME_MAX 1024
#define ERR_MAX 1024

/* Cyrus exits with the negated libsasl2 status and prints its sasl_errstring(). */
#define EXIT_SASL_FAIL 1     /* SASL_FAIL */
#define EXIT_SASL_BADPARAM 7 /* SASL_BADPARAM */
#define MSG_SASL_FAIL "generic failure"
#define MSG_SASL_BADPARAM "invalid parameter supplied"

#define PROMPT_PASSWORD "Password: "
#define PROMPT_AGAIN "Again (for verification): "

static const char *progname = "saslpasswd2";

struct options {
	bool pipe;
	bool create;
	bool disable;
	bool noplain;
	const char *file;
	const char *domain;
	const char *userid;
};

/* One more than a password may have, and room for the newline, to notice overlong input. */
struct password {
	char data[PASSWORD_MAX + 2];
	size_t len;
};

/* ---- terminal ---- */

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* Leave the terminal echoing even if interrupted at the prompt. */
static void restore_tty_and_reraise(int sig)
{
	if (tty_changed)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

static void install_tty_guards(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty_and_reraise;
	(void)sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

/* The flags Cyrus clears: no echo of the password, but the final newline is echoed. */
static bool echo_off(void)
{
	if (tcgetattr(STDIN_FILENO, &saved_tty) != 0)
		return false;
	struct termios quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHOCTL | ECHOPRT | ECHOKE);
	quiet.c_lflag |= ICANON | ECHONL;
	tty_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
		tty_changed = 0;
		return false;
	}
	return true;
}

static void echo_restore(void)
{
	(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_changed = 0;
}

/* ---- reading the password ---- */

/* Until a chunk ends in a newline, the input ends, or the buffer is full. A single
 * write such as `echo pw |` (or a terminal line) is one chunk, as for Cyrus's single
 * read(); looping only adds robustness against short reads. */
static bool read_chunked(struct password *pw)
{
	size_t n = 0;
	while (n < sizeof(pw->data)) {
		ssize_t r = read(STDIN_FILENO, pw->data + n, sizeof(pw->data) - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (pw->data[n - 1] == '\n')
			break;
	}
	pw->len = n;
	return true;
}

static bool read_password(const char *prompt, bool pipe_mode, struct password *pw)
{
	if (pipe_mode) {
		if (!read_chunked(pw))
			return false;
	} else {
		/* Echo goes off before the prompt appears (Cyrus: after), so that nothing typed
		 * once the prompt is visible is echoed or dropped by the TCSAFLUSH. */
		if (!echo_off())
			return false;
		(void)fputs(prompt, stdout);
		(void)fflush(stdout);
		bool ok = read_chunked(pw);
		int saved = errno;
		echo_restore();
		if (!ok) {
			errno = saved;
			return false;
		}
		if (pw->len > 0 && pw->data[pw->len - 1] != '\n') {
			(void)putchar('\n');
			(void)fflush(stdout);
		}
	}
	if (pw->len > 0 && pw->data[pw->len - 1] == '\n')
		pw->len--;
	return true;
}

/* ---- messages ---- */

static void usage(void)
{
	(void)fprintf(stderr,
	              "%s: usage: %s [-v] [-c [-p] [-n]] [-d] [-a appname] [-f sasldb] [-u DOM] userid\n"
	              "\t-p\tpipe mode -- no prompt, password read on stdin\n"
	              "\t-c\tcreate -- ask mechs to create the account\n"
	              "\t-d\tdisable -- ask mechs to disable/delete the account\n"
	              "\t-n\tno userPassword -- don't set plaintext userPassword property\n"
	              "\t  \t                   (only set mechanism-specific secrets)\n"
	              "\t-f sasldb\tuse given file as sasldb\n"
	              "\t-a appname\tuse appname as application name\n"
	              "\t-u DOM\tuse DOM for user domain\n"
	              "\t-v\tprint version numbers and exit\n",
	              progname, progname);
}

/* Cyrus prints libsasl2's version here; this is not libsasl2, so say what it is. */
static void version(void)
{
	(void)fprintf(stderr,
	              "%s from saslauthd-ng %s\n"
	              "sasldb2 files as written by Cyrus SASL 2.1.28 (Berkeley DB hash)\n",
	              progname, SASLAUTHD_VERSION);
}

/* "saslpasswd2: <detail>" then Cyrus's own line, so scripts matching it still work. */
static int fail(int code, const char *cyrus_msg, const char *detail)
{
	if (detail != NULL && detail[0] != '\0')
		(void)fprintf(stderr, "%s: %s\n", progname, detail);
	(void)fprintf(stderr, "%s: %s\n", progname, cyrus_msg);
	return code;
}

/* ---- options ---- */

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	bool error = false;
	int c;

	while ((c = getopt(argc, argv, "vpcdnf:u:a:h?")) != -1) {
		switch (c) {
		case 'p':
			o->pipe = true;
			break;
		case 'c':
			error |= o->disable;
			o->create = !o->disable;
			break;
		case 'd':
			error |= o->create;
			o->disable = !o->create;
			break;
		case 'n':
			o->noplain = true;
			break;
		case 'u':
			o->domain = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'a':
			/* accepted and otherwise ignored: the file comes from -f only */
			if (strchr(optarg, '/') != NULL) {
				(void)fprintf(stderr, "appname must not contain /\n");
				return EXIT_SASL_FAIL;
			}
			break;
		case 'v':
			version();
			return EXIT_SUCCESS;
		default:
			error = true;
			break;
		}
	}
	if (optind != argc - 1)
		error = true;
	if (error) {
		usage();
		return EXIT_SASL_FAIL;
	}
	o->userid = argv[optind];
	return -1;
}

/* As libsasl2 does it: "user@realm" is split at the first '@' (and then -u does not
 * apply); otherwise the realm is -u, or the host name when -u is absent or empty. */
static bool split_userid(const struct options *o, const char *hostname, char *user,
                         char *realm)
{
	const char *at = strchr(o->userid, '@');
	const char *r = at != NULL ? at + 1
	                : (o->domain != NULL && o->domain[0] != '\0') ? o->domain
	                                                             : hostname;
	size_t ulen = at != NULL ? (size_t)(at - o->userid) : strlen(o->userid);
	size_t rlen = strlen(r);
	if (ulen > SASLDB_NAME_MAX || rlen > SASLDB_NAME_MAX)
		return false;
	memcpy(user, o->userid, ulen);
	user[ulen] = '\0';
	memcpy(realm, r, rlen + 1);
	return true;
}

/* ---- actions ---- */

static int delete_user(const struct options *o, const char *user, const char *realm)
{
	char err[ERR_MAX];
	enum sasldb_status st = sasldb_delete_user(o->file, user, realm, err, sizeof(err));
	/* Cyrus reports success for a user that was not there, and so do we. */
	if (st == SASLDB_OK || st == SASLDB_NOT_FOUND)
		return EXIT_SUCCESS;
	return fail(EXIT_SASL_FAIL, MSG_SASL_FAIL, err);
}

static int read_new_password(bool pipe_mode, struct password *pw, struct password *again)
{
	char detail[ERR_MAX];

	if (!read_password(PROMPT_PASSWORD, pipe_mode, pw)) {
		(void)snprintf(detail, sizeof(detail), "cannot read the password: %s",
		               strerror(errno));
		return fail(EXIT_SASL_FAIL, MSG_SASL_FAIL, detail);
	}
	if (!pipe_mode) {
		if (!read_password(PROMPT_AGAIN, pipe_mode, again)) {
			(void)snprintf(detail, sizeof(detail), "cannot read the password: %s",
			               strerror(errno));
			return fail(EXIT_SASL_FAIL, MSG_SASL_FAIL, detail);
		}
		if (!secret_equal(pw->data, pw->len, again->data, again->len)) {
			(void)fprintf(stderr, "%s: passwords don't match; aborting\n", progname);
			return EXIT_SASL_BADPARAM;
		}
	}
	if (pw->len == 0)
		return fail(EXIT_SASL_BADPARAM, MSG_SASL_BADPARAM, NULL);
	if (pw->len > PASSWORD_MAX) {
		(void)snprintf(detail, sizeof(detail), "password longer than %d bytes",
		               PASSWORD_MAX);
		return fail(EXIT_SASL_BADPARAM, MSG_SASL_BADPARAM, detail);
	}
	return -1;
}

static int set_password(const struct options *o, const char *user, const char *realm)
{
	struct password pw = { .len = 0 }, again = { .len = 0 };
	/* Like Cyrus: standard input that is not a terminal is read as with -p. */
	bool pipe_mode = o->pipe || !isatty(STDIN_FILENO);
	if (!pipe_mode)
		install_tty_guards();

	int rc = read_new_password(pipe_mode, &pw, &again);
	if (rc < 0) {
		char err[ERR_MAX];
		/* -c does not refuse an existing user: libsasl2 2.1.28's sasldb path ignores
		 * SASL_SET_CREATE, so Debian's saslpasswd2 -c simply replaces the password. */
		enum sasldb_status st = sasldb_set_password(o->file, user, realm, pw.data, pw.len,
		                                            false, err, sizeof(err));
		rc = st == SASLDB_OK ? EXIT_SUCCESS : fail(EXIT_SASL_FAIL, MSG_SASL_FAIL, err);
	}
	secret_wipe(&pw, sizeof(pw));
	secret_wipe(&again, sizeof(again));
	return rc;
}

static const char *base_name(const char *argv0)
{
	if (argv0 == NULL || argv0[0] == '\0')
		return "saslpasswd2";
	const char *slash = strrchr(argv0, '/');
	return slash != NULL ? slash + 1 : argv0;
}

int main(int argc, char **argv)
{
	progname = base_name(argv[0]);
	struct options o = { .file = SASLAUTHD_DEFAULT_SASLDB };

	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;

	char hostname[HOSTNAME_MAX + 1];
	memset(hostname, 0, sizeof(hostname));
	if (gethostname(hostname, sizeof(hostname) - 1) != 0)
		return fail(EXIT_SASL_FAIL, MSG_SASL_FAIL ": gethostname", NULL);

	if (o.noplain)
		return fail(EXIT_SASL_FAIL, MSG_SASL_FAIL,
		            "-n is not supported: it would store only the secrets of SASL "
		            "mechanisms, but this sasldb holds nothing but the plaintext "
		            "userPassword, so -n would store nothing; nothing was changed");

	char user[SASLDB_NAME_MAX + 1], realm[SASLDB_NAME_MAX + 1];
	if (!split_userid(&o, hostname, user, realm)) {
		char detail[ERR_MAX];
		(void)snprintf(detail, sizeof(detail), "user name or realm longer than %d bytes",
		               SASLDB_NAME_MAX);
		return fail(EXIT_SASL_BADPARAM, MSG_SASL_BADPARAM, detail);
	}
	return o.disable ? delete_user(&o, user, realm) : set_password(&o, user, realm);
}
