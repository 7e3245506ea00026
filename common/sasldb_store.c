/* The Cyrus sasldb2 file (Berkeley DB 5.3 hash): read side for the sasldb mechanism,
 * write side for saslpasswd2. See sasldb_store.h for the key layout.
 *
 * Writes never modify the file in place. Under an exclusive flock() on the database
 * file itself, the file is copied to "<file>.XXXXXX" in the same directory, the change
 * is applied to the copy with libdb, the copy is synced, given the original's owner,
 * group and mode, and rename()d over the original. Readers therefore see either the old
 * or the new file, and a failure at any point leaves the original untouched.
 *
 * Why the lock is on the database itself rather than on a "<file>.lock": no extra file
 * appears next to the database. Because rename() replaces the inode, a writer that
 * waited for the lock re-checks after getting it that the path still names the inode it
 * locked, and starts again on the new file otherwise. When there is no database yet, an
 * empty file is created (O_EXCL, mode 0660 minus umask, as Cyrus creates it) to hold
 * the lock; libdb, like Cyrus, treats an empty file as a new database. If the write then
 * fails, that empty file is removed again (a reader meanwhile fails as on a missing file).
 *
 * Costs of the approach: the directory must be writable (Cyrus needs only the file), a
 * symlink is followed and its target replaced, and a crash mid-write can leave a
 * "<file>.XXXXXX" copy behind (mode 0600 until the final chmod).
 *
 * Cyrus's own saslpasswd2 edits the file in place without this lock, so the two must
 * not be run at the same moment on the same file. */
#include "common/sasldb_store.h"

#include "common/secret.h"

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* user, realm and property at their maximum, plus the two separators */
#define SASLDB_KEY_MAX (3 * SASLDB_NAME_MAX + 2)
#define SASLDB_ERR_MAX 512
/* Cyrus creates the file with this mode (before the umask). */
#define SASLDB_CREATE_MODE 0660
/* Enough for any real contention; a bound so a pathological rename loop cannot spin. */
#define LOCK_ATTEMPTS 100
#define COPY_CHUNK 16384
#define TMP_SUFFIX ".XXXXXX"

struct db_diag {
	char msg[SASLDB_ERR_MAX]; /* last message libdb reported through its errcall */
};

struct sasldb {
	DB *db;
	struct db_diag diag;
	struct stat version; /* of the file when it was opened */
	char err[SASLDB_ERR_MAX];
};

/* When libdb meets damaged pages it "panics" (DB_RUNRECOVERY), and closing a panicked
 * handle leaks its cache (~28 KiB), so a daemon that reopened a damaged file for every
 * request would grow without bound. The last file version that panicked is remembered
 * and not opened again until the file changes. Per process; the daemon's workers are
 * single-threaded. */
static struct {
	bool set;
	struct stat version;
} damaged;

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void note_panic(const struct stat *version, int ret)
{
	if (ret == DB_RUNRECOVERY && version != NULL) {
		damaged.version = *version;
		damaged.set = true;
	}
}

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (err == NULL || errsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	if (n < 0)
		err[0] = '\0';
}

/* libdb reports details (e.g. "metadata page checksum error") only through this hook;
 * keep the latest so it can be added to our own message instead of going to stderr. */
static void capture_db_message(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)prefix;
	struct db_diag *diag = env != NULL ? env->app_private : NULL;
	if (diag != NULL && msg != NULL)
		set_err(diag->msg, sizeof(diag->msg), "%s", msg);
}

/* "<what> <path>: <libdb's error> (<libdb's detail>)" */
static void set_db_err(char *err, size_t errsz, const struct db_diag *diag, const char *what,
                       const char *path, int ret)
{
	if (diag != NULL && diag->msg[0] != '\0')
		set_err(err, errsz, "%s %s: %s (%s)", what, path, db_strerror(ret), diag->msg);
	else
		set_err(err, errsz, "%s %s: %s", what, path, db_strerror(ret));
}

