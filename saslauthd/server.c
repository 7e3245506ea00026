#include "saslauthd/server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/inet_diag.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* TCP_LISTEN from <netinet/tcp.h>: sock_diag names socket states by TCP's numbers. */
#define TCP_LISTEN_STATE 10

/* Slots below -n are the floor: refilled whenever empty. Slots from -n up to
 * --max-workers are filled only while every worker is deciding and connections wait,
 * and emptied again after --worker-idle without work. */
struct worker_slot {
	pid_t pid;          /* 0: empty */
	int64_t started_ms;
	int64_t respawn_at; /* when an empty floor slot may be refilled */
	bool retiring;      /* sent SIGTERM for idleness */
	uint64_t decisions_seen; /* its decision count at the previous tick */
	uint64_t busy_us_seen;   /* its busy time at the previous tick */
};

struct master {
	struct server *srv;
	int sigfd;
	bool stopping;
	struct worker_slot slots[OPTIONS_MAX_WORKERS];
	int nslots;  /* the floor, -n */
	int nmax;    /* the ceiling, --max-workers */
	struct worker_state *states; /* shared with the workers, one per slot */
	int diag_fd; /* NETLINK_SOCK_DIAG, for the listen queue's length; -1: unavailable */
	int64_t next_tick;
	pid_t connections[SERVER_MAX_CONNECTION_CHILDREN]; /* -n 0 children; 0: free */
	int connection_children;
	struct conn_accept_guard accept_guard; /* -n 0 */
};

static pid_t fork_child(struct master *m)
{
	pid_t pid = fork();
	if (pid == 0) {
		close(m->sigfd);
		/* An unprivileged worker must not hold root's pid file or locks. */
		for (int i = 0; i < SERVER_MASTER_FDS_MAX; i++) {
			if (m->srv->master_fds[i] >= 0)
				close(m->srv->master_fds[i]);
		}
		worker_signals_init();
	} else if (pid < 0) {
		log_core(LOG_ERR, "fork: %s", strerror(errno));
	}
	return pid;
}

