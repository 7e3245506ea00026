#include "saslauthd/worker.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "saslauthd/connection.h"
#include "saslauthd/stats.h"

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

/* "No slot" in the free stack and the slot lists. */
#define NO_SLOT UINT32_MAX

/* A doubly linked list of slots through the worker's prev/next arrays; a slot is on at
 * most one list. */
struct slot_list {
	uint32_t head, tail;
};

struct worker {
	const struct worker_config *cfg;
	struct request_policy policy; /* the configured one, with the mechanism to call */
	int epfd;
	bool listening;
	struct conn_accept_guard accept_guard;
	long served;
	/* Connection buffers hold passwords: one mapping, locked in RAM as pages are first
	 * used (best effort) so they never reach swap; untouched slots cost no memory. */
	struct conn *pool;
	uint32_t capacity;  /* the connection limit, from WORKER_CONNECTIONS_MAX and the fd limit */
	bool *used;
	bool *watched; /* registered with epoll */
	uint32_t *free_slots; /* a stack of unused slots */
	uint32_t nfree;
	/* Used slots in accept order, which is deadline order: the oldest is dropped first
	 * at the limit, and expiry only looks at the head. */
	uint32_t *prev, *next;
	struct slot_list open;
	/* Decided failures waiting for --fail-delay, in reply_at order. */
	struct slot_list delayed;
	int64_t stop_by; /* 0, or when a stopping worker answers its delayed replies at the latest */
	uint32_t pending;  /* used slots: open and delayed */
	/* Until then a partial 5th field may have an earlier deadline than the head's, so
	 * deadlines are looked up over the whole list. */
	int64_t fifth_until;
	struct log_burst stalled_drops; /* reported at most once a WORKER_DROP_REPORT_MS */
	int64_t decision_start_us;
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
	/* EPOLLEXCLUSIVE: a new connection wakes one worker waiting in epoll, not all of
	 * them; one deciding is not waiting, so it does not take the wake-up. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = NO_SLOT };

	if (!w->listening && epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cfg->listen_fd, &ev) == 0)
		w->listening = true;
}

/* Listen again unless stopping or backing off after an exhausted accept(). */
static void resume_listening(struct worker *w, int64_t now)
{
	if (!stop_requested && conn_accept_ready(&w->accept_guard, now))
		start_listening(w);
}

static void link_after(struct worker *w, struct slot_list *l, uint32_t after, uint32_t slot)
{
	uint32_t before = after == NO_SLOT ? l->head : w->next[after];

	w->prev[slot] = after;
	w->next[slot] = before;
	if (after != NO_SLOT)
		w->next[after] = slot;
	else
		l->head = slot;
	if (before != NO_SLOT)
		w->prev[before] = slot;
	else
		l->tail = slot;
}

static void link_tail(struct worker *w, struct slot_list *l, uint32_t slot)
{
	link_after(w, l, l->tail, slot);
}

static void unlink_slot(struct worker *w, struct slot_list *l, uint32_t slot)
{
	if (w->prev[slot] != NO_SLOT)
		w->next[w->prev[slot]] = w->next[slot];
	else
		l->head = w->next[slot];
	if (w->next[slot] != NO_SLOT)
		w->prev[w->next[slot]] = w->prev[slot];
	else
		l->tail = w->prev[slot];
}

static void publish_held(struct worker *w)
{
	if (w->cfg->state != NULL)
		__atomic_store_n(&w->cfg->state->held, w->pending, __ATOMIC_RELAXED);
}

static void set_busy(struct worker *w, bool busy)
{
	struct worker_state *st = w->cfg->state;

	if (st == NULL)
		return;
	int64_t now_us = sa_clock_us();
	if (!busy) {
		__atomic_store_n(&st->idle_since, now_us / SA_US_PER_MS, __ATOMIC_RELAXED);
		__atomic_add_fetch(&st->busy_us, (uint64_t)(now_us - w->decision_start_us),
		                   __ATOMIC_RELAXED);
	} else {
		w->decision_start_us = now_us;
		__atomic_add_fetch(&st->decisions, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&st->busy, busy ? 1u : 0u, __ATOMIC_RELEASE);
}

static void release(struct worker *w, struct slot_list *l, uint32_t slot)
{
	unlink_slot(w, l, slot);
	w->used[slot] = false;
	w->free_slots[w->nfree++] = slot;
	w->pending--;
	publish_held(w);
}

/* --fail-delay: move a decided failure from the open list to the delayed one, which
 * stays sorted by reply_at (new entries almost always go last: the search from the tail
 * is short). The worker goes on serving others meanwhile. */
static void hold(struct worker *w, uint32_t slot, int64_t reply_at)
{
	uint32_t after = w->delayed.tail;

	if (w->stop_by != 0 && reply_at > w->stop_by)
		reply_at = w->stop_by;
	unlink_slot(w, &w->open, slot);
	conn_hold(&w->pool[slot], reply_at);
	while (after != NO_SLOT && w->pool[after].reply_at > reply_at)
		after = w->prev[after];
	link_after(w, &w->delayed, after, slot);
}

/* Write the delayed replies that are due. */
static void answer_delayed(struct worker *w, int64_t now)
{
	while (w->delayed.head != NO_SLOT && w->pool[w->delayed.head].reply_at <= now) {
		uint32_t slot = w->delayed.head;
		conn_reply(&w->pool[slot]);
		release(w, &w->delayed, slot);
	}
}

static void finish(struct worker *w, uint32_t slot, enum conn_state st)
{
	struct conn *c = &w->pool[slot];

	if (st == CONN_WAITING) {
		if (c->fifth_deadline > w->fifth_until)
			w->fifth_until = c->fifth_deadline;
		return;
	}
	if (w->watched[slot])
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	w->watched[slot] = false;
	if (st == CONN_COMPLETE) {
		set_busy(w, true);
		deciding_fd = c->fd;
		enum verdict v = conn_decide(c, &w->policy);
		deciding_fd = -1;
		set_busy(w, false);
		if (privsep_verifier_lost())
			stop_requested = 1;
		w->served++;
		if (w->cfg->max_requests > 0 && w->served >= w->cfg->max_requests)
			stop_requested = 1;
		int64_t delay = conn_reply_delay(&w->policy, v);
		if (delay > 0) {
			hold(w, slot, sa_clock_ms() + delay);
			return;
		}
		conn_reply(c);
	} else {
		conn_close(c);
	}
	release(w, &w->open, slot);
}

/* One line per burst, however many stalled clients a flood brings. */
static void report_stalled_drop(struct worker *w, int64_t now)
{
	unsigned long drops;

	if (!log_burst_due(&w->stalled_drops, now, WORKER_DROP_REPORT_MS, &drops))
		return;
	log_core(LOG_WARNING, "connection limit (%u) reached: dropped %lu oldest incomplete "
	         "connection(s) to take new ones", w->capacity, drops);
}

/* At the limit, the oldest client still sending makes room: stalled clients cannot
 * lock out new ones. False when every held connection is a complete request. */
static bool drop_oldest_incomplete(struct worker *w, int64_t now)
{
	for (uint32_t s = w->open.head; s != NO_SLOT; s = w->next[s]) {
		if (w->pool[s].status == PARSE_FIFTH_PARTIAL)
			continue;
		stats_count(STAT_DROPPED);
		stats_count(STAT_STALLED_DROPPED);
		report_stalled_drop(w, now);
		finish(w, s, CONN_CLOSED);
		return true;
	}
	return false;
}

static bool watch(struct worker *w, uint32_t slot)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = slot };