static int db_open_hash(DB **out, struct db_diag *diag, const char *path, u_int32_t flags)
{
	DB *db = NULL;
	int ret = db_create(&db, NULL, 0);
	if (ret != 0)
		return ret;
	DB_ENV *env = db->get_env(db);
	if (env != NULL)
		env->app_private = diag;
	db->set_errcall(db, capture_db_message);
	ret = db->open(db, NULL, path, NULL, DB_HASH, flags, 0);
	if (ret != 0) {
		(void)db->close(db, DB_NOSYNC);
		return ret;
	}
	*out = db;
	return 0;
}

/* ---- key layout ---- */

static bool name_len(const char *s, size_t *len)
{
	size_t n = strnlen(s, SASLDB_NAME_MAX + 1);
	if (n > SASLDB_NAME_MAX)
		return false;
	*len = n;
	return true;
}

size_t sasldb_key_encode(char *out, size_t outsz, const char *user, const char *realm,
                         const char *property)
{
	size_t ulen, rlen, plen;

	if (out == NULL || user == NULL || realm == NULL || property == NULL)
		return 0;
	if (!name_len(user, &ulen) || !name_len(realm, &rlen) || !name_len(property, &plen))
		return 0;
	size_t total = ulen + 1 + rlen + 1 + plen;
	if (total > outsz)
		return 0;
	memcpy(out, user, ulen);
	out[ulen] = '\0';
	memcpy(out + ulen + 1, realm, rlen);
	out[ulen + 1 + rlen] = '\0';
	memcpy(out + ulen + 1 + rlen + 1, property, plen);
	return total;
}

