#include "saslauthd/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strutil.h"
#include "saslauthd/cache.h"
#include "saslauthd/policy.h"
#include "saslauthd/server.h"
#include "saslauthd/service_manager.h"
#include "saslauthd/stats.h"

#define PID_FILE "saslauthd.pid"
#define PID_LOCK_FILE "saslauthd.pid.lock"
#define ACCEPT_LOCK_FILE "mux.accept"
#define SOCKET_NAME "mux"
#define LISTEN_BACKLOG SOMAXCONN
#define STATUS_ANOTHER_INSTANCE 2
#define REPORT_TEXT_MAX 512
#define RUN_DIR_GROUP "sasl"
#define RUN_DIR_MODE 0710

/* What the daemon child tells the waiting launcher: the exit status and, on failure,
 * the message, so start-up errors reach the terminal and not only syslog. */
struct start_report {
	int status;
	char message[REPORT_TEXT_MAX];
};

struct daemon_state {
	const struct options *opts;
	char socket_path[PATH_MAX];
	int report_fd; /* write end towards the launcher, -1 when not detached */
	/* What this start created, to remove again when it fails. */
	bool made_pid_lock, made_pid_file, made_accept_lock, made_socket;
	int pid_lock_fd;
	int pid_fd;
	int accept_lock_fd;
	int listen_fd;
	bool socket_inherited; /* systemd owns the socket file: never unlink it */
	pid_t master_pid;
};

/* Log a start-up failure, tell the launcher, and return status. */
static int startup_failure(struct daemon_state *d, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int startup_failure(struct daemon_state *d, int status, const char *fmt, ...)
{
	struct start_report report = { .status = status };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(report.message, sizeof(report.message), fmt, ap);
	va_end(ap);
	log_core(LOG_ERR, "%s", report.message);
	if (d->report_fd >= 0) {
		if (write(d->report_fd, &report, sizeof(report)) != (ssize_t)sizeof(report))
			log_core(LOG_ERR, "could not report to the launching process");
		close(d->report_fd);
		d->report_fd = -1;
	}
	return status;
}

static int undo_start(struct daemon_state *d, int status);

static void report_ready(struct daemon_state *d)
{
	struct start_report report = { .status = 0 };

	if (d->report_fd < 0)
		return;
	if (write(d->report_fd, &report, sizeof(report)) != (ssize_t)sizeof(report))
		log_core(LOG_ERR, "could not report to the launching process");
	close(d->report_fd);
	d->report_fd = -1;
}

/* A run directory we create gets Debian's root:sasl 0710: clients in group sasl may
 * reach the socket, nobody may list the directory. Without a sasl group, Cyrus's 0755. */
static void secure_new_run_dir(const char *path)
{
	struct group *gr = getgrnam(RUN_DIR_GROUP);

	if (gr == NULL)
		return;
	if (chown(path, 0, gr->gr_gid) != 0 || chmod(path, RUN_DIR_MODE) != 0)
		log_core(LOG_WARNING, "could not give %s mode root:%s %o: %s", path, RUN_DIR_GROUP,
		         RUN_DIR_MODE, strerror(errno));
}

/* mkdir -p: Cyrus created only the last component. */
static bool make_run_dir(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode);
	if (!str_copy(buf, sizeof(buf), path))
		return false;
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return false;
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	secure_new_run_dir(path);
	return true;
}

/* Cyrus used an existing run directory whatever its owner and mode; whoever can write
 * to it can plant links the root daemon would write through, or replace the socket. */
static bool run_dir_trusted(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		str_format(why, whysz, "owned by uid %ld, not root", (long)st->st_uid);
		return false;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		str_format(why, whysz, "writable by %s (mode %04o)",
		           (st->st_mode & S_IWOTH) ? "others" : "its group",
		           (unsigned)(st->st_mode & 07777));
		return false;
	}
	return true;
}

/* A directory above the run directory is safe when nobody else can rename or replace
 * what is below it: owned by root (or us), and not writable by others unless sticky
 * (as /tmp is: then only the owner of an entry may move it). */
