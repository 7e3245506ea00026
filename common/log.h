/* Logging: syslog (ident "saslauthd", facility auth) in Cyrus's line formats,
 * mirrored to stderr while in the foreground. */
#ifndef SASLAUTHD_LOG_H
#define SASLAUTHD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* Longest message, as in Cyrus (1024-byte buffer). */
#define LOG_LINE_MAX 1024

void log_init(const char *ident, bool verbose, bool to_stderr);
void log_set_stderr(bool to_stderr);
bool log_verbose(void);

/* Core message: syslog text is Cyrus's empty 16-column prefix, ": ", then the message;
 * stderr text is "saslauthd[pid] :message". */
void log_core(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Core debug message, emitted only with -V/-d. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Mechanism message: no column prefix, as Cyrus's mechanisms call syslog() directly. */
void log_mech(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Make an untrusted value safe inside a "[field=value]" log item: control bytes, '[', ']'
 * and '\\' become \xNN, so a login can neither forge fields nor break lines.
 * Returns out. */
const char *log_escape(const char *in, char *out, size_t outsz);

#endif
