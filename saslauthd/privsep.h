/* Privilege separation (--user): workers give up root after fork. A mechanism that
 * needs root (shadow reads /etc/shadow, pam may run pam_unix) then runs in a small
 * root "verifier" process paired with each worker: it only ever receives decoded
 * requests over a socketpair and answers verdicts, never a client connection. */
#ifndef SASLAUTHD_PRIVSEP_H
#define SASLAUTHD_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mechanisms/mechanism.h"

#define PRIVSEP_NAME_MAX 256
/* How long a worker waits for its verifier's verdict (PAM modules can be slow). */
#define PRIVSEP_VERDICT_TIMEOUT_MS 60000

struct privsep_identity {
	bool enabled;
	uid_t uid;
	gid_t gid;
	char user[PRIVSEP_NAME_MAX];
};

/* One request or verdict travels between a worker and its verifier as one
 * SOCK_SEQPACKET message of counted strings (2-byte big-endian length, bytes). */
#define PRIVSEP_MESSAGE_MAX 16384
#define PRIVSEP_FIELD_MAX 4096

/* Encode n strings; 0 when they do not fit outsz or one is longer than
 * PRIVSEP_FIELD_MAX (the decoder would refuse it). */
size_t privsep_encode(unsigned char *out, size_t outsz, const char *const *s, int n);

/* Split a message of exactly len bytes into n NUL-terminated strings of at most
 * PRIVSEP_FIELD_MAX bytes; false for anything else (short, long, trailing bytes). */
bool privsep_decode(const unsigned char *in, size_t len, char out[][PRIVSEP_FIELD_MAX + 1], int n);

/* Resolve "user[:group]" (group defaults to the user's primary group). */
bool privsep_resolve(const char *spec, struct privsep_identity *id, char *err, size_t errsz);

struct chain;

/* In a freshly forked worker: start the root verifier when a mechanism of the chain
 * needs root (it does not keep client_fd: the listening socket, or with -n 0 the
 * client's connection), then drop to the identity. Exits the process if privileges
 * cannot be dropped. The chain must outlive the worker (the verifier reads it). */
void privsep_enter_worker(const struct chain *chain, const struct privsep_identity *id,
                          int client_fd);

/* True when this worker's verifier decides for mech (--user and mech needs root): then
 * ask through privsep_auth, not mech->auth. */
bool privsep_decides(const struct mechanism *mech);

/* Have the verifier run mech->auth; a dead or silent verifier gives
 * "NO internal mechanism failure" (VERDICT_FAIL). */
void privsep_auth(const struct mechanism *mech, const struct mech_request *req,
                  struct mech_result *result);

/* True once the verifier has died: the worker should stop after the current request
 * so the master replaces the pair. */
bool privsep_verifier_lost(void);

/* The worker's end of the verifier socket (-1 without a verifier), so the worker can
 * notice a dead verifier (hang-up) before a request needs it. */
int privsep_verifier_fd(void);

#endif
