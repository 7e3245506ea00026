/* httpform internals exposed for the unit and fuzz tests: form-body templates, URL building
 * and the reading of the reply.
 * The mechanism itself is mech_httpform (mechanisms/httpform.c). */
#ifndef SASLAUTHD_HTTPFORM_H
#define SASLAUTHD_HTTPFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "mechanisms/mechanism.h"

#define HTTPFORM_URL_MAX 4096

/* Expand Cyrus's httpform_data template: %u login, %p password, %r realm, each
 * URL-encoded (every byte but A-Z a-z 0-9 becomes %XX, upper-case hex); %% is %; any
 * other %x (and a final lone %) is copied unchanged. Writes at most outsz bytes including
 * the NUL (out may be NULL when outsz is 0) and returns the full length, like snprintf. */
size_t httpform_expand(const char *tmpl, const char *login, const char *password,
                       const char *realm, char *out, size_t outsz);

/* URL-encode one value into out (always NUL-terminated when outsz > 0); returns the full
 * encoded length. */
size_t httpform_urlencode(const char *in, char *out, size_t outsz);

/* "http://<host>:<port><uri>" from Cyrus's keys: IPv6 literals get brackets, a port may
 * be a service name (looked up in /etc/services), a uri without a leading '/' gets one.
 * False with a reason. */
bool httpform_build_url(const char *host, const char *port, const char *uri, char *out,
                        size_t outsz, char *err, size_t errsz);

/* The reason phrase of an HTTP status line ("HTTP/1.1 403 Go away\r\n" → "Go away"),
 * control characters dropped. Empty when there is none. */
void httpform_reason_phrase(const char *status_line, char *out, size_t outsz);

/* The status line, when a header line libcurl hands over (len bytes, not NUL-terminated)
 * is one: copied into out, cut to outsz - 1 bytes. False, out untouched, for other lines. */
bool httpform_take_status_line(const char *header, size_t len, char *out, size_t outsz);

/* Cyrus's verdict for an HTTP status, with the wire reply written into reply: 200 and 204
 * accept, 403 refuses with "NO <reason phrase>" (or a bare "NO"), anything else is an
 * unexpected response. */
enum verdict httpform_classify(long code, const char *status_line, char *reply, size_t replysz);

#endif
