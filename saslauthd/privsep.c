#include "saslauthd/privsep.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/protocol.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "saslauthd/chain.h"

/* The mechanism's name, then the request's five fields. */
#define PRIVSEP_REQUEST_FIELDS 6

/* One verifier per worker decides for every mechanism of the chain that needs root. */
static struct {
	const struct chain *chain;
	int fd;
	bool lost;
} verifier = { .fd = -1 };

bool privsep_resolve(const char *spec, struct privsep_identity *id, char *err, size_t errsz)
{
	char name[PRIVSEP_NAME_MAX];
	const char *group = NULL;

	memset(id, 0, sizeof(*id));
	if (!str_copy(name, sizeof(name), spec)) {
		str_format(err, errsz, "--user %s: name too long", spec);
		return false;
	}
	char *colon = strchr(name, ':');
	if (colon != NULL) {
		*colon = '\0';
		group = colon + 1;
	}
	struct passwd *pw = getpwnam(name);
	if (pw == NULL) {
		str_format(err, errsz, "--user: no such user: %s", name);
		return false;
	}
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			str_format(err, errsz, "--user: no such group: %s", group);
			return false;
		}
		id->gid = gr->gr_gid;
	}
	if (id->uid == 0) {
		str_format(err, errsz, "--user %s: that is root; nothing would be dropped", name);
		return false;
	}
	str_copy(id->user, sizeof(id->user), name);
	id->enabled = true;
	return true;
}

/* ---------------------------------------------------------------- message codec */

size_t privsep_encode(unsigned char *out, size_t outsz, const char *const *s, int n)
{
	size_t pos = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(s[i]);
		/* Nothing the other side would refuse. */
		if (len > PRIVSEP_FIELD_MAX)
			return 0;
		size_t w = protocol_put_counted(out + pos, outsz - pos, s[i], len);
		if (w == 0)
			return 0;
		pos += w;
	}
	return pos;
}

bool privsep_decode(const unsigned char *in, size_t len, char out[][PRIVSEP_FIELD_MAX + 1], int n)
{
	size_t pos = 0;
	for (int i = 0; i < n; i++) {
		if (len - pos < 2)
			return false;
		size_t flen = ((size_t)in[pos] << 8) | in[pos + 1];
		if (flen > PRIVSEP_FIELD_MAX || len - pos - 2 < flen)
			return false;
		memcpy(out[i], in + pos + 2, flen);
		out[i][flen] = '\0';
		pos += 2 + flen;
	}
	return pos == len;
}

/* ---------------------------------------------------------------- verifier (root) */

