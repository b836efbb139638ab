/*
 * The spool: one file per payload in STATE/spool, written to a temporary
 * name and renamed, so a crash never leaves half an event under a name the
 * flusher reads. A name says everything the host's bound check needs
 * (time, size), so the check is one readdir and no stat.
 */
#include "delivery/nattel_delivery.h"
#include "natx/natx_mem.h"
#include "model/nattel_error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

nattel_code nattel__path(char *out, size_t cap, const char *dir,
                         const char *name, nattel_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return natx_fail(err, NATTEL_ELIMIT, "path too long: %s/%s", dir, name);
    return NATTEL_OK;
}

nattel_code nattel__path3(char *out, size_t cap, const char *dir,
                          const char *sub, const char *name, nattel_error *err)
{
    int n = snprintf(out, cap, "%s/%s/%s", dir, sub, name);
    if (n < 0 || (size_t)n >= cap)
        return natx_fail(err, NATTEL_ELIMIT, "path too long: %s/%s/%s", dir,
                         sub, name);
    return NATTEL_OK;
}

/* One directory of the state: refused when it is a symlink, not a
 * directory, or someone else's; tightened to 0700 when looser. */
static nattel_code check_dir(const char *path, int create, nattel_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return natx_fail(err, NATTEL_EIO, "state directory %s: %s", path,
                             strerror(errno));
        if (!create)
            return natx_fail(err, NATTEL_ENOTFOUND,
                             "state directory %s does not exist", path);
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return natx_fail(err, NATTEL_EIO, "mkdir %s: %s", path,
                             strerror(errno));
        if (lstat(path, &st) != 0)
            return natx_fail(err, NATTEL_EIO, "state directory %s: %s", path,
                             strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return natx_fail(err, NATTEL_EINVAL,
                         "state directory %s is a symlink: refused (use "
                         "the real path)",
                         path);
    if (!S_ISDIR(st.st_mode))
        return natx_fail(err, NATTEL_EINVAL,
                         "state directory %s is not a directory", path);
    if (st.st_uid != geteuid())
        return natx_fail(err, NATTEL_EINVAL,
                         "state directory %s belongs to another user: "
                         "refused",
                         path);
    if ((st.st_mode & 077) && chmod(path, 0700) != 0)
        return natx_fail(err, NATTEL_EIO, "chmod %s: %s", path,
                         strerror(errno));
    return NATTEL_OK;
}

/* Creates missing parents of the state directory (0700), as mkdir -p. */
static nattel_code make_parents(const char *dir, nattel_error *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n >= sizeof buf)
        return natx_fail(err, NATTEL_ELIMIT,
                         "state directory: path too "
                         "long");
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            *p = '/';
            return natx_fail(err, NATTEL_EIO, "mkdir %s: %s", buf, strerror(e));
        }
        *p = '/';
    }
    return NATTEL_OK;
}

static nattel_code prepare(const char *dir, int create, nattel_error *err)
{
    if (!dir || dir[0] != '/')
        return natx_fail(err, NATTEL_EINVAL,
                         "state directory: '%s' is not an absolute path "
                         "(set NATTEL_STATE_DIR)",
                         dir ? dir : "(none)");
    struct stat st;
    nattel_code rc;
    if (create && lstat(dir, &st) != 0 && (rc = make_parents(dir, err)))
        return rc;
    if ((rc = check_dir(dir, create, err)))
        return rc;
    char sub[4096];
    static const char *const subs[] = {"spool", "claims"};
    for (size_t i = 0; i < 2; i++)
        if ((rc = nattel__path(sub, sizeof sub, dir, subs[i], err)) ||
            (rc = check_dir(sub, create, err)))
            return rc;
    return NATTEL_OK;
}

nattel_code nattel__state_dir_prepare(const char *dir, nattel_error *err)
{
    return prepare(dir, 1, err);
}

nattel_code nattel__state_dir_check(const char *dir, nattel_error *err)
{
    return prepare(dir, 0, err);
}

/* Reads between min and max decimal digits at *p, no sign, no space;
 * -1 when there are fewer or more, or the value passes `limit`. */
