#include "saslauthd/connection.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/secret.h"
#include "saslauthd/stats.h"

static bool accept_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* Cyrus's two lines, but at most once per CONN_ACCEPT_REPORT_MS however fast accept()
 * fails, so a full descriptor table cannot flood syslog. */
static void report_accept_failure(struct conn_accept_guard *g, int err, int64_t now)
{
	unsigned long failures;

	if (!log_burst_due(&g->reports, now, CONN_ACCEPT_REPORT_MS, &failures))
		return;
	log_core(LOG_ERR, "socket accept failure");
	if (failures > 1)
		log_core(LOG_ERR, "accept: %s (%lu times since the last report)", strerror(err), failures);
	else
		log_core(LOG_ERR, "accept: %s", strerror(err));
}

int conn_accept(int listen_fd, struct conn_accept_guard *g, int64_t now)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0 || errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
		return fd;
	int err = errno;
	report_accept_failure(g, err, now);
	if (accept_exhausted(err))
		g->resume_at = now + CONN_ACCEPT_BACKOFF_MS;
	return -1;
}

bool conn_accept_ready(struct conn_accept_guard *g, int64_t now)
{
	if (g->resume_at != 0 && now >= g->resume_at)
		g->resume_at = 0;
	return g->resume_at == 0;
}

void conn_init(struct conn *c, int fd, int64_t now)
{
	c->fd = fd;
	c->deadline = now + CONN_REQUEST_DEADLINE_MS;
	c->fifth_deadline = 0;
	c->queue_empty = true;
	c->status = PARSE_INCOMPLETE;
	c->len = 0;
	c->reply_at = 0;
	c->reply[0] = '\0';
}

static void log_dropped(const struct conn *c, const char *why)
{
	stats_count(STAT_DROPPED);
	log_core(LOG_ERR, "read failure");
	log_core(LOG_ERR, "read: %s%s", why, c->len > 0 ? " (after a partial request)" : "");
}

/* Clients write the whole request at once, so normally one recv brings all of it and
 * finds nothing more queued: bytes right after the 4th field mean the 5-field form, none
 * mean the 4-field form, and a 4-field client is never made to wait for a 5th field. */
/* Parse what has arrived; true when it is a request (or a refusal) to answer now. */
static bool parse_complete(struct conn *c)
{
	c->queue_empty = true;
	c->status = protocol_parse_request(c->buf, c->len, &c->req, &c->bad_field);
	return c->status == PARSE_FOUR || c->status == PARSE_FIVE || c->status == PARSE_TOO_LONG ||
	       c->status == PARSE_EMBEDDED_NUL;
}

enum conn_state conn_on_readable(struct conn *c, int64_t now)
{
	bool eof = false;

	for (;;) {
		if (c->len == sizeof(c->buf))
			break;
		size_t room = sizeof(c->buf) - c->len;
		ssize_t n = recv(c->fd, c->buf + c->len, room, 0);
		if (n > 0) {
			c->len += (size_t)n;
			/* A UNIX stream socket's recv takes everything queued up to room: a short
			 * read found the queue empty, as a further recv's EAGAIN would. A complete
			 * request is then taken as it is; a partial one reads on, to see an EOF. */
			if ((size_t)n < room && parse_complete(c))
				return CONN_COMPLETE;
			continue;
		}
		if (n == 0) {
			eof = true;
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN) {
			log_core(LOG_ERR, "read failure");
			log_core(LOG_ERR, "read: %s", strerror(errno));
			return CONN_CLOSED;
		}
		break;
	}
	c->queue_empty = c->len < sizeof(c->buf);
	c->status = protocol_parse_request(c->buf, c->len, &c->req, &c->bad_field);
	switch (c->status) {
	case PARSE_FIVE:
	case PARSE_FOUR:
	case PARSE_TOO_LONG:
	case PARSE_EMBEDDED_NUL:
		return CONN_COMPLETE;
	case PARSE_FIFTH_PARTIAL:
		/* The parse left a valid 4-field request; the address is only a bonus. */
		if (eof || c->len == sizeof(c->buf))
			return CONN_COMPLETE;
		if (c->fifth_deadline == 0)
			c->fifth_deadline = now + CONN_FIFTH_FIELD_GRACE_MS;
		return CONN_WAITING;
	case PARSE_INCOMPLETE:
		break;
	}
	if (c->len == sizeof(c->buf)) {
		log_dropped(c, "request larger than the protocol allows");
		return CONN_CLOSED;
	}
	if (eof) {
		if (c->len > 0) {
			stats_count(STAT_DROPPED);
			log_core(LOG_ERR, "read failure: client closed the connection mid-request");
		}
		return CONN_CLOSED;
	}
	return CONN_WAITING;
}

