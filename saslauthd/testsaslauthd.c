/* testsaslauthd: ask a saslauthd whether a password is right, as libsasl2 does.
 * Cyrus's options and output; additionally -a sends the 5-field form, and the
 * password is read from stdin (or a no-echo prompt) when -p is omitted, so it need
 * not appear in the process list. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "build_config.h"
#include "common/protocol.h"
#include "common/secret.h"
#include "common/strutil.h"

#define EXIT_AUTH_FAILED 255
#define PASSWORD_MAX PROTOCOL_FIELD_MAX

struct client_args {
	const char *user;
	const char *password;
	const char *realm;
	const char *service;
	const char *socket_path;
	const char *client_addr; /* NULL: 4-field form */
	long repeat;
};

static void usage(void)
{
	fprintf(stderr, "testsaslauthd: usage: testsaslauthd -u username -p password\n"
	                "              [-r realm] [-s servicename]\n"
	                "              [-f socket path] [-R repeatnum]\n"
	                "              [-a client address (sends the 5-field request)]\n"
	                "  Without -p the password is read from standard input\n"
	                "  (with a prompt when it is a terminal).\n");
}

static bool read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* One attempt. Prints Cyrus's line; returns true on OK. */
static bool attempt(const struct client_args *a, long i)
{
	unsigned char req[PROTOCOL_REQUEST_MAX];
	unsigned char len_bytes[2];
	char text[PROTOCOL_REPLY_TEXT_MAX + 1];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	bool ok = false;

	printf("%ld: ", i);
	fflush(stdout);
	size_t reqlen = protocol_encode_request(req, sizeof(req), a->user, a->password, a->service,
	                                        a->realm, a->client_addr);
	if (reqlen == 0) {
		fprintf(stderr, "request too large\n");
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket() ");
		goto out;
	}
	if (!str_copy(sun.sun_path, sizeof(sun.sun_path), a->socket_path)) {
		fprintf(stderr, "connect() : socket path too long\n");
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror("connect() ");
		goto out;
	}
	if (write(fd, req, reqlen) != (ssize_t)reqlen) {
		fprintf(stderr, "write failed\n");
		goto out;
	}
	if (!read_all(fd, len_bytes, 2)) {
		fprintf(stderr, "size read failed\n");
		goto out;
	}
	size_t n = ((size_t)len_bytes[0] << 8) | len_bytes[1];
	if (n < 2) {
		fprintf(stderr, "bad response from saslauthd\n");
		goto out;
	}
	if (n > PROTOCOL_REPLY_TEXT_MAX)
		n = PROTOCOL_REPLY_TEXT_MAX;
	if (!read_all(fd, text, n)) {
		fprintf(stderr, "read failed\n");
		goto out;
	}
	text[n] = '\0';
	ok = strncmp(text, "OK", 2) == 0;
	printf(ok ? "OK \"Success.\"\n" : "NO \"authentication failed\"\n");
out:
	if (fd >= 0)
		close(fd);
	secret_wipe(req, sizeof(req));
	fflush(stdout);
	return ok;
}

/* Read a password line from stdin, without echo when it is a terminal. */
static bool read_password(char *buf, size_t bufsz)
{
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;

	if (tty) {
		fprintf(stderr, "Password: ");
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *got = fgets(buf, (int)bufsz, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fprintf(stderr, "\n");
	}
	if (got == NULL)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

int main(int argc, char **argv)
{
	static char password[PASSWORD_MAX + 2];
	struct client_args a = {
		.realm = "", .service = "imap", .socket_path = SASLAUTHD_DEFAULT_RUNDIR "/mux",
		.repeat = 1,
	};
	int c;
	bool ok = false;

	while ((c = getopt(argc, argv, "p:u:r:s:f:R:a:")) != -1) {
		switch (c) {
		case 'p': a.password = optarg; break;
		case 'u': a.user = optarg; break;
		case 'r': a.realm = optarg; break;
		case 's': a.service = optarg; break;
		case 'f': a.socket_path = optarg; break;
		case 'a': a.client_addr = optarg; break;
		case 'R':
			if (!str_to_long(optarg, 1, 1000000, &a.repeat)) {
				usage();
				return 1;
			}
			break;
		default: usage(); return 1;
		}
	}
	if (a.user == NULL) {
		usage();
		return 1;
	}
	if (a.password == NULL) {
		if (!read_password(password, sizeof(password))) {
			usage();
			return 1;
		}
		a.password = password;
	}
	for (long i = 0; i < a.repeat; i++)
		ok = attempt(&a, i);
	secret_wipe(password, sizeof(password));
	return ok ? 0 : EXIT_AUTH_FAILED;
}
