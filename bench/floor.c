/* The floor: the least work a preforked saslauthd can do per request. N processes block
 * in accept(), read one whole request (parsed with the daemon's own codec), answer OK
 * without deciding anything, and close. Benchmarks compare the daemon against it.
 *
 * usage: saslauthd-floor SOCKET N
 * Runs until SIGTERM or SIGINT, then stops its children and removes SOCKET. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/protocol.h"
#include "common/strutil.h"

#define FLOOR_MAX_PROCS 512

static void serve_one(int fd)
{
	static unsigned char buf[PROTOCOL_REQUEST_MAX];
	static struct request req;
	enum request_field bad;
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		enum parse_status st = protocol_parse_request(buf, len, &req, &bad);
		if (st != PARSE_INCOMPLETE || len == sizeof(buf))
			break;
	}
	unsigned char out[8];
	size_t olen = protocol_encode_reply(out, sizeof(out), "OK");
	if (send(fd, out, olen, MSG_NOSIGNAL) != (ssize_t)olen)
		return;
}

static void child_loop(int lfd)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("saslauthd-floor: accept");
			_exit(1);
		}
		serve_one(fd);
		close(fd);
	}
}

static int listen_on(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || !str_copy(sun.sun_path, sizeof(sun.sun_path), path)) {
		fprintf(stderr, "saslauthd-floor: cannot make a socket at %s\n", path);
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || chmod(path, 0777) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		fprintf(stderr, "saslauthd-floor: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	long n;
	pid_t kids[FLOOR_MAX_PROCS];
	sigset_t set;
	int sig;

	if (argc != 3 || !str_to_long(argv[2], 1, FLOOR_MAX_PROCS, &n)) {
		fprintf(stderr, "usage: saslauthd-floor SOCKET N (1..%d)\n", FLOOR_MAX_PROCS);
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int lfd = listen_on(argv[1]);
	if (lfd < 0)
		return 1;
	for (long i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			child_loop(lfd);
		}
		if (kids[i] < 0) {
			perror("saslauthd-floor: fork");
			n = i;
			break;
		}
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	for (long i = 0; i < n; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	unlink(argv[1]);
	return 0;
}
