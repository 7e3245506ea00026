/* The kerberos5 check runs in a short-lived child process (so a KDC that never answers
 * can be abandoned); this is the one message it sends back with its result. The parent
 * trusts nothing in it it has not checked: a child hit by a bug in the Kerberos library
 * could send anything. */
#ifndef SASLAUTHD_KRB5_REPORT_H
#define SASLAUTHD_KRB5_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"
#include "mechanisms/mechanism.h"

/* The first byte of the result message (progress bytes before it name steps). */
#define SA_KRB5_REPORT_TAG 'R'

struct sa_krb5_report {
	struct mech_result result;
	int log_priority;
	char log_line[LOG_LINE_MAX];
};

/* Tag byte and the report: under PIPE_BUF, so the child writes it in one piece. */
#define SA_KRB5_REPORT_LEN (1 + sizeof(struct sa_krb5_report))

/* The child's side. out must hold SA_KRB5_REPORT_LEN bytes. */
void sa_krb5_report_encode(const struct sa_krb5_report *rep, unsigned char *out);

/* The parent's side: true, with *rep filled, only for exactly SA_KRB5_REPORT_LEN bytes
 * with the tag, a known verdict, a syslog priority, and every text terminated within its
 * buffer. */
bool sa_krb5_report_decode(const unsigned char *msg, size_t len, struct sa_krb5_report *rep);

#endif
