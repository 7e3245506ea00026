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

/* A NO from the mechanism for login/password: look up (no hit), store negative. */
static void refused(const char *login, const char *password)
{
	struct cache_ticket t;
	struct mech_request r = req(login, password);
	assert_false(cache_lookup(&r, &t));
	assert_false(t.negative_hit);
	cache_store_negative(&t);
}

static bool negative(const char *login, const char *password)
{
	struct cache_ticket t;
	struct mech_request r = req(login, password);
	bool positive = cache_lookup(&r, &t);
	return !positive && t.negative_hit;
}

static long long fake_now = 1000000;
static long long fake_clock(void)
{
	return fake_now;
}

static bool stale(const char *login, const char *password)
{
	struct cache_ticket t;
	struct mech_request r = req(login, password);
	(void)cache_lookup(&r, &t);
	return cache_stale_hit(&t);
}

static void wrong_passwords_are_remembered_per_key_and_password(void **state)
{
	(void)state;
	assert_true(cache_init(64, 3600));
	cache_set_failure_ttls(3600, 0);
	refused("carol", "old-pw");
	assert_true(negative("carol", "old-pw"));
	assert_false(negative("carol", "other-pw")); /* goes to the back-end */
	assert_false(negative("dan", "old-pw"));     /* another key */
	refused("carol", "typo-pw");
	refused("carol", "third-pw"); /* CACHE_NEGATIVE_PER_KEY: the oldest goes */
	assert_false(negative("carol", "old-pw"));
	assert_true(negative("carol", "typo-pw"));
	assert_true(negative("carol", "third-pw"));
	/* A success for the key forgets its wrong passwords. */
	remember("carol", "right-pw");
	assert_true(hit("carol", "right-pw"));
	assert_false(negative("carol", "typo-pw"));
	assert_false(negative("carol", "third-pw"));
	/* SIGHUP forgets them too. */
	refused("carol", "typo-pw");
	cache_flush();
	assert_false(negative("carol", "typo-pw"));
}

static void without_negative_ttl_nothing_negative_is_kept(void **state)
{
	(void)state;
	assert_true(cache_init(64, 3600));
	cache_set_failure_ttls(0, 0);
	refused("erin", "bad");
	assert_false(negative("erin", "bad"));
}

/* Guesses against many keys never push a success out of its slot. */
static void negative_entries_never_displace_positive_ones(void **state)
{
	char login[32];
	unsigned slot;
	int filled = 0;

	(void)state;
	assert_true(cache_init(64, 3600));
	cache_set_failure_ttls(3600, 0);
	remember("frank", "frank-pw");
	slot = slot_of("frank");
	/* Fill frank's slot with other successes, one entry short of full. */
	for (int i = 0; filled < CACHE_BUCKETS_PER_SLOT - 2; i++) {
		snprintf(login, sizeof(login), "user%d", i);
		if (slot_of(login) == slot) {
			remember(login, "pw");
			filled++;
		}
	}
	for (int i = 0, guesses = 0; guesses < 20; i++) {
		snprintf(login, sizeof(login), "guess%d", i);
		if (slot_of(login) == slot) {
			refused(login, "wrong");
			guesses++;
		}
	}
	assert_true(hit("frank", "frank-pw"));
	/* The one free entry took the guesses in turn: the last one is remembered. */
	assert_true(negative(login, "wrong"));
}

static void expired_entries_answer_only_within_stale_ttl(void **state)
{
	(void)state;
	assert_true(cache_init(64, 10));
	cache_set_clock(fake_clock);
	cache_set_failure_ttls(0, 20);
	remember("gina", "gina-pw");
	assert_true(stale("gina", "gina-pw")); /* a live entry would do as well */
	fake_now += 15;                          /* expired (-t 10) */
	assert_false(hit("gina", "gina-pw"));
	assert_true(stale("gina", "gina-pw"));
	assert_false(stale("gina", "wrong"));
	assert_false(stale("nobody", "gina-pw"));
	/* Kept while other keys of its slot come and go. */
	unsigned slot = slot_of("gina");
	char login[32];
	for (int i = 0, n = 0; n < 3 * CACHE_BUCKETS_PER_SLOT; i++) {
		snprintf(login, sizeof(login), "other%d", i);
		if (slot_of(login) == slot) {
			refused(login, "x");
			n++;
		}
	}
	assert_true(stale("gina", "gina-pw"));
	fake_now += 15; /* past -t + --stale-ttl */
	assert_false(stale("gina", "gina-pw"));
	cache_set_clock(NULL);
}

static void negative_entries_expire(void **state)
{
	(void)state;
	assert_true(cache_init(64, 3600));
	cache_set_clock(fake_clock);
	cache_set_failure_ttls(30, 0);
	refused("jack", "bad");
	fake_now += 29;
	assert_true(negative("jack", "bad"));
	fake_now += 1;
	assert_false(negative("jack", "bad"));
	cache_set_clock(NULL);
}

static void without_stale_ttl_expired_entries_never_answer(void **state)
{
	(void)state;
	assert_true(cache_init(64, 10));
	cache_set_clock(fake_clock);
	cache_set_failure_ttls(0, 0);
	remember("hank", "hank-pw");
	fake_now += 11;
	assert_false(stale("hank", "hank-pw"));
	cache_set_clock(NULL);
}

static void a_flush_forgets_stale_entries(void **state)
{
	(void)state;
	assert_true(cache_init(64, 10));
	cache_set_clock(fake_clock);
	cache_set_failure_ttls(0, 60);
	remember("ivy", "ivy-pw");
	fake_now += 11;
	assert_true(stale("ivy", "ivy-pw"));
	cache_flush();
	assert_false(stale("ivy", "ivy-pw"));
	cache_set_clock(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flush_ignores_a_worker_holding_a_lock),
		cmocka_unit_test(an_ok_decided_across_a_flush_is_not_kept),
		cmocka_unit_test(wrong_passwords_are_remembered_per_key_and_password),
		cmocka_unit_test(without_negative_ttl_nothing_negative_is_kept),
		cmocka_unit_test(negative_entries_never_displace_positive_ones),
		cmocka_unit_test(expired_entries_answer_only_within_stale_ttl),
		cmocka_unit_test(without_stale_ttl_expired_entries_never_answer),
		cmocka_unit_test(a_flush_forgets_stale_entries),
		cmocka_unit_test(negative_entries_expire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
