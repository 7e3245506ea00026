#include "saslauthd/server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/protocol.h"
#include "saslauthd/cache.h"
#include "saslauthd/connection.h"
#include "saslauthd/service_manager.h"
#include "saslauthd/stats.h"
#include "saslauthd/worker.h"

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
	struct conn_accept_guard accept_guard; /* -n 0 */
};

static pid_t fork_child(struct master *m)
{
	pid_t pid = fork();
	if (pid == 0) {
		close(m->sigfd);
		worker_signals_init();
	} else if (pid < 0) {
		log_core(LOG_ERR, "fork: %s", strerror(errno));
	}
	return pid;
}

static void spawn_worker(struct master *m, struct worker_slot *slot)
{
	pid_t pid = fork_child(m);
	if (pid == 0) {
		struct worker_config cfg = {
			.policy = &m->srv->policy,
			.listen_fd = m->srv->listen_fd,
			.max_requests = m->srv->opts->max_requests,
			.identity = &m->srv->identity,
		};
		worker_main(&cfg);
	}
	if (pid < 0) {
		slot->respawn_at = sa_clock_ms() + SERVER_RESPAWN_MIN_LIFETIME_MS;
		return;
	}
	slot->pid = pid;
	slot->started_ms = sa_clock_ms();
	stats_count(STAT_WORKER_START);
	log_debug("forked child: %d", (int)pid);
}

static void note_exit(pid_t pid, int status)
{
	if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0))
		stats_count(STAT_WORKER_DIED);
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
			                     sa_clock_ms() - s->started_ms < SERVER_RESPAWN_MIN_LIFETIME_MS;
			s->respawn_at = sa_clock_ms() + (crashed_early ? SERVER_RESPAWN_MIN_LIFETIME_MS : 0);
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
	int64_t now = sa_clock_ms();
	for (int i = 0; i < m->nslots && !m->stopping; i++) {
		if (m->slots[i].pid == 0 && m->slots[i].respawn_at <= now)
			spawn_worker(m, &m->slots[i]);
	}
}

static int next_timeout_ms(const struct master *m)
{
	int64_t now = sa_clock_ms(), soonest = -1;
	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid == 0) {
			int64_t left = m->slots[i].respawn_at - now;
			if (soonest < 0 || left < soonest)
				soonest = left < 0 ? 0 : left;
		}
	}
	if (m->accept_guard.resume_at != 0) {
		int64_t left = sa_ms_until(m->accept_guard.resume_at);
		if (soonest < 0 || left < soonest)
			soonest = left;
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
	sm_notify_reloading();
	if (mech->reload != NULL) {
		struct mech_settings settings = { .option = m->srv->opts->mech_option };
		if (mech->reload(&settings, err, sizeof(err)) != 0) {
			log_core(LOG_ERR, "reload of mechanism %s failed, keeping the old settings: %s",
			         mech->name, err);
			sm_notify_ready("reload failed, old settings kept");
			return;
		}
	}
	if (cache_enabled()) {
		cache_flush();
		log_core(LOG_INFO, "credential cache flushed");
	}
	sm_notify_ready("reloaded");
	/* Workers finish their current request and exit; their replacements are forked
	 * from the reloaded master. */
	signal_workers(m, SIGHUP);
}

/* -n 0: the master accepts and forks one child per connection. */
static void accept_for_child(struct master *m)
{
	int fd = conn_accept(m->srv->listen_fd, &m->accept_guard, sa_clock_ms());

	if (fd < 0)
		return;
	pid_t pid = fork_child(m);
	if (pid == 0) {
		close(m->srv->listen_fd);
		/* Per-connection children exit on TERM/HUP at once, as Cyrus's do. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		struct request_policy policy = m->srv->policy;
		policy.mech = privsep_enter_worker(policy.mech, &m->srv->identity, -1);
		conn_serve_blocking(fd, &policy);
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
	int64_t deadline = sa_clock_ms() + SERVER_SHUTDOWN_GRACE_MS;

	signal_workers(m, SIGTERM);
	reap(m);
	while (children_left(m) && sa_clock_ms() < deadline) {
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

/* Stalled clients should cost a descriptor each, not a refusal: use all the kernel
 * lets us (the soft limit is often 1024 of a hard limit in the hundreds of thousands). */
static void raise_descriptor_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_core(LOG_WARNING, "cannot raise the descriptor limit from %llu: %s",
		         (unsigned long long)was, strerror(errno));
	else
		log_debug("descriptor limit raised from %llu to %llu", (unsigned long long)was,
		          (unsigned long long)rl.rlim_cur);
}

int server_run_master(struct server *srv)
{
	static struct master m;
	sigset_t set;

	memset(&m, 0, sizeof(m));
	m.srv = srv;
	m.nslots = srv->opts->workers;
	raise_descriptor_limit();
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
		/* -n 0 listens in the master, but not while the child cap is reached or
		 * accept() has just run out of descriptors. */
		nfds_t nfds = (m.nslots == 0 &&
		               m.connection_children < SERVER_MAX_CONNECTION_CHILDREN &&
		               conn_accept_ready(&m.accept_guard, sa_clock_ms())) ? 2 : 1;
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