/* A NULL destination means the caller does not want that part. */
static bool copy_part(char *dst, size_t dstsz, const char *src, size_t len)
{
	if (dst == NULL)
		return true;
	if (len > SASLDB_NAME_MAX || len >= dstsz)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

static void clear_part(char *dst, size_t dstsz)
{
	if (dst != NULL && dstsz > 0)
		dst[0] = '\0';
}

/* Exactly two NULs, as Cyrus's _sasldb_parse_key requires; anything else is not a key
 * Cyrus would have written. */
bool sasldb_key_decode(const char *key, size_t keylen, char *user, size_t usersz, char *realm,
                       size_t realmsz, char *property, size_t propsz)
{
	clear_part(user, usersz);
	clear_part(realm, realmsz);
	clear_part(property, propsz);
	if (key == NULL)
		return false;

	const char *sep1 = memchr(key, '\0', keylen);
	if (sep1 == NULL)
		return false;
	size_t ulen = (size_t)(sep1 - key);
	const char *rstart = sep1 + 1;
	size_t rest = keylen - ulen - 1;
	const char *sep2 = memchr(rstart, '\0', rest);
	if (sep2 == NULL)
		return false;
	size_t rlen = (size_t)(sep2 - rstart);
	const char *pstart = sep2 + 1;
	size_t plen = rest - rlen - 1;
	if (memchr(pstart, '\0', plen) != NULL)
		return false;

	if (!copy_part(user, usersz, key, ulen) || !copy_part(realm, realmsz, rstart, rlen) ||
	    !copy_part(property, propsz, pstart, plen)) {
		clear_part(user, usersz);
		clear_part(realm, realmsz);
		clear_part(property, propsz);
		return false;
	}
	return true;
}

/* ---- read side ---- */

struct sasldb *sasldb_open_readonly(const char *path, char *err, size_t errsz)
{
	if (path == NULL) {
		set_err(err, errsz, "no sasldb path given");
		return NULL;
	}
	struct stat version;
	if (stat(path, &version) != 0) {
		set_err(err, errsz, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (damaged.set && same_version(&version, &damaged.version)) {
		set_err(err, errsz, "cannot open %s: damaged (libdb: %s); not retried until it changes",
		        path, db_strerror(DB_RUNRECOVERY));
		return NULL;
	}
	struct sasldb *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		set_err(err, errsz, "cannot open %s: out of memory", path);
		return NULL;
	}
	h->version = version;
	int ret = db_open_hash(&h->db, &h->diag, path, DB_RDONLY);
	if (ret != 0) {
		note_panic(&version, ret);
		set_db_err(err, errsz, &h->diag, "cannot open", path, ret);
		free(h);
		return NULL;
	}
	/* The environment now points at h->diag, which lives as long as the handle. */
	h->diag.msg[0] = '\0';
	return h;
}

void sasldb_close(struct sasldb *db)
{
	if (db == NULL)
		return;
	if (db->db != NULL)
		(void)db->db->close(db->db, DB_NOSYNC); /* read-only: nothing to flush */
	free(db);
}

const char *sasldb_error(const struct sasldb *db)
{
	return db != NULL ? db->err : "no sasldb handle";
}

static void begin_op(struct sasldb *db)
{
	db->err[0] = '\0';
	db->diag.msg[0] = '\0';
}

static void set_handle_db_err(struct sasldb *db, const char *what, int ret)
{
	note_panic(&db->version, ret);
	if (db->diag.msg[0] != '\0')
		set_err(db->err, sizeof(db->err), "%s: %s (%s)", what, db_strerror(ret),
		        db->diag.msg);
	else
		set_err(db->err, sizeof(db->err), "%s: %s", what, db_strerror(ret));
}

enum sasldb_status sasldb_fetch(struct sasldb *db, const char *user, const char *realm,
                                const char *property, char *value, size_t valuesz,
                                size_t *value_len)
{
	if (value_len != NULL)
		*value_len = 0;
	if (value != NULL && valuesz > 0)
		value[0] = '\0';
	if (db == NULL || db->db == NULL)
		return SASLDB_ERROR;
	begin_op(db);
	if (user == NULL || realm == NULL || property == NULL || value == NULL || valuesz == 0) {
		set_err(db->err, sizeof(db->err), "fetch: missing argument");
		return SASLDB_ERROR;
	}

	char key[SASLDB_KEY_MAX];
	size_t keylen = sasldb_key_encode(key, sizeof(key), user, realm, property);
	if (keylen == 0) {
		set_err(db->err, sizeof(db->err), "fetch: user, realm or property too long");
		return SASLDB_TOO_LONG;
	}

	size_t room = valuesz - 1;
	if (room > SASLDB_VALUE_MAX)
		room = SASLDB_VALUE_MAX;
	DBT k = { .data = key, .size = (u_int32_t)keylen };
	DBT v = { .data = value, .ulen = (u_int32_t)room, .flags = DB_DBT_USERMEM };
	int ret = db->db->get(db->db, NULL, &k, &v, 0);
	if (ret == DB_NOTFOUND)
		return SASLDB_NOT_FOUND;
	if (ret == DB_BUFFER_SMALL) {
		set_err(db->err, sizeof(db->err), "fetch: value longer than %zu bytes", room);
		return SASLDB_TOO_LONG;
	}
	if (ret != 0) {
		set_handle_db_err(db, "fetch", ret);
		return SASLDB_ERROR;
	}
	if (v.size > room) { /* libdb promised not to, but never index past the buffer */
		secret_wipe(value, valuesz);
		set_err(db->err, sizeof(db->err), "fetch: value longer than %zu bytes", room);
		return SASLDB_TOO_LONG;
	}
	value[v.size] = '\0';
	if (value_len != NULL)
		*value_len = v.size;
	return SASLDB_OK;
}

enum sasldb_status sasldb_foreach(struct sasldb *db, sasldb_visit_fn visit, void *ctx)
{
	if (db == NULL || db->db == NULL)
		return SASLDB_ERROR;
	begin_op(db);
	if (visit == NULL) {
		set_err(db->err, sizeof(db->err), "foreach: no callback");
		return SASLDB_ERROR;
	}

	DBC *cur = NULL;
	int ret = db->db->cursor(db->db, NULL, &cur, 0);
	if (ret != 0) {
		set_handle_db_err(db, "cannot iterate", ret);
		return SASLDB_ERROR;
	}

	char user[SASLDB_NAME_MAX + 1], realm[SASLDB_NAME_MAX + 1], prop[SASLDB_NAME_MAX + 1];
	size_t skipped = 0;
	DBT k = { 0 };
	/* A zero-length partial read: keys only, values (passwords) are never copied. */
	DBT v = { .flags = DB_DBT_PARTIAL, .dlen = 0, .doff = 0 };
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (!sasldb_key_decode(k.data, k.size, user, sizeof(user), realm, sizeof(realm),
		                       prop, sizeof(prop))) {
			skipped++;
			continue;
		}
		if (!visit(user, realm, prop, ctx)) {
			ret = DB_NOTFOUND;
			break;
		}
	}
	enum sasldb_status status = SASLDB_OK;
	if (ret != DB_NOTFOUND) {
		set_handle_db_err(db, "cannot iterate", ret);
		status = SASLDB_ERROR;
	}
	int cret = cur->close(cur);
	if (cret != 0 && status == SASLDB_OK) {
		set_handle_db_err(db, "cannot close cursor", cret);
		status = SASLDB_ERROR;
	}
	/* Not a failure, but the caller (sasldblistusers2) can warn about it. */
	if (status == SASLDB_OK && skipped > 0)
		set_err(db->err, sizeof(db->err),
		        "skipped %zu malformed or oversized key(s)", skipped);
	return status;
}

/* ---- write side ---- */

struct writer {
	char target[PATH_MAX]; /* the database, symlinks resolved */
	char tmp[PATH_MAX];    /* the copy being edited; empty when there is none */
	int lock_fd;
	struct stat orig;      /* of the locked file */
	bool created;          /* we created the empty file that holds the lock */
	struct db_diag diag;
	char *err;
	size_t errsz;
};

typedef enum sasldb_status (*apply_fn)(DB *db, const void *arg, struct writer *w);

/* Edit the file a symlink points to, as an in-place edit would, instead of replacing
 * the link with a regular file. */
static bool resolve_target(struct writer *w, const char *path)
{
	char resolved[PATH_MAX];
	const char *use = path;

	if (realpath(path, resolved) != NULL)
		use = resolved;
	else if (errno != ENOENT) {
		set_err(w->err, w->errsz, "cannot resolve %s: %s", path, strerror(errno));
		return false;
	}
	size_t n = strnlen(use, sizeof(w->target));
	if (n == 0 || n + sizeof(TMP_SUFFIX) > sizeof(w->target)) {
		set_err(w->err, w->errsz, "path too long or empty: %s", path);
		return false;
	}
	memcpy(w->target, use, n + 1);
	return true;
}

static int open_or_create(struct writer *w)
{
	int fd = open(w->target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	fd = open(w->target, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          SASLDB_CREATE_MODE);
	if (fd >= 0)
		w->created = true;
	else if (errno == EEXIST)
		errno = EAGAIN; /* someone else created it meanwhile: retry */
	return fd;
}

static int lock_fd_exclusive(int fd)
{
	int r;
	do
		r = flock(fd, LOCK_EX);
	while (r != 0 && errno == EINTR);
	return r;
}

/* Lock the file the path names now, see the comment at the top. */
static bool lock_target(struct writer *w)
{
	for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
		w->created = false;
		int fd = open_or_create(w);
		if (fd < 0) {
			if (errno == EAGAIN)
				continue;
			set_err(w->err, w->errsz, "cannot open %s: %s", w->target, strerror(errno));
			return false;
		}
		struct stat now;
		if (lock_fd_exclusive(fd) != 0 || fstat(fd, &w->orig) != 0) {
			set_err(w->err, w->errsz, "cannot lock %s: %s", w->target, strerror(errno));
			(void)close(fd);
			return false;
		}
		if (lstat(w->target, &now) != 0 || now.st_dev != w->orig.st_dev ||
		    now.st_ino != w->orig.st_ino) {
			(void)close(fd); /* replaced while we waited: lock the new one */
			continue;
		}
		if (!S_ISREG(w->orig.st_mode)) {
			set_err(w->err, w->errsz, "%s is not a regular file", w->target);
			(void)close(fd);
			return false;
		}
		w->lock_fd = fd;
		return true;
	}
	set_err(w->err, w->errsz, "cannot lock %s: it keeps being replaced", w->target);
	return false;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* The buffer holds passwords, hence the wipe. */
static bool copy_contents(int from, int to)
{
	char buf[COPY_CHUNK];
	off_t off = 0;
	bool ok = true;

	for (;;) {
		ssize_t n = pread(from, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = n == 0;
			break;
		}
		if (!write_all(to, buf, (size_t)n)) {
			ok = false;
			break;
		}
		off += n;
	}
	secret_wipe(buf, sizeof(buf));
	return ok;
}

static bool make_copy(struct writer *w)
{
	int n = snprintf(w->tmp, sizeof(w->tmp), "%s%s", w->target, TMP_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(w->tmp)) {
		w->tmp[0] = '\0';
		set_err(w->err, w->errsz, "path too long: %s", w->target);
		return false;
	}
	int fd = mkostemp(w->tmp, O_CLOEXEC); /* mode 0600 until the final fchmod */
	if (fd < 0) {
		set_err(w->err, w->errsz, "cannot create a temporary file next to %s: %s",
		        w->target, strerror(errno));
		w->tmp[0] = '\0';
		return false;
	}
	bool ok = copy_contents(w->lock_fd, fd);
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok)
		set_err(w->err, w->errsz, "cannot copy %s to %s: %s", w->target, w->tmp,
		        strerror(saved));
	return ok;
}

static enum sasldb_status edit_copy(struct writer *w, apply_fn apply, const void *arg)
{
	DB *db = NULL;
	/* An empty file is a database that does not exist yet. */
	u_int32_t flags = w->orig.st_size == 0 ? DB_CREATE : 0;
	int ret = db_open_hash(&db, &w->diag, w->tmp, flags);
	if (ret != 0) {
		set_db_err(w->err, w->errsz, &w->diag,
		           flags == DB_CREATE ? "cannot create" : "cannot open", w->target, ret);
		return SASLDB_ERROR;
	}
	w->diag.msg[0] = '\0';
	enum sasldb_status status = apply(db, arg, w);
	if (status != SASLDB_OK) {
		(void)db->close(db, DB_NOSYNC);
		return status;
	}
	ret = db->sync(db, 0);
	int cret = db->close(db, 0);
	if (ret == 0)
		ret = cret;
	if (ret != 0) {
		set_db_err(w->err, w->errsz, &w->diag, "cannot write", w->tmp, ret);
		return SASLDB_ERROR;
	}
	return SASLDB_OK;
}

/* Data on disk and the original's owner, group and mode, before the copy gets its name. */
static bool finish_copy(struct writer *w)
{
	int fd = open(w->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		set_err(w->err, w->errsz, "cannot reopen %s: %s", w->tmp, strerror(errno));
		return false;
	}
	struct stat st;
	const char *step = "sync";
	bool ok = fsync(fd) == 0;
	if (ok) {
		step = "inspect";
		ok = fstat(fd, &st) == 0;
	}
	/* chown before chmod: chown may clear set-id bits */
	if (ok && (st.st_uid != w->orig.st_uid || st.st_gid != w->orig.st_gid)) {
		step = "give the original's owner and group to";
		ok = fchown(fd, w->orig.st_uid, w->orig.st_gid) == 0;
	}
	if (ok) {
		step = "give the original's mode to";
		ok = fchmod(fd, w->orig.st_mode & 07777) == 0;
	}
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
		step = "close";
	}
	if (!ok)
		set_err(w->err, w->errsz, "cannot %s %s: %s", step, w->tmp, strerror(saved));
	return ok;
}

