#include "saslauthd/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/protocol.h"
#include "common/secret.h"

int64_t server_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- one connection */

enum read_outcome { READ_OK, READ_REFUSED, READ_EOF, READ_TIMEOUT, READ_ERROR };

/* Wait until fd is ready or the deadline passes. 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - server_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

struct read_state {
	unsigned char buf[PROTOCOL_REQUEST_MAX];
	size_t len;
	bool queue_empty; /* the last recv found nothing more queued */
	enum parse_status status;
	enum request_field bad_field;
};

/* Read until the request is complete. Clients write the whole request at once, so
 * normally this is one recv with the request and one that finds nothing more: bytes
 * right after the 4th field mean the 5-field form, none mean the 4-field form, and
 * a 4-field client is never made to wait for a 5th field. */
static enum read_outcome read_request(int fd, struct read_state *rs, struct request *req)
{
	int64_t deadline = server_now_ms() + SERVER_REQUEST_DEADLINE_MS;
	int64_t fifth_deadline = 0;

	for (;;) {
		ssize_t n = recv(fd, rs->buf + rs->len, sizeof(rs->buf) - rs->len, 0);
		bool eof = n == 0;
		if (n > 0)
			rs->len += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno != EAGAIN)
			return READ_ERROR;
		rs->queue_empty = n <= 0;

		rs->status = protocol_parse_request(rs->buf, rs->len, req, &rs->bad_field);
		bool full = rs->len == sizeof(rs->buf);
		int64_t wait_until = deadline;
		switch (rs->status) {
		case PARSE_FIVE:
			return READ_OK;
		case PARSE_TOO_LONG:
		case PARSE_EMBEDDED_NUL:
			return READ_REFUSED;
		case PARSE_FOUR:
			if (n > 0 && !full)
				continue; /* one more non-blocking look for a 5th field */
			return READ_OK;
		case PARSE_FIFTH_PARTIAL:
			/* The parse left a valid 4-field request; the address is only a bonus. */
			if (eof || full)
				return READ_OK;
			if (fifth_deadline == 0)
				fifth_deadline = server_now_ms() + SERVER_FIFTH_FIELD_GRACE_MS;
			wait_until = fifth_deadline;
			break;
		case PARSE_INCOMPLETE:
			if (eof)
				return READ_EOF;
			if (full)
				return READ_ERROR;
			break;
		}
		if (n > 0)
			continue;
		int w = wait_fd(fd, POLLIN, wait_until);
		if (w < 0)
			return READ_ERROR;
		if (w == 0)
			return rs->status == PARSE_FIFTH_PARTIAL ? READ_OK : READ_TIMEOUT;
	}
}

static void write_reply(int fd, const char *text)
{
	unsigned char out[PROTOCOL_REPLY_TEXT_MAX + 2];
	size_t len = protocol_encode_reply(out, sizeof(out), text);
	size_t done = 0;
	int64_t deadline = server_now_ms() + SERVER_WRITE_DEADLINE_MS;

	while (done < len) {
		ssize_t n = send(fd, out + done, len - done, MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT, deadline) > 0)
			continue;
		log_core(LOG_ERR, "write failure");
		log_core(LOG_ERR, "write: %s", n < 0 ? strerror(errno) : "client stopped reading");
		return;
	}
}

/* Discard anything the client sent beyond the request, so close() does not reset it. */
static void drain(int fd)
{
	unsigned char junk[512];
	for (int i = 0; i < 16; i++) {
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			return;
	}
}

void server_handle_connection(const struct server *srv, int fd)
{
	struct read_state rs = { .len = 0 };
	struct request req;
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1];

	switch (read_request(fd, &rs, &req)) {
	case READ_OK:
		request_decide(&srv->policy, &req, reply, sizeof(reply));
		break;
	case READ_REFUSED:
		request_refuse(rs.status, rs.bad_field, reply, sizeof(reply));
		break;
	case READ_TIMEOUT:
		log_core(LOG_ERR, "read failure");
		log_core(LOG_ERR, "read: client sent no complete request within %d s, dropped",
		         SERVER_REQUEST_DEADLINE_MS / 1000);
		goto out;
	case READ_EOF:
		if (rs.len > 0)
			log_core(LOG_ERR, "read failure: client closed the connection mid-request");
		goto out;
	case READ_ERROR:
		log_core(LOG_ERR, "read failure");
		log_core(LOG_ERR, "read: %s", rs.len == sizeof(rs.buf) ? "request too large"
		                                                      : strerror(errno));
		goto out;
	}
	write_reply(fd, reply);
	if (!rs.queue_empty)
		drain(fd);
