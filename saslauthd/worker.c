#include "saslauthd/worker.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "saslauthd/connection.h"

static volatile sig_atomic_t stop_requested;
/* The client whose request is being decided, so a crash in a mechanism (a buggy PAM
 * module, say) still answers it with NO instead of a dropped connection. */
static volatile sig_atomic_t deciding_fd = -1;

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define CRASH_SIGNAL_COUNT (sizeof(crash_signals) / sizeof(crash_signals[0]))
static struct sigaction previous_crash_action[CRASH_SIGNAL_COUNT];

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_crash(int sig)
{
	/* "NO internal mechanism failure" as a counted string; write() is async-signal-safe. */
	static const char reply[] = "\x00\x1dNO internal mechanism failure";
	int fd = deciding_fd;

	if (fd >= 0) {
		ssize_t ignored = write(fd, reply, sizeof(reply) - 1);
		(void)ignored;
	}
	/* Hand over to the previous handler (default: core dump; under ASan: its report). */
	for (size_t i = 0; i < CRASH_SIGNAL_COUNT; i++) {
		if (crash_signals[i] == sig)
			sigaction(sig, &previous_crash_action[i], NULL);
	}
	if (sig == SIGABRT)
		raise(sig);
	/* For a fault, returning re-runs the faulting instruction under that handler. */
}

/* Stop signals stay blocked except inside epoll_pwait, so none can slip in between
 * checking the flag and going to sleep. */
void worker_signals_init(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_NODEFER | SA_RESETHAND;
	for (size_t i = 0; i < CRASH_SIGNAL_COUNT; i++)
		sigaction(crash_signals[i], &sa, &previous_crash_action[i]);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

struct worker {
	const struct worker_config *cfg;
	struct request_policy policy; /* the configured one, with the mechanism to call */
	int epfd;
	bool listening;
	struct conn_accept_guard accept_guard;
	long served;
	struct conn *slots[WORKER_PENDING_MAX]; /* NULL: free, else &pool[slot] */
	/* Connection buffers hold passwords: one fixed pool, locked in RAM (best effort)
	 * so they never reach swap, instead of malloc'd memory that is. */
	struct conn pool[WORKER_PENDING_MAX];
	int pending;
};

static void stop_listening(struct worker *w)
{
	if (w->listening) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->cfg->listen_fd, NULL);
		w->listening = false;
	}
}

static void start_listening(struct worker *w)
{
	/* EPOLLEXCLUSIVE: a new connection wakes one idle worker, not all of them. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = UINT32_MAX };

	if (!w->listening && epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cfg->listen_fd, &ev) == 0)
		w->listening = true;
}

/* Listen again unless stopping, full, or backing off after an exhausted accept(). */
static void resume_listening(struct worker *w, int64_t now)
{
	if (!stop_requested && w->pending < WORKER_PENDING_MAX &&
	    conn_accept_ready(&w->accept_guard, now))
		start_listening(w);
}

static void release(struct worker *w, uint32_t slot)
{
	w->slots[slot] = NULL;
	w->pending--;
	resume_listening(w, sa_clock_ms());
}

static void finish(struct worker *w, uint32_t slot, enum conn_state st)
{
	struct conn *c = w->slots[slot];

	if (st == CONN_WAITING)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (st == CONN_COMPLETE) {
		deciding_fd = c->fd;
		conn_finish(c, &w->policy);
		deciding_fd = -1;
		if (privsep_verifier_lost())
			stop_requested = 1;
		w->served++;
		if (w->cfg->max_requests > 0 && w->served >= w->cfg->max_requests)
			stop_requested = 1;
	} else {
		conn_close(c);
	}
	release(w, slot);
}

static void accept_one(struct worker *w)
{
	uint32_t slot = 0;
	int fd = conn_accept(w->cfg->listen_fd, &w->accept_guard, sa_clock_ms());

	if (fd < 0) {
		if (w->accept_guard.resume_at != 0)
			stop_listening(w);
		return;
	}
	while (slot < WORKER_PENDING_MAX && w->slots[slot] != NULL)
		slot++;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = slot };
	if (slot == WORKER_PENDING_MAX || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_core(LOG_ERR, "cannot track a new connection: %s",
		         slot == WORKER_PENDING_MAX ? "all slots busy" : strerror(errno));
		close(fd);
		return;
	}
	struct conn *c = &w->pool[slot];
	w->slots[slot] = c;
	if (++w->pending == WORKER_PENDING_MAX)
		stop_listening(w);
	int64_t now = sa_clock_ms();
	conn_init(c, fd, now);
	/* The request usually arrived together with the connection. */
	finish(w, slot, conn_on_readable(c, now));
}

