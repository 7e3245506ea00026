#include "saslauthd/policy_redis.h"

#include <stdio.h>
#include <string.h>

#include "build_config.h"
#include "common/strutil.h"

#define REDIS_SCHEME "redis://"
#define REDIS_DEFAULT_PORT 6379
#define REDIS_DB_PARAM "?db="

bool policy_redis_available(void)
{
#ifdef WITH_REDIS
	return true;
#else
	return false;
#endif
}

static bool parse_db(const char *s, int *db, char *err, size_t errsz)
{
	long v;

	if (!str_to_long(s, 0, POLICY_REDIS_MAX_DB, &v)) {
		str_format(err, errsz, "--policy-store: database \"%s\" is not a number 0..%d", s,
		           POLICY_REDIS_MAX_DB);
		return false;
	}
	*db = (int)v;
	return true;
}

static bool parse_unix(const char *rest, struct policy_store_uri *out, char *err, size_t errsz)
{
	const char *q = strstr(rest, REDIS_DB_PARAM);
	size_t n = q != NULL ? (size_t)(q - rest) : strlen(rest);

	if (n <= 1 || n >= sizeof(out->path)) {
		str_format(err, errsz, "--policy-store: the socket path is empty or too long");
		return false;
	}
	memcpy(out->path, rest, n);
	out->path[n] = '\0';
	out->is_unix = true;
	return q == NULL || parse_db(q + strlen(REDIS_DB_PARAM), &out->db, err, errsz);
}

static bool parse_tcp(const char *rest, struct policy_store_uri *out, char *err, size_t errsz)
{
	const char *slash = strchr(rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	char hostport[POLICY_REDIS_HOST_MAX + 8];
	long port = REDIS_DEFAULT_PORT;

	if (n == 0 || n >= sizeof(hostport)) {
		str_format(err, errsz, "--policy-store: the host is empty or too long");
		return false;
	}
	memcpy(hostport, rest, n);
	hostport[n] = '\0';
	char *colon = strrchr(hostport, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (!str_to_long(colon + 1, 1, 65535, &port)) {
			str_format(err, errsz, "--policy-store: port \"%s\" is not a number 1..65535",
			           colon + 1);
			return false;
		}
	}
	if (hostport[0] == '\0' || !str_copy(out->host, sizeof(out->host), hostport)) {
		str_format(err, errsz, "--policy-store: the host is empty or too long");
		return false;
	}
	out->port = (int)port;
	return slash == NULL || slash[1] == '\0' || parse_db(slash + 1, &out->db, err, errsz);
}

bool policy_store_parse(const char *uri, struct policy_store_uri *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(uri, REDIS_SCHEME, strlen(REDIS_SCHEME)) != 0) {
		str_format(err, errsz,
		           "--policy-store: \"%s\" is not redis://HOST:PORT[/DB] or "
		           "redis:///path/to/socket[?db=N]", uri);
		return false;
	}
	const char *rest = uri + strlen(REDIS_SCHEME);
	if (rest[0] == '/')
		return parse_unix(rest, out, err, errsz);
	return parse_tcp(rest, out, err, errsz);
}

#ifndef WITH_REDIS

void policy_redis_setup(const struct policy_store_uri *uri, struct policy_store_state *state)
{
	(void)uri;
	(void)state;
}

bool policy_redis_count(const struct policy_redis_key *keys, int nkeys, long counts[])
{
	(void)keys;
	(void)nkeys;
	(void)counts;
	return false;
}

bool policy_redis_add(const struct policy_redis_key *keys, int nkeys, const char *password)
{
	(void)keys;
	(void)nkeys;
	(void)password;
	return false;
}

bool policy_redis_probe(const struct policy_store_uri *uri, char *report, size_t reportsz)
{
	(void)uri;
	str_copy(report, reportsz, "this build has no Redis support");
	return false;
}

#else

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/keyed_hash.h"
#include "common/log.h"
#include "common/protocol.h"
#include "common/secret.h"
#include "saslauthd/policy_rules.h"
#include "saslauthd/stats.h"

#define FLEET_KEY_NAME "saslauthd:policy:hmac-key"
#define KEY_PREFIX "saslauthd:throttle:"
/* The prefix, the kind and a login of -r's longest (login@realm). */
#define REDIS_KEY_MAX (2 * PROTOCOL_FIELD_MAX + 64)
/* Three commands a key for an add. */
#define MAX_PIPELINE 8

static struct {
	struct policy_store_uri uri;
	struct policy_store_state *state;
	redisContext *ctx;
	pid_t ctx_in; /* a context inherited over fork is the parent's */
	struct sa_hmac_key fleet;
} store;

