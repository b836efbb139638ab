/*
 * The audit log: one JSON line per delivery outcome, with the envelope
 * that went out, so a user can see exactly what left the machine
 * (`nattel log`). Bounded: past NATTEL__AUDIT_MAX_BYTES the log becomes
 * audit.log.1 (the previous one goes) and a new one starts.
 */
#include "delivery/nattel_audit.h"
#include "model/nattel_error.h"
#include "natx/natx_file.h"
#include "natx/natx_utf8.h"
#include "natx/natx_jsonw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *nattel__outcome_name(nattel__outcome o)
{
    switch (o) {
    case NATTEL__SENT:
        return "sent";
    case NATTEL__REJECTED:
        return "rejected";
    case NATTEL__DROPPED:
        return "dropped";
    case NATTEL__DEFERRED:
        break;
    }
    return "deferred";
}

int nattel__outcome_parse(const char *s, size_t n, nattel__outcome *out)
{
    for (int i = NATTEL__SENT; i <= NATTEL__DEFERRED; i++) {
        const char *name = nattel__outcome_name((nattel__outcome)i);
        if (strlen(name) == n && !memcmp(name, s, n)) {
            *out = (nattel__outcome)i;
            return 0;
        }
    }
    return -1;
}

/* A string that is not UTF-8 (or none) goes in as null. */
static void put_str_or_null(natx_jsonw *w, const char *key, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    natx_jsonw_key(w, key);
    if (s && natx_utf8_valid_prefix(s, n) == n)
        natx_jsonw_string(w, s, n);
    else
        natx_jsonw_null(w);
}

/* A payload goes in as the JSON object it is; anything that could break
 * the one-line-per-record layout goes in as null. */
static void put_payload(natx_jsonw *w, const char *p, size_t n)
{
    natx_jsonw_key(w, "payload");
    if (!p || !n || p[0] != '{' || memchr(p, '\n', n))
        natx_jsonw_null(w);
    else
        natx_jsonw_raw(w, p, n);
}

static nattel_code format_record(const nattel__record *r, const char *ts,
                                 nattel_buf *b)
{
    natx_jsonw w;
    natx_jsonw_init(&w, b);
    natx_jsonw_begin_object(&w);
    put_str_or_null(&w, "ts", ts);
    put_str_or_null(&w, "outcome", nattel__outcome_name(r->outcome));
    natx_jsonw_key(&w, "events");
    natx_jsonw_int64(&w, r->events);
    natx_jsonw_key(&w, "http_status");
    natx_jsonw_int64(&w, r->http_status);
    put_str_or_null(&w, "reason", r->reason ? r->reason : "");
    put_str_or_null(&w, "endpoint", r->endpoint);
    put_payload(&w, r->payload, r->payload_len);
    natx_jsonw_end_object(&w);
    nattel_code rc = natx_jsonw_finish(&w, NULL);
    return rc ? rc : nattel_buf_append(b, "\n", 1);
}

static void rotate_if_full(const char *path, const char *old, size_t adding)
{
    struct stat st;
    if (lstat(path, &st) == 0 &&
        (uint64_t)st.st_size + adding > NATTEL__AUDIT_MAX_BYTES)
        (void)rename(path, old);
}

nattel_code nattel__audit_append(const nattel_options *o,
                                 const nattel__record *r, const char *ts,
                                 nattel_error *err)
{
    char path[4096], old[4096];
    nattel_code rc =
        natx_path_join(path, sizeof path, o->state_dir, "audit.log", err);
    if (!rc)
        rc = natx_path_join(old, sizeof old, o->state_dir, "audit.log.1", err);
    if (rc)
        return rc;
    nattel_buf line = NATTEL_BUF_INIT;
    if (format_record(r, ts, &line)) {
        nattel_buf_free(&line);
        return natx_fail(err, NATTEL_ENOMEM, "audit log: out of memory");
    }
    rotate_if_full(path, old, line.len);
    /* O_NONBLOCK: a FIFO planted as audit.log must not hold the host
     * (opening one for writing waits for a reader); only a regular file
     * is written. */
    int fd = open(path,
                  O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
                      O_CLOEXEC,
                  0600);
    if (fd < 0) {
        nattel_buf_free(&line);
        return natx_fail(err, NATTEL_EIO, "audit log: open %s: %s", path,
                         strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        nattel_buf_free(&line);
        return natx_fail(err, NATTEL_EINVAL,
                         "audit log: %s is not a regular file: not written",
                         path);
    }
    /* One write per record: a reader never sees half a line from us. */
    ssize_t w = write(fd, line.data, line.len);
    int e = errno;
    close(fd);
    rc = (size_t)w == line.len
             ? NATTEL_OK
             : natx_fail(err, NATTEL_EIO, "audit log: write %s: %s", path,
                         w < 0 ? strerror(e) : "short write");
    nattel_buf_free(&line);
    return rc;
}

/* Keeps the last n lines of b (0: all), moving them to the front. */
static void keep_last(nattel_buf *b, size_t n)
{
    if (!n || !b->len)
        return;
    size_t seen = 0, i = b->len;
    if (b->data[i - 1] == '\n')
        i--;
    while (i > 0) {
        if (b->data[i - 1] == '\n') {
            seen++;
            if (seen == n)
                break;
        }
        i--;
    }
    memmove(b->data, b->data + i, b->len - i);
    b->len -= i;
    b->data[b->len] = '\0';
}

nattel_code nattel__audit_tail(const char *state_dir, size_t n, nattel_buf *out,
                               nattel_error *err)
{
    static const char *const names[] = {"audit.log.1", "audit.log"};
    nattel_buf all = NATTEL_BUF_INIT;
    nattel_code rc = NATTEL_OK;
    for (size_t i = 0; i < 2 && !rc; i++) {
        char path[4096];
        rc = natx_path_join(path, sizeof path, state_dir, names[i], err);
        if (rc)
            break;
        rc = natx_file_read(path, 2 * NATTEL__AUDIT_MAX_BYTES + 65536, &all,
                            err);
        if (rc == NATTEL_ENOTFOUND)
            rc = NATTEL_OK;
        /* A line cut by a crash must not swallow the next file's first. */
        if (!rc && all.len && all.data[all.len - 1] != '\n')
            rc = nattel_buf_append(&all, "\n", 1);
    }
    if (!rc) {
        keep_last(&all, n);
        if (all.len)
            rc = nattel_buf_append(out, all.data, all.len);
    }
    nattel_buf_free(&all);
    return rc;
}
