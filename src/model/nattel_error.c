#include "model/nattel_error.h"
#include "natx/natx_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *nattel_code_name(nattel_code code)
{
    switch (code) {
    case NATTEL_OK:
        return "OK";
    case NATTEL_EINVAL:
        return "EINVAL";
    case NATTEL_EPARSE:
        return "EPARSE";
    case NATTEL_ESCHEMA:
        return "ESCHEMA";
    case NATTEL_ELIMIT:
        return "ELIMIT";
    case NATTEL_ENOMEM:
        return "ENOMEM";
    case NATTEL_EIO:
        return "EIO";
    case NATTEL_ENOTFOUND:
        return "ENOTFOUND";
    }
    return "UNKNOWN";
}

nattel_code nattel__prefix(nattel_error *err, const char *fmt, ...)
{
    if (!err)
        return NATTEL_OK;
    /* Formatting err->message into itself is undefined behaviour (it
     * garbled messages once); copy it aside first. */
    char tail[NATTEL_ERROR_MAX];
    memcpy(tail, err->message, sizeof tail);
    tail[sizeof tail - 1] = '\0';
    char head[NATTEL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    /* Cut at the end of the buffer, as every message is. */
    size_t h = strlen(head), t = strlen(tail), room = sizeof err->message - 1;
    if (h > room)
        h = room;
    memcpy(err->message, head, h);
    size_t n = h;
    for (const char *sep = ": "; *sep && n < room; sep++)
        err->message[n++] = *sep;
    if (t > room - n)
        t = room - n;
    memcpy(err->message + n, tail, t);
    err->message[n + t] = '\0';
    return err->code;
}

void nattel_problems_init(nattel_problems *p)
{
    memset(p, 0, sizeof *p);
}

void nattel_problems_clear(nattel_problems *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].path);
        free(p->items[i].message);
    }
    p->count = 0;
    p->dropped = 0;
}

void nattel_problems_free(nattel_problems *p)
{
    if (!p)
        return;
    nattel_problems_clear(p);
    free(p->items);
    nattel_problems_init(p);
}

nattel_code nattel__problem(nattel_problems *p, const char *path,
                            const char *fmt, ...)
{
    if (!p)
        return NATTEL_OK;
    if (p->count >= NATTEL_PROBLEMS_MAX) {
        p->dropped++;
        return NATTEL_OK;
    }
    if (NATX_GROW(p->items, p->cap, p->count + 1))
        return NATTEL_ENOMEM;
    char msg[NATTEL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *path_copy = strdup(path && *path ? path : "$");
    char *msg_copy = strdup(msg);
    if (!path_copy || !msg_copy) {
        free(path_copy);
        free(msg_copy);
        return NATTEL_ENOMEM;
    }
    p->items[p->count].path = path_copy;
    p->items[p->count].message = msg_copy;
    p->count++;
    return NATTEL_OK;
}
