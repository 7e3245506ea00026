#include "saslauthd/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/strutil.h"
#include "saslauthd/chain.h"
#include "saslauthd/daemon.h"

#define STATS_MAGIC 0x53415354u /* "SAST" */
#define STATS_VERSION 7u
#define STATS_MECH_MAX CHAIN_NAME_MAX /* a chain is named by all its mechanisms */

/* Upper bounds of the latency buckets, in microseconds (the last one is +Inf). */
static const int64_t bucket_bounds_us[] = { 1000, 5000, 10000, 50000, 100000, 500000,
                                            1000000, 5000000 };
#define BUCKET_COUNT (sizeof(bucket_bounds_us) / sizeof(bucket_bounds_us[0]) + 1)

struct stats_page {
	uint32_t magic;
	uint32_t version;
	int64_t started; /* wall-clock seconds */
	char mech[STATS_MECH_MAX];
	uint64_t counters[STAT_COUNTER_COUNT];
	int64_t gauges[STAT_GAUGE_COUNT];
	uint64_t buckets[BUCKET_COUNT];
	uint64_t latency_sum_us;
};

static struct stats_page *page;

bool stats_create(const char *mech_name)
{
	int fd = daemon_open_run_file(STATS_FILE, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, sizeof(*page)) != 0) {
		log_core(LOG_ERR, "cannot create %s: %s (no statistics)", STATS_FILE, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	void *p = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_core(LOG_ERR, "cannot map %s: %s (no statistics)", STATS_FILE, strerror(errno));
		return false;
	}
	page = p;
	page->version = STATS_VERSION;
	page->started = (int64_t)time(NULL);
	str_copy(page->mech, sizeof(page->mech), mech_name);
	__atomic_store_n(&page->magic, STATS_MAGIC, __ATOMIC_RELEASE);
	return true;
}

void stats_remove(void)
{
	if (page != NULL)
		unlink(STATS_FILE);
}

void stats_count(enum stats_counter c)
{
	if (page != NULL && c < STAT_COUNTER_COUNT)
		__atomic_add_fetch(&page->counters[c], 1, __ATOMIC_RELAXED);
}

void stats_set_gauge(enum stats_gauge g, int64_t value)
{
	if (page != NULL && g < STAT_GAUGE_COUNT)
		__atomic_store_n(&page->gauges[g], value, __ATOMIC_RELAXED);
}

void stats_record(enum verdict v, int64_t micros)
{
	size_t b = 0;

	if (page == NULL)
		return;
	stats_count(v == VERDICT_OK ? STAT_OK : v == VERDICT_NO ? STAT_NO : STAT_FAIL);
	while (b < BUCKET_COUNT - 1 && micros > bucket_bounds_us[b])
		b++;
	__atomic_add_fetch(&page->buckets[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&page->latency_sum_us, (uint64_t)(micros < 0 ? 0 : micros),
	                   __ATOMIC_RELAXED);
}

static void print_counter(FILE *out, const char *name, const char *help, const char *mech,
                          const char *label, uint64_t value)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	fprintf(out, "%s{mech=\"%s\"%s} %llu\n", name, mech, label, (unsigned long long)value);
}

/* A counter with two values of one label, e.g. result="hit" and result="miss". */
static void print_counter_pair(FILE *out, const char *name, const char *help, const char *mech,
                               const char *label, const char *first, uint64_t first_value,
                               const char *second, uint64_t second_value)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	fprintf(out, "%s{mech=\"%s\",%s=\"%s\"} %llu\n", name, mech, label, first,
	        (unsigned long long)first_value);
	fprintf(out, "%s{mech=\"%s\",%s=\"%s\"} %llu\n", name, mech, label, second,
	        (unsigned long long)second_value);
}

