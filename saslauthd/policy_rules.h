/* The policy layer's settings and its pure rules, kept apart from the shared memory and
 * the store so they can be tested alone: FAILURES/SECONDS limits, exempt CIDR lists, the
 * address key (IPv4 as is, IPv6 by its /64), and the sliding window of recent failures. */
#ifndef SASLAUTHD_POLICY_RULES_H
#define SASLAUTHD_POLICY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key's failures are remembered one record each, so FAILURES sizes the table. */
#define POLICY_MAX_FAILURES 100
#define POLICY_MAX_SECONDS 86400L
#define POLICY_MAX_EXEMPT 64
/* Wrong passwords are remembered as a truncated HMAC: enough to tell them apart. */
#define POLICY_DIGEST_LEN 16
/* "ffff:ffff:ffff:ffff::/64" or an unparsed host of MECH_HOST_MAX bytes. */
#define POLICY_ADDR_KEY_MAX 256
#define POLICY_ERR_MAX 256

struct policy_limit {
	int failures; /* 0: the rule is off */
	long seconds;
};

struct policy_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

struct policy_exempt {
	int count;
	struct policy_cidr cidr[POLICY_MAX_EXEMPT];
};

struct policy_settings {
	struct policy_limit addr;   /* --throttle-addr */
	struct policy_limit user;   /* --throttle-user */
	struct policy_exempt exempt; /* --throttle-exempt */
	const char *store;          /* --policy-store, NULL: local memory only */
};

/* "FAILURES/SECONDS", each within its bound. False with a message in err. */
bool policy_parse_limit(const char *s, struct policy_limit *out, char *err, size_t errsz);

/* "CIDR[,CIDR...]" (a bare address is a /32 or /128), appended to out. */
bool policy_parse_exempt(const char *s, struct policy_exempt *out, char *err, size_t errsz);

/* True when host (the address part of ADDR;PORT) lies in one of the ranges. An IPv4
 * address written as ::ffff:a.b.c.d is matched as IPv4. */
bool policy_exempt_match(const struct policy_exempt *ex, const char *host);

/* The text a host is counted under: IPv4 dotted quad, IPv6 its /64 ("2001:db8::/64"),
 * anything else as given. False when it does not fit. */
bool policy_address_key(const char *host, char *key, size_t keysz);

/* One remembered failure; at_ms 0 is an empty record. */
struct policy_failure {
	int64_t at_ms;
	unsigned char digest[POLICY_DIGEST_LEN];
};

/* Failures among the n records newer than now_ms - window_ms. */
int policy_window_count(const struct policy_failure *r, int n, int64_t now_ms, int64_t window_ms);

/* Remember a failure with this password digest at now_ms: the same digest again only
 * moves its time; else an empty or expired record is taken, else the oldest. Returns the
 * count afterwards. */
int policy_window_add(struct policy_failure *r, int n, int64_t now_ms, int64_t window_ms,
                      const unsigned char digest[POLICY_DIGEST_LEN]);

#endif
