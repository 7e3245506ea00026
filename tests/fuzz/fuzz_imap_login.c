/* Fuzz target for rimap's IMAP syntax. The first byte chooses LITERAL+; the rest is a login
 * and a password separated by a NUL byte. The LOGIN command built from them must parse back,
 * with the small independent parser below (quoted strings and literals, RFC 9051), to the
 * same two values, use a literal exactly when a quoted string cannot carry the value, and
 * pause ("cut") exactly after each synchronising literal's header. The same bytes, read as
 * a server line, must classify into one of the known kinds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "mechanisms/imap_syntax.h"

#define FUZZ_ARG_MAX (2 * PROTOCOL_FIELD_MAX)

struct parsed {
	char value[IMAP_LOGIN_MAX];
	size_t len;
	bool literal;
};

/* A literal "{n}" or "{n+}" CRLF and n bytes; *cut is set for "{n}". */
static bool parse_literal(const char *buf, size_t len, size_t *pos, struct parsed *out,
                          bool *sync)
{
	size_t p = *pos + 1, n = 0;

	if (p >= len || buf[p] < '0' || buf[p] > '9')
		return false;
	while (p < len && buf[p] >= '0' && buf[p] <= '9') {
		n = n * 10 + (size_t)(buf[p++] - '0');
		if (n >= sizeof(out->value))
			return false;
	}
	*sync = !(p < len && buf[p] == '+');
	if (!*sync)
		p++;
	if (len - p < 3 || memcmp(buf + p, "}\r\n", 3) != 0)
		return false;
	p += 3;
	if (len - p < n)
		return false;
	memcpy(out->value, buf + p, n);
	out->len = n;
	out->literal = true;
	*pos = p + n;
	return true;
}

/* A quoted string: only '"' and '\' are escaped; CR, LF and NUL cannot appear. */
static bool parse_quoted(const char *buf, size_t len, size_t *pos, struct parsed *out)
{
	size_t p = *pos + 1;

	out->len = 0;
	out->literal = false;
	while (p < len && buf[p] != '"') {
		char c = buf[p++];
		if (c == '\r' || c == '\n' || c == '\0')
			return false;
		if (c == '\\') {
			if (p >= len || (buf[p] != '"' && buf[p] != '\\'))
				return false;
			c = buf[p++];
		}
		out->value[out->len++] = c;
	}
	if (p >= len)
		return false;
	*pos = p + 1;
	return true;
}

/* One astring at *pos; a synchronising literal's data must start at the next cut. */
static bool parse_astring(const struct imap_command *cmd, size_t *pos, size_t *cut,
                          struct parsed *out)
{
	bool sync = false;

	if (*pos >= cmd->len)
		return false;
	if (cmd->buf[*pos] == '"')
		return parse_quoted(cmd->buf, cmd->len, pos, out);
	if (cmd->buf[*pos] != '{' || !parse_literal(cmd->buf, cmd->len, pos, out, &sync))
		return false;
	if (sync) {
		if (*cut >= cmd->ncuts || cmd->cuts[*cut] != *pos - out->len)
			return false;
		(*cut)++;
	}
	return true;
}

static bool same(const struct parsed *p, const char *s)
{
	size_t n = strlen(s);
	return p->len == n && memcmp(p->value, s, n) == 0 && p->literal == imap_needs_literal(s);
}

static void check_login(const char *login, const char *password, bool literal_plus)
{
	static struct imap_command cmd;
	static struct parsed a, b;
	static const char verb[] = IMAP_TAG " LOGIN ";
	size_t pos = sizeof(verb) - 1, cut = 0;

	bool built = imap_build_login(&cmd, login, password, literal_plus);
	if (strlen(login) <= PROTOCOL_FIELD_MAX && strlen(password) <= PROTOCOL_FIELD_MAX && !built)
		abort(); /* every request field the daemon accepts fits */
	if (!built)
		return;
	if (cmd.len >= sizeof(cmd.buf) || cmd.buf[cmd.len] != '\0' || cmd.ncuts > IMAP_LOGIN_CUTS_MAX)
		abort();
	if (literal_plus && cmd.ncuts != 0)
		abort();
	if (memcmp(cmd.buf, verb, pos) != 0 || !parse_astring(&cmd, &pos, &cut, &a) ||
	    pos >= cmd.len || cmd.buf[pos++] != ' ' || !parse_astring(&cmd, &pos, &cut, &b))
		abort();
	if (cmd.len - pos != 2 || memcmp(cmd.buf + pos, "\r\n", 2) != 0 || cut != cmd.ncuts)
		abort();
	if (!same(&a, login) || !same(&b, password))
		abort();
}

static void check_line(const char *line, const char *cap)
{
	enum imap_line g = imap_classify_greeting(line);
	enum imap_line r = imap_classify_reply(line);

	if (g != IMAP_LINE_OK && g != IMAP_LINE_NO && g != IMAP_LINE_BYE && g != IMAP_LINE_OTHER)
		abort();
	if (r != IMAP_LINE_OK && r != IMAP_LINE_NO && r != IMAP_LINE_UNTAGGED &&
	    r != IMAP_LINE_CONTINUATION && r != IMAP_LINE_OTHER)
		abort();
	/* A greeting that is not OTHER is untagged; a tagged reply carries our tag. */
	if (g != IMAP_LINE_OTHER && r != IMAP_LINE_UNTAGGED)
		abort();
	if ((r == IMAP_LINE_OK || r == IMAP_LINE_NO) &&
	    strncmp(line, IMAP_TAG " ", strlen(IMAP_TAG " ")) != 0)
		abort();
	if (imap_greeting_has_capability(line, cap) && cap[0] != '\0' && strcasestr(line, cap) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char login[FUZZ_ARG_MAX + 1], password[FUZZ_ARG_MAX + 1];
	static char line[2 * FUZZ_ARG_MAX + 2];

	if (size == 0)
		return 0;
	bool literal_plus = data[0] & 1;
	const char *rest = (const char *)data + 1;
	size_t n = size - 1;
	const char *nul = memchr(rest, '\0', n);
	size_t llen = nul != NULL ? (size_t)(nul - rest) : n;
	size_t plen = nul != NULL ? n - llen - 1 : 0;

	llen = llen < FUZZ_ARG_MAX ? llen : FUZZ_ARG_MAX;
	plen = plen < FUZZ_ARG_MAX ? plen : FUZZ_ARG_MAX;
	memcpy(login, rest, llen);
	login[llen] = '\0';
	memcpy(password, nul != NULL ? nul + 1 : "", plen);
	password[plen] = '\0'; /* a further NUL ends the password, as in a request field */
	check_login(login, password, literal_plus);

	size_t linelen = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
	memcpy(line, rest, linelen);
	line[linelen] = '\0';
	check_line(line, password);
	return 0;
}