	w->watched[slot] = epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->pool[slot].fd, &ev) == 0;
	return w->watched[slot];
}

static void accept_one(struct worker *w)
{
	int64_t now = sa_clock_ms();
	int fd = conn_accept(w->cfg->listen_fd, &w->accept_guard, now);

	if (fd < 0) {
		if (w->accept_guard.resume_at != 0)
			stop_listening(w);
		return;
	}
	if (w->pending == w->capacity && !drop_oldest_incomplete(w, now)) {
		log_core(LOG_ERR, "cannot track a new connection: all %u slots hold complete requests",
		         w->capacity);
		close(fd);
		return;
	}
	uint32_t slot = w->free_slots[--w->nfree];
	struct conn *c = &w->pool[slot];
	w->used[slot] = true;
	w->pending++;
	publish_held(w);
	link_tail(w, &w->open, slot);
	conn_init(c, fd, now);
	/* The request usually arrived together with the connection: then it is answered
	 * without ever being watched (two epoll_ctl calls saved). */
	enum conn_state st = conn_on_readable(c, now);
	if (st == CONN_WAITING && !watch(w, slot)) {
		log_core(LOG_ERR, "cannot track a new connection: %s", strerror(errno));
		st = CONN_CLOSED;
	}
	finish(w, slot, st);
}

/* Only the list's head can be due first, except around a partial 5th field. */
static bool scan_all(const struct worker *w, int64_t now)
{
	return w->fifth_until != 0 && now <= w->fifth_until;
}

