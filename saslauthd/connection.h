/* One client connection as a small state machine, so a worker can hold many
 * half-sent requests at once and a stalled client never blocks anyone else. */
#ifndef SASLAUTHD_CONNECTION_H
#define SASLAUTHD_CONNECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"
#include "common/protocol.h"
#include "saslauthd/request.h"

/* A client that has not sent a complete request by then is dropped (Cyrus waits forever). */
#define CONN_REQUEST_DEADLINE_MS 5000
/* How long to wait for the rest of a 5th field whose first bytes arrived. */
#define CONN_FIFTH_FIELD_GRACE_MS 100
/* The reply is tiny and the socket buffer empty; a client that cannot take it in this
 * long is gone. */
#define CONN_WRITE_DEADLINE_MS 1000

enum conn_state {
	CONN_WAITING,  /* needs more bytes; wait for readability or conn_deadline() */
	CONN_COMPLETE, /* a request (or a refusal) is ready for conn_finish() */
	CONN_CLOSED    /* nothing to answer (EOF, error, timeout); already logged */
};

struct conn {
	int fd;
	int64_t deadline;        /* the whole request */
	int64_t fifth_deadline;  /* 0 until a partial 5th field is seen */
	bool queue_empty;        /* the last recv found nothing more queued */
	enum parse_status status;
	enum request_field bad_field;
	size_t len;
	unsigned char buf[PROTOCOL_REQUEST_MAX];
	struct request req;
	int64_t reply_at;        /* --fail-delay: when the decided reply is due (0: at once) */
	char reply[PROTOCOL_REPLY_TEXT_MAX + 1]; /* decided, not yet written */
};

/* Out of descriptors or memory, accept() fails at once for as long as the listener stays
 * readable: whoever polls it stops doing so this long instead of spinning. */
#define CONN_ACCEPT_BACKOFF_MS 100
/* Such failures are reported at most once in this interval, with a count. */
#define CONN_ACCEPT_REPORT_MS 1000

/* Per accepting process: when to poll the listener again, and the failure report's pace. */
struct conn_accept_guard {
	int64_t resume_at;       /* 0: not backing off */
	struct log_burst reports; /* accept failures, reported at most once a CONN_ACCEPT_REPORT_MS */
};

/* Accept one connection as a non-blocking fd; -1 when there is none (another process
 * took it) or on error, which is logged unless it is a harmless race. On exhaustion
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) g->resume_at is set: do not poll the listener
 * before it. */
int conn_accept(int listen_fd, struct conn_accept_guard *g, int64_t now);

/* Whether the listener may be polled at now (clears an expired back-off). */
bool conn_accept_ready(struct conn_accept_guard *g, int64_t now);

/* Start tracking an accepted, non-blocking fd. */
void conn_init(struct conn *c, int fd, int64_t now);

/* Read what is there and re-parse. */
enum conn_state conn_on_readable(struct conn *c, int64_t now);

/* When the connection must be looked at again even without input. */
int64_t conn_deadline(const struct conn *c);

/* Called at or after conn_deadline(): a partial 5th field becomes a 4-field request
 * (CONN_COMPLETE); an incomplete request is dropped and logged (CONN_CLOSED). */
enum conn_state conn_on_deadline(struct conn *c, int64_t now);

/* Stop waiting long for this connection (worker shutting down). */
void conn_hurry(struct conn *c, int64_t deadline);

/* Decide the complete request into c->reply (nothing is written yet). Returns the
 * verdict; a codec refusal (field too long, NUL byte) counts as VERDICT_NO. */
enum verdict conn_decide(struct conn *c, const struct request_policy *policy);

/* How long to hold back a reply of verdict v: 0 for OK or without --fail-delay, else the
 * delay plus up to 50 % random jitter (counted in the statistics). */
int64_t conn_reply_delay(const struct request_policy *policy, enum verdict v);

/* Keep the decided reply until reply_at (sa_clock_ms), wiping the request now. */
void conn_hold(struct conn *c, int64_t reply_at);

/* Write c->reply, close the fd and wipe the buffers. */
void conn_reply(struct conn *c);

/* Close without answering, wiping the buffers. */
void conn_close(struct conn *c);

/* Serve one connection to the end, waiting with poll (for -n 0 children). */
void conn_serve_blocking(int fd, const struct request_policy *policy);


#endif
