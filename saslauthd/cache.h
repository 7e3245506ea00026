/* The credential cache (-c, -s, -t): successful logins remembered in memory shared by
 * all workers, so a repeated login is answered without the back-end (and still works
 * while the back-end is briefly down). Cyrus semantics: only successes are stored; a
 * hit needs the same login, realm and service and the same password; entries expire a
 * fixed time after they were stored.
 * Unlike Cyrus: no file on disk (an anonymous shared mapping), passwords are kept as
 * HMAC-SHA256 under a key drawn at start (Cyrus: unsalted MD5 in <run dir>/cache.mmap),
 * keys of any length are cached (Cyrus: 60 bytes), the client address is part of the
 * key (PAM_RHOST rules cannot be bypassed through the cache). */
#ifndef SASLAUTHD_CACHE_H
#define SASLAUTHD_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "mechanisms/mechanism.h"

#define CACHE_DIGEST_LEN 32
/* Cyrus's sizing, so -s gives the same number of entries: 6 buckets of 96 bytes a slot. */
#define CACHE_BUCKETS_PER_SLOT 6
#define CACHE_CYRUS_SLOT_BYTES 576
#define CACHE_DEFAULT_SLOTS 1711

/* Wrong passwords remembered per key (--negative-ttl): a phone retrying an old password
 * and one typo; more guesses than that go to the back-end (and to throttling). */
#define CACHE_NEGATIVE_PER_KEY 2

/* A pending lookup: what to store once the mechanism has decided. */
struct cache_ticket {
	bool usable;
	bool negative_hit; /* the same wrong password was refused less than --negative-ttl ago */
	unsigned slot;
	unsigned char key[CACHE_DIGEST_LEN];
	unsigned char verifier[CACHE_DIGEST_LEN];
	long long looked_up; /* creation time recorded for the entry, as Cyrus */
	unsigned long long generation; /* flush generation seen at lookup */
};

/* In the master before forking. size_kb 0 = default size. False on failure (logged). */
bool cache_init(long size_kb, long timeout_s);
bool cache_enabled(void);

/* --negative-ttl and --stale-ttl (seconds, 0 = off), after cache_init. Entries that
 * expired less than stale_ttl ago are kept (evicted only after dead, negative and
 * younger-stale ones) so that cache_stale_hit can find them. */
void cache_set_failure_ttls(long negative_ttl_s, long stale_ttl_s);

/* True (a hit) when the request may be answered OK from the cache. Fills ticket for a
 * later cache_store either way, and sets ticket->negative_hit when the same password
 * was refused less than --negative-ttl ago (answer NO without the back-end). */
bool cache_lookup(const struct mech_request *req, struct cache_ticket *ticket);

/* The mechanism said OK: remember it, and forget the key's remembered wrong passwords. */
void cache_store(const struct cache_ticket *ticket);

/* The mechanism said NO (not FAIL): remember the wrong password for --negative-ttl, at
 * most CACHE_NEGATIVE_PER_KEY per key (the oldest is replaced). A negative entry never
 * displaces a positive one, live or stale: guesses cannot empty the cache. */
void cache_store_negative(const struct cache_ticket *ticket);

/* The mechanism could not decide (FAIL): true when an expired positive entry for the
 * same key and password expired less than --stale-ttl ago. */
bool cache_stale_hit(const struct cache_ticket *ticket);

/* Tests only: the clock entries are timed by (NULL: wall-clock seconds). */
void cache_set_clock(long long (*now)(void));

/* Forget every entry (SIGHUP: the admin's way to make a changed password count now).
 * Takes no lock: safe in the root master whatever the workers do to the shared memory. */
void cache_flush(void);

#endif