/* The chain's mechanism that needs root and has this name, or NULL. */
static const struct mechanism *root_mechanism(const struct chain *chain, const char *name)
{
	for (int i = 0; i < chain->count; i++) {
		const struct mechanism *m = chain->steps[i].mech;
		if (m->needs_root && strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

static void verifier_answer(int fd, const struct chain *chain, const unsigned char *msg,
                            size_t len)
{
	const struct mechanism *mech = NULL;

	static char f[PRIVSEP_REQUEST_FIELDS][PRIVSEP_FIELD_MAX + 1];
	static unsigned char out[PRIVSEP_MESSAGE_MAX];
	struct mech_result result;
	char verdict[2] = { 0, 0 };

	memset(&result, 0, sizeof(result));
	if (privsep_decode(msg, len, f, PRIVSEP_REQUEST_FIELDS) &&
	    (mech = root_mechanism(chain, f[0])) != NULL) {
		struct mech_request req = {
			.login = f[1], .password = f[2], .service = f[3], .realm = f[4],
			.client_addr = f[5],
		};
		mech->auth(&req, &result);
	} else {
		mech_result_set(&result, VERDICT_FAIL, "NO internal mechanism failure",
		                "malformed request from the worker");
	}
	verdict[0] = (char)('0' + result.verdict);
	const char *parts[3] = { verdict, result.reply, result.reason };
	size_t n = privsep_encode(out, sizeof(out), parts, 3);
	if (n == 0 || send(fd, out, n, MSG_NOSIGNAL) != (ssize_t)n)
		log_core(LOG_ERR, "privileged verifier: cannot answer the worker: %s", strerror(errno));
	secret_wipe(f, sizeof(f));
	secret_wipe(&result, sizeof(result));
}

static void verifier_main(int fd, const struct chain *chain) __attribute__((noreturn));

static void verifier_main(int fd, const struct chain *chain)
{
	static unsigned char msg[PRIVSEP_MESSAGE_MAX];
	sigset_t none;

	/* Die with the worker; stop signals end it at once (it holds no client). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (getppid() == 1)
		_exit(0);
	for (int i = 0; i < chain->count; i++) {
		const struct mechanism *m = chain->steps[i].mech;
		if (m->needs_root && m->worker_init != NULL)
			m->worker_init();
	}
	for (;;) {
		ssize_t n = recv(fd, msg, sizeof(msg), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		verifier_answer(fd, chain, msg, (size_t)n);
		secret_wipe(msg, (size_t)n);
	}
	for (int i = 0; i < chain->count; i++) {
		const struct mechanism *m = chain->steps[i].mech;
		if (m->needs_root && m->cleanup != NULL)
			m->cleanup();
	}
	_exit(0);
}

/* ---------------------------------------------------------------- worker side */

static bool await_verdict(unsigned char *buf, size_t bufsz, size_t *len)
{
	struct pollfd pfd = { .fd = verifier.fd, .events = POLLIN };
	int r;

	do {
		r = poll(&pfd, 1, PRIVSEP_VERDICT_TIMEOUT_MS);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		return false;
	ssize_t n = recv(verifier.fd, buf, bufsz, 0);
	if (n <= 0)
		return false;
	*len = (size_t)n;
	return true;
}

bool privsep_decides(const struct mechanism *mech)
{
	return verifier.fd >= 0 && mech->needs_root;
}

void privsep_auth(const struct mechanism *mech, const struct mech_request *req,
                  struct mech_result *result)
{
	static unsigned char msg[PRIVSEP_MESSAGE_MAX];
	static char f[3][PRIVSEP_FIELD_MAX + 1];
	const char *parts[PRIVSEP_REQUEST_FIELDS] = {
		mech->name, req->login, req->password, req->service, req->realm, req->client_addr,
	};
	size_t len = privsep_encode(msg, sizeof(msg), parts, PRIVSEP_REQUEST_FIELDS);
	bool ok = len > 0 && !verifier.lost &&
	          send(verifier.fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len;

	secret_wipe(msg, sizeof(msg));
	if (ok)
		ok = await_verdict(msg, sizeof(msg), &len) && privsep_decode(msg, len, f, 3) &&
		     f[0][0] >= '0' + VERDICT_OK && f[0][0] <= '0' + VERDICT_FAIL;
	if (!ok) {
		/* A crashed PAM module takes the verifier with it; the pair is replaced. */
		verifier.lost = true;
		mech_result_set(result, VERDICT_FAIL, "NO internal mechanism failure",
		                "privileged verifier of mechanism %s died or did not answer",
		                mech->name);
		return;
	}
	result->verdict = (enum verdict)(f[0][0] - '0');
	str_copy(result->reply, sizeof(result->reply), f[1]);
	str_copy(result->reason, sizeof(result->reason), f[2]);
	secret_wipe(f, sizeof(f));
}

static bool start_verifier(const struct chain *chain, int client_fd)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_core(LOG_ERR, "privileged verifier: socketpair: %s", strerror(errno));
		return false;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_core(LOG_ERR, "privileged verifier: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	if (pid == 0) {
		close(sv[0]);
		if (client_fd >= 0)
			close(client_fd); /* the root side never touches a client */
		verifier_main(sv[1], chain);
	}
	close(sv[1]);
	verifier.fd = sv[0];
	verifier.chain = chain;
	log_debug("started privileged verifier %d for mechanism %s", (int)pid, chain->name);
	return true;
}

static void drop_privileges(const struct privsep_identity *id)
{
	if (initgroups(id->user, id->gid) != 0 || setgid(id->gid) != 0 || setuid(id->uid) != 0) {
		log_core(LOG_ERR, "cannot drop privileges to %s: %s", id->user, strerror(errno));
		_exit(1);
	}
	if (setuid(0) == 0) {
		log_core(LOG_ERR, "privileges were not dropped (could regain root); stopping");
		_exit(1);
	}
	/* setuid already clears it; said again because it guards passwords in memory. */
	prctl(PR_SET_DUMPABLE, 0);
}

static bool chain_needs_root(const struct chain *chain)
{
	for (int i = 0; i < chain->count; i++) {
		if (chain->steps[i].mech->needs_root)
			return true;
	}
	return false;
}

void privsep_enter_worker(const struct chain *chain, const struct privsep_identity *id,
                          int client_fd)
{
	if (id == NULL || !id->enabled)
		return;
	if (chain_needs_root(chain) && !start_verifier(chain, client_fd))
		_exit(1);
	drop_privileges(id);
}

bool privsep_verifier_lost(void)
{
	return verifier.lost;
}

int privsep_verifier_fd(void)
{
	return verifier.fd;
}