static int next_timeout(const struct worker *w, int64_t now)
{
	int64_t soonest = -1;

	if (w->accept_guard.resume_at != 0)
		soonest = w->accept_guard.resume_at > now ? w->accept_guard.resume_at - now : 0;
	for (int i = 0; i < WORKER_PENDING_MAX; i++) {
		if (w->slots[i] == NULL)
			continue;
		int64_t left = conn_deadline(w->slots[i]) - now;
		if (left < 0)
			left = 0;
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	return (int)soonest;
}

static void expire(struct worker *w, int64_t now)
{
	for (uint32_t i = 0; i < WORKER_PENDING_MAX; i++) {
		if (w->slots[i] != NULL && conn_deadline(w->slots[i]) <= now)
			finish(w, i, conn_on_deadline(w->slots[i], now));
	}
}

/* epoll tag for the verifier's socket (listen socket: UINT32_MAX, clients: slot). */
#define VERIFIER_EVENT (UINT32_MAX - 1)

static void watch_verifier(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.u32 = VERIFIER_EVENT };
	int fd = privsep_verifier_fd();

	if (fd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		log_core(LOG_ERR, "cannot watch the privileged verifier: %s", strerror(errno));
}

static void begin_stop(struct worker *w)
{
	int64_t by = sa_clock_ms() + WORKER_STOP_GRACE_MS;

	stop_listening(w);
	for (int i = 0; i < WORKER_PENDING_MAX; i++) {
		if (w->slots[i] != NULL)
			conn_hurry(w->slots[i], by);
	}
}

void worker_main(const struct worker_config *cfg)
{
	static struct worker w;
	struct epoll_event events[16];
	sigset_t wait_mask;
	bool stopping = false;

	memset(&w, 0, sizeof(w));
	if (mlock(w.pool, sizeof(w.pool)) != 0)
		log_debug("cannot lock connection buffers in memory: %s", strerror(errno));
	w.cfg = cfg;
	w.policy = *cfg->policy;
	w.policy.mech = privsep_enter_worker(cfg->policy->mech, cfg->identity, cfg->listen_fd);
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w.epfd < 0) {
		log_core(LOG_ERR, "epoll_create1: %s", strerror(errno));
		_exit(1);
	}
	sigemptyset(&wait_mask);
	if (w.policy.mech->worker_init != NULL)
		w.policy.mech->worker_init();
	start_listening(&w);
	watch_verifier(&w);
	for (;;) {
		if (stop_requested && !stopping) {
			stopping = true;
			begin_stop(&w);
		}
		if (stopping && w.pending == 0)
			break;
		resume_listening(&w, sa_clock_ms());
		int n = epoll_pwait(w.epfd, events, 16, next_timeout(&w, sa_clock_ms()), &wait_mask);
		if (n < 0 && errno != EINTR) {
			log_core(LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t slot = events[i].data.u32;
			if (slot == UINT32_MAX)
				accept_one(&w);
			else if (slot == VERIFIER_EVENT)
				stop_requested = 1; /* its verifier is gone: let the master replace both */
			else if (w.slots[slot] != NULL)
				finish(&w, slot, conn_on_readable(w.slots[slot], sa_clock_ms()));
		}
		expire(&w, sa_clock_ms());
	}
	if (w.policy.mech->cleanup != NULL)
		w.policy.mech->cleanup();
	_exit(0);
}
