/* saslauthd-loadgen: a load generator for saslauthd-compatible daemons.
 *
 * It talks to the daemon exactly as libsasl2 does (lib/checkpw.c): for every
 * request a new AF_UNIX stream connection, the whole request in one send(),
 * no half-close, one counted-string reply read (at most 1023 text bytes used),
 * then close().  Concurrency comes from fork()ed client processes, like the
 * many independent smtpd/imapd processes that are real saslauthd clients;
 * each child keeps a fixed-size latency histogram and hands its totals to the
 * parent through a pipe when it is done.
 *
 * Usage: see usage() below, or bench/README.md. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- bounds ------------------------------------------------------------ */

#define MAX_CONCURRENCY 1024
#define MAX_REQUESTS 100000         /* request lines kept from the file */
#define MAX_LINE 16384              /* one line of the request file */
#define MAX_FIELD 65535             /* a counted string's length limit */
#define MAX_REQUEST_BYTES 8192      /* libsasl2 builds requests in 8 KiB */
#define REPLY_TEXT_MAX 1023         /* libsasl2 reads at most this much reply text */
#define NOTE_LEN 200                /* first error / first wrong verdict, per child */

/* Latency histogram (microseconds): exact below 256 us, then 128 linear
 * sub-buckets per power of two (< 0.8 % relative error), up to 2^36 us. */
#define HIST_EXACT 256
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_MSB 36
#define HIST_BUCKETS (HIST_EXACT + (HIST_MAX_MSB - 8 + 1) * HIST_SUB)

struct result {
	uint64_t hist[HIST_BUCKETS];
	uint64_t ok, no, err, wrong;
	uint64_t answered_in_window; /* -d mode: OK/NO replies completed by the window's end */
	uint64_t lat_max_us;
	uint64_t lat_sum_us;
	int64_t first_start_ns; /* first measured request start, -1 if none */
	int64_t last_end_ns;    /* last measured request end */
	char first_err[NOTE_LEN];
	char first_wrong[NOTE_LEN];
	uint32_t magic;
};

#define RESULT_MAGIC 0x5a5a10adU

struct req {
	size_t off, len;     /* encoded bytes in the shared buffer */
	int expect_ok;       /* 1: expect OK, 0: expect NO */
	unsigned lineno;
};

struct config {
	const char *socket_path;
	const char *req_file;
	unsigned concurrency;
	double duration;     /* seconds; used when total == 0 */
	uint64_t total;      /* -n; 0 means duration mode */
	double warmup;
	double timeout;      /* per-request I/O timeout, seconds */
	int five_fields;
	int quiet;
};

static struct req *g_reqs;
static size_t g_nreqs;
static unsigned char *g_buf;
static size_t g_buflen;
static struct sockaddr_un g_addr;
static socklen_t g_addrlen;
static pid_t g_parent;

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("saslauthd-loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0; /* cannot happen for CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double parse_double(const char *s, const char *what, double min, double max)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min) || !(v <= max))
		die("bad %s '%s' (expected a number in [%g, %g])", what, s, min, max);
	return v;
}

static uint64_t parse_u64(const char *s, const char *what, uint64_t min, uint64_t max)
{
	char *end = NULL;
	errno = 0;
	if (*s == '-' || *s == '\0')
		die("bad %s '%s'", what, s);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		die("bad %s '%s' (expected an integer in [%" PRIu64 ", %" PRIu64 "])", what, s, min, max);
	return (uint64_t)v;
}

