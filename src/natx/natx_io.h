#ifndef NATX_IO_H
#define NATX_IO_H

#include <stddef.h>

/* write(2) all of buf to fd, retrying short writes and EINTR; -1 on error.
 * A closed pipe (EPIPE) is an error, never a SIGPIPE. */
int natx_write_all(int fd, const char *buf, size_t len);

#endif