static bool sync_directory(struct writer *w)
{
	char dir[PATH_MAX];
	memcpy(dir, w->target, strlen(w->target) + 1);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';

	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = fd >= 0 && (fsync(fd) == 0 || errno == EINVAL);
	int saved = errno;
	if (fd >= 0)
		(void)close(fd);
	if (!ok)
		set_err(w->err, w->errsz, "%s was replaced, but syncing %s failed: %s", w->target,
		        dir, strerror(saved));
	return ok;
}

static void discard(struct writer *w)
{
	if (w->tmp[0] != '\0') {
		(void)unlink(w->tmp);
		w->tmp[0] = '\0';
	}
	/* Only the empty file we made ourselves, and only while we still hold its lock. */
	if (w->created) {
		struct stat st;
		if (lstat(w->target, &st) == 0 && st.st_dev == w->orig.st_dev &&
		    st.st_ino == w->orig.st_ino && st.st_size == 0)
			(void)unlink(w->target);
	}
}

static enum sasldb_status write_transaction(const char *path, apply_fn apply, const void *arg,
                                            char *err, size_t errsz)
{
	struct writer w = { .lock_fd = -1, .err = err, .errsz = errsz };
	if (err != NULL && errsz > 0)
		err[0] = '\0';

	if (path == NULL) {
		set_err(err, errsz, "no sasldb path given");
		return SASLDB_ERROR;
	}
	if (!resolve_target(&w, path) || !lock_target(&w))
		return SASLDB_ERROR;

	enum sasldb_status status = SASLDB_ERROR;
	if (make_copy(&w)) {
		status = edit_copy(&w, apply, arg);
		if (status == SASLDB_OK && !finish_copy(&w))
			status = SASLDB_ERROR;
	}
	if (status == SASLDB_OK) {
		if (rename(w.tmp, w.target) != 0) {
			set_err(err, errsz, "cannot rename %s to %s: %s", w.tmp, w.target,
			        strerror(errno));
			status = SASLDB_ERROR;
		} else {
			w.tmp[0] = '\0';
			w.created = false;
			if (!sync_directory(&w))
				status = SASLDB_ERROR;
		}
	}
	if (status != SASLDB_OK)
		discard(&w);
	(void)close(w.lock_fd); /* releases the lock, after the rename */
	return status;
}