int64_t conn_deadline(const struct conn *c)
{
	if (c->fifth_deadline != 0 && c->fifth_deadline < c->deadline)
		return c->fifth_deadline;
	return c->deadline;
}

enum conn_state conn_on_deadline(struct conn *c, int64_t now)
{
	/* A valid 4-field request with the start of an address is answered, never dropped. */
	if (c->status == PARSE_FIFTH_PARTIAL && (now >= c->fifth_deadline || now >= c->deadline))
		return CONN_COMPLETE;
	if (now < c->deadline)
		return CONN_WAITING;
	log_dropped(c, "client sent no complete request in time, dropped");
	return CONN_CLOSED;
}

void conn_hurry(struct conn *c, int64_t deadline)
{
	if (deadline < c->deadline)
		c->deadline = deadline;
}

static void write_reply(int fd, const char *text)
{
	unsigned char out[PROTOCOL_REPLY_TEXT_MAX + 2];
	size_t len = protocol_encode_reply(out, sizeof(out), text);
	size_t done = 0;
	int64_t deadline = sa_clock_ms() + CONN_WRITE_DEADLINE_MS;

	while (done < len) {
		ssize_t n = send(fd, out + done, len - done, MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		int64_t left = deadline - sa_clock_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		if (n < 0 && errno == EAGAIN && left > 0 && poll(&pfd, 1, (int)left) > 0)
			continue;
		log_core(LOG_ERR, "write failure");
		log_core(LOG_ERR, "write: %s", n < 0 && errno != EAGAIN ? strerror(errno)
		                                                       : "client stopped reading");
		return;
	}
}

/* Discard anything the client sent beyond the request, so close() does not reset it. */
static void drain(int fd)
{
	unsigned char junk[512];
	for (int i = 0; i < 16; i++) {
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			return;
	}
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	secret_wipe(c->buf, c->len);
	protocol_request_wipe(&c->req);
	secret_wipe(c->reply, sizeof(c->reply));
	c->len = 0;
	c->reply_at = 0;
}

enum verdict conn_decide(struct conn *c, const struct request_policy *policy)
{
	if (c->status == PARSE_TOO_LONG || c->status == PARSE_EMBEDDED_NUL) {
		request_refuse(c->status, c->bad_field, c->reply, sizeof(c->reply));
		return VERDICT_NO;
	}
	return request_decide(policy, &c->req, c->reply, sizeof(c->reply));
}

void conn_hold(struct conn *c, int64_t reply_at)
{
	/* The password is not needed any more, however long the reply waits. */
	secret_wipe(c->buf, c->len);
	protocol_request_wipe(&c->req);
	c->len = 0;
	c->reply_at = reply_at;
}

int64_t conn_reply_delay(const struct request_policy *policy, enum verdict v)
{
	if (v == VERDICT_OK || policy->fail_delay_ms <= 0)
		return 0;
	stats_count(STAT_DELAYED);
	/* Jitter so that the delay itself tells nothing apart. */
	return policy->fail_delay_ms + arc4random_uniform((uint32_t)(policy->fail_delay_ms / 2 + 1));
}

void conn_reply(struct conn *c)
{
	write_reply(c->fd, c->reply);
	if (!c->queue_empty)
		drain(c->fd);
	conn_close(c);
}

/* -n 0: the process serves this one client, so it may sleep through the delay. */
static void sleep_ms(int64_t ms)
{
	int64_t until = sa_clock_ms() + ms;

	for (int64_t left = ms; left > 0; left = until - sa_clock_ms()) {
		struct timespec ts = { .tv_sec = left / SA_MS_PER_S,
		                       .tv_nsec = (left % SA_MS_PER_S) * SA_NS_PER_MS };
		nanosleep(&ts, NULL); /* EINTR: the loop sleeps the rest */
	}
}

void conn_serve_blocking(int fd, const struct request_policy *policy)
{
	static struct conn c;
	int64_t now = sa_clock_ms();
	enum conn_state st;

	conn_init(&c, fd, now);
	for (st = conn_on_readable(&c, now); st == CONN_WAITING;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = conn_deadline(&c) - sa_clock_ms();
		int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		now = sa_clock_ms();
		if (r > 0)
			st = conn_on_readable(&c, now);
		else if (r == 0)
			st = conn_on_deadline(&c, now);
		else if (errno != EINTR)
			st = CONN_CLOSED;
	}
	if (st == CONN_COMPLETE) {
		int64_t delay = conn_reply_delay(policy, conn_decide(&c, policy));
		if (delay > 0) {
			conn_hold(&c, sa_clock_ms() + delay);
			sleep_ms(delay);
		}
		conn_reply(&c);
	} else {
		conn_close(&c);
	}
}
