#include "saslauthd/policy.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "common/clock.h"
#include "common/keyed_hash.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"
#include "saslauthd/policy_redis.h"
#include "saslauthd/stats.h"

#define POLICY_SLOTS (POLICY_TABLE_KEYS / POLICY_WAYS)
#define CACHE_LINE 64
#define RULE_COUNT 2

/* A key's entry: which key (a truncated HMAC: no address or login in memory), when it
 * last failed, then limit.failures records. */
struct policy_entry {
	unsigned char key[POLICY_DIGEST_LEN];
	int64_t last_ms;
	struct policy_failure records[];
};

struct policy_slot {
	pthread_mutex_t lock; /* process-shared, robust: a worker dying inside is survived */
	unsigned char entries[];
};

/* The first page of the mapping: the store's outage state, shared by the workers and
 * never touched by the master after the fork. */
struct policy_header {
	struct policy_store_state store;
	unsigned char pad[CACHE_LINE];
};

struct policy_rule {
	const char *kind; /* the store's name for it */
	const char *reason;
	enum stats_counter counter;
	struct policy_limit limit;
	size_t entry_size;
	size_t slot_size;
	unsigned char *slots; /* NULL: the rule is off */
};

static struct {
	struct policy_settings settings;
	struct policy_header *header;
	struct policy_rule rules[RULE_COUNT];
	struct sa_hmac_key key;
	bool use_store;
} policy = {
	.rules = {
		{ .kind = "addr", .reason = POLICY_REASON_ADDR, .counter = STAT_THROTTLED_ADDR },
		{ .kind = "user", .reason = POLICY_REASON_USER, .counter = STAT_THROTTLED_USER },
	},
};

enum { RULE_ADDR, RULE_USER };

bool policy_validate(const struct policy_settings *s, char *err, size_t errsz)
{
	struct policy_store_uri uri;
	bool any = s->addr.failures > 0 || s->user.failures > 0;

	if (!any && s->exempt.count > 0) {
		str_copy(err, errsz, "--throttle-exempt needs --throttle-addr or --throttle-user");
		return false;
	}
	if (s->store == NULL)
		return true;
	if (!any) {
		str_copy(err, errsz, "--policy-store needs --throttle-addr or --throttle-user");
		return false;
	}
	if (!policy_redis_available()) {
		str_copy(err, errsz, "--policy-store: this build has no Redis support (hiredis)");
		return false;
	}
	return policy_store_parse(s->store, &uri, err, errsz);
}

static void describe_limit(const char *name, const struct policy_limit *l, char *out, size_t outsz)
{
	if (l->failures > 0)
		str_format(out, outsz, "%s %d/%ld", name, l->failures, l->seconds);
	else
		str_format(out, outsz, "%s off", name);
}

void policy_describe(const struct policy_settings *s, char *out, size_t outsz)
{
	char addr[64], user[64];

	describe_limit("address", &s->addr, addr, sizeof(addr));
	describe_limit("user", &s->user, user, sizeof(user));
	str_format(out, outsz, "%s, %s, %d exempt range%s, counters %s%s", addr, user,
	           s->exempt.count, s->exempt.count == 1 ? "" : "s",
	           s->store != NULL ? "in " : "in shared memory", s->store != NULL ? s->store : "");
}

static bool init_locks(struct policy_rule *r)
{
	pthread_mutexattr_t attr;

	if (pthread_mutexattr_init(&attr) != 0)
		return false;
	bool ok = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0 &&
	          pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0;
	for (unsigned i = 0; ok && i < POLICY_SLOTS; i++) {
		struct policy_slot *slot = (struct policy_slot *)(r->slots + i * r->slot_size);
		ok = pthread_mutex_init(&slot->lock, &attr) == 0;
	}
	pthread_mutexattr_destroy(&attr);
	return ok;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static size_t size_rule(struct policy_rule *r, const struct policy_limit *l)
{
	r->limit = *l;
	if (l->failures == 0)
		return 0;
	r->entry_size = round_up(sizeof(struct policy_entry) +
	                         (size_t)l->failures * sizeof(struct policy_failure), 8);
	r->slot_size = round_up(sizeof(struct policy_slot) + POLICY_WAYS * r->entry_size, CACHE_LINE);
	return r->slot_size * POLICY_SLOTS;
}

static bool map_tables(size_t bytes)
{
	unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		log_core(LOG_ERR, "throttling: cannot map %zu bytes: %s", bytes, strerror(errno));
		return false;
	}
	madvise(p, bytes, MADV_DONTDUMP);
	policy.header = (struct policy_header *)p;
	p += sizeof(struct policy_header);
	for (int i = 0; i < RULE_COUNT; i++) {
		struct policy_rule *r = &policy.rules[i];
		if (r->limit.failures == 0)
			continue;
		r->slots = p;
		p += r->slot_size * POLICY_SLOTS;
		if (!init_locks(r)) {
			log_core(LOG_ERR, "throttling: cannot initialise its locks");
			return false;
		}
	}
	return true;
}

