#include "saslauthd/cache.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/keyed_hash.h"
#include "common/secret.h"

/* Fields are separated by a byte that cannot occur in them (requests refuse NUL). */
#define CACHE_FIELD_SEPARATOR "\0"

enum entry_kind {
	ENTRY_POSITIVE, /* the password was right (Cyrus's only kind) */
	ENTRY_NEGATIVE  /* the password was wrong (--negative-ttl) */
};

struct cache_entry {
	unsigned char key[CACHE_DIGEST_LEN];      /* HMAC(login, realm, service, address) */
	unsigned char verifier[CACHE_DIGEST_LEN]; /* HMAC(key, password) */
	long long created;                        /* 0: never used */
	unsigned long long generation;            /* valid only while it is the current one */
	unsigned char kind;                       /* enum entry_kind */
};

/* How readily a store overwrites an entry, lowest first. */
enum entry_rank {
	RANK_FREE,     /* never used, flushed, or past every use */
	RANK_NEGATIVE, /* a wrong password within --negative-ttl */
	RANK_STALE,    /* expired, but may still answer within --stale-ttl */
	RANK_POSITIVE  /* a live success */
};

struct cache_slot {
	pthread_mutex_t lock; /* process-shared, robust: a worker dying inside is survived */
	struct cache_entry entries[CACHE_BUCKETS_PER_SLOT];
};

/* The mapping starts with the flush generation. The root master only ever increments it
 * atomically: it never takes a lock in (or follows a pointer from) this memory, which
 * unprivileged workers write, so a worker holding a slot lock cannot freeze it. */
struct cache_header {
	unsigned long long generation;
	unsigned char pad[64 - sizeof(unsigned long long)];
};

static struct {
	struct cache_header *header;
	struct cache_slot *slots;
	unsigned nslots;
	long timeout;
	long negative_ttl; /* 0: wrong passwords are not remembered */
	long stale_ttl;    /* 0: expired entries are never used */
	struct sa_hmac_key key; /* drawn at start, keyed before the fork */
} cache;

static long long wall_seconds(void)
{
	return (long long)time(NULL);
}

/* Entry times are wall-clock seconds, as Cyrus's; replaceable by the unit tests. */
static long long (*cache_now)(void) = wall_seconds;

void cache_set_clock(long long (*now)(void))
{
	cache_now = now != NULL ? now : wall_seconds;
}

static bool is_prime(unsigned long n)
{
	if (n < 2)
		return false;
	for (unsigned long d = 2; d * d <= n; d++) {
		if (n % d == 0)
			return false;
	}
	return true;
}

/* Cyrus: the smallest prime above KiB*1024/576. */
static unsigned slots_for(long size_kb)
{
	unsigned long n;

	if (size_kb <= 0)
		return CACHE_DEFAULT_SLOTS;
	n = (unsigned long)size_kb * 1024 / CACHE_CYRUS_SLOT_BYTES + 1;
	while (!is_prime(n))
		n++;
	return (unsigned)n;
}