out:
	secret_wipe(&rs, sizeof(rs));
	protocol_request_wipe(&req);
}

/* ---------------------------------------------------------------- workers */

static volatile sig_atomic_t worker_idle;
static volatile sig_atomic_t worker_stop;

/* A worker waiting for a connection has nothing to lose: leave at once. A worker
 * serving a request finishes it first. worker_idle is set before worker_stop is
 * checked, so a signal can never slip in between the check and the wait. */
static void worker_on_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
	if (worker_idle)
		_exit(0);
}

static void child_signals(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal; /* no SA_RESTART: a blocking accept returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static bool accept_lock(const struct server *srv, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	if (srv->accept_lock_fd < 0)
		return true;
	if (fcntl(srv->accept_lock_fd, type == F_UNLCK ? F_SETLK : F_SETLKW, &fl) != 0) {
		if (errno != EINTR) {
			log_core(LOG_ERR, type == F_UNLCK ? "could not release accept lock"
			                                  : "could not acquire accept lock");
			log_core(LOG_ERR, "fcntl: %s", strerror(errno));
		}
		return false;
	}
	log_debug(type == F_UNLCK ? "released accept lock" : "acquired accept lock");
	return true;
}

static void worker_main(const struct server *srv)
{
	long served = 0;

	if (srv->policy.mech->worker_init != NULL)
		srv->policy.mech->worker_init();
	for (;;) {
		worker_idle = 1;
		if (worker_stop)
			break;
		if (!accept_lock(srv, F_WRLCK)) {
			if (errno != EINTR)
				sleep(1);
			continue;
		}
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int accept_errno = errno;
		worker_idle = 0;
		accept_lock(srv, F_UNLCK);
		if (fd < 0) {
			if (accept_errno != EINTR && accept_errno != ECONNABORTED &&
			    accept_errno != EAGAIN) {
				log_core(LOG_ERR, "socket accept failure");
				log_core(LOG_ERR, "accept: %s", strerror(accept_errno));
				sleep(1);
			}
			continue;
		}
		server_handle_connection(srv, fd);
		close(fd);
		if (srv->opts->max_requests > 0 && ++served >= srv->opts->max_requests)
			break;
	}
	if (srv->policy.mech->cleanup != NULL)
		srv->policy.mech->cleanup();
	_exit(0);
}

/* ---------------------------------------------------------------- master */

struct worker_slot {
	pid_t pid;          /* 0: empty */
	int64_t started_ms;
	int64_t respawn_at; /* when an empty slot may be refilled */
};

struct master {
	struct server *srv;
	int sigfd;
	bool stopping;
	struct worker_slot slots[OPTIONS_MAX_WORKERS];
	int nslots;
	pid_t connections[SERVER_MAX_CONNECTION_CHILDREN]; /* -n 0 children; 0: free */
	int connection_children;
};

static pid_t fork_child(struct master *m)
{
	pid_t pid = fork();
	if (pid == 0) {
		close(m->sigfd);
		child_signals();
	} else if (pid < 0) {
		log_core(LOG_ERR, "fork: %s", strerror(errno));
	}
	return pid;
}

static void spawn_worker(struct master *m, struct worker_slot *slot)
{
	pid_t pid = fork_child(m);
	if (pid == 0)
		worker_main(m->srv);
	if (pid < 0) {
		slot->respawn_at = server_now_ms() + SERVER_RESPAWN_MIN_LIFETIME_MS;
		return;
	}
	slot->pid = pid;
	slot->started_ms = server_now_ms();
	log_debug("forked child: %d", (int)pid);
}

static void note_exit(pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_core(LOG_ERR, "child %d killed by signal %d (%s)", (int)pid, WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_core(LOG_ERR, "child %d exited with status %d", (int)pid, WEXITSTATUS(status));
	else
		log_debug("child exited: %d", (int)pid);
}

static void reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		note_exit(pid, status);
		bool was_worker = false;
		for (int i = 0; i < m->nslots; i++) {
			struct worker_slot *s = &m->slots[i];
			if (s->pid != pid)
				continue;
			was_worker = true;
			s->pid = 0;
			bool crashed_early = !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
			                     server_now_ms() - s->started_ms < SERVER_RESPAWN_MIN_LIFETIME_MS;
			s->respawn_at = server_now_ms() + (crashed_early ? SERVER_RESPAWN_MIN_LIFETIME_MS : 0);
		}
		for (int i = 0; !was_worker && i < SERVER_MAX_CONNECTION_CHILDREN; i++) {
			if (m->connections[i] == pid) {
				m->connections[i] = 0;
				m->connection_children--;
				break;
			}
		}
	}
}