static int next_timeout(const struct worker *w, int64_t now)
{
	int64_t soonest = -1;

	if (w->accept_guard.resume_at != 0)
		soonest = sa_ms_until(w->accept_guard.resume_at);
	if (w->delayed.head != NO_SLOT) {
		int64_t left = w->pool[w->delayed.head].reply_at - now;
		if (left < 0)
			left = 0;
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	bool all = scan_all(w, now);
	for (uint32_t s = w->open.head; s != NO_SLOT; s = all ? w->next[s] : NO_SLOT) {
		int64_t left = conn_deadline(&w->pool[s]) - now;
		if (left < 0)
			left = 0;
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	return (int)soonest;
}

/* Whatever the client managed to send is read before its deadline is judged: a
 * request that sat complete in the socket while this worker was deciding another
 * client's is answered, not dropped. */
static enum conn_state judge(struct conn *c, int64_t now)
{
	enum conn_state st = conn_on_readable(c, now);
	return st == CONN_WAITING ? conn_on_deadline(c, now) : st;
}

static void expire(struct worker *w, int64_t now)
{
	bool all = scan_all(w, now);
	uint32_t s = w->open.head;

	if (!all)
		w->fifth_until = 0;
	while (s != NO_SLOT) {
		uint32_t next = w->next[s];
		if (conn_deadline(&w->pool[s]) <= now)
			finish(w, s, judge(&w->pool[s], now));
		else if (!all)
			break;
		s = next;
	}
}

/* epoll tag for the verifier's socket (listen socket: NO_SLOT, clients: slot). */
#define VERIFIER_EVENT (NO_SLOT - 1)

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
	for (uint32_t s = w->open.head; s != NO_SLOT; s = w->next[s])
		conn_hurry(&w->pool[s], by);
	/* Delayed failures keep their delay, but within the grace the master allows. Cutting
	 * it short would let anyone who can make workers recycle (--max-requests) skip it;
	 * the price: while it finishes them, a stopping worker accepts nothing (with -n 1,
	 * up to WORKER_STOP_GRACE_MS without an acceptor every --max-requests requests). */
	w->stop_by = by;
	for (uint32_t s = w->delayed.head; s != NO_SLOT; s = w->next[s]) {
		if (w->pool[s].reply_at > by)
			w->pool[s].reply_at = by;
	}
}

/* The connection limit: WORKER_CONNECTIONS_MAX, or what the descriptor limit leaves
 * after WORKER_FD_RESERVE for the mechanism. */
static uint32_t connection_capacity(void)
{
	struct rlimit rl;
	rlim_t cap = WORKER_CONNECTIONS_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t avail = rl.rlim_cur > WORKER_FD_RESERVE + 1 ? rl.rlim_cur - WORKER_FD_RESERVE : 1;
		if (avail < cap)
			cap = avail;
	}
	return (uint32_t)cap;
}

static void *map_array(size_t count, size_t size)
{
	void *p = mmap(NULL, count * size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		log_core(LOG_ERR, "cannot map %zu connection records: %s", count, strerror(errno));
		_exit(1);
	}
	return p;
}

static void init_slots(struct worker *w)
{
	w->capacity = connection_capacity();
	w->pool = map_array(w->capacity, sizeof(*w->pool));
	if (mlock2(w->pool, (size_t)w->capacity * sizeof(*w->pool), MLOCK_ONFAULT) != 0)
		log_debug("cannot lock connection buffers in memory: %s", strerror(errno));
	w->used = map_array(w->capacity, sizeof(*w->used));
	w->watched = map_array(w->capacity, sizeof(*w->watched));
	w->free_slots = map_array(w->capacity, sizeof(*w->free_slots));
	w->prev = map_array(w->capacity, sizeof(*w->prev));
	w->next = map_array(w->capacity, sizeof(*w->next));
	for (uint32_t i = 0; i < w->capacity; i++)
		w->free_slots[i] = w->capacity - 1 - i;
	w->nfree = w->capacity;
	w->open.head = w->open.tail = NO_SLOT;
	w->delayed.head = w->delayed.tail = NO_SLOT;
}

void worker_main(const struct worker_config *cfg)
{
	static struct worker w;
	struct epoll_event events[16];
	sigset_t wait_mask;
	bool stopping = false;

	memset(&w, 0, sizeof(w));
	init_slots(&w);
	w.cfg = cfg;
	w.policy = *cfg->policy;
	privsep_enter_worker(cfg->policy->chain, cfg->identity, cfg->listen_fd);
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w.epfd < 0) {
		log_core(LOG_ERR, "epoll_create1: %s", strerror(errno));
		_exit(1);
	}
	sigemptyset(&wait_mask);
	chain_worker_init(w.policy.chain);
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
			if (slot == NO_SLOT)
				accept_one(&w);
			else if (slot == VERIFIER_EVENT)
				stop_requested = 1; /* its verifier is gone: let the master replace both */
			else if (slot < w.capacity && w.used[slot])
				finish(&w, slot, conn_on_readable(&w.pool[slot], sa_clock_ms()));
		}
		expire(&w, sa_clock_ms());
		answer_delayed(&w, sa_clock_ms());
	}
	chain_cleanup(w.policy.chain);
	_exit(0);
}
