/*
 * The spool: one file per payload in STATE/spool, written to a temporary
 * name and renamed, so a crash never leaves half an event under a name the
 * flusher reads. A name says everything the host's bound check needs
 * (time, size), so the check is one readdir and no stat.
 */
#include "delivery/nattel_spool.h"
#include "delivery/nattel_state.h"
#include "natx/natx_file.h"
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
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Creates the state directory's missing parents (0700), as mkdir -p;
 * check_dir creates (or checks) the directory itself. */
static nattel_code make_parents(const char *dir, nattel_error *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n >= sizeof buf)
        return natx_fail(err, NATTEL_ELIMIT,
                         "state directory: path too "
                         "long");
    memcpy(buf, dir, n + 1);
    char *slash = strrchr(buf, '/');
    if (slash == buf)
        return NATTEL_OK; /* a directory of the root: no parent to make */
    *slash = '\0';
    return natx_mkdirs(buf, 0700, err);
}

static nattel_code prepare(const char *dir, int create, nattel_error *err)
{
    if (!dir || dir[0] != '/')
        return natx_fail(err, NATTEL_EINVAL,
                         "state directory: '%s' is not an absolute path "
                         "(set NATTEL_STATE_DIR)",
                         dir ? dir : "(none)");
    struct stat st;
    nattel_code rc = NATTEL_OK;
    if (create && lstat(dir, &st) != 0)
        rc = make_parents(dir, err);
    if (!rc)
        rc = check_dir(dir, create, err);
    char sub[4096];
    static const char *const subs[] = {"spool", "claims"};
    for (size_t i = 0; i < 2 && !rc; i++) {
        rc = natx_path_join(sub, sizeof sub, dir, subs[i], err);
        if (!rc)
            rc = check_dir(sub, create, err);
    }
    return rc;
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
        *p++ != '-' || digits(&p, 1, 10, UINT_MAX, &attempt))
        return -1;
    uint64_t first = 0;
    int has_first = *p == '-';
    if (has_first)
        p++;
    if (has_first && digits(&p, 13, 13, INT64_MAX, &first))
        return -1;
    if (strcmp(p, ".json"))
        return -1;
    out->first_ms = has_first ? (int64_t)first : 0;
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
    if (e->first_ms > 0)
        snprintf(out, cap,
                 "%013" PRId64 "-%010u-%.16s-%" PRIu64 "-%u-%013" PRId64
                 ".json",
                 e->ms, e->seq, e->rand, e->size, e->attempt, e->first_ms);
    else
        snprintf(out, cap, "%013" PRId64 "-%010u-%.16s-%" PRIu64 "-%u.json",
                 e->ms, e->seq, e->rand, e->size, e->attempt);
}

