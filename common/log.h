/* Logging: syslog (ident "saslauthd", facility auth) in Cyrus's line formats,
 * mirrored to stderr while in the foreground. */
#ifndef SASLAUTHD_LOG_H
#define SASLAUTHD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
 * Returns out. Output is at most LOG_ESCAPED_MAX(strlen(in)) bytes with the NUL. */
const char *log_escape(const char *in, char *out, size_t outsz);

#define LOG_ESCAPED_MAX(len) (4 * (len) + 1)
/* Room for an escaped client field (the protocol allows 1024 bytes). */
#define LOG_VALUE_MAX LOG_ESCAPED_MAX(1024)

/* The mark a capped value ends with: how many bytes of the value were left out. */
#define LOG_CUT_MARK_FORMAT "...(+%zu bytes)"
#define LOG_CUT_MARK_MAX 40 /* room for the mark with any size_t count, and the NUL */

/* log_escape, but a value whose escaped form does not fit in cap bytes (with the NUL;
 * cap > LOG_CUT_MARK_MAX) is cut and marked, so that fields after it in a line of at most
 * LOG_LINE_MAX bytes are never pushed off its end. Returns out (cap bytes). */
const char *log_escape_capped(const char *in, char *out, size_t cap);

/* log_escape into a buffer that lives until the end of the enclosing statement, for use
 * directly as a log argument: log_mech(LOG_DEBUG, "user %s", LOG_ESC(req->login)). */
#define LOG_ESC(s) log_escape((s), (char[LOG_VALUE_MAX]){ 0 }, LOG_VALUE_MAX)

/* Every line written by log_core/log_debug/log_mech has its control bytes turned into
 * \xNN as the last step, whatever the caller passed: no text can start a line of its
 * own. Brackets are the caller's business (LOG_ESC for client values). */

/* One report per burst: events are counted, and a report is due at most once per
 * interval, so a flood writes one line that says how many it stands for. */
struct log_burst {
	int64_t next_at;     /* sa_clock_ms() value before which no report is due */
	unsigned long count; /* events since the last report */
};

/* Count one event at now_ms. True when a report is due; *count is then the number of
 * events it stands for (this one included) and the burst starts again. */
bool log_burst_due(struct log_burst *b, int64_t now_ms, int64_t interval_ms, unsigned long *count);

#endif
