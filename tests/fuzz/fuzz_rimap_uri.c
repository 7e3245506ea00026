/* Fuzz target for rimap's -O parser: an accepted specification gives bounded values that
 * format back (rimap_format_server) to a specification parsing to the same values, alone
 * and as a list; a refused one gives a reason. The input is tried as one server and as a
 * whole -O list. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "mechanisms/rimap_uri.h"

#define FUZZ_SPEC_MAX (RIMAP_SPEC_MAX * 2)
#define FUZZ_LIST_MAX (RIMAP_SERVERS_MAX * (RIMAP_SPEC_MAX + 1))

static bool bounded(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL && s[0] != '\0';
}

static bool same_server(const struct rimap_server *a, const struct rimap_server *b)
{
	return a->security == b->security && strcmp(a->host, b->host) == 0 &&
	       strcmp(a->port, b->port) == 0 && strcmp(a->cafile, b->cafile) == 0 &&
	       strcmp(a->servername, b->servername) == 0 && a->verify == b->verify &&
	       a->timeout_ms == b->timeout_ms;
}

static void check_accepted(const struct rimap_server *s)
{
	static char spec[FUZZ_SPEC_MAX];
	static struct rimap_server again;
	char err[512];

	if (!bounded(s->host, sizeof(s->host)) || !bounded(s->port, sizeof(s->port)) ||
	    memchr(s->cafile, '\0', sizeof(s->cafile)) == NULL ||
	    memchr(s->servername, '\0', sizeof(s->servername)) == NULL)
		abort();
	if (s->timeout_ms < 1000 || s->timeout_ms > RIMAP_TIMEOUT_MAX_S * 1000 ||
	    s->timeout_ms % 1000 != 0)
		abort();
	if (s->security == RIMAP_PLAIN && (s->cafile[0] != '\0' || s->servername[0] != '\0'))
		abort();
	if (!rimap_format_server(s, spec, sizeof(spec)))
		abort();
	err[0] = '\0';
	if (!rimap_parse_server(spec, &again, err, sizeof(err)) || !same_server(s, &again))
		abort();
}

static void check_refused(const char *err)
{
	if (err[0] == '\0')
		abort();
}

/* The accepted list, formatted and joined by spaces, parses to the same list. */
static void check_list(const struct rimap_server *s, int n)
{
	static char list[FUZZ_LIST_MAX];
	static struct rimap_server again[RIMAP_SERVERS_MAX];
	char err[512];
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		check_accepted(&s[i]);
		if (i > 0)
			list[len++] = ' ';
		if (!rimap_format_server(&s[i], list + len, sizeof(list) - len))
			abort();
		len += strlen(list + len);
	}
	if (rimap_parse_servers(list, again, RIMAP_SERVERS_MAX, err, sizeof(err)) != n)
		abort();
	for (int i = 0; i < n; i++) {
		if (!same_server(&s[i], &again[i]))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char input[FUZZ_LIST_MAX];
	static struct rimap_server servers[RIMAP_SERVERS_MAX];
	char err[512];

	if (size >= sizeof(input))
		size = sizeof(input) - 1;
	memcpy(input, data, size);
	input[size] = '\0'; /* -O is a C string: it ends at the first NUL */

	err[0] = '\0';
	if (rimap_parse_server(input, &servers[0], err, sizeof(err)))
		check_accepted(&servers[0]);
	else
		check_refused(err);

	err[0] = '\0';
	int n = rimap_parse_servers(input, servers, RIMAP_SERVERS_MAX, err, sizeof(err));
	if (n > 0 && n <= RIMAP_SERVERS_MAX)
		check_list(servers, n);
	else if (n == -1)
		check_refused(err);
	else
		abort();
	return 0;
}