void nattel__entry_stem(const nattel__entry *e, char *out, size_t cap)
{
    snprintf(out, cap, "%013" PRId64 "-%010u-%.16s", e->ms, e->seq, e->rand);
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
    char name[96], tag[48], path[4096];
    nattel__entry_name(&e, name, sizeof name);
    rc = natx_path_join3(path, sizeof path, o->state_dir, "spool", name, err);
    if (rc)
        return rc;
    /* The temporary file's dot name is never an entry: readers skip it,
     * and a crash leaves only a stray temporary file, never half an
     * event. Unique by the entry's random digits and the process; not
     * fsynced, as a host's emit never was. */
    snprintf(tag, sizeof tag, "%s-%ld", e.rand, (long)getpid());
    const natx_file_write_opts wo = {.mode = 0600, .tmp_tag = tag};
    rc = natx_file_write_atomic(path, payload, len, &wo, err);
    if (rc)
        nattel__prefix(err, "spool");
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
    nattel_code rc = natx_path_join(dir, sizeof dir, state_dir, sub, err);
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
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
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
        if (natx_path_join3(path, sizeof path, o->state_dir, "spool", v[i].name,
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

static void record_odd(const nattel_options *o, const char *why)
{
    nattel__record r = {.outcome = NATTEL__DROPPED,
                        .events = 1,
                        .reason = why,
                        .endpoint = o->endpoint};
    (void)nattel__record_outcome(o, &r, NULL);
}

/* One entry of spool/ that is not a regular file: gone or set aside,
 * recorded once. Returns 1 for a symlink, 2 for anything else, 0 when
 * nothing could be done (it stays, and is skipped by every reader). */
static int refuse_one(const nattel_options *o, int dfd, const char *name,
                      mode_t mode)
{
    if (S_ISDIR(mode)) {
        /* Never emptied (it is not ours to walk): renamed to a dot name,
         * which no reader lists, so it is counted once. */
        char aside[300];
        snprintf(aside, sizeof aside, ".odd-%s", name);
        if (renameat(dfd, name, dfd, aside) != 0)
            return 0;
        record_odd(o, "spool entry is a directory: set aside as .odd-NAME");
        return 2;
    }
    /* unlink removes the link or the node, never what a link points to
     * nor what a FIFO's writer holds. */
    if (unlinkat(dfd, name, 0) != 0)
        return 0;
    record_odd(o, S_ISLNK(mode) ? "spool entry is a symlink: refused and "
                                  "removed (its target is untouched)"
                                : "spool entry is not a regular file (FIFO, "
                                  "socket or device): removed");
    return S_ISLNK(mode) ? 1 : 2;
}

void nattel__spool_refuse_odd(const nattel_options *o, nattel__odd_count *out)
{
    memset(out, 0, sizeof *out);
    char dir[4096];
    if (natx_path_join(dir, sizeof dir, o->state_dir, "spool", NULL))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        struct stat st;
        if (de->d_name[0] == '.' || de->d_type == DT_REG ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            S_ISREG(st.st_mode))
            continue;
        int kind = refuse_one(o, dirfd(d), de->d_name, st.st_mode);
        if (kind == 1)
            out->symlinks++;
        else if (kind == 2)
            out->others++;
    }
    closedir(d);
}

void nattel__spool_mark_lost(const nattel_options *o)
{
    char dir[4096], path[4096], name[48];
    unsigned char raw[8];
    if (natx_path_join(dir, sizeof dir, o->state_dir, "lost", NULL))
        return;
    (void)mkdir(dir, 0700);
    if (nattel__random(o, raw, sizeof raw, NULL))
        return;
    char h[17];
    hex(raw, sizeof raw, h);
    snprintf(name, sizeof name, "%s-%ld", h, (long)getpid());
    if (natx_path_join(path, sizeof path, dir, name, NULL))
        return;
    /* Empty: an inode and a name, no data block, so it fits where the
     * event did not. */
    int fd = open(
        path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
        0600);
    if (fd >= 0)
        close(fd);
}

size_t nattel__spool_take_lost(const char *state_dir)
{
    char dir[4096];
    if (natx_path_join(dir, sizeof dir, state_dir, "lost", NULL))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d))
        if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    closedir(d);
    return n;
}

/*
 * The host's bound check in O(1): STATE/spool.summary holds what the host
 * needs (events and bytes in spool/, drops not yet counted, emits since
 * the last listing) and the names of the next oldest entries, so an emit
 * over the bound unlinks the oldest without listing 1,000 names, and
 * leaves the counting (state.json, the audit log) to the next flusher.
 * The summary may drift (a flusher sends, a host skips it under
 * contention): a listing every NATTEL__SUMMARY_RELIST emits, or when the
 * queue of oldest names runs out, sets it right again.
 */
#define SUMMARY_NAME "spool.summary"
#define SUMMARY_MAGIC "nattel-spool-summary-1"
#define SUMMARY_QUEUE 32
#define SUMMARY_MAX 8192

typedef struct summary {
    int valid;
    uint64_t count, bytes, dropped, since;
    size_t nq;
    char q[SUMMARY_QUEUE][96]; /* oldest first */
} summary;

