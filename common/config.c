#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"

static bool is_key_char(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/* Parse one line per Cyrus's rules. Returns 1 for an entry, 0 for blank/comment, -1 on error. */
static int parse_line(char *line, char **key, char **value, const char **problem)
{
	char *p = line;

	line[strcspn(line, "\n")] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	while (is_key_char((unsigned char)*p)) {
		*p = (char)tolower((unsigned char)*p);
		p++;
	}
	if (*p != ':') {
		*problem = "no colon separator";
		return -1;
	}
	*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0') {
		*problem = "empty value";
		return -1;
	}
	*value = p;
	return 1;
}

enum line_read { LINE_OK, LINE_END, LINE_TOO_LONG };

/* One line without its newline. A line that does not fit is refused whole: fgets used to
 * split it, and its tail was read as a line of its own (a value could smuggle in a key). */
static enum line_read read_line(FILE *fp, char *line, size_t linesz)
{
	size_t n = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (n + 1 >= linesz)
			return LINE_TOO_LONG;
		line[n++] = (char)c;
	}
	line[n] = '\0';
	return (c == EOF && n == 0) ? LINE_END : LINE_OK;
}

bool config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
	char line[CONFIG_LINE_MAX];
	int lineno = 0;
	FILE *fp;

	memset(cfg, 0, sizeof(*cfg));
	str_copy(cfg->path, sizeof(cfg->path), path);
	fp = fopen(path, "re");
	if (fp == NULL) {
		str_format(err, errsz, "%s: %s", path, strerror(errno));
		return false;
	}
	enum line_read got;
	while ((got = read_line(fp, line, sizeof(line))) != LINE_END) {
		char *key = NULL, *value = NULL;
		const char *problem = "line too long";
		lineno++;
		int r = got == LINE_TOO_LONG ? -1 : parse_line(line, &key, &value, &problem);
		if (r == 0)
			continue;
		if (r < 0 || cfg->count == CONFIG_ENTRIES_MAX) {
			str_format(err, errsz, "%s:%d: %s", path, lineno,
			           r < 0 ? problem : "too many entries");
			fclose(fp);
			config_free(cfg);
			return false;
		}
		struct config_entry *e = &cfg->entries[cfg->count];
		e->key = strdup(key);
		e->value = strdup(value);
		e->line = lineno;
		if (e->key == NULL || e->value == NULL) {
			free(e->key);
			free(e->value);
			str_format(err, errsz, "%s: out of memory", path);
			fclose(fp);
			config_free(cfg);
			return false;
		}
		cfg->count++;
	}
	fclose(fp);
	return true;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->count; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	cfg->count = 0;
}

const char *config_get(const struct config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->count; i++) {
		if (strcmp(cfg->entries[i].key, key) == 0)
			return cfg->entries[i].value;
	}
	return NULL;
}

bool config_get_bool(const struct config *cfg, const char *key, bool def)
{
	const char *v = config_get(cfg, key);

	bool on = def;

	if (v != NULL)
		(void)str_parse_switch(v, &on);
	return on;
}