static int digits(const char **p, int min, int max, uint64_t limit,
                  uint64_t *out)
{
    uint64_t v = 0;
    int n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
        unsigned d = (unsigned)(**p - '0');
        if (n == max || v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (n < min)
        return -1;
    *out = v;
    return 0;
}

/* Every emit lists the spool to hold its bound, so this runs a thousand
 * times per emit when the spool is full: a hand parser, not sscanf (which
 * cost more than the rest of the emit). */
int nattel__entry_parse(const char *name, nattel__entry *out)
{
    size_t n = strlen(name);
    if (n >= sizeof out->name)
        return -1;
    const char *p = name;
    uint64_t ms, seq, size, attempt;
    if (digits(&p, 13, 13, INT64_MAX, &ms) || *p++ != '-' ||
        digits(&p, 10, 10, UINT32_MAX, &seq) || *p++ != '-')
        return -1;
    const char *rand = p;
    while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
        p++;
    if (p - rand != 16 || *p++ != '-' || digits(&p, 1, 20, UINT64_MAX, &size) ||
        *p++ != '-' || digits(&p, 1, 10, UINT_MAX, &attempt) ||
        strcmp(p, ".json"))
        return -1;
    memcpy(out->name, name, n + 1);
    memcpy(out->rand, rand, 16);
    out->rand[16] = '\0';
    out->ms = (int64_t)ms;
    out->seq = (uint32_t)seq;
    out->size = size;
    out->attempt = (unsigned)attempt;
    return 0;
}

void nattel__entry_name(const nattel__entry *e, char *out, size_t cap)
{
    snprintf(out, cap, "%013" PRId64 "-%010u-%.16s-%" PRIu64 "-%u.json", e->ms,
             e->seq, e->rand, e->size, e->attempt);
}

static void hex(const unsigned char *raw, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * n] = '\0';
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

nattel_code nattel__spool_write(const nattel_options *o, uint32_t seq,
                                const char *payload, size_t len,
                                nattel_error *err)
{
    unsigned char raw[8];
    nattel__entry e = {.ms = nattel__now_real(o), .seq = seq, .size = len};
    nattel_code rc = nattel__random(o, raw, sizeof raw, err);
    if (rc)
        return rc;
    hex(raw, sizeof raw, e.rand);
    if (e.ms < 0)
        e.ms = 0;
    char name[96], tmp_name[96], path[4096], tmp[4096];
    nattel__entry_name(&e, name, sizeof name);
    /* A dot name is never an entry: readers skip it, and a crash leaves
     * only a stray temporary file, never half an event. */
    snprintf(tmp_name, sizeof tmp_name, ".tmp-%s-%ld", e.rand, (long)getpid());
    if ((rc = nattel__path3(path, sizeof path, o->state_dir, "spool", name,
                            err)) ||
        (rc = nattel__path3(tmp, sizeof tmp, o->state_dir, "spool", tmp_name,
                            err)))
        return rc;
    int fd =
        open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return natx_fail(err, NATTEL_EIO, "spool: open %s: %s", tmp,
                         strerror(errno));
    rc = write_fd(fd, payload, len, tmp, err);
    if (close(fd) != 0 && !rc)
        rc = natx_fail(err, NATTEL_EIO, "spool: close %s: %s", tmp,
                       strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = natx_fail(err, NATTEL_EIO, "spool: rename %s to %s: %s", tmp, path,
                       strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const nattel__entry *)a)->name,
                  ((const nattel__entry *)b)->name);
}

/* The entries of STATE/SUB in directory order. */
static nattel_code scan(const char *state_dir, const char *sub,
                        nattel__entry **out, size_t *count, size_t *symlinks,
                        nattel_error *err)
{
    *out = NULL;
    *count = 0;
    if (symlinks)
        *symlinks = 0;
    char dir[4096];
    nattel_code rc = nattel__path(dir, sizeof dir, state_dir, sub, err);
    if (rc)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT
                   ? NATTEL_OK
                   : natx_fail(err, NATTEL_EIO, "spool: opendir %s: %s", dir,
                               strerror(errno));
    nattel__entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        nattel__entry e;
        if (de->d_name[0] == '.' || nattel__entry_parse(de->d_name, &e))
            continue;
        int link = de->d_type == DT_LNK;
        struct stat st;
        if (de->d_type == DT_UNKNOWN &&
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            link = S_ISLNK(st.st_mode);
        if (link) {
            if (symlinks)
                ++*symlinks;
            continue;
        }
        if (NATX_GROW(v, cap, n + 1)) {
            free(v);
            closedir(d);
            return natx_fail(err, NATTEL_ENOMEM,
                             "spool: out of memory listing %s", dir);
        }
        v[n++] = e;
    }
    closedir(d);
    *out = v;
    *count = n;
    return NATTEL_OK;
}

