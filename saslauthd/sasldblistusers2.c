/* sasldblistusers2: print every key of a sasldb2 file as "user@realm: property", with the
 * options, output and exit statuses of Cyrus SASL 2.1.28's sasldblistusers2. */
#include "build_config.h"
#include "common/sasldb_store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERR_MAX 1024
/* Cyrus's exit status for usage errors. Failures to read the file exit 0 in Cyrus
 * (only "listusers failed" on stderr), and so do they here, for scripts relying on it. */
#define EXIT_USAGE 1

static const char *progname = "sasldblistusers2";

static void usage(bool bad_option)
{
	(void)fprintf(stderr,
	              "%s: usage: %s [-v] [[-f] sasldb]\n"
	              "\t-f sasldb\tuse given file as sasldb\n"
	              "\t-v\tprint version numbers and exit\n",
	              progname, progname);
	if (bad_option)
		(void)fprintf(stderr, "Unrecognized command line option\n");
}

/* Cyrus prints libsasl2's version here; this is not libsasl2, so say what it is. */
static void version(void)
{
	(void)fprintf(stderr,
	              "%s from saslauthd-ng %s\n"
	              "sasldb2 files as written by Cyrus SASL 2.1.28 (Berkeley DB hash)\n",
	              progname, SASLAUTHD_VERSION);
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, const char **path)
{
	/* Cyrus: a single argument not starting with '-' is the file. */
	if (argc == 2 && argv[1][0] != '-') {
		*path = argv[1];
		return -1;
	}
	bool bad_option = false, show_usage = false;
	int c;
	while ((c = getopt(argc, argv, "vf:h?")) != -1) {
		switch (c) {
		case 'f':
			*path = optarg;
			break;
		case 'h':
			bad_option = false;
			show_usage = true;
			break;
		case 'v':
			version();
			return EXIT_SUCCESS;
		default:
			bad_option = true;
			show_usage = true;
			break;
		}
	}
	if (optind != argc)
		show_usage = true;
	if (show_usage) {
		usage(bad_option);
		return EXIT_USAGE;
	}
	return -1;
}

static bool print_entry(const char *user, const char *realm, const char *property, void *ctx)
{
	(void)ctx;
	return printf("%s@%s: %s\n", user, realm, property) >= 0;
}

static void listusers_failed(const char *detail)
{
	(void)fprintf(stderr, "%s: %s\n", progname, detail);
	(void)fprintf(stderr, "listusers failed\n");
}

static const char *base_name(const char *argv0)
{
	if (argv0 == NULL || argv0[0] == '\0')
		return "sasldblistusers2";
	const char *slash = strrchr(argv0, '/');
	return slash != NULL ? slash + 1 : argv0;
}

int main(int argc, char **argv)
{
	progname = base_name(argv[0]);
	const char *path = SASLAUTHD_DEFAULT_SASLDB;
	int rc = parse_options(argc, argv, &path);
	if (rc >= 0)
		return rc;

	char err[ERR_MAX];
	struct sasldb *db = sasldb_open_readonly(path, err, sizeof(err));
	if (db == NULL) {
		listusers_failed(err);
		return EXIT_SUCCESS;
	}
	enum sasldb_status st = sasldb_foreach(db, print_entry, NULL);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		(void)fprintf(stderr, "%s: cannot write the list: %s\n", progname, strerror(errno));
		sasldb_close(db);
		return EXIT_FAILURE;
	}
	if (st != SASLDB_OK)
		listusers_failed(sasldb_error(db));
	else if (sasldb_error(db)[0] != '\0')
		(void)fprintf(stderr, "%s: warning: %s\n", progname, sasldb_error(db));
	sasldb_close(db);
	return EXIT_SUCCESS;
}