struct set_args {
	const char *user;
	const char *realm;
	const char *password;
	size_t password_len;
	bool must_not_exist;
};

static enum sasldb_status apply_set(DB *db, const void *arg, struct writer *w)
{
	const struct set_args *a = arg;
	char key[SASLDB_KEY_MAX];
	size_t keylen =
		sasldb_key_encode(key, sizeof(key), a->user, a->realm, SASLDB_PASSWORD_PROPERTY);
	if (keylen == 0) {
		set_err(w->err, w->errsz, "user or realm longer than %d bytes", SASLDB_NAME_MAX);
		return SASLDB_ERROR;
	}
	DBT k = { .data = key, .size = (u_int32_t)keylen };

	if (a->must_not_exist) {
		DBT probe = { .flags = DB_DBT_PARTIAL, .dlen = 0, .doff = 0 };
		int ret = db->get(db, NULL, &k, &probe, 0);
		if (ret == 0) {
			set_err(w->err, w->errsz, "user %s@%s already exists", a->user, a->realm);
			return SASLDB_ERROR;
		}
		if (ret != DB_NOTFOUND) {
			set_db_err(w->err, w->errsz, &w->diag, "cannot read", w->target, ret);
			return SASLDB_ERROR;
		}
	}

	/* libdb only reads through this pointer */
	DBT v = { .data = (void *)(uintptr_t)a->password, .size = (u_int32_t)a->password_len };
	int ret = db->put(db, NULL, &k, &v, 0);
	if (ret != 0) {
		set_db_err(w->err, w->errsz, &w->diag, "cannot store into", w->target, ret);
		return SASLDB_ERROR;
	}
	return SASLDB_OK;
}

