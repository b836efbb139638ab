#define _GNU_SOURCE /* mkostemp */
#include "natx_file.h"

#include "natx_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

nattel_code natx_path_join(char *out, size_t cap, const char *dir,
                           const char *name, nattel_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return natx_fail(err, NATTEL_ELIMIT, "path too long: %s/%s", dir, name);
    return NATTEL_OK;
}

nattel_code natx_path_join3(char *out, size_t cap, const char *dir,
                            const char *sub, const char *name,
                            nattel_error *err)
{
    int n = snprintf(out, cap, "%s/%s/%s", dir, sub, name);
    if (n < 0 || (size_t)n >= cap)
        return natx_fail(err, NATTEL_ELIMIT, "path too long: %s/%s/%s", dir,
                         sub, name);
    return NATTEL_OK;
}

/* What a non-regular file is, for the error that refuses it. */
static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

static nattel_code read_all(int fd, const char *path, size_t max,
                            nattel_buf *out, nattel_error *err)
{
    char chunk[8192];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return natx_fail(err, NATTEL_EIO, "read %s: %s", path,
                             strerror(errno));
        if (r == 0)
            return NATTEL_OK;
        if (out->len + (size_t)r > max)
            return natx_fail(err, NATTEL_ELIMIT, "%s: over %zu bytes", path,
                             max);
        if (nattel_buf_append(out, chunk, (size_t)r))
            return natx_fail(err, NATTEL_ENOMEM, "read %s: out of memory",
                             path);
    }
}

nattel_code natx_file_read(const char *path, size_t max, nattel_buf *out,
                           nattel_error *err)
{
    /* O_NONBLOCK: opening a FIFO must return at once, not wait for a
     * writer; it changes nothing for a regular file. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return natx_fail(err, errno == ENOENT ? NATTEL_ENOTFOUND : NATTEL_EIO,
                         "open %s: %s", path, strerror(errno));
    struct stat st;
    nattel_code rc = NATTEL_OK;
    if (fstat(fd, &st) != 0)
        rc = natx_fail(err, NATTEL_EIO, "stat %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = natx_fail(err, NATTEL_EINVAL, "%s is %s: refused", path,
                       kind_of(st.st_mode));
    else if (out->len > max || (uint64_t)st.st_size > max - out->len)
        rc = natx_fail(err, NATTEL_ELIMIT, "%s: over %zu bytes", path, max);
    else
        rc = read_all(fd, path, max, out, err);
    close(fd);
    return rc;
}

static nattel_code write_fd(int fd, const char *p, size_t len, const char *path,
                            nattel_error *err)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return natx_fail(err, NATTEL_EIO, "write %s: %s", path,
                             w < 0 ? strerror(errno) : "short write");
        p += w;
        len -= (size_t)w;
    }
    return NATTEL_OK;
}

/* The directory part of path ("." when none) in dir, the rest in *base. */
static nattel_code split_path(const char *path, char *dir, size_t cap,
                              const char **base, nattel_error *err)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (slash && n == 0)
        n = 1; /* "/name": the root */
    if (n >= cap)
        return natx_fail(err, NATTEL_ELIMIT, "path too long: %s", path);
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    *base = slash ? slash + 1 : path;
    return NATTEL_OK;
}

/* Creates the temporary file "DIR/.BASE.tmp-TAG" (tmp holds its name). */
static nattel_code open_temp(const char *dir, const char *base,
                             const natx_file_write_opts *o, char *tmp,
                             size_t cap, int *fd, nattel_error *err)
{
    const char *tag = o->tmp_tag ? o->tmp_tag : "XXXXXX";
    int n = snprintf(tmp, cap, "%s/.%s.tmp-%s", dir, base, tag);
    if (n < 0 || (size_t)n >= cap)
        return natx_fail(err, NATTEL_ELIMIT, "path too long: %s/.%s.tmp-%s",
                         dir, base, tag);
    if (o->tmp_tag)
        *fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   o->mode);
    else
        *fd = mkostemp(tmp, O_CLOEXEC);
    if (*fd < 0)
        return natx_fail(err, NATTEL_EIO, "open %s: %s", tmp, strerror(errno));
    return NATTEL_OK;
}

/* A rename is only durable once the directory entry is on disk. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static nattel_code fill_temp(int fd, const char *tmp, const void *data,
                             size_t len, const natx_file_write_opts *o,
                             nattel_error *err)
{
    /* mkostemp creates 0600 whatever the mode; open(2) applies the umask. */
    int chmod_needed = (o->flags & NATX_FILE_CHMOD) ||
                       (!o->tmp_tag && (o->mode & 07777) != 0600);
    if (chmod_needed && fchmod(fd, o->mode))
        return natx_fail(err, NATTEL_EIO, "chmod %s: %s", tmp, strerror(errno));
    nattel_code rc = write_fd(fd, data, len, tmp, err);
    if (rc)
        return rc;
    if ((o->flags & NATX_FILE_FSYNC) && fsync(fd))
        return natx_fail(err, NATTEL_EIO, "fsync %s: %s", tmp, strerror(errno));
    return NATTEL_OK;
}

nattel_code natx_file_write_atomic(const char *path, const void *data,
                                   size_t len, const natx_file_write_opts *o,
                                   nattel_error *err)
{
    char dir[4096], tmp[4096];
    const char *base = path;
    nattel_code rc = split_path(path, dir, sizeof dir, &base, err);
    if (rc)
        return rc;
    int fd = -1;
    rc = open_temp(dir, base, o, tmp, sizeof tmp, &fd, err);
    if (rc)
        return rc;
    rc = fill_temp(fd, tmp, data, len, o, err);
    if (close(fd) != 0 && !rc)
        rc = natx_fail(err, NATTEL_EIO, "close %s: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = natx_fail(err, NATTEL_EIO, "rename %s to %s: %s", tmp, path,
                       strerror(errno));
    if (rc)
        unlink(tmp);
    else if (o->flags & NATX_FILE_SYNC_DIR)
        sync_dir(dir);
    return rc;
}

int natx_file_lock(const char *path, int block, nattel_error *err)
{
    /* O_NONBLOCK: a FIFO in the lock's place must not be waited on. */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                  0600);
    if (fd < 0) {
        natx_fail(err, NATTEL_EIO, "open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        natx_fail(err, NATTEL_EINVAL, "lock %s: not a regular file", path);
        close(fd);
        return -1;
    }
    while (flock(fd, LOCK_EX | (block ? 0 : LOCK_NB)) != 0) {
        if (errno == EINTR)
            continue;
        if (block || errno != EWOULDBLOCK)
            natx_fail(err, NATTEL_EIO, "flock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

nattel_code natx_mkdirs(const char *dir, mode_t mode, nattel_error *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return natx_fail(err, NATTEL_EINVAL, "bad directory name '%s'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return natx_fail(err, NATTEL_EIO, "mkdir %s: %s", buf,
                             strerror(errno));
        buf[i] = c;
    }
    return NATTEL_OK;
}