bool policy_init(const struct policy_settings *s)
{
	char err[POLICY_ERR_MAX], text[POLICY_ERR_MAX + SA_PATH_MAX];
	struct policy_store_uri uri;
	size_t bytes = sizeof(struct policy_header);

	policy.settings = *s;
	if (s->addr.failures == 0 && s->user.failures == 0)
		return true;
	bytes += size_rule(&policy.rules[RULE_ADDR], &s->addr);
	bytes += size_rule(&policy.rules[RULE_USER], &s->user);
	if (!sa_hmac_key_random(&policy.key) || !sa_hmac_prepare(&policy.key)) {
		log_core(LOG_ERR, "throttling: no random key: %s", strerror(errno));
		return false;
	}
	if (!map_tables(bytes))
		return false;
	if (s->store != NULL) {
		if (!policy_store_parse(s->store, &uri, err, sizeof(err))) {
			log_core(LOG_ERR, "%s", err);
			return false;
		}
		policy_redis_setup(&uri, &policy.header->store);
		policy.use_store = true;
	}
	policy_describe(s, text, sizeof(text));
	log_core(LOG_INFO, "throttling: %s", text);
	return true;
}

bool policy_enabled(void)
{
	return policy.header != NULL;
}

/* The keys this request is counted under; the rules that do not apply get NULL. */
struct request_keys {
	char addr[POLICY_ADDR_KEY_MAX];
	const char *text[RULE_COUNT];
};

static bool applicable_keys(const struct request *req, const struct mech_request *mreq,
                            struct request_keys *k)
{
	char host[MECH_HOST_MAX + 1];

	k->text[RULE_ADDR] = k->text[RULE_USER] = NULL;
	if (!policy_enabled())
		return false;
	if (req->field_count == 5 && mech_client_host(mreq->client_addr, host, sizeof(host))) {
		/* Exempt hosts are neither refused nor counted, by either rule. */
		if (policy_exempt_match(&policy.settings.exempt, host))
			return false;
		if (policy.rules[RULE_ADDR].slots != NULL && host[0] != '\0' &&
		    policy_address_key(host, k->addr, sizeof(k->addr)))
			k->text[RULE_ADDR] = k->addr;
	}
	if (policy.rules[RULE_USER].slots != NULL)
		k->text[RULE_USER] = mreq->login;
	return k->text[RULE_ADDR] != NULL || k->text[RULE_USER] != NULL;
}

static int64_t window_ms(const struct policy_rule *r)
{
	return r->limit.seconds * SA_MS_PER_S;
}