static void note(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(char *dst, const char *fmt, ...)
{
	if (dst[0] != '\0')
		return; /* keep the first one only */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, NOTE_LEN, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(dst, NOTE_LEN, "(unformattable note)");
}

/* ---- histogram ---------------------------------------------------------- */

static size_t hist_index(uint64_t us)
{
	if (us < HIST_EXACT)
		return (size_t)us;
	unsigned msb = 63u - (unsigned)__builtin_clzll(us);
	if (msb > HIST_MAX_MSB)
		return HIST_BUCKETS - 1;
	uint64_t sub = (us >> (msb - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return HIST_EXACT + (size_t)(msb - 8) * HIST_SUB + (size_t)sub;
}

/* Upper edge of a bucket (a conservative value for percentiles). */
static uint64_t hist_value(size_t idx)
{
	if (idx < HIST_EXACT)
		return idx;
	size_t rel = idx - HIST_EXACT;
	unsigned msb = (unsigned)(rel / HIST_SUB) + 8;
	uint64_t sub = rel % HIST_SUB;
	uint64_t width = (uint64_t)1 << (msb - HIST_SUB_BITS);
	uint64_t lo = ((uint64_t)1 << msb) + sub * width;
	return lo + width - 1;
}

static uint64_t hist_percentile(const uint64_t *hist, uint64_t count, double pct, uint64_t max)
{
	if (count == 0)
		return 0;
	/* nearest rank */
	uint64_t rank = (uint64_t)((pct / 100.0) * (double)count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	uint64_t seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= rank) {
			uint64_t v = hist_value(i);
			return v > max ? max : v;
		}
	}
	return max;
}

/* ---- request file --------------------------------------------------------- */

static size_t put_counted(unsigned char *out, size_t room, const char *s)
{
	size_t len = strlen(s);
	if (len > MAX_FIELD || len + 2 > room)
		return 0;
	out[0] = (unsigned char)(len >> 8);
	out[1] = (unsigned char)(len & 0xff);
	memcpy(out + 2, s, len);
	return len + 2;
}

static void load_requests(const char *path, int five)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("cannot open request file %s: %s", path, strerror(errno));

	size_t cap_reqs = 64, cap_buf = 16384;
	g_reqs = malloc(cap_reqs * sizeof *g_reqs);
	g_buf = malloc(cap_buf);
	if (g_reqs == NULL || g_buf == NULL)
		die("out of memory");

	char *line = malloc(MAX_LINE + 2);
	if (line == NULL)
		die("out of memory");
	unsigned lineno = 0;
	while (fgets(line, MAX_LINE + 2, f) != NULL) {
		lineno++;
		size_t len = strlen(line);
		if (len > MAX_LINE || (len == MAX_LINE + 1 && line[len - 1] != '\n'))
			die("%s:%u: line too long (max %d bytes)", path, lineno, MAX_LINE);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;

		char *fields[7];
		size_t nf = 0;
		char *p = line;
		for (;;) {
			if (nf == 7)
				die("%s:%u: too many tab-separated fields (expected 5 or 6)", path, lineno);
			fields[nf++] = p;
			char *tab = strchr(p, '\t');
			if (tab == NULL)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (nf < 5 || nf > 6)
			die("%s:%u: %zu fields; expected VERDICT<TAB>login<TAB>password<TAB>service<TAB>realm"
			    "[<TAB>client address]",
			    path, lineno, nf);

		int expect_ok;
		if (strcmp(fields[0], "OK") == 0)
			expect_ok = 1;
		else if (strcmp(fields[0], "NO") == 0)
			expect_ok = 0;
		else
			die("%s:%u: verdict must be OK or NO, not '%s'", path, lineno, fields[0]);

		if (g_nreqs == MAX_REQUESTS)
			die("%s: more than %d requests", path, MAX_REQUESTS);
		if (g_nreqs == cap_reqs) {
			cap_reqs *= 2;
			struct req *nr = realloc(g_reqs, cap_reqs * sizeof *g_reqs);
			if (nr == NULL)
				die("out of memory");
			g_reqs = nr;
		}
		if (g_buflen + MAX_REQUEST_BYTES > cap_buf) {
			while (g_buflen + MAX_REQUEST_BYTES > cap_buf)
				cap_buf *= 2;
			unsigned char *nb = realloc(g_buf, cap_buf);
			if (nb == NULL)
				die("out of memory");
			g_buf = nb;
		}

		unsigned char *out = g_buf + g_buflen;
		size_t room = MAX_REQUEST_BYTES, used = 0;
		size_t nfields = five ? 5 : 4;
		for (size_t i = 0; i < nfields; i++) {
			const char *val = (i + 1 < nf) ? fields[i + 1] : "";
			size_t w = put_counted(out + used, room - used, val);
			if (w == 0)
				die("%s:%u: request does not fit in %d bytes", path, lineno,
				    MAX_REQUEST_BYTES);
			used += w;
		}
		g_reqs[g_nreqs].off = g_buflen;
		g_reqs[g_nreqs].len = used;
		g_reqs[g_nreqs].expect_ok = expect_ok;
		g_reqs[g_nreqs].lineno = lineno;
		g_nreqs++;
		g_buflen += used;
	}
	if (ferror(f))
		die("error reading %s: %s", path, strerror(errno));
	if (fclose(f) != 0)
		die("error closing %s: %s", path, strerror(errno));
	explicit_bzero(line, MAX_LINE + 2);
	free(line);
	if (g_nreqs == 0)
		die("%s: no requests", path);
}

/* ---- one request -------------------------------------------------------- */

enum outcome { OUT_OK, OUT_NO, OUT_ERR };

static int read_full(int fd, unsigned char *buf, size_t len, char *why, size_t whylen)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			snprintf(why, whylen, "EOF after %zu of %zu bytes", got, len);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			snprintf(why, whylen, "timeout after %zu of %zu bytes", got, len);
		else
			snprintf(why, whylen, "read: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static enum outcome do_request(const struct req *rq, const struct timeval *tmo, char *why,
                               size_t whylen, char *reply, size_t replylen)
{
	reply[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return OUT_ERR;
	}
	enum outcome res = OUT_ERR;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tmo, sizeof *tmo) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tmo, sizeof *tmo) != 0) {
		snprintf(why, whylen, "setsockopt: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)&g_addr, g_addrlen) != 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		goto out;
	}
	/* One send for the whole request, as libsasl2 does. */
	const unsigned char *data = g_buf + rq->off;
	size_t sent = 0;
	while (sent < rq->len) {
		ssize_t w = send(fd, data + sent, rq->len - sent, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(why, whylen, "send: %s",
			         w < 0 ? strerror(errno) : "wrote nothing");
			goto out;
		}
		sent += (size_t)w;
	}

	unsigned char hdr[2];
	if (read_full(fd, hdr, 2, why, whylen) != 0)
		goto out;
	size_t n = ((size_t)hdr[0] << 8) | hdr[1];
	if (n < 2) {
		snprintf(why, whylen, "bad response: length %zu", n);
		goto out;
	}
	unsigned char text[REPLY_TEXT_MAX + 1];
	size_t want = n > REPLY_TEXT_MAX ? REPLY_TEXT_MAX : n;
	if (read_full(fd, text, want, why, whylen) != 0)
		goto out;
	text[want] = '\0';
	/* keep a printable copy of the reply for diagnostics */
	size_t k = 0;
	for (size_t i = 0; i < want && k + 1 < replylen; i++)
		reply[k++] = (text[i] >= 0x20 && text[i] < 0x7f) ? (char)text[i] : '?';
	reply[k] = '\0';
	res = (text[0] == 'O' && text[1] == 'K') ? OUT_OK : OUT_NO;
out:
	if (close(fd) != 0 && res != OUT_ERR) {
		snprintf(why, whylen, "close: %s", strerror(errno));
		res = OUT_ERR;
	}
	return res;
}