void policy_redis_setup(const struct policy_store_uri *uri, struct policy_store_state *state)
{
	store.uri = *uri;
	store.state = state;
}

static void describe(const struct policy_store_uri *u, char *out, size_t outsz)
{
	if (u->is_unix)
		str_format(out, outsz, "redis://%s?db=%d", u->path, u->db);
	else
		str_format(out, outsz, "redis://%s:%d/%d", u->host, u->port, u->db);
}

static struct timeval timeout_tv(void)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = POLICY_REDIS_TIMEOUT_MS * SA_US_PER_MS };
	return tv;
}

static bool reply_ok(redisReply *r, int type)
{
	return r != NULL && r->type == type;
}

/* Run one command; the reply must have the given type. */
static bool command(redisContext *c, int type, redisReply **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	bool ok = reply_ok(r, type);
	if (out != NULL && ok)
		*out = r;
	else if (r != NULL)
		freeReplyObject(r);
	return ok;
}

/* Create the fleet key if nobody has yet, then use whichever one won. */
static bool fetch_fleet_key(redisContext *c, struct sa_hmac_key *k, char *why, size_t whysz)
{
	unsigned char fresh[SA_HMAC_KEY_LEN];
	redisReply *got = NULL;

	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh)) {
		str_copy(why, whysz, "no randomness for the fleet key");
		return false;
	}
	redisReply *set = redisCommand(c, "SET %s %b NX", FLEET_KEY_NAME, fresh, sizeof(fresh));
	secret_wipe(fresh, sizeof(fresh));
	bool ok = set != NULL && set->type != REDIS_REPLY_ERROR;
	if (set != NULL)
		freeReplyObject(set);
	ok = ok && command(c, REDIS_REPLY_STRING, &got, "GET %s", FLEET_KEY_NAME);
	if (ok && got->len == SA_HMAC_KEY_LEN)
		sa_hmac_key_set(k, (const unsigned char *)got->str);
	else
		str_format(why, whysz, ok ? "%s is not a key of ours" : "cannot read %s", FLEET_KEY_NAME);
	ok = ok && got->len == SA_HMAC_KEY_LEN;
	if (got != NULL) {
		secret_wipe(got->str, got->len);
		freeReplyObject(got);
	}
	return ok;
}

static redisContext *open_context(const struct policy_store_uri *u, struct sa_hmac_key *k,
                                  char *why, size_t whysz)
{
	struct timeval tv = timeout_tv();
	redisContext *c = u->is_unix ? redisConnectUnixWithTimeout(u->path, tv)
	                             : redisConnectWithTimeout(u->host, u->port, tv);

	if (c == NULL) {
		str_copy(why, whysz, "out of memory");
		return NULL;
	}
	bool ok = c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK;
	if (ok && u->db != 0 && !command(c, REDIS_REPLY_STATUS, NULL, "SELECT %d", u->db)) {
		str_copy(why, whysz, "SELECT refused");
		ok = false;
	}
	ok = ok && fetch_fleet_key(c, k, why, whysz);
	if (!ok) {
		if (c->err != 0) /* the transport's reason (refused, timed out) says most */
			str_copy(why, whysz, c->errstr);
		else if (why[0] == '\0')
			str_copy(why, whysz, "cannot set the timeout");
		redisFree(c);
		return NULL;
	}
	return c;
}

/* The store failed: count it, drop the connection, leave it alone for a while; the
 * first process to notice an outage logs it. */
static void store_failed(const char *reason)
{
	char name[SA_PATH_MAX + 32];
	char why[POLICY_ERR_MAX];
	int expected = 0;

	str_copy(why, sizeof(why), reason); /* it may live in the context freed below */
	stats_count(STAT_POLICY_STORE_ERROR);
	if (store.ctx != NULL && store.ctx_in == getpid())
		redisFree(store.ctx);
	store.ctx = NULL;
	__atomic_store_n(&store.state->retry_at_ms, sa_clock_ms() + POLICY_REDIS_RETRY_MS,
	                 __ATOMIC_RELAXED);
	if (__atomic_compare_exchange_n(&store.state->down, &expected, 1, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_RELAXED)) {
		describe(&store.uri, name, sizeof(name));
		log_core(LOG_WARNING, "policy store %s unavailable (%s): throttling with this host's "
		         "own counters, retrying every %d ms", name, why, POLICY_REDIS_RETRY_MS);
	}
}

