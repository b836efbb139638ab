#include "natx_jsonw.h"

#include "natx_error.h"
#include "natx_json_put.h"
#include "natx_utf8.h"

#include <stdio.h>
#include <string.h>

/* Bits of one open container in natx_jsonw.level. */
#define JW_OBJECT 1u /* an object (else an array) */
#define JW_ITEMS 2u  /* it holds a member or element already */
#define JW_KEYED 4u  /* an object's key is written, its value is due */

static void fail(natx_jsonw *w, nattel_code code, const char *why)
{
    if (w->code)
        return;
    w->code = code;
    snprintf(w->why, sizeof w->why, "%s (depth %u)", why, w->depth);
}

static void put(natx_jsonw *w, const char *p, size_t n)
{
    if (!w->code && nattel_buf_append(w->out, p, n))
        fail(w, NATTEL_ENOMEM, "out of memory");
}

static void put_code(natx_jsonw *w, nattel_code code)
{
    if (code == NATTEL_EINVAL)
        fail(w, code, "a string is not valid UTF-8");
    else if (code)
        fail(w, code, "out of memory");
}

void natx_jsonw_fail(natx_jsonw *w, nattel_code code, const char *why)
{
    fail(w, code, why);
}

void natx_jsonw_init(natx_jsonw *w, nattel_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

/* Claims the place of one value: the comma before an array's next element,
 * the key an object's value needs, the single top-level value. Returns 0
 * (with the error kept) when no value may go here. */
static int value_slot(natx_jsonw *w)
{
    if (w->code)
        return 0;
    if (!w->depth) {
        if (w->top_done) {
            fail(w, NATTEL_EINVAL, "a second top-level value");
            return 0;
        }
        w->top_done = 1;
        return 1;
    }
    unsigned char *l = &w->level[w->depth - 1];
    if (*l & JW_OBJECT) {
        if (!(*l & JW_KEYED)) {
            fail(w, NATTEL_EINVAL, "a value where a key is expected");
            return 0;
        }
        *l &= (unsigned char)~JW_KEYED;
        return 1;
    }
    if (*l & JW_ITEMS)
        put(w, ",", 1);
    *l |= JW_ITEMS;
    return !w->code;
}

static void begin(natx_jsonw *w, unsigned char kind, const char *open)
{
    if (!value_slot(w))
        return;
    if (w->depth == NATX_JSONW_MAX_DEPTH) {
        fail(w, NATTEL_ELIMIT, "nesting deeper than NATX_JSONW_MAX_DEPTH");
        return;
    }
    put(w, open, 1);
    w->level[w->depth++] = kind;
}

static void end(natx_jsonw *w, unsigned char kind, const char *close)
{
    if (w->code)
        return;
    if (!w->depth || (w->level[w->depth - 1] & JW_OBJECT) != kind) {
        fail(w, NATTEL_EINVAL,
             kind ? "an object's end outside an object"
                  : "an array's end outside an array");
        return;
    }
    if (w->level[w->depth - 1] & JW_KEYED) {
        fail(w, NATTEL_EINVAL, "an object's end where a value is due");
        return;
    }
    put(w, close, 1);
    w->depth--;
}

void natx_jsonw_begin_object(natx_jsonw *w)
{
    begin(w, JW_OBJECT, "{");
}
void natx_jsonw_end_object(natx_jsonw *w)
{
    end(w, JW_OBJECT, "}");
}
void natx_jsonw_begin_array(natx_jsonw *w)
{
    begin(w, 0, "[");
}
void natx_jsonw_end_array(natx_jsonw *w)
{
    end(w, 0, "]");
}

/* The comma and bookkeeping before an object's key; 0 when none may go
 * here (the error is kept). */
static int key_slot(natx_jsonw *w)
{
    if (w->code)
        return 0;
    unsigned char *l = w->depth ? &w->level[w->depth - 1] : NULL;
    if (!l || !(*l & JW_OBJECT)) {
        fail(w, NATTEL_EINVAL, "a key outside an object");
        return 0;
    }
    if (*l & JW_KEYED) {
        fail(w, NATTEL_EINVAL, "a key where a value is expected");
        return 0;
    }
    if (*l & JW_ITEMS)
        put(w, ",", 1);
    *l |= JW_ITEMS | JW_KEYED;
    return !w->code;
}

void natx_jsonw_keyn(natx_jsonw *w, const char *key, size_t n)
{
    if (key_slot(w))
        put_code(w, natx_json_put_string(w->out, key, n));
    put(w, ":", 1);
}

void natx_jsonw_key_raw(natx_jsonw *w, const char *escaped, size_t n)
{
    if (!key_slot(w))
        return;
    put(w, "\"", 1);
    put(w, escaped, n);
    put(w, "\":", 2);
}

nattel_buf *natx_jsonw_value_out(natx_jsonw *w)
{
    return value_slot(w) ? w->out : NULL;
}

void natx_jsonw_key(natx_jsonw *w, const char *key)
{
    natx_jsonw_keyn(w, key, strlen(key));
}

void natx_jsonw_string(natx_jsonw *w, const char *s, size_t n)
{
    if (value_slot(w))
        put_code(w, natx_json_put_string(w->out, s, n));
}

void natx_jsonw_string_lossy(natx_jsonw *w, const char *s, size_t n)
{
    size_t ok = natx_utf8_valid_prefix(s, n);
    if (ok == n) {
        natx_jsonw_string(w, s, n);
        return;
    }
    nattel_buf fixed = NATTEL_BUF_INIT;
    nattel_code code = NATTEL_OK;
    while (!code && ok < n) {
        code = nattel_buf_append(&fixed, s, ok);
        if (!code)
            code = nattel_buf_append(&fixed, "\xEF\xBF\xBD", 3);
        s += ok + 1;
        n -= ok + 1;
        ok = natx_utf8_valid_prefix(s, n);
    }
    if (!code)
        code = nattel_buf_append(&fixed, s, n);
    if (code) {
        if (value_slot(w))
            fail(w, code, "out of memory");
    } else {
        natx_jsonw_string(w, fixed.data, fixed.len);
    }
    nattel_buf_free(&fixed);
}

void natx_jsonw_cstring(natx_jsonw *w, const char *s)
{
    if (s)
        natx_jsonw_string(w, s, strlen(s));
    else
        natx_jsonw_null(w);
}

void natx_jsonw_int64(natx_jsonw *w, int64_t v)
{
    if (value_slot(w))
        put_code(w, natx_json_put_int(w->out, v));
}

void natx_jsonw_uint64(natx_jsonw *w, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    if (value_slot(w))
        put(w, tmp, (size_t)n);
}

void natx_jsonw_double(natx_jsonw *w, double v)
{
    if (!value_slot(w))
        return;
    nattel_code code = natx_json_put_double(w->out, v);
    if (code == NATTEL_EINVAL)
        fail(w, code, "a number that is not finite");
    else if (code)
        fail(w, code, "out of memory");
}

void natx_jsonw_bool(natx_jsonw *w, int v)
{
    if (value_slot(w))
        put(w, v ? "true" : "false", v ? 4 : 5);
}

void natx_jsonw_null(natx_jsonw *w)
{
    if (value_slot(w))
        put(w, "null", 4);
}

void natx_jsonw_raw(natx_jsonw *w, const char *json, size_t n)
{
    if (!value_slot(w))
        return;
    if (!n)
        fail(w, NATTEL_EINVAL, "an empty raw value");
    else
        put(w, json, n);
}

nattel_code natx_jsonw_finish(const natx_jsonw *w, nattel_error *err)
{
    if (w->code)
        return natx_fail(err, w->code, "JSON writer: %s", w->why);
    if (w->depth)
        return natx_fail(err, NATTEL_EINVAL,
                         "JSON writer: %u container%s not closed", w->depth,
                         w->depth == 1 ? "" : "s");
    if (!w->top_done)
        return natx_fail(err, NATTEL_EINVAL, "JSON writer: no value");
    return NATTEL_OK;
}