/* ---- client process ------------------------------------------------------ */

static int write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void run_client(const struct config *cfg, unsigned idx, int go_fd, int res_fd)
{
	static struct result r; /* static: too big for comfort on the stack */

	/* Do not outlive the parent (e.g. when it is killed by a timeout). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		_exit(3);
	if (getppid() != g_parent)
		_exit(3);
	memset(&r, 0, sizeof r);
	r.first_start_ns = -1;
	r.magic = RESULT_MAGIC;

	/* Wait for the common start time. */
	int64_t t0;
	unsigned char tb[sizeof t0];
	char why[NOTE_LEN];
	if (read_full(go_fd, tb, sizeof tb, why, sizeof why) != 0)
		_exit(3);
	memcpy(&t0, tb, sizeof t0);
	if (close(go_fd) != 0)
		_exit(3);

	struct timeval tmo;
	tmo.tv_sec = (time_t)cfg->timeout;
	tmo.tv_usec = (suseconds_t)((cfg->timeout - (double)tmo.tv_sec) * 1e6);
	if (tmo.tv_sec == 0 && tmo.tv_usec == 0)
		tmo.tv_usec = 1000;

	const int64_t warm_end = t0 + (int64_t)(cfg->warmup * 1e9);
	const int64_t meas_end = warm_end + (int64_t)(cfg->duration * 1e9);

	/* Share out -n requests; spread start positions across the file. */
	uint64_t quota = 0;
	if (cfg->total > 0) {
		quota = cfg->total / cfg->concurrency;
		if (idx < cfg->total % cfg->concurrency)
			quota++;
	}
	size_t pos = (size_t)(((uint64_t)g_nreqs * idx) / cfg->concurrency);
	uint64_t done = 0;
	char reply[64];

	for (;;) {
		int64_t start = now_ns();
		int measuring = start >= warm_end;
		if (cfg->total > 0) {
			if (measuring && done >= quota)
				break;
		} else if (start >= meas_end) {
			break;
		}
		const struct req *rq = &g_reqs[pos];
		pos = (pos + 1 == g_nreqs) ? 0 : pos + 1;

		why[0] = '\0';
		enum outcome o = do_request(rq, &tmo, why, sizeof why, reply, sizeof reply);
		int64_t end = now_ns();
		if (!measuring)
			continue;

		done++;
		if (r.first_start_ns < 0)
			r.first_start_ns = start;
		r.last_end_ns = end;
		uint64_t us = (uint64_t)((end - start) / 1000);
		r.hist[hist_index(us)]++;
		r.lat_sum_us += us;
		if (us > r.lat_max_us)
			r.lat_max_us = us;
		switch (o) {
		case OUT_ERR:
			r.err++;
			note(r.first_err, "line %u: %s", rq->lineno, why);
			/* Do not spin flat out against a dead socket. */
			if (r.err > 1000) {
				struct timespec ts = {0, 1000000};
				(void)nanosleep(&ts, NULL);
			}
			break;
		case OUT_OK:
		case OUT_NO:
			if (o == OUT_OK)
				r.ok++;
			else
				r.no++;
			if (end <= meas_end)
				r.answered_in_window++;
			if ((o == OUT_OK) != (rq->expect_ok != 0)) {
				r.wrong++;
				note(r.first_wrong, "line %u: expected %s, got \"%s\"", rq->lineno,
				     rq->expect_ok ? "OK" : "NO", reply);
			}
			break;
		}
	}
	if (write_full(res_fd, &r, sizeof r) != 0)
		_exit(4);
	if (close(res_fd) != 0)
		_exit(4);
	_exit(0);
}

