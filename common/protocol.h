/* The saslauthd wire protocol: counted strings (16-bit big-endian length + bytes).
 * Pure functions, no I/O, so the codec can be unit-tested and fuzzed alone. */
#ifndef SASLAUTHD_PROTOCOL_H
#define SASLAUTHD_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* Cyrus refuses fields over 256 bytes; we accept longer passphrases and
 * user@domain logins, up to this bound, and refuse longer ones with a reason. */
#define PROTOCOL_FIELD_MAX 1024
/* libsasl2 builds the whole request in an 8 KiB buffer; nothing larger is legitimate. */
#define PROTOCOL_REQUEST_MAX 8192
/* The client reads at most 1023 reply bytes. */
#define PROTOCOL_REPLY_TEXT_MAX 1023

enum request_field {
	FIELD_LOGIN,
	FIELD_PASSWORD,
	FIELD_SERVICE,
	FIELD_REALM,
	FIELD_CLIENT_ADDR,
	FIELD_COUNT
};

struct request {
	char login[PROTOCOL_FIELD_MAX + 1];
	char password[PROTOCOL_FIELD_MAX + 1];
	char service[PROTOCOL_FIELD_MAX + 1];
	char realm[PROTOCOL_FIELD_MAX + 1];
	char client_addr[PROTOCOL_FIELD_MAX + 1];
	int field_count; /* 4 or 5 once parsed */
};

enum parse_status {
	PARSE_INCOMPLETE,    /* fewer than four complete fields so far */
	PARSE_FOUR,          /* four fields, nothing after them */
	PARSE_FIFTH_PARTIAL, /* four fields and the start of a fifth */
	PARSE_FIVE,          /* five fields (possibly followed by junk, ignored) */
	PARSE_TOO_LONG,      /* a field's length exceeds PROTOCOL_FIELD_MAX */
	PARSE_EMBEDDED_NUL   /* a field contains a NUL byte */
};

/* Parse what has arrived so far. On PARSE_TOO_LONG / PARSE_EMBEDDED_NUL,
 * *bad_field names the offending field. A fifth field that is too long or
 * contains NUL is informational only: it is dropped and PARSE_FOUR returned. */
enum parse_status protocol_parse_request(const unsigned char *buf, size_t len,
                                         struct request *req, enum request_field *bad_field);

/* Cyrus's names for the fields, as used in its log lines. */
const char *protocol_field_name(enum request_field field);

/* Encode a request (for clients and tests). Returns bytes written, or 0 if it does not fit.
 * client_addr == NULL gives the 4-field form. */
size_t protocol_encode_request(unsigned char *out, size_t outsz, const char *login,
                               const char *password, const char *service, const char *realm,
                               const char *client_addr);

/* Encode a reply text as one counted string. Returns bytes written, or 0 if it does not fit. */
size_t protocol_encode_reply(unsigned char *out, size_t outsz, const char *text);

/* Encode one counted string. Returns bytes written, or 0 if it does not fit. */
size_t protocol_put_counted(unsigned char *out, size_t outsz, const void *data, size_t len);

/* Wipe every field of a request (the password above all). */
void protocol_request_wipe(struct request *req);

#endif