enum sasldb_status sasldb_set_password(const char *path, const char *user, const char *realm,
                                       const char *password, size_t password_len,
                                       bool must_not_exist, char *err, size_t errsz)
{
	if (user == NULL || realm == NULL || password == NULL) {
		set_err(err, errsz, "set password: missing argument");
		return SASLDB_ERROR;
	}
	if (password_len == 0) {
		set_err(err, errsz, "empty password");
		return SASLDB_ERROR;
	}
	if (password_len > SASLDB_VALUE_MAX) {
		set_err(err, errsz, "password longer than %d bytes", SASLDB_VALUE_MAX);
		return SASLDB_ERROR;
	}
	char probe[SASLDB_KEY_MAX];
	if (sasldb_key_encode(probe, sizeof(probe), user, realm, SASLDB_PASSWORD_PROPERTY) == 0) {
		set_err(err, errsz, "user or realm longer than %d bytes", SASLDB_NAME_MAX);
		return SASLDB_ERROR;
	}
	const struct set_args args = { user, realm, password, password_len, must_not_exist };
	return write_transaction(path, apply_set, &args, err, errsz);
}

struct delete_args {
	char prefix[2 * SASLDB_NAME_MAX + 2]; /* "user\0realm\0" */
	size_t prefix_len;
};