static void summary_parse(const char *text, summary *s)
{
    memset(s, 0, sizeof *s);
    unsigned long long c, b, d, n;
    int used = 0;
    if (sscanf(text, SUMMARY_MAGIC " %llu %llu %llu %llu\n%n", &c, &b, &d, &n,
               &used) != 4 ||
        used == 0)
        return;
    s->valid = 1;
    s->count = c;
    s->bytes = b;
    s->dropped = d;
    s->since = n;
    const char *p = text + used;
    while (*p && s->nq < SUMMARY_QUEUE) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        nattel__entry e;
        if (len > 0 && len < sizeof s->q[0]) {
            memcpy(s->q[s->nq], p, len);
            s->q[s->nq][len] = '\0';
            if (!nattel__entry_parse(s->q[s->nq], &e))
                s->nq++;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
}

static void summary_write(int fd, const summary *s)
{
    char buf[SUMMARY_MAX];
    int n =
        snprintf(buf, sizeof buf, SUMMARY_MAGIC " %llu %llu %llu %llu\n",
                 (unsigned long long)s->count, (unsigned long long)s->bytes,
                 (unsigned long long)s->dropped, (unsigned long long)s->since);
    for (size_t i = 0; i < s->nq && n > 0 && (size_t)n < sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\n", s->q[i]);
    if (n <= 0 || (size_t)n >= sizeof buf)
        return;
    if (pwrite(fd, buf, (size_t)n, 0) == n)
        (void)ftruncate(fd, n);
}

/* Opens and locks STATE/spool.summary without waiting on anything: a
 * regular file only, the lock tried for at most about 1 ms (holders
 * keep it for microseconds; one that stopped must not hold the host). */
static int summary_open(const char *state_dir)
{
    char path[4096];
    if (natx_path_join(path, sizeof path, state_dir, SUMMARY_NAME, NULL))
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                  0600);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    for (int i = 0; i < 20; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

static void summary_read(int fd, summary *s)
{
    char buf[SUMMARY_MAX];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    summary_parse(buf, s);
}

/* The spool listed: exact count and bytes, the oldest names queued. */
static void summary_relist(const char *state_dir, summary *s)
{
    nattel__entry *v;
    size_t n;
    if (nattel__spool_list(state_dir, "spool", &v, &n, NULL, NULL))
        return;
    s->count = n;
    s->bytes = 0;
    for (size_t i = 0; i < n; i++)
        s->bytes += v[i].size;
    s->nq = n < SUMMARY_QUEUE ? n : SUMMARY_QUEUE;
    for (size_t i = 0; i < s->nq; i++)
        memcpy(s->q[i], v[i].name, sizeof s->q[i]);
    s->since = 0;
    s->valid = 1;
    free(v);
}

/* Unlinks the oldest queued entry; 1 when one was there to drop. */
static int summary_drop_one(const char *state_dir, summary *s)
{
    nattel__entry e;
    if (nattel__entry_parse(s->q[0], &e))
        e.size = 0;
    char path[4096];
    int gone = !natx_path_join3(path, sizeof path, state_dir, "spool", s->q[0],
                                NULL) &&
               unlink(path) == 0;
    memmove(s->q[0], s->q[1], (s->nq - 1) * sizeof s->q[0]);
    s->nq--;
    /* Gone either way from spool/ (a flusher claimed or sent it when the
     * unlink failed): only a drop of ours is counted. */
    s->count = s->count ? s->count - 1 : 0;
    s->bytes = s->bytes > e.size ? s->bytes - e.size : 0;
    return gone;
}

size_t nattel__spool_note(const nattel_options *o, size_t len)
{
    int fd = summary_open(o->state_dir);
    if (fd < 0)
        return 0; /* the next emit or a listing sets it right */
    summary s;
    summary_read(fd, &s);
    s.count++;
    s.bytes += len;
    s.since++;
    if (!s.valid || s.since >= NATTEL__SUMMARY_RELIST)
        summary_relist(o->state_dir, &s);
    size_t dropped = 0;
    int relisted = 0;
    while (s.valid && (s.count > o->max_events || s.bytes > o->max_bytes)) {
        if (s.nq == 0) {
            /* Listed once per call at most: what a listing cannot fix,
             * the next emit or flusher does. */
            if (relisted++)
                break;
            summary_relist(o->state_dir, &s);
            continue;
        }
        dropped += (size_t)summary_drop_one(o->state_dir, &s);
    }
    s.dropped += dropped;
    if (s.valid)
        summary_write(fd, &s);
    close(fd);
    return dropped;
}

size_t nattel__spool_take_dropped(const char *state_dir)
{
    int fd = summary_open(state_dir);
    if (fd < 0)
        return 0;
    summary s;
    summary_read(fd, &s);
    size_t n = s.valid ? (size_t)s.dropped : 0;
    if (n) {
        s.dropped = 0;
        summary_write(fd, &s);
    }
    close(fd);
    return n;
}

size_t nattel__spool_pending_dropped(const char *state_dir)
{
    char path[4096];
    nattel_buf b = NATTEL_BUF_INIT;
    summary s = {0};
    if (!natx_path_join(path, sizeof path, state_dir, SUMMARY_NAME, NULL) &&
        !natx_file_read(path, SUMMARY_MAX, &b, NULL) && b.data)
        summary_parse(b.data, &s);
    nattel_buf_free(&b);
    return s.valid && s.dropped < INT64_MAX / 2 ? (size_t)s.dropped : 0;
}
