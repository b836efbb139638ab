#ifndef NATX_RANDOM_H
#define NATX_RANDOM_H

/* The one system random source (session ids, spool names, jitter). */

#include <nattel/nattel.h>

#include <stddef.h>

/* Fills buf with n random bytes: getrandom(2) without blocking, falling
 * back to /dev/urandom where getrandom is missing (old kernels), refused
 * (seccomp) or not yet seeded (early boot: EAGAIN). NATTEL_EIO when
 * neither works. */
nattel_code natx_random_bytes(void *buf, size_t n, nattel_error *err);

#endif
