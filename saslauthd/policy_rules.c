#include "saslauthd/policy_rules.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"

#define IPV6_KEY_PREFIX 64
#define CIDR_TEXT_MAX 64

bool policy_parse_limit(const char *s, struct policy_limit *out, char *err, size_t errsz)
{
	char failures[32];
	const char *slash = strchr(s, '/');
	long f, sec;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(failures)) {
		str_format(err, errsz, "\"%s\" is not FAILURES/SECONDS (e.g. 10/60)", s);
		return false;
	}
	memcpy(failures, s, (size_t)(slash - s));
	failures[slash - s] = '\0';
	if (!str_to_long(failures, 1, POLICY_MAX_FAILURES, &f)) {
		str_format(err, errsz, "\"%s\": FAILURES must be a number 1..%d", s, POLICY_MAX_FAILURES);
		return false;
	}
	if (!str_to_long(slash + 1, 1, POLICY_MAX_SECONDS, &sec)) {
		str_format(err, errsz, "\"%s\": SECONDS must be a number 1..%ld", s, POLICY_MAX_SECONDS);
		return false;
	}
	out->failures = (int)f;
	out->seconds = sec;
	return true;
}

/* An IPv4 address as such, an IPv4-mapped IPv6 one as IPv4 too. */
static bool parse_address(const char *text, int *family, unsigned char addr[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr) != 1)
		return false;
	*family = AF_INET6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return true;
}

static bool parse_cidr(const char *text, struct policy_cidr *c)
{
	char addr[CIDR_TEXT_MAX];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	long prefix;

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (!parse_address(addr, &c->family, c->addr))
		return false;
	int max = c->family == AF_INET ? 32 : 128;
	if (slash == NULL)
		prefix = max;
	else if (!str_to_long(slash + 1, 0, max, &prefix))
		return false;
	c->prefix = (int)prefix;
	return true;
}

bool policy_parse_exempt(const char *s, struct policy_exempt *out, char *err, size_t errsz)
{
	char item[CIDR_TEXT_MAX + 8];
	const char *p = s;

	for (;;) {
		size_t n = strcspn(p, ",");
		if (n >= sizeof(item)) {
			str_format(err, errsz, "--throttle-exempt: an item of \"%s\" is too long", s);
			return false;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (out->count >= POLICY_MAX_EXEMPT) {
			str_format(err, errsz, "--throttle-exempt: more than %d ranges", POLICY_MAX_EXEMPT);
			return false;
		}
		if (!parse_cidr(item, &out->cidr[out->count])) {
			str_format(err, errsz,
			           "--throttle-exempt: \"%s\" is not an address or CIDR range "
			           "(e.g. 192.0.2.0/24, 2001:db8::/48)", item);
			return false;
		}
		out->count++;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool policy_exempt_match(const struct policy_exempt *ex, const char *host)
{
	unsigned char addr[16];
	int family;

	if (ex->count == 0 || !parse_address(host, &family, addr))
		return false;
	for (int i = 0; i < ex->count; i++) {
		const struct policy_cidr *c = &ex->cidr[i];
		if (c->family == family && prefix_equal(addr, c->addr, c->prefix))
			return true;
	}
	return false;
}

bool policy_address_key(const char *host, char *key, size_t keysz)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	int family;

	if (!parse_address(host, &family, addr))
		return str_copy(key, keysz, host);
	if (family == AF_INET)
		return inet_ntop(AF_INET, addr, text, sizeof(text)) != NULL && str_copy(key, keysz, text);
	/* One host is given a whole /64: counting its addresses apart would be no limit. */
	memset(addr + IPV6_KEY_PREFIX / 8, 0, 16 - IPV6_KEY_PREFIX / 8);
	return inet_ntop(AF_INET6, addr, text, sizeof(text)) != NULL &&
	       str_format(key, keysz, "%s/%d", text, IPV6_KEY_PREFIX);
}

static bool record_live(const struct policy_failure *f, int64_t now_ms, int64_t window_ms)
{
	return f->at_ms != 0 && f->at_ms > now_ms - window_ms;
}

int policy_window_count(const struct policy_failure *r, int n, int64_t now_ms, int64_t window_ms)
{
	int count = 0;

	for (int i = 0; i < n; i++)
		count += record_live(&r[i], now_ms, window_ms);
	return count;
}

int policy_window_add(struct policy_failure *r, int n, int64_t now_ms, int64_t window_ms,
                      const unsigned char digest[POLICY_DIGEST_LEN])
{
	int take = -1;

	for (int i = 0; i < n && take < 0; i++) {
		if (record_live(&r[i], now_ms, window_ms) &&
		    memcmp(r[i].digest, digest, POLICY_DIGEST_LEN) == 0)
			take = i;
	}
	for (int i = 0; i < n && take < 0; i++) {
		if (!record_live(&r[i], now_ms, window_ms))
			take = i;
	}
	if (take < 0) {
		/* Full: only requests admitted together can get here; the count stays n. */
		take = 0;
		for (int i = 1; i < n; i++) {
			if (r[i].at_ms < r[take].at_ms)
				take = i;
		}
	}
	r[take].at_ms = now_ms;
	memcpy(r[take].digest, digest, POLICY_DIGEST_LEN);
	return policy_window_count(r, n, now_ms, window_ms);
}