static void refill(struct master *m)
{
	int64_t now = server_now_ms();
	for (int i = 0; i < m->nslots && !m->stopping; i++) {
		if (m->slots[i].pid == 0 && m->slots[i].respawn_at <= now)
			spawn_worker(m, &m->slots[i]);
	}
}

static int next_timeout_ms(const struct master *m)
{
	int64_t now = server_now_ms(), soonest = -1;
	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid == 0) {
			int64_t left = m->slots[i].respawn_at - now;
			if (soonest < 0 || left < soonest)
				soonest = left < 0 ? 0 : left;
		}
	}
	return (int)soonest;
}

static void signal_workers(struct master *m, int sig)
{
	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid > 0)
			kill(m->slots[i].pid, sig);
	}
	for (int i = 0; i < SERVER_MAX_CONNECTION_CHILDREN; i++) {
		if (m->connections[i] > 0)
			kill(m->connections[i], sig);
	}
}

static void reload(struct master *m)
{
	const struct mechanism *mech = m->srv->policy.mech;
	char err[512] = "";

	log_core(LOG_INFO, "SIGHUP received: reloading");
	if (mech->reload != NULL) {
		struct mech_settings settings = { .option = m->srv->opts->mech_option };
		if (mech->reload(&settings, err, sizeof(err)) != 0) {
			log_core(LOG_ERR, "reload of mechanism %s failed, keeping the old settings: %s",
			         mech->name, err);
			return;
		}
	}
	/* Workers finish their current request and exit; their replacements are forked
	 * from the reloaded master. */
	signal_workers(m, SIGHUP);
}

/* -n 0: the master accepts and forks one child per connection. */
static void accept_for_child(struct master *m)
{
	int fd = accept4(m->srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
			log_core(LOG_ERR, "socket accept failure");
			log_core(LOG_ERR, "accept: %s", strerror(errno));
		}
		return;
	}
	pid_t pid = fork_child(m);
	if (pid == 0) {
		close(m->srv->listen_fd);
		server_handle_connection(m->srv, fd);
		_exit(0);
	}
	for (int i = 0; pid > 0 && i < SERVER_MAX_CONNECTION_CHILDREN; i++) {
		if (m->connections[i] == 0) {
			m->connections[i] = pid;
			m->connection_children++;
			break;
		}
	}
	close(fd);
}

static void handle_signals(struct master *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(m);
			break;
		case SIGHUP:
			if (!m->stopping)
				reload(m);
			break;
		default:
			m->stopping = true;
			break;
		}
	}
}

static bool children_left(const struct master *m)
{
	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid > 0)
			return true;
	}
	return m->connection_children > 0;
}

/* Ask workers to stop, wait a bounded time, then kill what is left. */
static void stop_children(struct master *m)
{
	int64_t deadline = server_now_ms() + SERVER_SHUTDOWN_GRACE_MS;

	signal_workers(m, SIGTERM);
	reap(m);
	while (children_left(m) && server_now_ms() < deadline) {
		struct pollfd pfd = { .fd = m->sigfd, .events = POLLIN };
		if (poll(&pfd, 1, 100) > 0)
			handle_signals(m);
		reap(m);
	}
	if (children_left(m)) {
		signal_workers(m, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0)
			;
	}
}

int server_run_master(struct server *srv)
{
	static struct master m;
	sigset_t set;

	memset(&m, 0, sizeof(m));
	m.srv = srv;
	m.nslots = srv->opts->workers;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	m.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m.sigfd < 0) {
		log_core(LOG_ERR, "signalfd: %s", strerror(errno));
		return 1;
	}
	if (m.nslots > 0)
		log_debug("using process model");
	while (!m.stopping) {
		refill(&m);
		struct pollfd pfd[2] = {
			{ .fd = m.sigfd, .events = POLLIN },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};
		/* -n 0 listens in the master, but not while the child cap is reached. */
		nfds_t nfds = (m.nslots == 0 &&
		               m.connection_children < SERVER_MAX_CONNECTION_CHILDREN) ? 2 : 1;
		int r = poll(pfd, nfds, next_timeout_ms(&m));
		if (r < 0 && errno != EINTR) {
			log_core(LOG_ERR, "poll: %s", strerror(errno));
			break;
		}
		if (r > 0 && (pfd[0].revents & POLLIN))
			handle_signals(&m);
		if (r > 0 && nfds == 2 && (pfd[1].revents & POLLIN) && !m.stopping)
			accept_for_child(&m);
	}
	stop_children(&m);
	close(m.sigfd);
	return 0;
}
