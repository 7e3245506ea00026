/* Fuzz target for the throttling rules' view of the client address (saslauthd/
 * policy_rules.c): the host part of a 5-field request is client text. Input: an exempt
 * list, NUL, a host. Properties: the address key fits and is the same every time; an IPv6
 * host's key is its /64, the same for any address of that /64; an IPv4 host (and its
 * ::ffff: form) is keyed and matched as the IPv4 address; an exempt list naming the host
 * itself exempts it. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saslauthd/policy_rules.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HOST_MAX 300

static void keyed_twice_alike(const char *host, char *key)
{
	char again[POLICY_ADDR_KEY_MAX];

	if (!policy_address_key(host, key, POLICY_ADDR_KEY_MAX)) {
		key[0] = '\0';
		return;
	}
	if (memchr(key, '\0', POLICY_ADDR_KEY_MAX) == NULL)
		abort();
	if (!policy_address_key(host, again, sizeof(again)) || strcmp(key, again) != 0)
		abort();
}

/* Any other address of the same /64 gets the same key; the low half comes from data. */
static void same_slash64_same_key(const unsigned char addr[16], const char *key,
                                  const uint8_t *data, size_t size)
{
	unsigned char other[16];
	char text[INET6_ADDRSTRLEN];
	char other_key[POLICY_ADDR_KEY_MAX];

	memcpy(other, addr, 16);
	for (size_t i = 8; i < 16; i++)
		other[i] = size > 0 ? data[i % size] : (unsigned char)i;
	if (other[0] == 0 && other[10] == 0xff) /* keep it out of the ::ffff: range */
		other[0] = 0x20;
	if (inet_ntop(AF_INET6, other, text, sizeof(text)) == NULL)
		abort();
	if (memcmp(other, addr, 8) == 0 &&
	    (!policy_address_key(text, other_key, sizeof(other_key)) || strcmp(other_key, key) != 0))
		abort();
}

static void self_exempt(const char *host)
{
	static struct policy_exempt ex;
	char err[POLICY_ERR_MAX];

	memset(&ex, 0, sizeof(ex));
	if (!policy_parse_exempt(host, &ex, err, sizeof(err)) || !policy_exempt_match(&ex, host))
		abort(); /* a valid address exempts itself */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_exempt ex;
	char list[1024], host[FUZZ_HOST_MAX], key[POLICY_ADDR_KEY_MAX], err[POLICY_ERR_MAX];
	unsigned char addr[16];
	size_t pos = 0;

	fuzz_take_part(data, size, &pos, list, sizeof(list));
	fuzz_take_part(data, size, &pos, host, sizeof(host));
	memset(&ex, 0, sizeof(ex));
	if (policy_parse_exempt(list, &ex, err, sizeof(err)) && ex.count > POLICY_MAX_EXEMPT)
		abort();
	(void)policy_exempt_match(&ex, host);
	keyed_twice_alike(host, key);
	if (inet_pton(AF_INET6, host, addr) == 1 && !IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
		size_t n = strlen(key);
		if (n < 3 || strcmp(key + n - 3, "/64") != 0)
			abort();
		same_slash64_same_key(addr, key, data, size);
		self_exempt(host);
	} else if (inet_pton(AF_INET, host, addr) == 1) {
		char mapped[FUZZ_HOST_MAX + 8], mapped_key[POLICY_ADDR_KEY_MAX];
		snprintf(mapped, sizeof(mapped), "::ffff:%s", key);
		if (!policy_address_key(mapped, mapped_key, sizeof(mapped_key)) ||
		    strcmp(mapped_key, key) != 0)
			abort(); /* ::ffff:a.b.c.d counts as a.b.c.d */
		self_exempt(host);
	}
	return 0;
}
