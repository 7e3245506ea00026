/* Fuzz target for the connection state machine (saslauthd/connection.c): the result
 * depends only on the bytes read, never on how they arrived. The first two input bytes
 * choose chunk sizes; the rest is what the client sends over a real socketpair, in those
 * chunks, then EOF. Properties: whenever the machine stops (a request, a refusal or a
 * drop), its status and decoded fields are those of the same bytes parsed as one buffer;
 * a stream fed in one piece ends exactly as protocol_parse_request says for the whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "saslauthd/connection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_request(const struct request *a, const struct request *b)
{
	if (strcmp(a->login, b->login) != 0 || strcmp(a->password, b->password) != 0 ||
	    strcmp(a->service, b->service) != 0 || strcmp(a->realm, b->realm) != 0 ||
	    strcmp(a->client_addr, b->client_addr) != 0 || a->field_count != b->field_count)
		abort();
}

/* The one-buffer truth for the bytes the connection holds. */
static void matches_one_buffer(const struct conn *c)
{
	static struct request whole;
	enum request_field bad = FIELD_LOGIN;
	enum parse_status st = protocol_parse_request(c->buf, c->len, &whole, &bad);

	if (st != c->status)
		abort();
	if (st == PARSE_FOUR || st == PARSE_FIVE || st == PARSE_FIFTH_PARTIAL)
		same_request(&c->req, &whole);
	if ((st == PARSE_TOO_LONG || st == PARSE_EMBEDDED_NUL) && bad != c->bad_field)
		abort();
}

static uint32_t next_chunk(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Feed stream in chunks (chunk 0: all at once); returns the final state. */
static enum conn_state feed(struct conn *c, const uint8_t *stream, size_t len, uint32_t seed)
{
	int sv[2];
	enum conn_state st = CONN_WAITING;
	size_t pos = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	conn_init(c, sv[0], 0);
	while (st == CONN_WAITING && pos < len) {
		size_t n = seed == 0 ? len : 1 + next_chunk(&seed) % 64;
		if (n > len - pos)
			n = len - pos;
		if (write(sv[1], stream + pos, n) != (ssize_t)n)
			abort();
		pos += n;
		st = conn_on_readable(c, 0);
		if (st != CONN_CLOSED)
			matches_one_buffer(c);
	}
	if (st == CONN_WAITING) {
		shutdown(sv[1], SHUT_WR);
		st = conn_on_readable(c, 0);
		if (st != CONN_CLOSED)
			matches_one_buffer(c);
	}
	if (st == CONN_WAITING) /* only a partial fifth field may wait after EOF */
		abort();
	if (st == CONN_COMPLETE && c->len > pos)
		abort();
	close(sv[1]);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conn chunked, whole;
	static int initialised;

	if (!initialised) {
		log_init("fuzz_connection", false, false);
		initialised = 1;
	}
	if (size < 2)
		return 0;
	const uint8_t *stream = data + 2;
	size_t len = size - 2;
	if (len > PROTOCOL_REQUEST_MAX + 64)
		len = PROTOCOL_REQUEST_MAX + 64;
	uint32_t seed = ((uint32_t)data[0] << 8 | data[1]) | 1u;

	enum conn_state a = feed(&whole, stream, len, 0);
	enum conn_state b = feed(&chunked, stream, len, seed);
	/* All at once, the machine sees the whole stream: exactly the codec's verdict. */
	if (a == CONN_COMPLETE) {
		static struct request r;
		enum request_field bad;
		enum parse_status st = protocol_parse_request(stream, whole.len, &r, &bad);
		if (st != whole.status || memcmp(whole.buf, stream, whole.len) != 0)
			abort();
	}
	/* Chunks may stop earlier (4 fields with nothing queued), never later or differently
	 * for a complete 5-field request seen whole. */
	if (a == CONN_COMPLETE && b == CONN_COMPLETE && chunked.len == whole.len)
		same_request(&chunked.req, &whole.req);
	conn_close(&whole);
	conn_close(&chunked);
	return 0;
}
