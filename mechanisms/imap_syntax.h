/* The IMAP4 syntax rimap needs (RFC 9051): the LOGIN command with quoted strings and
 * literals, the greeting's capabilities and the classification of server lines. Pure
 * string work, no I/O. */
#ifndef SASLAUTHD_IMAP_SYNTAX_H
#define SASLAUTHD_IMAP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#include "common/protocol.h"

/* The tag of every command we send. */
#define IMAP_TAG "saslauthd"
/* "saslauthd LOGIN " + two astrings (worst case: every byte quoted, or a literal
 * header plus the bytes) + CRLF. */
#define IMAP_LOGIN_MAX (2 * (2 * PROTOCOL_FIELD_MAX + 32) + 64)
/* A LOGIN needs at most one pause per argument (synchronising literals). */
#define IMAP_LOGIN_CUTS_MAX 2

/* True when s cannot be sent as an IMAP quoted string (CR, LF, other control bytes,
 * DEL, 8-bit bytes) and must go as a literal. */
bool imap_needs_literal(const char *s);

/* True when the greeting's [CAPABILITY ...] response code lists cap (case-insensitive). */
bool imap_greeting_has_capability(const char *greeting, const char *cap);

/* A command to send in pieces: after each cut the client waits for a "+" continuation. */
struct imap_command {
	char buf[IMAP_LOGIN_MAX];
	size_t len;
	size_t cuts[IMAP_LOGIN_CUTS_MAX];
	size_t ncuts;
};

/* "saslauthd LOGIN <login> <password>" CRLF, each argument a quoted string when valid,
 * else a literal ("{n+}" when literal_plus, else "{n}" with a cut). False if too long. */
bool imap_build_login(struct imap_command *cmd, const char *login, const char *password,
                      bool literal_plus);

/* What a server line is, by its first bytes, as Cyrus tells them apart (a prefix match:
 * "* OKAY" counts as "* OK"). */
enum imap_line {
	IMAP_LINE_OK,           /* "* OK" (greeting) or "<tag> OK" (tagged) */
	IMAP_LINE_NO,           /* "* NO" or "<tag> NO" */
	IMAP_LINE_BYE,          /* "* BYE" (greeting only) */
	IMAP_LINE_UNTAGGED,     /* any other "* " line (tagged context only) */
	IMAP_LINE_CONTINUATION, /* "+..." (tagged context only) */
	IMAP_LINE_OTHER,        /* anything else */
};

/* A greeting: OK, NO, BYE or OTHER. */
enum imap_line imap_classify_greeting(const char *line);

/* A line read while waiting for the reply to a command tagged IMAP_TAG: OK, NO,
 * UNTAGGED, CONTINUATION or OTHER. */
enum imap_line imap_classify_reply(const char *line);

#endif
