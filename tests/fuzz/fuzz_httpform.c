/* Fuzz target for httpform. The input is "template NUL login NUL password NUL realm" (missing
 * parts empty); the whole input is also a header line and a status line. Properties:
 * - each value comes back when the expanded form "u=%u&p=%p&r=%r" is split at '&' and
 *   percent-decoded, and the encoded text holds only A-Z a-z 0-9 and %XX;
 * - an arbitrary template expands to the same length whatever the buffer, and a short
 *   buffer gets a terminated prefix of the full expansion;
 * - a header line is taken as the status line exactly when it starts with "HTTP/";
 * - the reason phrase is a terminated, bounded subsequence of the line with no control
 *   characters and no trailing blank;
 * - the status code decides the verdict as Cyrus does, and the reply fits its buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "mechanisms/httpform.h"
#include "mechanisms/remote_reply.h"

#define FUZZ_PART_MAX 2048
#define FUZZ_PARTS 4
#define FUZZ_OUT_MAX (3 * 3 * FUZZ_PART_MAX + 64)
#define FUZZ_PHRASE_SIZES 4

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* the encoder writes upper-case hex only */
}

static bool plain(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Decode enc[0..len) and compare with want; every byte must be plain or a %XX. */
static void check_decodes_to(const char *enc, size_t len, const char *want)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++, w++) {
		char c = enc[i];
		if (c == '%') {
			if (len - i < 3 || hex_value(enc[i + 1]) < 0 || hex_value(enc[i + 2]) < 0)
				abort();
			c = (char)(hex_value(enc[i + 1]) * 16 + hex_value(enc[i + 2]));
			if (plain(c))
				abort(); /* a plain byte is never escaped */
			i += 2;
		} else if (!plain(c)) {
			abort();
		}
		if (want[w] != c)
			abort();
	}
	if (want[w] != '\0')
		abort();
}

static void check_round_trip(char parts[FUZZ_PARTS][FUZZ_PART_MAX + 1])
{
	static char out[FUZZ_OUT_MAX];
	static const char names[] = "upr";
	size_t len = httpform_expand("u=%u&p=%p&r=%r", parts[1], parts[2], parts[3], out, sizeof(out));
	const char *p = out;

	if (len >= sizeof(out) || strlen(out) != len)
		abort();
	for (int i = 0; i < 3; i++) {
		if (p[0] != names[i] || p[1] != '=')
			abort();
		p += 2;
		const char *end = strchr(p, '&');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if ((end == NULL) != (i == 2))
			abort();
		check_decodes_to(p, n, parts[1 + i]);
		p += n + (end != NULL);
	}
	/* The single-value encoder agrees with the template's. */
	static char one[FUZZ_OUT_MAX];
	size_t n = httpform_urlencode(parts[2], one, sizeof(one));
	if (n != strlen(one))
		abort();
	check_decodes_to(one, n, parts[2]);
}

static void check_sizing(char parts[FUZZ_PARTS][FUZZ_PART_MAX + 1])
{
	static char full[FUZZ_OUT_MAX * 2], part[FUZZ_OUT_MAX * 2];
	size_t len = httpform_expand(parts[0], parts[1], parts[2], parts[3], NULL, 0);

	/* Room for the expansion, its NUL and the guard byte after the largest size tried. */
	if (len + 2 > sizeof(full))
		return; /* long templates of many %p: the length alone was checked by not crashing */
	if (httpform_expand(parts[0], parts[1], parts[2], parts[3], full, sizeof(full)) != len ||
	    strlen(full) != len)
		abort();
	size_t sizes[] = { 1, len / 2 + 1, len > 0 ? len : 1, len + 1 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(part, 'x', sizes[i] + 1);
		if (httpform_expand(parts[0], parts[1], parts[2], parts[3], part, sizes[i]) != len)
			abort();
		size_t kept = len < sizes[i] ? len : sizes[i] - 1;
		if (part[kept] != '\0' || memcmp(part, full, kept) != 0 || part[sizes[i]] != 'x')
			abort();
	}
}

static bool is_subsequence(const char *small, const char *big)
{
	for (; *small != '\0'; small++) {
		big = strchr(big, *small);
		if (big == NULL)
			return false;
		big++;
	}
	return true;
}

static void check_phrase(const char *line)
{
	static const size_t sizes[FUZZ_PHRASE_SIZES] = { 1, 8, MECH_REPLY_MAX - 4, 1024 };
	char out[1024 + 1];

	for (size_t i = 0; i < FUZZ_PHRASE_SIZES; i++) {
		out[sizes[i]] = 'x';
		httpform_reason_phrase(line, out, sizes[i]);
		size_t n = strlen(out);
		if (n >= sizes[i] || out[sizes[i]] != 'x')
			abort();
		if (n > 0 && out[n - 1] == ' ')
			abort();
		for (size_t k = 0; k < n; k++) {
			if ((unsigned char)out[k] < 0x20 || out[k] == 0x7f)
				abort();
		}
		if (!is_subsequence(out, line))
			abort();
	}
}

static void check_status(const uint8_t *data, size_t size, const char *line)
{
	static const long codes[] = { 200, 204, 403, 0, 302, 500, -1 };
	static char status[512];
	char reply[MECH_REPLY_MAX + 1];

	bool taken = httpform_take_status_line((const char *)data, size, status, sizeof(status));
	if (taken != (size >= 5 && memcmp(data, "HTTP/", 5) == 0))
		abort();
	if (taken && (strlen(status) >= sizeof(status) ||
	              strncmp(status, (const char *)data, strlen(status)) != 0))
		abort();
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		reply[MECH_REPLY_MAX] = 'x';
		enum verdict v = httpform_classify(codes[i], line, reply, MECH_REPLY_MAX);
		if (reply[MECH_REPLY_MAX] != 'x' || memchr(reply, '\0', MECH_REPLY_MAX) == NULL)
			abort();
		if (codes[i] == 200 || codes[i] == 204) {
			if (v != VERDICT_OK || strcmp(reply, REMOTE_REPLY_OK) != 0)
				abort();
		} else if (codes[i] == 403) {
			if (v != VERDICT_NO || strncmp(reply, "NO", 2) != 0 ||
			    (reply[2] != '\0' && reply[2] != ' '))
				abort();
		} else if (v != VERDICT_FAIL ||
		           strcmp(reply, REMOTE_REPLY_UNEXPECTED) != 0) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char parts[FUZZ_PARTS][FUZZ_PART_MAX + 1];
	static char line[2 * FUZZ_PART_MAX + 1];
	size_t at = 0;

	for (int i = 0; i < FUZZ_PARTS; i++) {
		const uint8_t *nul = at < size ? memchr(data + at, '\0', size - at) : NULL;
		size_t end = nul != NULL ? (size_t)(nul - data) : size;
		size_t n = end - at < FUZZ_PART_MAX ? end - at : FUZZ_PART_MAX;
		if (at < size)
			memcpy(parts[i], data + at, n);
		else
			n = 0;
		parts[i][n] = '\0';
		at = end < size ? end + 1 : size;
	}
	check_round_trip(parts);
	check_sizing(parts);

	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	check_phrase(line);
	check_status(data, size, line);
	return 0;
}