static bool ancestor_trusted(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		str_format(why, whysz, "is owned by uid %ld", (long)st->st_uid);
		return false;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st->st_mode & S_ISVTX) == 0) {
		str_format(why, whysz, "is writable by %s (mode %04o)",
		           (st->st_mode & S_IWOTH) ? "others" : "its group",
		           (unsigned)(st->st_mode & 07777));
		return false;
	}
	return true;
}

/* path's name for the directory levels above it ("/var/run" for 1 above /var/run/x). */
static void ancestor_name(const char *path, int levels, char *out, size_t outsz)
{
	char real[PATH_MAX];

	if (realpath(path, real) == NULL) {
		str_format(out, outsz, "the directory %d level%s above it", levels, levels == 1 ? "" : "s");
		return;
	}
	for (int i = 0; i < levels; i++) {
		char *slash = strrchr(real, '/');
		if (slash == NULL)
			break;
		slash[slash == real ? 1 : 0] = '\0';
	}
	str_format(out, outsz, "%s", real);
}

/* Walk up from dirfd through "..", so that symbolic links in the given path do not
 * matter: the directories checked are the ones the daemon's files really live under. */
static bool ancestors_trusted(int dirfd, const struct stat *dir_st, const char *path, char *why,
                              size_t whysz)
{
	struct stat here = *dir_st, up;
	int fd = dup(dirfd);

	if (fd < 0)
		return true; /* nothing to judge by; the directory itself was checked */
	for (int level = 1; level <= RUN_DIR_MAX_DEPTH; level++) {
		int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		if (parent < 0 || fstat(parent, &up) != 0) {
			if (parent >= 0)
				close(parent);
			return true;
		}
		if (up.st_dev == here.st_dev && up.st_ino == here.st_ino) {
			close(parent); /* "/" is its own parent */
			return true;
		}
		char reason[96];
		if (!ancestor_trusted(&up, reason, sizeof(reason))) {
			char name[SA_PATH_MAX];
			ancestor_name(path, level, name, sizeof(name));
			str_format(why, whysz, "%s above it %s: whoever controls it can swap the run "
			           "directory", name, reason);
			close(parent);
			return false;
		}
		here = up;
		fd = parent;
	}
	close(fd);
	return true;
}

enum run_dir_verdict daemon_judge_run_dir(int dirfd, const char *path, char *why, size_t whysz)
{
	struct stat st;

	if (fstat(dirfd, &st) != 0) {
		str_format(why, whysz, "%s", strerror(errno));
		return RUN_DIR_REFUSED;
	}
	if (!run_dir_trusted(&st, why, whysz))
		return RUN_DIR_REFUSED;
	return ancestors_trusted(dirfd, &st, path, why, whysz) ? RUN_DIR_OK : RUN_DIR_UNSAFE_ABOVE;
}

/* Enter the run directory through one descriptor, so the directory checked is the one
 * used. */
static int enter_run_dir(struct daemon_state *d)
{
	const char *dir = d->opts->run_dir;
	char why[SA_PATH_MAX + 128];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return startup_failure(d, 1, "could not open run directory: %s: %s", dir,
		                       strerror(errno));
	switch (daemon_judge_run_dir(fd, dir, why, sizeof(why))) {
	case RUN_DIR_REFUSED:
		close(fd);
		return startup_failure(d, 1, "refusing run directory %s: %s", dir, why);
	case RUN_DIR_UNSAFE_ABOVE:
		/* A warning, not a refusal: setups that worked with Cyrus keep working. */
		log_core(LOG_WARNING, "run directory %s: %s", dir, why);
		break;
	case RUN_DIR_OK:
		break;
	}
	int rc = fchdir(fd);
	close(fd);
	if (rc != 0)
		return startup_failure(d, 1, "could not chdir to: %s: %s", dir, strerror(errno));
	return 0;
}