static void lock_slot(struct policy_slot *s)
{
	if (pthread_mutex_lock(&s->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&s->lock); /* plain records: still consistent enough */
}

static struct policy_entry *entry_at(const struct policy_rule *r, struct policy_slot *s, int i)
{
	return (struct policy_entry *)(s->entries + (size_t)i * r->entry_size);
}

/* The key's slot, locked. */
static struct policy_slot *locked_slot(const struct policy_rule *r,
                                       const unsigned char key[POLICY_DIGEST_LEN])
{
	unsigned long h = (unsigned long)key[0] << 24 | (unsigned long)key[1] << 16 |
	                  (unsigned long)key[2] << 8 | key[3];
	struct policy_slot *s = (struct policy_slot *)(r->slots + (h % POLICY_SLOTS) * r->slot_size);
	lock_slot(s);
	return s;
}

/* The key's live entry in a locked slot, or NULL. */
static struct policy_entry *find_entry(const struct policy_rule *r, struct policy_slot *s,
                                       const unsigned char key[POLICY_DIGEST_LEN], int64_t now)
{
	for (int i = 0; i < POLICY_WAYS; i++) {
		struct policy_entry *e = entry_at(r, s, i);
		if (e->last_ms > now - window_ms(r) && memcmp(e->key, key, POLICY_DIGEST_LEN) == 0)
			return e;
	}
	return NULL;
}

/* A free entry for key in a locked slot: an expired one, else the one that failed least
 * recently (the eviction rule). */
static struct policy_entry *take_entry(const struct policy_rule *r, struct policy_slot *s,
                                       const unsigned char key[POLICY_DIGEST_LEN])
{
	struct policy_entry *victim = entry_at(r, s, 0);

	for (int i = 1; i < POLICY_WAYS; i++) {
		struct policy_entry *e = entry_at(r, s, i);
		if (e->last_ms < victim->last_ms)
			victim = e;
	}
	memset(victim, 0, r->entry_size);
	memcpy(victim->key, key, POLICY_DIGEST_LEN);
	return victim;
}

static bool key_digest(const struct policy_rule *r, const char *text,
                       unsigned char out[POLICY_DIGEST_LEN])
{
	unsigned char full[SA_HMAC_LEN];
	const char *parts[] = { "policy-key", r->kind, text };

	if (!sa_hmac(&policy.key, parts, 3, full))
		return false;
	memcpy(out, full, POLICY_DIGEST_LEN);
	return true;
}

static int local_count(const struct policy_rule *r, const char *text, int64_t now)
{
	unsigned char key[POLICY_DIGEST_LEN];
	int count = 0;

	if (!key_digest(r, text, key))
		return 0;
	struct policy_slot *s = locked_slot(r, key);
	struct policy_entry *e = find_entry(r, s, key, now);
	if (e != NULL)
		count = policy_window_count(e->records, r->limit.failures, now, window_ms(r));
	pthread_mutex_unlock(&s->lock);
	return count;
}

static void local_add(const struct policy_rule *r, const char *text, const char *password,
                      int64_t now)
{
	unsigned char key[POLICY_DIGEST_LEN], full[SA_HMAC_LEN];
	const char *parts[] = { "policy-password", r->kind, text, password };

	if (!key_digest(r, text, key) || !sa_hmac(&policy.key, parts, 4, full))
		return;
	struct policy_slot *s = locked_slot(r, key);
	struct policy_entry *e = find_entry(r, s, key, now);
	if (e == NULL)
		e = take_entry(r, s, key);
	policy_window_add(e->records, r->limit.failures, now, window_ms(r), full);
	e->last_ms = now;
	pthread_mutex_unlock(&s->lock);
	secret_wipe(full, sizeof(full));
}

/* The applicable rules as the store sees them; returns how many, index map in which. */
static int store_keys(const struct request_keys *k, struct policy_redis_key keys[RULE_COUNT],
                      int which[RULE_COUNT])
{
	int n = 0;

	for (int i = 0; i < RULE_COUNT; i++) {
		if (k->text[i] == NULL)
			continue;
		keys[n] = (struct policy_redis_key){ .kind = policy.rules[i].kind, .text = k->text[i],
		                                     .window_ms = window_ms(&policy.rules[i]) };
		which[n++] = i;
	}
	return n;
}

/* Counts by rule: from the store while it answers, else from the local table. */
static void current_counts(const struct request_keys *k, long counts[RULE_COUNT])
{
	struct policy_redis_key keys[RULE_COUNT];
	long found[RULE_COUNT];
	int which[RULE_COUNT];
	int n = store_keys(k, keys, which);

	counts[RULE_ADDR] = counts[RULE_USER] = 0;
	if (policy.use_store && policy_redis_count(keys, n, found)) {
		for (int i = 0; i < n; i++)
			counts[which[i]] = found[i];
		return;
	}
	int64_t now = sa_clock_ms();
	for (int i = 0; i < RULE_COUNT; i++) {
		if (k->text[i] != NULL)
			counts[i] = local_count(&policy.rules[i], k->text[i], now);
	}
}

const char *policy_refuses(const struct request *req, const struct mech_request *mreq)
{
	struct request_keys k;
	long counts[RULE_COUNT];

	if (!applicable_keys(req, mreq, &k))
		return NULL;
	current_counts(&k, counts);
	for (int i = 0; i < RULE_COUNT; i++) {
		const struct policy_rule *r = &policy.rules[i];
		if (k.text[i] != NULL && counts[i] >= r->limit.failures) {
			stats_count(r->counter);
			return r->reason;
		}
	}
	return NULL;
}

void policy_record_failure(const struct request *req, const struct mech_request *mreq)
{
	struct request_keys k;
	struct policy_redis_key keys[RULE_COUNT];
	int which[RULE_COUNT];

	if (!applicable_keys(req, mreq, &k))
		return;
	/* Always locally too, so the local counts are warm when the store goes away. */
	int64_t now = sa_clock_ms();
	for (int i = 0; i < RULE_COUNT; i++) {
		if (k.text[i] != NULL)
			local_add(&policy.rules[i], k.text[i], mreq->password, now);
	}
	if (policy.use_store)
		policy_redis_add(keys, store_keys(&k, keys, which), mreq->password);
}