static bool init_locks(void)
{
	pthread_mutexattr_t attr;

	if (pthread_mutexattr_init(&attr) != 0)
		return false;
	bool ok = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0 &&
	          pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0;
	for (unsigned i = 0; ok && i < cache.nslots; i++)
		ok = pthread_mutex_init(&cache.slots[i].lock, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	return ok;
}

bool cache_init(long size_kb, long timeout_s)
{
	unsigned n = slots_for(size_kb);
	size_t bytes = sizeof(struct cache_header) + (size_t)n * sizeof(struct cache_slot);
	void *p;

	if (!sa_hmac_key_random(&cache.key)) {
		log_core(LOG_ERR, "credential cache: no random key: %s", strerror(errno));
		return false;
	}
	if (!sa_hmac_prepare(&cache.key)) {
		log_core(LOG_ERR, "credential cache: OpenSSL offers no HMAC-SHA256");
		return false;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_core(LOG_ERR, "credential cache: cannot map %zu bytes: %s", bytes, strerror(errno));
		return false;
	}
	/* The verifiers must not end up in swap or a core file. */
	if (mlock(p, bytes) != 0)
		log_debug("credential cache: cannot lock in memory: %s", strerror(errno));
	madvise(p, bytes, MADV_DONTDUMP);
	cache.header = p;
	cache.slots = (struct cache_slot *)(cache.header + 1);
	cache.nslots = n;
	cache.timeout = timeout_s;
	if (!init_locks()) {
		log_core(LOG_ERR, "credential cache: cannot initialise its locks");
		munmap(p, bytes);
		cache.slots = NULL;
		cache.header = NULL;
		return false;
	}
	log_debug("credential cache: %u slots, %u entries, %zu bytes, timeout %ld seconds", n,
	          n * CACHE_BUCKETS_PER_SLOT, bytes, timeout_s);
	return true;
}

bool cache_enabled(void)
{
	return cache.slots != NULL;
}

void cache_set_failure_ttls(long negative_ttl_s, long stale_ttl_s)
{
	cache.negative_ttl = negative_ttl_s > 0 ? negative_ttl_s : 0;
	cache.stale_ttl = stale_ttl_s > 0 ? stale_ttl_s : 0;
}

_Static_assert(CACHE_DIGEST_LEN == SA_HMAC_LEN, "cache digests are HMAC-SHA256");

/* HMAC-SHA256 under the per-start key over the parts (common/keyed_hash). */
static bool hmac(const char *const *parts, int nparts, unsigned char out[CACHE_DIGEST_LEN])
{
	return sa_hmac(&cache.key, parts, nparts, out);
}

static unsigned long long current_generation(void)
{
	return __atomic_load_n(&cache.header->generation, __ATOMIC_ACQUIRE);
}

static bool entry_live(const struct cache_entry *e, unsigned long long generation)
{
	return e->created != 0 && e->generation == generation;
}

static void lock_slot(struct cache_slot *s)
{
	if (pthread_mutex_lock(&s->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&s->lock); /* the entries are plain data: still fine */
}

static bool same_key(const struct cache_entry *e, const struct cache_ticket *t,
                     unsigned long long generation)
{
	return entry_live(e, generation) && memcmp(e->key, t->key, CACHE_DIGEST_LEN) == 0;
}

static bool same_password(const struct cache_entry *e, const struct cache_ticket *t)
{
	return secret_equal(e->verifier, CACHE_DIGEST_LEN, t->verifier, CACHE_DIGEST_LEN);
}

/* A positive entry that may still answer: live, or (stale) expired less than
 * --stale-ttl ago. */
static bool positive_within(const struct cache_entry *e, long long now, long extra)
{
	return e->kind == ENTRY_POSITIVE && e->created > now - cache.timeout - extra;
}

static bool negative_live(const struct cache_entry *e, long long now)
{
	return e->kind == ENTRY_NEGATIVE && e->created > now - cache.negative_ttl;
}

static enum entry_rank rank_of(const struct cache_entry *e, unsigned long long generation,
                               long long now)
{
	if (!entry_live(e, generation))
		return RANK_FREE;
	if (e->kind == ENTRY_NEGATIVE)
		return negative_live(e, now) ? RANK_NEGATIVE : RANK_FREE;
	if (positive_within(e, now, 0))
		return RANK_POSITIVE;
	return positive_within(e, now, cache.stale_ttl) ? RANK_STALE : RANK_FREE;
}

/* The entry to overwrite among those ranked at most max_rank: the lowest rank, then the
 * oldest (a dead entry counts as the oldest). -1 when every entry ranks higher. */
static int pick_victim(const struct cache_slot *s, const struct cache_ticket *t,
                       enum entry_rank max_rank)
{
	int victim = -1;
	enum entry_rank victim_rank = max_rank;
	long long victim_age = 0;

	for (int i = 0; i < CACHE_BUCKETS_PER_SLOT; i++) {
		const struct cache_entry *e = &s->entries[i];
		enum entry_rank r = rank_of(e, t->generation, t->looked_up);
		long long age = entry_live(e, t->generation) ? e->created : 0;
		if (r > max_rank)
			continue;
		if (victim < 0 || r < victim_rank || (r == victim_rank && age < victim_age)) {
			victim = i;
			victim_rank = r;
			victim_age = age;
		}
	}
	return victim;
}

static void fill_entry(struct cache_entry *e, const struct cache_ticket *t, enum entry_kind kind)
{
	memcpy(e->key, t->key, CACHE_DIGEST_LEN);
	memcpy(e->verifier, t->verifier, CACHE_DIGEST_LEN);
	e->created = t->looked_up;
	e->generation = t->generation;
	e->kind = (unsigned char)kind;
}

bool cache_lookup(const struct mech_request *req, struct cache_ticket *t)
{
	/* Only the host part of the client address: the port changes every connection. */
	char host[MECH_HOST_MAX + 1];
	const char *key_parts[4] = { req->login, req->realm, req->service, host };
	bool hit = false;

	memset(t, 0, sizeof(*t));
	/* Never a truncated host: two hosts must not share a key. */
	if (cache.slots == NULL || !mech_client_host(req->client_addr, host, sizeof(host)))
		return false;
	/* key: who is asking; verifier: the same plus the password. */
	const char *verifier_parts[6] = { "verifier", req->login, req->realm, req->service, host,
	                                  req->password };
	if (!hmac(key_parts, 4, t->key) || !hmac(verifier_parts, 6, t->verifier))
		return false;
	t->usable = true;
	t->looked_up = cache_now();
	t->generation = current_generation();
	t->slot = (unsigned)(((unsigned long)t->key[0] << 24 | (unsigned long)t->key[1] << 16 |
	                      (unsigned long)t->key[2] << 8 | t->key[3]) % cache.nslots);
	struct cache_slot *s = &cache.slots[t->slot];
	lock_slot(s);
	for (int i = 0; i < CACHE_BUCKETS_PER_SLOT; i++) {
		const struct cache_entry *e = &s->entries[i];
		if (!same_key(e, t, t->generation))
			continue;
		if (positive_within(e, t->looked_up, 0))
			hit = hit || same_password(e, t);
		else if (cache.negative_ttl > 0 && negative_live(e, t->looked_up))
			t->negative_hit = t->negative_hit || same_password(e, t);
	}
	pthread_mutex_unlock(&s->lock);
	if (hit)
		t->negative_hit = false;
	return hit;
}

void cache_store(const struct cache_ticket *t)
{
	if (cache.slots == NULL || !t->usable)
		return;
	struct cache_slot *s = &cache.slots[t->slot];
	int victim = -1;
	lock_slot(s);
	/* The key's positive entry if there is one, else the least useful entry. An OK
	 * decided across a flush is stored under the old generation: dead. */
	for (int i = 0; i < CACHE_BUCKETS_PER_SLOT; i++) {
		struct cache_entry *e = &s->entries[i];
		if (!same_key(e, t, t->generation))
			continue;
		if (e->kind == ENTRY_POSITIVE && victim < 0)
			victim = i;
		else if (e->kind == ENTRY_NEGATIVE)
			e->created = 0; /* the right password is known now */
	}
	if (victim < 0)
		victim = pick_victim(s, t, RANK_POSITIVE);
	fill_entry(&s->entries[victim], t, ENTRY_POSITIVE);
	pthread_mutex_unlock(&s->lock);
}

/* The slot of the key's oldest live negative entry once it has CACHE_NEGATIVE_PER_KEY,
 * or the one that already holds this password; -1 otherwise. */
static int negative_to_replace(const struct cache_slot *s, const struct cache_ticket *t)
{
	int oldest = -1, count = 0;

	for (int i = 0; i < CACHE_BUCKETS_PER_SLOT; i++) {
		const struct cache_entry *e = &s->entries[i];
		if (!same_key(e, t, t->generation) || !negative_live(e, t->looked_up))
			continue;
		if (same_password(e, t))
			return i;
		count++;
		if (oldest < 0 || e->created < s->entries[oldest].created)
			oldest = i;
	}
	return count >= CACHE_NEGATIVE_PER_KEY ? oldest : -1;
}

void cache_store_negative(const struct cache_ticket *t)
{
	if (cache.slots == NULL || !t->usable || cache.negative_ttl <= 0)
		return;
	struct cache_slot *s = &cache.slots[t->slot];
	lock_slot(s);
	int victim = negative_to_replace(s, t);
	if (victim < 0)
		victim = pick_victim(s, t, RANK_NEGATIVE);
	if (victim >= 0)
		fill_entry(&s->entries[victim], t, ENTRY_NEGATIVE);
	pthread_mutex_unlock(&s->lock);
}

bool cache_stale_hit(const struct cache_ticket *t)
{
	bool hit = false;

	if (cache.slots == NULL || !t->usable || cache.stale_ttl <= 0)
		return false;
	/* Now, not at lookup: the back-end may have taken its whole timeout to fail. A flush
	 * since the lookup (SIGHUP) forgets the entry. */
	long long now = cache_now();
	unsigned long long generation = current_generation();
	struct cache_slot *s = &cache.slots[t->slot];
	lock_slot(s);
	for (int i = 0; i < CACHE_BUCKETS_PER_SLOT; i++) {
		const struct cache_entry *e = &s->entries[i];
		if (same_key(e, t, generation) && positive_within(e, now, cache.stale_ttl))
			hit = hit || same_password(e, t);
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

void cache_flush(void)
{
	/* Entries of older generations are dead at once; workers overwrite them. */
	if (cache.header != NULL)
		__atomic_add_fetch(&cache.header->generation, 1, __ATOMIC_SEQ_CST);
}
