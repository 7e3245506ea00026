/* Size limits shared across the tree, so each has one name and one value. */
#ifndef SASLAUTHD_LIMITS_H
#define SASLAUTHD_LIMITS_H

/* A file-system path we store (Linux's PATH_MAX, including the NUL). */
#define SA_PATH_MAX 4096

#endif
