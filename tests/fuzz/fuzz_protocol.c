/* Fuzz target for the request codec: every prefix of the input parses to bounded C
 * strings or a named error, and any reply text encodes to its exact counted form. */
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