nattel_code nattel__spool_list(const char *state_dir, const char *sub,
                               nattel__entry **out, size_t *count,
                               size_t *symlinks, nattel_error *err)
{
    nattel_code rc = scan(state_dir, sub, out, count, symlinks, err);
    if (!rc && *count > 1)
        qsort(*out, *count, sizeof **out, by_name);
    return rc;
}

/* Moves the oldest of v[i..n) to v[i]. */
static void oldest_first(nattel__entry *v, size_t i, size_t n)
{
    size_t min = i;
    for (size_t j = i + 1; j < n; j++)
        if (strcmp(v[j].name, v[min].name) < 0)
            min = j;
    if (min != i) {
        nattel__entry t = v[i];
        v[i] = v[min];
        v[min] = t;
    }
}

size_t nattel__spool_count(const char *state_dir)
{
    size_t total = 0;
    static const char *const subs[] = {"spool", "claims"};
    for (size_t i = 0; i < 2; i++) {
        nattel__entry *v;
        size_t n;
        if (!scan(state_dir, subs[i], &v, &n, NULL, NULL))
            total += n;
        free(v);
    }
    return total;
}

nattel_code nattel__read_file(const char *path, size_t max, nattel_buf *out,
                              nattel_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return natx_fail(err, errno == ENOENT ? NATTEL_ENOTFOUND : NATTEL_EIO,
                         "open %s: %s", path, strerror(errno));
    char chunk[8192];
    nattel_code rc = NATTEL_OK;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = natx_fail(err, NATTEL_EIO, "read %s: %s", path,
                           strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if (out->len + (size_t)r > max) {
            rc = natx_fail(err, NATTEL_ELIMIT, "%s: over %zu bytes", path, max);
            break;
        }
        if (nattel_buf_append(out, chunk, (size_t)r)) {
            rc = natx_fail(err, NATTEL_ENOMEM, "read %s: out of memory", path);
            break;
        }
    }
    close(fd);
    return rc;
}

nattel_code nattel__spool_enforce(const nattel_options *o, size_t *dropped,
                                  nattel_error *err)
{
    if (dropped)
        *dropped = 0;
    nattel__entry *v;
    size_t n;
    nattel_code rc = scan(o->state_dir, "spool", &v, &n, NULL, err);
    if (rc)
        return rc;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += v[i].size;
    size_t i = 0, gone = 0;
    char path[4096];
    /* Oldest first: the names sort by spooling time. This runs on every
     * emit, so a full spool, over its bound by one, costs one linear pass
     * for the oldest, not a sort of the whole listing; a sort only when
     * many must go. */
    for (; i < n && (n - i > o->max_events || bytes > o->max_bytes); i++) {
        if (i < 8)
            oldest_first(v, i, n);
        else if (i == 8)
            qsort(v + i, n - i, sizeof *v, by_name);
        bytes -= v[i].size;
        if (nattel__path3(path, sizeof path, o->state_dir, "spool", v[i].name,
                          NULL) ||
            unlink(path) != 0)
            continue; /* a flusher claimed it meanwhile: not ours to count */
        gone++;
        char reason[160];
        snprintf(reason, sizeof reason,
                 "spool full (at most %zu events, %zu bytes): oldest dropped",
                 o->max_events, o->max_bytes);
        nattel__record r = {.outcome = NATTEL__DROPPED,
                            .events = 1,
                            .reason = reason,
                            .endpoint = o->endpoint};
        (void)nattel__record_outcome(o, &r, NULL);
    }
    free(v);
    if (dropped)
        *dropped = gone;
    return NATTEL_OK;
}

size_t nattel__spool_refuse_symlinks(const nattel_options *o)
{
    char dir[4096];
    if (nattel__path(dir, sizeof dir, o->state_dir, "spool", NULL))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t gone = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISLNK(st.st_mode))
            continue;
        /* unlink removes the link, never what it points to. */
        if (unlinkat(dirfd(d), de->d_name, 0) != 0)
            continue;
        gone++;
        nattel__record r = {.outcome = NATTEL__DROPPED,
                            .events = 1,
                            .reason = "spool entry is a symlink: refused and "
                                      "removed (its target is untouched)",
                            .endpoint = o->endpoint};
        (void)nattel__record_outcome(o, &r, NULL);
    }
    closedir(d);
    return gone;
}
