#include "natx_random.h"
#include "natx_error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static nattel_code urandom(unsigned char *p, size_t n, nattel_error *err)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return natx_fail(err, NATTEL_EIO, "open /dev/urandom: %s",
                         strerror(errno));
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            return natx_fail(err, NATTEL_EIO, "read /dev/urandom: %s",
                             r < 0 ? strerror(e) : "end of file");
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return NATTEL_OK;
}

nattel_code natx_random_bytes(void *buf, size_t n, nattel_error *err)
{
    unsigned char *p = buf;
    while (n > 0) {
        /* GRND_NONBLOCK: a host's exit path never waits for the entropy
         * pool; /dev/urandom answers at once instead. */
        ssize_t r = getrandom(p, n, GRND_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return urandom(p, n, err);
        p += r;
        n -= (size_t)r;
    }
    return NATTEL_OK;
}
