#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Cyrus 2.1.27+ prints an empty 16-column "function name" before every core message. */
#define CYRUS_EMPTY_COLUMN "                "

static struct {
	bool verbose;
	bool to_stderr;
	const char *ident;
} log_state = { false, true, "saslauthd" };

void log_init(const char *ident, bool verbose, bool to_stderr)
{
	log_state.ident = ident;
	log_state.verbose = verbose;
	log_state.to_stderr = to_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTH);
}

void log_set_stderr(bool to_stderr)
{
	log_state.to_stderr = to_stderr;
}

bool log_verbose(void)
{
	return log_state.verbose;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool needs_escape(unsigned char c)
{
	return is_control(c) || c == '[' || c == ']' || c == '\\';
}

/* Copy in to out (outsz > 0), writing the bytes must_escape picks as \xNN; a byte that no
 * longer fits is left out with everything after it. Returns how many bytes of in were
 * copied. */
static size_t escape_into(const char *in, char *out, size_t outsz,
                          bool (*must_escape)(unsigned char))
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)in;

	for (; *p != '\0'; p++) {
		size_t need = must_escape(*p) ? 4 : 1;
		if (o + need >= outsz)
			break;
		if (need == 1) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 0xf];
		}
	}
	out[o] = '\0';
	return (size_t)(p - (const unsigned char *)in);
}

static void emit(int priority, bool core_format, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX];
	char line[LOG_LINE_MAX];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* Control bytes of the formatted line as \xNN, within LOG_LINE_MAX. */
	escape_into(raw, line, sizeof(line), is_control);
	if (core_format)
		syslog(priority, CYRUS_EMPTY_COLUMN ": %s", line);
	else
		syslog(priority, "%s", line);
	if (log_state.to_stderr) {
		/* One write per line so lines from several workers do not interleave. */
		char out[LOG_LINE_MAX + 64];
		int n = snprintf(out, sizeof(out), "%s[%ld] :%s\n", log_state.ident, (long)getpid(),
		                 line);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
			ssize_t ignored = write(STDERR_FILENO, out, len);
			(void)ignored; /* nothing sensible to do if stderr is gone */
		}
	}
}

void log_core(int priority, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(priority, true, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (!log_state.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(LOG_DEBUG, true, fmt, ap);
	va_end(ap);
}

void log_mech(int priority, const char *fmt, ...)
{
	if (priority == LOG_DEBUG && !log_state.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(priority, false, fmt, ap);
	va_end(ap);
}

const char *log_escape(const char *in, char *out, size_t outsz)
{
	if (outsz > 0)
		escape_into(in, out, outsz, needs_escape);
	return out;
}

const char *log_escape_capped(const char *in, char *out, size_t cap)
{
	size_t len = strlen(in);

	if (escape_into(in, out, cap, needs_escape) == len)
		return out;
	size_t kept = escape_into(in, out, cap - LOG_CUT_MARK_MAX, needs_escape);
	size_t o = strlen(out);
	snprintf(out + o, cap - o, LOG_CUT_MARK_FORMAT, len - kept);
	return out;
}

bool log_burst_due(struct log_burst *b, int64_t now_ms, int64_t interval_ms, unsigned long *count)
{
	b->count++;
	if (now_ms < b->next_at)
		return false;
	*count = b->count;
	b->count = 0;
	b->next_at = now_ms + interval_ms;
	return true;
}
