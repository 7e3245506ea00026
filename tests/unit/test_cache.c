/* The credential cache's flush (SIGHUP, in the root master) takes no lock in the memory
 * that unprivileged workers write: a worker that holds a slot lock forever (a
 * compromised one can) neither blocks the flush nor keeps flushed entries alive.
 * The test binary is linked with --wrap=pthread_mutex_unlock so that a forked "worker"
 * can keep the lock its lookup took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "saslauthd/cache.h"

#define FLUSH_BOUND_MS 5000

static volatile int keep_locks;

int __real_pthread_mutex_unlock(pthread_mutex_t *m);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m)
{
	return keep_locks ? 0 : __real_pthread_mutex_unlock(m);
}

static struct mech_request req(const char *login, const char *password)
{
	struct mech_request r = { .login = login, .password = password, .service = "imap",
		                  .realm = "", .client_addr = "" };
	return r;
}

static bool hit(const char *login, const char *password)
{
	struct cache_ticket t;
	struct mech_request r = req(login, password);
	return cache_lookup(&r, &t);
}

static void remember(const char *login, const char *password)
{
	struct cache_ticket t;
	struct mech_request r = req(login, password);
	assert_false(cache_lookup(&r, &t));
	cache_store(&t);
}

static unsigned slot_of(const char *login)
{
	struct cache_ticket t;
	struct mech_request r = req(login, "x");
	(void)cache_lookup(&r, &t);
	return t.slot;
}

/* A process that keeps the slot lock of login's lookup until killed. */
static pid_t hold_slot_of(const char *login)
{
	int p[2];
	char c = 0;
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		keep_locks = 1;
		(void)hit(login, "whatever");
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		sleep(60);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

/* cache_flush in its own process; true if it returned within the bound. */
static bool flush_returns_in_time(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cache_flush();
		_exit(0);
	}
	int64_t deadline = sa_clock_ms() + FLUSH_BOUND_MS;
	int status;
	while (sa_clock_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		poll(NULL, 0, 20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return false;
}

static void flush_ignores_a_worker_holding_a_lock(void **state)
{
	(void)state;
	assert_true(cache_init(64, 3600));
	remember("alice", "alice-pw");
	assert_true(hit("alice", "alice-pw"));
	assert_false(hit("alice", "wrong"));

	/* A login whose slot is not alice's, so the test itself can still look alice up. */
	char other[32];
	unsigned alice_slot = slot_of("alice");
	for (int i = 0;; i++) {
		snprintf(other, sizeof(other), "mallory%d", i);
		if (slot_of(other) != alice_slot)
			break;
	}
	pid_t holder = hold_slot_of(other);

	assert_true(flush_returns_in_time());
	assert_false(hit("alice", "alice-pw")); /* flushed */
	remember("alice", "new-pw");
	assert_true(hit("alice", "new-pw"));
	assert_false(hit("alice", "alice-pw"));

	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
}

static void an_ok_decided_across_a_flush_is_not_kept(void **state)
{
	struct cache_ticket t;
	struct mech_request r = req("bob", "bob-pw");
	(void)state;
	assert_true(cache_init(64, 3600));
	assert_false(cache_lookup(&r, &t));
	cache_flush(); /* SIGHUP while the mechanism was deciding */
	cache_store(&t);
	assert_false(hit("bob", "bob-pw"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flush_ignores_a_worker_holding_a_lock),
		cmocka_unit_test(an_ok_decided_across_a_flush_is_not_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
