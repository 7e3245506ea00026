/* Fuzz target for the request codec and the connection state machine's parser.
 * Built two ways: with clang -fsanitize=fuzzer (cmake -DFUZZ=ON, CC=clang) as a libFuzzer
 * target, or as a plain program (always, run by ctest under the sanitizer build) that
 * feeds a fixed number of pseudo-random mutations of well-formed requests. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct request req;
	enum request_field bad = FIELD_LOGIN;

	if (size > PROTOCOL_REQUEST_MAX)
		size = PROTOCOL_REQUEST_MAX;
	/* Every prefix, as the bytes may arrive in pieces. */
	for (size_t len = 0; len <= size; len += 1 + len / 8) {
		enum parse_status st = protocol_parse_request(data, len, &req, &bad);
		if (st == PARSE_FOUR || st == PARSE_FIVE || st == PARSE_FIFTH_PARTIAL) {
			/* Parsed fields are C strings within bounds. */
			if (strlen(req.login) > PROTOCOL_FIELD_MAX || strlen(req.password) > PROTOCOL_FIELD_MAX ||
			    strlen(req.client_addr) > PROTOCOL_FIELD_MAX)
				abort();
		} else if ((st == PARSE_TOO_LONG || st == PARSE_EMBEDDED_NUL) && bad >= FIELD_COUNT) {
			abort();
		}
	}
	unsigned char out[PROTOCOL_REPLY_TEXT_MAX + 2];
	char text[PROTOCOL_REPLY_TEXT_MAX + 1];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	size_t w = protocol_encode_reply(out, sizeof(out), text);
	if (w != 2 + strlen(text))
		abort();
	return 0;
}

#ifndef FUZZ_WITH_LIBFUZZER
/* xorshift, so runs are repeatable. */
static uint32_t next_random(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

int main(int argc, char **argv)
{
	static unsigned char buf[PROTOCOL_REQUEST_MAX];
	long iterations = argc > 1 ? atol(argv[1]) : 200000;
	uint32_t seed = 0x5a51u;

	for (long i = 0; i < iterations; i++) {
		size_t len = protocol_encode_request(buf, sizeof(buf), "alice", "s3cret", "smtp",
		                                     "example.org", (i & 1) ? "192.0.2.1;25" : NULL);
		int flips = 1 + (int)(next_random(&seed) % 8);
		for (int f = 0; f < flips; f++)
			buf[next_random(&seed) % (len + 8)] = (unsigned char)next_random(&seed);
		len += next_random(&seed) % 8;
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_protocol: %ld inputs, no crash\n", iterations);
	return 0;
}
#endif
