/*
 * The audit log: one JSON line per delivery outcome, with the envelope
 * that went out, so a user can see exactly what left the machine
 * (`nattel log`). Bounded: past NATTEL__AUDIT_MAX_BYTES the log becomes
 * audit.log.1 (the previous one goes) and a new one starts.
 */
#include "delivery/nattel_delivery.h"
#include "nattel_error.h"
#include "nattel_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_key(nattel_buf *b, const char *key)
{
    nattel_buf_append(b, ",\"", 2);
    nattel_buf_append(b, key, strlen(key));
    nattel_buf_append(b, "\":", 2);
}

static void put_str_or_null(nattel_buf *b, const char *s)
{
    size_t old = b->len;
    if (!s || nattel__json_put_string(b, s, strlen(s))) {
        b->len = old;
        NATTEL__PUT_LIT(b, "null");
    }
}

/* A payload goes in as the JSON object it is; anything that could break
 * the one-line-per-record layout goes in as null. */
static void put_payload(nattel_buf *b, const char *p, size_t n)
{
    if (!p || !n || p[0] != '{' || memchr(p, '\n', n)) {
        NATTEL__PUT_LIT(b, "null");
        return;
    }
    nattel_buf_append(b, p, n);
}

static nattel_code format_record(const nattel__record *r, const char *ts,
                                 nattel_buf *b)
{
    NATTEL__PUT_LIT(b, "{\"ts\":");
    put_str_or_null(b, ts);
    put_key(b, "outcome");
    put_str_or_null(b, nattel__outcome_name(r->outcome));
    put_key(b, "events");
    nattel__json_put_int(b, r->events);
    put_key(b, "http_status");
    nattel__json_put_int(b, r->http_status);
    put_key(b, "reason");
    put_str_or_null(b, r->reason ? r->reason : "");
    put_key(b, "endpoint");
    put_str_or_null(b, r->endpoint);
    put_key(b, "payload");
    put_payload(b, r->payload, r->payload_len);
    NATTEL__PUT_LIT(b, "}\n");
    return b->data ? NATTEL_OK : NATTEL_ENOMEM;
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
    nattel_code rc;
    if ((rc =
             nattel__path(path, sizeof path, o->state_dir, "audit.log", err)) ||
        (rc = nattel__path(old, sizeof old, o->state_dir, "audit.log.1", err)))
        return rc;
    nattel_buf line = NATTEL_BUF_INIT;
    if (format_record(r, ts, &line)) {
        nattel_buf_free(&line);
        return nattel__fail(err, NATTEL_ENOMEM, "audit log: out of memory");
    }
    rotate_if_full(path, old, line.len);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    if (fd < 0) {
        nattel_buf_free(&line);
        return nattel__fail(err, NATTEL_EIO, "audit log: open %s: %s", path,
                            strerror(errno));
    }
    /* One write per record: a reader never sees half a line from us. */
    ssize_t w = write(fd, line.data, line.len);
    int e = errno;
    close(fd);
    rc = (size_t)w == line.len
             ? NATTEL_OK
             : nattel__fail(err, NATTEL_EIO, "audit log: write %s: %s", path,
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
        if (b->data[i - 1] == '\n' && ++seen == n)
            break;
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
        if ((rc = nattel__path(path, sizeof path, state_dir, names[i], err)))
            break;
        rc = nattel__read_file(path, 2 * NATTEL__AUDIT_MAX_BYTES + 65536, &all,
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