static bool key_belongs_to(const DBT *k, const struct delete_args *a)
{
	if (k->size < a->prefix_len || memcmp(k->data, a->prefix, a->prefix_len) != 0)
		return false;
	/* the rest is the property and must not contain a third NUL */
	const char *rest = (const char *)k->data + a->prefix_len;
	return memchr(rest, '\0', k->size - a->prefix_len) == NULL;
}

static enum sasldb_status apply_delete(DB *db, const void *arg, struct writer *w)
{
	const struct delete_args *a = arg;
	DBC *cur = NULL;
	int ret = db->cursor(db, NULL, &cur, 0);
	if (ret != 0) {
		set_db_err(w->err, w->errsz, &w->diag, "cannot iterate", w->target, ret);
		return SASLDB_ERROR;
	}
	size_t deleted = 0;
	DBT k = { 0 };
	DBT v = { .flags = DB_DBT_PARTIAL, .dlen = 0, .doff = 0 };
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (!key_belongs_to(&k, a))
			continue;
		ret = cur->del(cur, 0);
		if (ret != 0)
			break;
		deleted++;
	}
	int cret = cur->close(cur);
	if (ret == DB_NOTFOUND)
		ret = cret;
	if (ret != 0) {
		set_db_err(w->err, w->errsz, &w->diag, "cannot delete from", w->target, ret);
		return SASLDB_ERROR;
	}
	return deleted > 0 ? SASLDB_OK : SASLDB_NOT_FOUND;
}

enum sasldb_status sasldb_delete_user(const char *path, const char *user, const char *realm,
                                      char *err, size_t errsz)
{
	if (user == NULL || realm == NULL) {
		set_err(err, errsz, "delete: missing argument");
		return SASLDB_ERROR;
	}
	struct delete_args args;
	/* encode with an empty property gives exactly the "user\0realm\0" prefix */
	args.prefix_len = sasldb_key_encode(args.prefix, sizeof(args.prefix), user, realm, "");
	if (args.prefix_len == 0) {
		set_err(err, errsz, "user or realm longer than %d bytes", SASLDB_NAME_MAX);
		return SASLDB_ERROR;
	}
	enum sasldb_status status = write_transaction(path, apply_delete, &args, err, errsz);
	if (status == SASLDB_NOT_FOUND)
		set_err(err, errsz, "user %s@%s not found", user, realm);
	return status;
}