int daemon_open_run_file(const char *name, int flags, mode_t mode)
{
	struct stat st;
	/* Truncated only once it is known to be ours alone. */
	int fd = open(name, (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		errno = ELOOP;
		return -1;
	}
	if ((flags & O_TRUNC) != 0 && ftruncate(fd, 0) != 0) {
		close(fd);
		return -1;
	}
	/* O_NONBLOCK only kept a planted FIFO from blocking the open. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Non-blocking exclusive fcntl lock on the whole file. */
static bool lock_file(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	return fcntl(fd, F_SETLK, &fl) == 0;
}

/* True when a detached instance holds the pid file of this run directory. */
static bool pid_file_locked_by_other(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	int fd = daemon_open_run_file(PID_FILE, O_RDONLY, 0);
	bool locked = false;

	if (fd < 0)
		return false;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		locked = true;
	close(fd);
	return locked;
}

static int write_pid_file(struct daemon_state *d)
{
	char line[32];
	int n;

	d->pid_fd = daemon_open_run_file(PID_FILE, O_WRONLY | O_CREAT, 0644);
	if (d->pid_fd < 0 || !lock_file(d->pid_fd))
		return startup_failure(d, STATUS_ANOTHER_INSTANCE, "could not lock pid file %s/%s: %s",
		                       d->opts->run_dir, PID_FILE, strerror(errno));
	d->made_pid_file = true;
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(d->pid_fd, 0) != 0 || write(d->pid_fd, line, (size_t)n) != n ||
	    fsync(d->pid_fd) != 0)
		return startup_failure(d, 1, "could not write pid file %s/%s: %s",
		                       d->opts->run_dir, PID_FILE, strerror(errno));
	return 0;
}

/* The launcher waits for the child's report; it holds no write end of the pipe, so a
 * child that dies before reporting is seen as EOF instead of a hang (a Cyrus bug). */
static int launcher_wait(struct daemon_state *d, int read_fd, pid_t child)
{
	struct start_report report;
	ssize_t n;

	do {
		n = read(read_fd, &report, sizeof(report));
	} while (n < 0 && errno == EINTR);
	close(read_fd);
	unlink(PID_LOCK_FILE);
	if (n != (ssize_t)sizeof(report)) {
		int status;
		waitpid(child, &status, WNOHANG);
		report.status = 1;
		report.message[0] = '\0';
	}
	if (report.status != 0) {
		log_core(LOG_ERR, "Cannot start saslauthd");
		if (report.status == STATUS_ANOTHER_INSTANCE)
			log_core(LOG_ERR, "Another instance of saslauthd is currently running");
		else if (report.message[0] != '\0')
			log_core(LOG_ERR, "%s", report.message);
		else
			log_core(LOG_ERR, "Check syslog for errors");
	}
	(void)d;
	return report.status;
}

/* Fork; the launcher returns (>= 0: its exit status), the child returns -1 and goes on. */
static int detach(struct daemon_state *d)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return undo_start(d, startup_failure(d, 1, "pipe: %s", strerror(errno)));
	for (int attempt = 0; (pid = fork()) < 0 && errno == EAGAIN && attempt < 5; attempt++)
		sleep(5);
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return undo_start(d, startup_failure(d, 1, "fork: %s", strerror(errno)));
	}
	if (pid > 0) {
		close(fds[1]);
		return launcher_wait(d, fds[0], pid);
	}
	close(fds[0]);
	d->report_fd = fds[1];
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	log_set_stderr(false);
	return -1;
}

/* Socket activation: serve the socket systemd created (owner, mode and place are
 * then the unit's business, e.g. inside the Postfix chroot). */
static bool take_inherited_socket(struct daemon_state *d)
{
	int fd = sm_inherited_socket();
	int flags;

	if (fd < 0)
		return false;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return false;
	d->listen_fd = fd;
	d->socket_inherited = true;
	log_core(LOG_INFO, "listening on socket passed by the service manager (fd %d)", fd);
	return true;
}