static void spawn_worker(struct master *m, int index)
{
	struct worker_slot *slot = &m->slots[index];
	struct worker_state *state = m->states != NULL ? &m->states[index] : NULL;

	if (state != NULL)
		*state = (struct worker_state){ .idle_since = sa_clock_ms() };
	pid_t pid = fork_child(m);
	if (pid == 0) {
		struct worker_config cfg = {
			.policy = &m->srv->policy,
			.listen_fd = m->srv->listen_fd,
			.max_requests = m->srv->opts->max_requests,
			.identity = &m->srv->identity,
			.state = state,
		};
		if (m->diag_fd >= 0)
			close(m->diag_fd);
		worker_main(&cfg);
	}
	if (pid < 0) {
		slot->respawn_at = sa_clock_ms() + SERVER_RESPAWN_MIN_LIFETIME_MS;
		return;
	}
	slot->pid = pid;
	slot->retiring = false;
	slot->decisions_seen = 0;
	slot->busy_us_seen = 0;
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
		for (int i = 0; i < m->nmax; i++) {
			struct worker_slot *s = &m->slots[i];
			if (s->pid != pid)
				continue;
			was_worker = true;
			s->pid = 0;
			if (m->states != NULL)
				m->states[i].busy = 0; /* it may have died deciding */
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
			spawn_worker(m, i);
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
	if (m->nslots > 0) {
		int64_t left = sa_ms_until(m->next_tick);
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	return (int)soonest;
}

static void signal_workers(struct master *m, int sig)
{
	for (int i = 0; i < m->nmax; i++) {
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
	log_core(LOG_INFO, "SIGHUP received: reloading");
	sm_notify_reloading();
	if (chain_reload(&m->srv->opts->chain) != 0) {
		sm_notify_ready("reload failed, old settings kept");
		return;
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
		/* The root verifier must not inherit the client's connection. */
		privsep_enter_worker(policy.chain, &m->srv->identity, fd);
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
	for (int i = 0; i < m->nmax; i++) {
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

/* Connections waiting in the listen queue: the kernel's count through sock_diag, or
 * just whether there is one when that is unavailable. */
static long listen_queue_length(const struct master *m)
{
	struct stat st;
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q;
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	} a;

	if (m->diag_fd >= 0 && fstat(m->srv->listen_fd, &st) == 0) {
		memset(&q, 0, sizeof(q));
		q.nlh.nlmsg_len = sizeof(q);
		q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		q.nlh.nlmsg_flags = NLM_F_REQUEST;
		q.req.sdiag_family = AF_UNIX;
		q.req.udiag_states = 1u << TCP_LISTEN_STATE;
		q.req.udiag_ino = (uint32_t)st.st_ino;
		q.req.udiag_show = UDIAG_SHOW_RQLEN;
		q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
		ssize_t n;
		if (send(m->diag_fd, &q, sizeof(q), 0) == (ssize_t)sizeof(q) &&
		    (n = recv(m->diag_fd, &a, sizeof(a), 0)) > 0 && NLMSG_OK(&a.nlh, (size_t)n) &&
		    a.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct unix_diag_msg *msg = NLMSG_DATA(&a.nlh);
			int len = (int)a.nlh.nlmsg_len - (int)NLMSG_LENGTH(sizeof(*msg));
			for (struct rtattr *at = (struct rtattr *)(msg + 1); RTA_OK(at, len);
			     at = RTA_NEXT(at, len)) {
				if (at->rta_type == UNIX_DIAG_RQLEN &&
				    RTA_PAYLOAD(at) >= sizeof(struct unix_diag_rqlen))
					return (long)((struct unix_diag_rqlen *)RTA_DATA(at))->udiag_rqueue;
			}
		}
	}
	struct pollfd pfd = { .fd = m->srv->listen_fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 ? 1 : 0;
}

static int empty_growth_slot(const struct master *m)
{
	for (int i = m->nslots; i < m->nmax; i++) {
		if (m->slots[i].pid == 0)
			return i;
	}
	return -1;
}

/* Retire one idle worker above the floor (one a tick is plenty). */
static void retire_idle(struct master *m, int64_t now)
{
	int64_t idle_ms = m->srv->opts->worker_idle * SA_MS_PER_S;

	for (int i = m->nslots; i < m->nmax; i++) {
		struct worker_slot *s = &m->slots[i];
		struct worker_state *st = &m->states[i];
		if (s->pid == 0 || s->retiring || __atomic_load_n(&st->busy, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&st->held, __ATOMIC_RELAXED) != 0 ||
		    now - __atomic_load_n(&st->idle_since, __ATOMIC_RELAXED) < idle_ms)
			continue;
		s->retiring = true;
		kill(s->pid, SIGTERM);
		stats_count(STAT_POOL_RETIRED);
		log_debug("retiring idle worker %d", (int)s->pid);
		return;
	}
}

/* A busy worker is slow when it has been inside the same decision since the previous
 * tick, or its decisions since then took SERVER_SLOW_DECISION_US on average. */
static bool slow_worker(struct worker_slot *s, struct worker_state *st)
{
	uint64_t decisions = __atomic_load_n(&st->decisions, __ATOMIC_RELAXED);
	uint64_t busy_us = __atomic_load_n(&st->busy_us, __ATOMIC_RELAXED);
	uint64_t d = decisions - s->decisions_seen, b = busy_us - s->busy_us_seen;

	s->decisions_seen = decisions;
	s->busy_us_seen = busy_us;
	return d == 0 || b / d >= SERVER_SLOW_DECISION_US;
}

/* Grow when every worker is deciding slowly (a back-end that waits, not a stream of
 * fast requests) and connections wait; shrink after --worker-idle; publish the gauges
 * either way. */
static void pool_tick(struct master *m, int64_t now)
{
	int live = 0, busy = 0, stuck = 0;

	m->next_tick = now + SERVER_POOL_TICK_MS;
	for (int i = 0; i < m->nmax; i++) {
		struct worker_slot *s = &m->slots[i];
		if (s->pid == 0 || s->retiring)
			continue;
		live++;
		bool slow = slow_worker(s, &m->states[i]);
		if (__atomic_load_n(&m->states[i].busy, __ATOMIC_ACQUIRE)) {
			busy++;
			if (slow)
				stuck++;
		}
	}
	long waiting = listen_queue_length(m);
	/* As many as there are connections waiting, a few at a time: a burst against a slow
	 * back-end should not take a second per handful of workers. */
	bool all_stuck = live > 0 && stuck == live;
	for (long n = 0; all_stuck && n < waiting && n < SERVER_POOL_GROW_PER_TICK && !m->stopping;
	     n++) {
		int slot = empty_growth_slot(m);
		if (slot < 0)
			break;
		spawn_worker(m, slot);
		if (m->slots[slot].pid <= 0)
			break;
		stats_count(STAT_POOL_GROWN);
		live++;
	}
	retire_idle(m, now);
	stats_set_gauge(STAT_G_WORKERS, live);
	stats_set_gauge(STAT_G_BUSY, busy);
	stats_set_gauge(STAT_G_WAITING, waiting);
}

static bool create_pool_state(struct master *m)
{
	void *p = mmap(NULL, sizeof(*m->states) * OPTIONS_MAX_WORKERS, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_core(LOG_ERR, "cannot map the workers' shared state: %s", strerror(errno));
		return false;
	}
	m->states = p;
	m->diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (m->diag_fd < 0)
		log_debug("no sock_diag (%s): requests waiting counted as 0 or 1", strerror(errno));
	return true;
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
	m.nmax = srv->opts->workers > 0 ? srv->opts->max_workers : 0;
	if (m.nmax < m.nslots)
		m.nmax = m.nslots;
	m.diag_fd = -1;
	raise_descriptor_limit();
	if (m.nslots > 0 && !create_pool_state(&m))
		return 1;
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
		if (m.nslots > 0 && sa_clock_ms() >= m.next_tick)
			pool_tick(&m, sa_clock_ms());
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
	if (m.diag_fd >= 0)
		close(m.diag_fd);
	return 0;
}
