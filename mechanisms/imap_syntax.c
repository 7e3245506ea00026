/* IMAP4 syntax for rimap (imap_syntax.h). */
#include "mechanisms/imap_syntax.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool imap_needs_literal(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			return true;
	}
	return false;
}

static bool token_in(const char *list, size_t len, const char *tok)
{
	size_t tlen = strlen(tok);
	size_t i = 0;

	while (i < len) {
		while (i < len && list[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && list[i] != ' ')
			i++;
		if (i - start == tlen && strncasecmp(list + start, tok, tlen) == 0)
			return true;
	}
	return false;
}

bool imap_greeting_has_capability(const char *greeting, const char *cap)
{
	static const char marker[] = "[CAPABILITY ";
	const char *p = strcasestr(greeting, marker);
	if (p == NULL)
		return false;
	p += sizeof(marker) - 1;
	const char *end = strchr(p, ']');
	if (end == NULL)
		return false;
	return token_in(p, (size_t)(end - p), cap);
}

static bool cmd_append(struct imap_command *cmd, const char *bytes, size_t n)
{
	if (n >= sizeof(cmd->buf) - cmd->len)
		return false;
	memcpy(cmd->buf + cmd->len, bytes, n);
	cmd->len += n;
	cmd->buf[cmd->len] = '\0';
	return true;
}

static bool cmd_append_quoted(struct imap_command *cmd, const char *s)
{
	if (!cmd_append(cmd, "\"", 1))
		return false;
	for (; *s != '\0'; s++) {
		if ((*s == '"' || *s == '\\') && !cmd_append(cmd, "\\", 1))
			return false;
		if (!cmd_append(cmd, s, 1))
			return false;
	}
	return cmd_append(cmd, "\"", 1);
}

static bool cmd_append_literal(struct imap_command *cmd, const char *s, bool literal_plus)
{
	char header[32];
	size_t n = strlen(s);
	int hlen = snprintf(header, sizeof(header), "{%zu%s}\r\n", n, literal_plus ? "+" : "");

	if (hlen < 0 || (size_t)hlen >= sizeof(header) || !cmd_append(cmd, header, (size_t)hlen))
		return false;
	if (!literal_plus) {
		if (cmd->ncuts == IMAP_LOGIN_CUTS_MAX)
			return false;
		cmd->cuts[cmd->ncuts++] = cmd->len;
	}
	return cmd_append(cmd, s, n);
}

static bool cmd_append_astring(struct imap_command *cmd, const char *s, bool literal_plus)
{
	if (imap_needs_literal(s))
		return cmd_append_literal(cmd, s, literal_plus);
	return cmd_append_quoted(cmd, s);
}

bool imap_build_login(struct imap_command *cmd, const char *login, const char *password,
                      bool literal_plus)
{
	static const char verb[] = IMAP_TAG " LOGIN ";

	cmd->len = 0;
	cmd->ncuts = 0;
	cmd->buf[0] = '\0';
	return cmd_append(cmd, verb, sizeof(verb) - 1) &&
	       cmd_append_astring(cmd, login, literal_plus) && cmd_append(cmd, " ", 1) &&
	       cmd_append_astring(cmd, password, literal_plus) && cmd_append(cmd, "\r\n", 2);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum imap_line imap_classify_greeting(const char *line)
{
	if (starts_with(line, "* OK"))
		return IMAP_LINE_OK;
	if (starts_with(line, "* NO"))
		return IMAP_LINE_NO;
	if (starts_with(line, "* BYE"))
		return IMAP_LINE_BYE;
	return IMAP_LINE_OTHER;
}

enum imap_line imap_classify_reply(const char *line)
{
	if (line[0] == '+')
		return IMAP_LINE_CONTINUATION;
	if (starts_with(line, "* "))
		return IMAP_LINE_UNTAGGED;
	if (starts_with(line, IMAP_TAG " OK"))
		return IMAP_LINE_OK;
	if (starts_with(line, IMAP_TAG " NO"))
		return IMAP_LINE_NO;
	return IMAP_LINE_OTHER;
}