static void print_page(const struct stats_page *p, FILE *out)
{
	static const char *const results[] = { "ok", "no", "fail" };
	uint64_t cumulative = 0;

	fprintf(out, "# HELP saslauthd_requests_total Requests decided by the mechanism, by verdict.\n"
	             "# TYPE saslauthd_requests_total counter\n");
	for (int i = STAT_OK; i <= STAT_FAIL; i++)
		fprintf(out, "saslauthd_requests_total{mech=\"%s\",result=\"%s\"} %llu\n", p->mech,
		        results[i], (unsigned long long)p->counters[i]);
	print_counter(out, "saslauthd_refused_total",
	              "Requests refused by the protocol layer (empty, too long, NUL byte).", p->mech,
	              "", p->counters[STAT_REFUSED]);
	print_counter(out, "saslauthd_dropped_total",
	              "Connections closed without an answer (timeout, client gone).", p->mech, "",
	              p->counters[STAT_DROPPED]);
	print_counter(out, "saslauthd_stalled_dropped_total",
	              "Incomplete connections dropped at the connection limit to take new ones.",
	              p->mech, "", p->counters[STAT_STALLED_DROPPED]);
	print_counter(out, "saslauthd_pool_grown_total",
	              "Workers started above -n because every worker was deciding.", p->mech, "",
	              p->counters[STAT_POOL_GROWN]);
	print_counter(out, "saslauthd_pool_retired_total",
	              "Workers above -n stopped after --worker-idle without work.", p->mech, "",
	              p->counters[STAT_POOL_RETIRED]);
	print_counter(out, "saslauthd_chain_steps_total",
	              "Mechanisms of an -a chain asked after the first (a NO or FAIL moved on).",
	              p->mech, "", p->counters[STAT_CHAIN_STEP]);
	int64_t busy = p->gauges[STAT_G_BUSY], total = p->gauges[STAT_G_WORKERS];
	fprintf(out, "# HELP saslauthd_workers Worker processes (deciders), by state.\n"
	             "# TYPE saslauthd_workers gauge\n"
	             "saslauthd_workers{mech=\"%s\",state=\"busy\"} %lld\n"
	             "saslauthd_workers{mech=\"%s\",state=\"idle\"} %lld\n"
	             "saslauthd_workers{mech=\"%s\",state=\"total\"} %lld\n",
	        p->mech, (long long)busy, p->mech, (long long)(total > busy ? total - busy : 0),
	        p->mech, (long long)total);
	fprintf(out, "# HELP saslauthd_requests_waiting Connections waiting to be accepted.\n"
	             "# TYPE saslauthd_requests_waiting gauge\n"
	             "saslauthd_requests_waiting{mech=\"%s\"} %lld\n",
	        p->mech, (long long)p->gauges[STAT_G_WAITING]);
	print_counter(out, "saslauthd_worker_deaths_total",
	              "Workers that died from a signal or failed.", p->mech, "",
	              p->counters[STAT_WORKER_DIED]);
	print_counter(out, "saslauthd_worker_starts_total", "Workers forked, replacements included.",
	              p->mech, "", p->counters[STAT_WORKER_START]);
	print_counter_pair(out, "saslauthd_cache_lookups_total", "Credential cache (-c) lookups.",
	                   p->mech, "result", "hit", p->counters[STAT_CACHE_HIT], "miss",
	                   p->counters[STAT_CACHE_MISS]);
	print_counter(out, "saslauthd_fail_delayed_total",
	              "Replies other than OK held back by --fail-delay.", p->mech, "",
	              p->counters[STAT_DELAYED]);
	print_counter(out, "saslauthd_negative_cache_hits_total",
	              "Requests refused from the negative cache (--negative-ttl).", p->mech, "",
	              p->counters[STAT_NEGATIVE_HIT]);
	print_counter(out, "saslauthd_stale_cache_hits_total",
	              "Back-end failures answered OK from an expired entry (--stale-ttl).", p->mech,
	              "", p->counters[STAT_STALE_HIT]);
	print_counter_pair(out, "saslauthd_throttled_total", "Requests refused by throttling, by rule.",
	                   p->mech, "rule", "address", p->counters[STAT_THROTTLED_ADDR], "user",
	                   p->counters[STAT_THROTTLED_USER]);
	print_counter(out, "saslauthd_policy_store_errors_total",
	              "Policy store (--policy-store) calls that failed or timed out.", p->mech, "",
	              p->counters[STAT_POLICY_STORE_ERROR]);
	fprintf(out, "# HELP saslauthd_request_duration_seconds Time the mechanism took to decide.\n"
	             "# TYPE saslauthd_request_duration_seconds histogram\n");
	for (size_t b = 0; b < BUCKET_COUNT; b++) {
		cumulative += p->buckets[b];
		if (b < BUCKET_COUNT - 1)
			fprintf(out, "saslauthd_request_duration_seconds_bucket{mech=\"%s\",le=\"%g\"} %llu\n",
			        p->mech, (double)bucket_bounds_us[b] / 1e6, (unsigned long long)cumulative);
		else
			fprintf(out, "saslauthd_request_duration_seconds_bucket{mech=\"%s\",le=\"+Inf\"} %llu\n",
			        p->mech, (unsigned long long)cumulative);
	}
	fprintf(out, "saslauthd_request_duration_seconds_sum{mech=\"%s\"} %.6f\n", p->mech,
	        (double)p->latency_sum_us / 1e6);
	fprintf(out, "saslauthd_request_duration_seconds_count{mech=\"%s\"} %llu\n", p->mech,
	        (unsigned long long)cumulative);
	fprintf(out, "# HELP saslauthd_start_time_seconds When the daemon started (Unix time).\n"
	             "# TYPE saslauthd_start_time_seconds gauge\n"
	             "saslauthd_start_time_seconds{mech=\"%s\"} %lld\n", p->mech,
	        (long long)p->started);
}

int stats_print(const char *run_dir, FILE *out)
{
	char path[SA_PATH_MAX];
	struct stats_page snapshot;

	if (!str_format(path, sizeof(path), "%s/%s", run_dir, STATS_FILE))
		return 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "saslauthd: %s: %s (is the daemon running with -m %s?)\n", path,
		        strerror(errno), run_dir);
		return 1;
	}
	ssize_t n = read(fd, &snapshot, sizeof(snapshot));
	close(fd);
	if (n != (ssize_t)sizeof(snapshot) || snapshot.magic != STATS_MAGIC ||
	    snapshot.version != STATS_VERSION) {
		fprintf(stderr, "saslauthd: %s is not a statistics file of this version\n", path);
		return 1;
	}
	snapshot.mech[STATS_MECH_MAX - 1] = '\0';
	print_page(&snapshot, out);
	return 0;
}