static int create_socket(struct daemon_state *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	if (take_inherited_socket(d))
		return 0;
	if (!str_copy(sun.sun_path, sizeof(sun.sun_path), d->socket_path))
		return startup_failure(d, 1, "socket path too long: %s", d->socket_path);
	/* Cyrus unlinked whatever was there; we only replace a stale socket. */
	if (lstat(d->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return startup_failure(d, 1, "%s exists and is not a socket; not removing it",
			                       d->socket_path);
		unlink(d->socket_path);
	}
	/* Non-blocking: several workers wake for one connection and only one gets it. */
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return startup_failure(d, 1, "socket: %s", strerror(errno));
	mode_t old = umask(0);
	int r = bind(d->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0)
		return startup_failure(d, 1, "could not bind to socket: %s: %s", d->socket_path,
		                       strerror(errno));
	d->made_socket = true;
	/* World-writable like Cyrus unless told otherwise: access is controlled by the run
	 * directory's mode. */
	if (chmod(d->socket_path, d->opts->socket_mode) != 0)
		return startup_failure(d, 1, "could not chmod socket: %s: %s", d->socket_path,
		                       strerror(errno));
	if (d->opts->socket_group != NULL) {
		struct group *gr = getgrnam(d->opts->socket_group);
		if (gr == NULL || chown(d->socket_path, (uid_t)-1, gr->gr_gid) != 0)
			return startup_failure(d, 1, "could not give socket %s group %s: %s",
			                       d->socket_path, d->opts->socket_group,
			                       gr == NULL ? "no such group" : strerror(errno));
	}
	if (listen(d->listen_fd, LISTEN_BACKLOG) != 0)
		return startup_failure(d, 1, "could not listen on socket: %s", d->socket_path);
	log_core(LOG_INFO, "listening on socket: %s", d->socket_path);
	return 0;
}

static void block_signals(void)
{
	sigset_t set;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static int init_mechanism(const struct options *opts)
{
	char err[2 * CHAIN_ERR_MAX] = "";

	if (chain_init(&opts->chain, err, sizeof(err)) == 0)
		return 0;
	log_core(LOG_ERR, "%s", err);
	return 1;
}

static int prepare_run_dir(struct daemon_state *d)
{
	const struct options *opts = d->opts;

	if (!make_run_dir(opts->run_dir))
		return startup_failure(d, 1, "can not mkdir: %s: %s", opts->run_dir, strerror(errno));
	int status = enter_run_dir(d);
	if (status != 0)
		return status;
	umask(077);
	d->pid_lock_fd = daemon_open_run_file(PID_LOCK_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (d->pid_lock_fd < 0)
		return startup_failure(d, 1, "could not open pid lock file: %s/%s: %s",
		                       opts->run_dir, PID_LOCK_FILE, strerror(errno));
	bool locked = lock_file(d->pid_lock_fd);
	if (locked && !pid_file_locked_by_other())
		d->made_pid_lock = true;
	if (!locked || pid_file_locked_by_other()) {
		/* The lock file is ours to remove only when we hold its lock. */
		if (locked)
			unlink(PID_LOCK_FILE);
		if (!opts->foreground) {
			log_core(LOG_ERR, "Cannot start saslauthd");
			log_core(LOG_ERR, "Another instance of saslauthd is currently running");
		}
		return startup_failure(d, opts->foreground ? 1 : STATUS_ANOTHER_INSTANCE,
		                       "could not lock pid lock file: %s/%s (another instance is "
		                       "running in this directory)", opts->run_dir, PID_LOCK_FILE);
	}
	/* Created where Cyrus creates it, for scripts that look for it; the workers need no
	 * lock around accept() (EPOLLEXCLUSIVE wakes one of them per connection). */
	if (opts->workers > 0 && opts->accept_lock) {
		d->accept_lock_fd = daemon_open_run_file(ACCEPT_LOCK_FILE, O_RDWR | O_CREAT | O_TRUNC,
		                                         0600);
		if (d->accept_lock_fd < 0)
			return startup_failure(d, 1, "could not open accept lock file: %s/%s: %s",
			                       opts->run_dir, ACCEPT_LOCK_FILE, strerror(errno));
		d->made_accept_lock = true;
		log_debug("using accept lock file: %s/%s", opts->run_dir, ACCEPT_LOCK_FILE);
	}
	return 0;
}

static void log_settings(const struct options *opts)
{
	log_debug("num_procs  : %d", opts->workers);
	log_debug("mech_option: %s", opts->mech_option != NULL ? opts->mech_option : "NULL");
	log_debug("run_path   : %s", opts->run_dir);
	log_debug("auth_mech  : %s", opts->chain.name);
	for (int i = 0; opts->chain.count > 1 && i < opts->chain.count; i++)
		log_debug("mech_option: %s: %s", opts->chain.steps[i].mech->name,
		          opts->chain.steps[i].settings.option != NULL
		                  ? opts->chain.steps[i].settings.option
		                  : "NULL");
}

static void remove_file(const char *name, const char *what, const struct options *opts)
{
	if (unlink(name) == 0)
		log_debug("%s removed: %s/%s", what, opts->run_dir, name);
}

/* A failed start leaves nothing behind that it created (and nothing of another
 * instance's). */
static int undo_start(struct daemon_state *d, int status)
{
	if (d->made_socket)
		unlink(SOCKET_NAME);
	if (d->made_accept_lock)
		unlink(ACCEPT_LOCK_FILE);
	if (d->made_pid_file)
		unlink(PID_FILE);
	if (d->made_pid_lock)
		unlink(PID_LOCK_FILE);
	stats_remove();
	return status;
}

static void shutdown_cleanup(struct daemon_state *d)
{
	const struct options *opts = d->opts;

	sm_notify_stopping();
	if (!d->socket_inherited)
		remove_file(SOCKET_NAME, "socket", opts);
	close(d->listen_fd);
	if (d->accept_lock_fd >= 0) {
		remove_file(ACCEPT_LOCK_FILE, "accept lock file", opts);
		close(d->accept_lock_fd);
	}
	if (opts->foreground) {
		remove_file(PID_LOCK_FILE, "pid file lock", opts);
	} else {
		remove_file(PID_FILE, "pid file", opts);
		close(d->pid_fd);
	}
	stats_remove();
	chain_cleanup(&opts->chain);
	log_core(LOG_INFO, "master exited: %ld", (long)d->master_pid);
}

int daemon_run(const struct options *opts)
{
	struct daemon_state d = {
		.opts = opts, .report_fd = -1, .pid_lock_fd = -1, .pid_fd = -1,
		.accept_lock_fd = -1, .listen_fd = -1,
	};
	int status;

	struct privsep_identity identity = { .enabled = false };
	char err[512];

	/* No core files or ptrace peeking at passwords in memory, in any of our processes. */
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		log_core(LOG_WARNING, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	if (opts->run_as != NULL && !privsep_resolve(opts->run_as, &identity, err, sizeof(err))) {
		log_core(LOG_ERR, "%s", err);
		return 1;
	}
	if (init_mechanism(opts) != 0)
		return 1;
	log_settings(opts);
	if (!str_format(d.socket_path, sizeof(d.socket_path), "%s/%s", opts->run_dir, SOCKET_NAME))
		return 1;
	if ((status = prepare_run_dir(&d)) != 0)
		return undo_start(&d, status);
	block_signals();
	if (!opts->foreground) {
		/* The launcher leaves the files to the child, which holds the locks now. */
		if ((status = detach(&d)) >= 0)
			return status;
		if ((status = write_pid_file(&d)) != 0)
			return undo_start(&d, status);
		/* The child holds the pid file lock now; the launcher removes the pid lock file. */
		close(d.pid_lock_fd);
		d.pid_lock_fd = -1;
		d.made_pid_lock = false;
		d.master_pid = getpid();
	}
	if ((status = create_socket(&d)) != 0)
		return undo_start(&d, status);
	stats_create(opts->chain.name);
	/* Before the workers are forked: they all share it. */
	if (opts->cache && !cache_init(opts->cache_kb, opts->cache_timeout))
		return undo_start(&d, startup_failure(&d, 1, "cannot create the credential cache"));
	cache_set_failure_ttls(opts->negative_ttl, opts->stale_ttl);
	if (!policy_init(&opts->policy))
		return undo_start(&d, startup_failure(&d, 1, "cannot set up throttling"));
	log_core(LOG_INFO, "master pid is: %ld", (long)d.master_pid);

	report_ready(&d);
	char status_line[CHAIN_NAME_MAX + 64];
	snprintf(status_line, sizeof(status_line), "mechanism %s, %d workers", opts->chain.name,
	         opts->workers);
	sm_notify_ready(status_line);

	struct server srv = {
		.opts = opts,
		.policy = { .mech = opts->mech, .realm_concat = opts->realm_concat,
		            .chain = &opts->chain, .fail_delay_ms = opts->fail_delay_ms },
		.listen_fd = d.listen_fd,
		.identity = identity,
		.master_fds = { d.pid_fd, d.pid_lock_fd, d.accept_lock_fd, -1 },
	};
	status = server_run_master(&srv);
	shutdown_cleanup(&d);
	return status;
}
