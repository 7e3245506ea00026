/* The replies Cyrus's remote mechanisms (rimap, httpform) send, word for word: clients
 * and log parsers match on them. */
#ifndef SASLAUTHD_REMOTE_REPLY_H
#define SASLAUTHD_REMOTE_REPLY_H

#define REMOTE_REPLY_OK "OK remote authentication successful"
#define REMOTE_REPLY_REJECTED "NO remote server rejected your credentials"
#define REMOTE_REPLY_NO_CONTACT "NO [ALERT] Couldn't contact remote authentication server"
#define REMOTE_REPLY_UNAVAILABLE "NO [ALERT] The remote authentication server is currently unavailable"
#define REMOTE_REPLY_UNEXPECTED "NO [ALERT] Unexpected response from remote authentication server"
#define REMOTE_REPLY_SYNC "NO [ALERT] error synchronizing with remote authentication server"
#define REMOTE_REPLY_INTERNAL "NO [ALERT] saslauthd internal error"

#endif