static bool connected(void)
{
	char why[POLICY_ERR_MAX] = "";
	char name[SA_PATH_MAX + 32];
	int expected = 1;

	if (store.state == NULL)
		return false;
	if (store.ctx != NULL && store.ctx_in == getpid())
		return true;
	store.ctx = NULL;
	if (sa_clock_ms() < __atomic_load_n(&store.state->retry_at_ms, __ATOMIC_RELAXED))
		return false;
	store.ctx = open_context(&store.uri, &store.fleet, why, sizeof(why));
	if (store.ctx == NULL) {
		store_failed(why);
		return false;
	}
	store.ctx_in = getpid();
	if (__atomic_compare_exchange_n(&store.state->down, &expected, 0, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_RELAXED)) {
		describe(&store.uri, name, sizeof(name));
		log_core(LOG_NOTICE, "policy store %s available again: counters are shared", name);
	}
	return true;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SA_MS_PER_S + ts.tv_nsec / SA_NS_PER_MS;
}

static bool redis_key(const struct policy_redis_key *k, char *out, size_t outsz)
{
	return str_format(out, outsz, KEY_PREFIX "%s:%s", k->kind, k->text);
}

/* Read n pipelined replies; each must be an integer. The first error ends the
 * connection (a half-read pipeline cannot be resynchronised). */
static bool read_integers(int n, long values[])
{
	bool ok = true;

	for (int i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(store.ctx, (void **)&r) != REDIS_OK) {
			store_failed(store.ctx->errstr[0] ? store.ctx->errstr : "no reply");
			return false;
		}
		if (!reply_ok(r, REDIS_REPLY_INTEGER))
			ok = false;
		else if (values != NULL)
			values[i] = (long)r->integer;
		freeReplyObject(r);
	}
	if (!ok)
		store_failed("unexpected reply");
	return ok;
}

bool policy_redis_count(const struct policy_redis_key *keys, int nkeys, long counts[])
{
	char key[REDIS_KEY_MAX];
	int64_t now = wall_ms();

	if (nkeys == 0)
		return true;
	if (nkeys > MAX_PIPELINE || !connected())
		return false;
	for (int i = 0; i < nkeys; i++) {
		if (!redis_key(&keys[i], key, sizeof(key)) ||
		    redisAppendCommand(store.ctx, "ZCOUNT %s (%lld +inf", key,
		                       (long long)(now - keys[i].window_ms)) != REDIS_OK) {
			store_failed("cannot queue a command");
			return false;
		}
	}
	return read_integers(nkeys, counts);
}

bool policy_redis_add(const struct policy_redis_key *keys, int nkeys, const char *password)
{
	char key[REDIS_KEY_MAX];
	unsigned char digest[SA_HMAC_LEN];
	int64_t now = wall_ms();
	bool ok = true;

	if (nkeys == 0)
		return true;
	if (nkeys * 3 > MAX_PIPELINE || !connected())
		return false;
	for (int i = 0; ok && i < nkeys; i++) {
		const char *parts[] = { "policy-password", keys[i].kind, keys[i].text, password };
		ok = redis_key(&keys[i], key, sizeof(key)) && sa_hmac(&store.fleet, parts, 4, digest) &&
		     redisAppendCommand(store.ctx, "ZREMRANGEBYSCORE %s -inf %lld", key,
		                        (long long)(now - keys[i].window_ms)) == REDIS_OK &&
		     redisAppendCommand(store.ctx, "ZADD %s %lld %b", key, (long long)now, digest,
		                        (size_t)POLICY_DIGEST_LEN) == REDIS_OK &&
		     redisAppendCommand(store.ctx, "PEXPIRE %s %lld", key,
		                        (long long)keys[i].window_ms) == REDIS_OK;
	}
	secret_wipe(digest, sizeof(digest));
	if (!ok) {
		store_failed("cannot queue a command");
		return false;
	}
	return read_integers(nkeys * 3, NULL);
}

bool policy_redis_probe(const struct policy_store_uri *uri, char *report, size_t reportsz)
{
	char why[POLICY_ERR_MAX] = "";
	char name[SA_PATH_MAX + 32];
	struct sa_hmac_key k;

	describe(uri, name, sizeof(name));
	memset(&k, 0, sizeof(k));
	redisContext *c = open_context(uri, &k, why, sizeof(why));
	secret_wipe(k.key, sizeof(k.key));
	if (c == NULL) {
		str_format(report, reportsz, "%s: %s", name, why);
		return false;
	}
	bool ok = command(c, REDIS_REPLY_STATUS, NULL, "PING");
	redisFree(c);
	str_format(report, reportsz, ok ? "%s answers, fleet key present" : "%s: PING failed", name);
	return ok;
}

#endif
