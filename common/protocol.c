#include "common/protocol.h"

#include <string.h>

#include "common/secret.h"

static const char *const field_names[FIELD_COUNT] = {
	"login", "password", "service", "realm", "client address",
};

const char *protocol_field_name(enum request_field field)
{
	if (field >= FIELD_COUNT)
		return "field";
	return field_names[field];
}

static char *field_buffer(struct request *req, enum request_field field)
{
	switch (field) {
	case FIELD_LOGIN: return req->login;
	case FIELD_PASSWORD: return req->password;
	case FIELD_SERVICE: return req->service;
	case FIELD_REALM: return req->realm;
	default: return req->client_addr;
	}
}

enum field_status { FIELD_DONE, FIELD_SHORT, FIELD_LONG, FIELD_NUL };

/* Read one counted string at *pos into dst (PROTOCOL_FIELD_MAX + 1 bytes). */
static enum field_status take_field(const unsigned char *buf, size_t len, size_t *pos, char *dst)
{
	if (len - *pos < 2)
		return FIELD_SHORT;
	size_t flen = ((size_t)buf[*pos] << 8) | buf[*pos + 1];
	if (flen > PROTOCOL_FIELD_MAX)
		return FIELD_LONG;
	if (len - *pos - 2 < flen)
		return FIELD_SHORT;
	const unsigned char *data = buf + *pos + 2;
	if (memchr(data, '\0', flen) != NULL)
		return FIELD_NUL;
	memcpy(dst, data, flen);
	dst[flen] = '\0';
	*pos += 2 + flen;
	return FIELD_DONE;
}

enum parse_status protocol_parse_request(const unsigned char *buf, size_t len,
                                         struct request *req, enum request_field *bad_field)
{
	size_t pos = 0;

	req->field_count = 0;
	req->client_addr[0] = '\0';
	for (int f = FIELD_LOGIN; f <= FIELD_REALM; f++) {
		switch (take_field(buf, len, &pos, field_buffer(req, (enum request_field)f))) {
		case FIELD_DONE: break;
		case FIELD_SHORT: return PARSE_INCOMPLETE;
		case FIELD_LONG: *bad_field = (enum request_field)f; return PARSE_TOO_LONG;
		case FIELD_NUL: *bad_field = (enum request_field)f; return PARSE_EMBEDDED_NUL;
		}
	}
	req->field_count = 4;
	if (pos == len)
		return PARSE_FOUR;
	switch (take_field(buf, len, &pos, req->client_addr)) {
	case FIELD_DONE:
		req->field_count = 5;
		return PARSE_FIVE;
	case FIELD_SHORT:
		return PARSE_FIFTH_PARTIAL;
	default:
		/* The client address is informational: a bad one is dropped, not fatal. */
		req->client_addr[0] = '\0';
		return PARSE_FOUR;
	}
}

size_t protocol_put_counted(unsigned char *out, size_t outsz, const void *data, size_t len)
{
	if (len > 0xffff || outsz < 2 || outsz - 2 < len)
		return 0;
	out[0] = (unsigned char)(len >> 8);
	out[1] = (unsigned char)(len & 0xff);
	if (len > 0)
		memcpy(out + 2, data, len);
	return len + 2;
}

size_t protocol_encode_request(unsigned char *out, size_t outsz, const char *login,
                               const char *password, const char *service, const char *realm,
                               const char *client_addr)
{
	const char *fields[FIELD_COUNT] = { login, password, service, realm, client_addr };
	int count = client_addr != NULL ? 5 : 4;
	size_t pos = 0;

	for (int i = 0; i < count; i++) {
		size_t n = protocol_put_counted(out + pos, outsz - pos, fields[i], strlen(fields[i]));
		if (n == 0)
			return 0;
		pos += n;
	}
	return pos;
}

size_t protocol_encode_reply(unsigned char *out, size_t outsz, const char *text)
{
	size_t len = strnlen(text, PROTOCOL_REPLY_TEXT_MAX);
	return protocol_put_counted(out, outsz, text, len);
}

void protocol_request_wipe(struct request *req)
{
	secret_wipe(req, sizeof(*req));
}