/* ---- parent ---------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: saslauthd-loadgen -s SOCKET -f REQUESTS [-c N] [-d SECONDS | -n TOTAL]\n"
	        "                         [-w WARMUP] [-t TIMEOUT] [-5] [-q]\n"
	        "  -s SOCKET    full path of the daemon's socket (<run dir>/mux)\n"
	        "  -f REQUESTS  request file: one request a line, tab-separated:\n"
	        "               OK|NO  login  password  service  realm  [client address]\n"
	        "               ('#' starts a comment line); cycled through\n"
	        "  -c N         concurrent client processes (default 1, max %d)\n"
	        "  -d SECONDS   measure for this long (default 5)\n"
	        "  -n TOTAL     or: measure exactly TOTAL requests\n"
	        "  -w SECONDS   unmeasured warm-up before measuring (default 0)\n"
	        "  -t SECONDS   per-request I/O timeout (default 10); a timeout is a transport error\n"
	        "  -5           send the 5-field form (client address, empty if none)\n"
	        "  -q           print only the RESULT line\n"
	        "Exit status: 0 all verdicts right and no transport error, 1 otherwise, 2 usage.\n",
	        MAX_CONCURRENCY);
}

int main(int argc, char **argv)
{
	struct config cfg = {
		.concurrency = 1, .duration = 5.0, .timeout = 10.0,
	};
	int have_d = 0;
	int opt;
	while ((opt = getopt(argc, argv, "s:c:d:n:f:5w:t:qh")) != -1) {
		switch (opt) {
		case 's': cfg.socket_path = optarg; break;
		case 'c':
			cfg.concurrency = (unsigned)parse_u64(optarg, "concurrency", 1, MAX_CONCURRENCY);
			break;
		case 'd':
			cfg.duration = parse_double(optarg, "duration", 0.001, 86400);
			have_d = 1;
			break;
		case 'n': cfg.total = parse_u64(optarg, "total", 1, UINT64_C(1) << 40); break;
		case 'f': cfg.req_file = optarg; break;
		case '5': cfg.five_fields = 1; break;
		case 'w': cfg.warmup = parse_double(optarg, "warmup", 0, 3600); break;
		case 't': cfg.timeout = parse_double(optarg, "timeout", 0.001, 3600); break;
		case 'q': cfg.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg.socket_path == NULL || cfg.req_file == NULL) {
		usage(stderr);
		return 2;
	}
	if (have_d && cfg.total > 0)
		die("-d and -n are mutually exclusive");
	if (cfg.total > 0)
		cfg.duration = 0;
	if (cfg.total > 0 && cfg.total < cfg.concurrency)
		cfg.concurrency = (unsigned)cfg.total;

	memset(&g_addr, 0, sizeof g_addr);
	g_addr.sun_family = AF_UNIX;
	size_t plen = strlen(cfg.socket_path);
	if (plen == 0 || plen >= sizeof g_addr.sun_path)
		die("socket path must be 1..%zu bytes", sizeof g_addr.sun_path - 1);
	memcpy(g_addr.sun_path, cfg.socket_path, plen + 1);
	g_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);

	load_requests(cfg.req_file, cfg.five_fields);

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal: %s", strerror(errno));
	if (fflush(stdout) != 0 || fflush(stderr) != 0)
		die("fflush: %s", strerror(errno));

	g_parent = getpid();
	int go[2];
	if (pipe2(go, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));

	static pid_t pids[MAX_CONCURRENCY];
	static int resfd[MAX_CONCURRENCY];
	unsigned started = 0;
	int failed = 0;
	for (unsigned i = 0; i < cfg.concurrency; i++) {
		int rp[2];
		if (pipe2(rp, O_CLOEXEC) != 0) {
			fprintf(stderr, "saslauthd-loadgen: pipe: %s\n", strerror(errno));
			failed = 1;
			break;
		}
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "saslauthd-loadgen: fork: %s\n", strerror(errno));
			(void)close(rp[0]);
			(void)close(rp[1]);
			failed = 1;
			break;
		}
		if (pid == 0) {
			/* child: drop the other children's pipe ends */
			for (unsigned j = 0; j < started; j++)
				(void)close(resfd[j]);
			(void)close(go[1]);
			(void)close(rp[0]);
			run_client(&cfg, i, go[0], rp[1]);
		}
		(void)close(rp[1]);
		pids[started] = pid;
		resfd[started] = rp[0];
		started++;
	}
	if (close(go[0]) != 0)
		die("close: %s", strerror(errno));

	/* Release the children (or, on failure, let them see EOF and exit). */
	int64_t t0 = now_ns();
	if (!failed) {
		for (unsigned i = 0; i < started; i++) {
			if (write_full(go[1], &t0, sizeof t0) != 0) {
				fprintf(stderr, "saslauthd-loadgen: write: %s\n", strerror(errno));
				failed = 1;
				break;
			}
		}
	}
	if (close(go[1]) != 0)
		die("close: %s", strerror(errno));

	/* Collect. In duration mode bound the wait: children stop issuing at the
	 * deadline and each request is bounded by -t. */
	int64_t deadline = -1;
	if (cfg.total == 0)
		deadline = t0 + (int64_t)((cfg.warmup + cfg.duration + 2 * cfg.timeout + 10) * 1e9);

	static struct result agg;
	memset(&agg, 0, sizeof agg);
	int64_t first_start = -1, last_end = -1;
	for (unsigned i = 0; i < started; i++) {
		static struct result r;
		size_t got = 0;
		int bad = 0;
		while (got < sizeof r) {
			if (deadline > 0) {
				int64_t left = deadline - now_ns();
				if (left <= 0) {
					bad = 1;
					fprintf(stderr, "saslauthd-loadgen: client %u did not finish in time\n", i);
					break;
				}
				struct pollfd pfd = {.fd = resfd[i], .events = POLLIN};
				int pr = poll(&pfd, 1, (int)(left / 1000000 + 1));
				if (pr < 0 && errno == EINTR)
					continue;
				if (pr < 0) {
					fprintf(stderr, "saslauthd-loadgen: poll: %s\n", strerror(errno));
					bad = 1;
					break;
				}
				if (pr == 0)
					continue;
			}
			ssize_t n = read(resfd[i], (unsigned char *)&r + got, sizeof r - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fprintf(stderr, "saslauthd-loadgen: client %u died without a result\n", i);
				bad = 1;
				break;
			}
			got += (size_t)n;
		}
		(void)close(resfd[i]);
		if (bad || r.magic != RESULT_MAGIC) {
			failed = 1;
			(void)kill(pids[i], SIGKILL);
			continue;
		}
		for (size_t b = 0; b < HIST_BUCKETS; b++)
			agg.hist[b] += r.hist[b];
		agg.ok += r.ok;
		agg.no += r.no;
		agg.err += r.err;
		agg.wrong += r.wrong;
		agg.answered_in_window += r.answered_in_window;
		agg.lat_sum_us += r.lat_sum_us;
		if (r.lat_max_us > agg.lat_max_us)
			agg.lat_max_us = r.lat_max_us;
		if (r.first_start_ns >= 0) {
			if (first_start < 0 || r.first_start_ns < first_start)
				first_start = r.first_start_ns;
			if (r.last_end_ns > last_end)
				last_end = r.last_end_ns;
		}
		if (agg.first_err[0] == '\0' && r.first_err[0] != '\0')
			memcpy(agg.first_err, r.first_err, NOTE_LEN);
		if (agg.first_wrong[0] == '\0' && r.first_wrong[0] != '\0')
			memcpy(agg.first_wrong, r.first_wrong, NOTE_LEN);
	}
	for (unsigned i = 0; i < started; i++) {
		int st;
		pid_t w;
		do
			w = waitpid(pids[i], &st, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0) {
			fprintf(stderr, "saslauthd-loadgen: waitpid: %s\n", strerror(errno));
			failed = 1;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			failed = 1;
		}
	}

	uint64_t count = agg.ok + agg.no + agg.err;
	double elapsed = 0;
	if (first_start >= 0 && last_end > first_start)
		elapsed = (double)(last_end - first_start) / 1e9;
	/* Throughput counts answered requests only; transport errors are not work done.
	 * In -d mode it is replies completed inside the fixed window over the window's
	 * length, so a request that stalls past the end does not stretch the divisor;
	 * with -n it is over first start to last end. */
	double rps;
	if (cfg.total == 0) {
		elapsed = cfg.duration;
		rps = (double)agg.answered_in_window / cfg.duration;
	} else {
		rps = elapsed > 0 ? (double)(agg.ok + agg.no) / elapsed : 0;
	}
	uint64_t p50 = hist_percentile(agg.hist, count, 50, agg.lat_max_us);
	uint64_t p90 = hist_percentile(agg.hist, count, 90, agg.lat_max_us);
	uint64_t p99 = hist_percentile(agg.hist, count, 99, agg.lat_max_us);
	double mean = count ? (double)agg.lat_sum_us / (double)count : 0;

	if (!cfg.quiet) {
		printf("socket:      %s (%s form, %zu request lines)\n", cfg.socket_path,
		       cfg.five_fields ? "5-field" : "4-field", g_nreqs);
		printf("clients:     %u processes, %.3f s measured", started, elapsed);
		if (cfg.warmup > 0)
			printf(" after %.3g s warm-up", cfg.warmup);
		printf("\n");
		printf("requests:    %" PRIu64 " measured, %.1f answered/s\n", count, rps);
		printf("latency us:  p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64 "  max %" PRIu64
		       "  mean %.1f\n",
		       p50, p90, p99, agg.lat_max_us, mean);
		printf("verdicts:    OK %" PRIu64 "  NO %" PRIu64 "  transport errors %" PRIu64
		       "  WRONG %" PRIu64 "\n",
		       agg.ok, agg.no, agg.err, agg.wrong);
		if (agg.first_err[0] != '\0')
			printf("first error: %s\n", agg.first_err);
		if (agg.first_wrong[0] != '\0')
			printf("first wrong: %s\n", agg.first_wrong);
	}
	printf("RESULT rps=%.1f p50_us=%" PRIu64 " p90_us=%" PRIu64 " p99_us=%" PRIu64
	       " max_us=%" PRIu64 " requests=%" PRIu64 " ok=%" PRIu64 " no=%" PRIu64
	       " err=%" PRIu64 " wrong=%" PRIu64 " clients=%u seconds=%.3f\n",
	       rps, p50, p90, p99, agg.lat_max_us, count, agg.ok, agg.no, agg.err, agg.wrong,
	       started, elapsed);
	if (fflush(stdout) != 0)
		return 1;
	if (failed) {
		fprintf(stderr, "saslauthd-loadgen: some client processes failed\n");
		return 1;
	}
	if (count == 0) {
		fprintf(stderr, "saslauthd-loadgen: no request was measured\n");
		return 1;
	}
	return (agg.err > 0 || agg.wrong > 0) ? 1 : 0;
}
