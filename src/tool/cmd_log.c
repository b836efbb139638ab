/* nattel log: the audit log, the user's way to see exactly what left the
 * machine (and what was dropped). */
#include "commands.h"
#include "delivery/nattel_delivery.h"
#include "nattel_json.h"

#include <nattel/client.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: nattel log [--json] [-n N]\n"
    "\n"
    "Shows the audit log of deliveries, oldest first, newest last: every\n"
    "envelope sent, rejected by the server, deferred for a retry, and every\n"
    "event dropped, with the reason; below each record, indented, the\n"
    "envelope exactly as it went out.\n"
    "\n"
    "  --json  one JSON object per line: ts, outcome (sent, rejected,\n"
    "          dropped, deferred), events, http_status (0: none), reason,\n"
    "          endpoint, payload (the envelope sent, or null)\n"
    "  -n N    only the last N records\n"
    "\n"
    "Exit status: 0 success, 1 the log cannot be read, 2 usage error.\n";

static int parse(int argc, char **argv, int *json, size_t *n)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--json")) {
            *json = 1;
            continue;
        }
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "-n", 2) && argv[i][2])
            v = argv[i] + 2;
        if (!v) {
            nattel__tool_error("log",
                               "unknown argument '%s' (see 'nattel log "
                               "--help')",
                               argv[i]);
            return -1;
        }
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *end || errno || x == 0 || v[0] == '-') {
            nattel__tool_error("log", "-n: '%s' is not a positive integer", v);
            return -1;
        }
        *n = (size_t)x;
    }
    return 0;
}

static void member(const nattel__jdoc *d, const char *key, char *out,
                   size_t cap)
{
    snprintf(out, cap, "-");
    if (!d->count || d->toks[0].type != JSMN_OBJECT)
        return;
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end;
         k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1])) {
        if (!nattel__json_string_eq(d, k, key, strlen(key)))
            continue;
        nattel_str raw = nattel__json_raw(d, k + 1);
        if (d->toks[k + 1].type == JSMN_STRING) {
            char *tmp = malloc(raw.len + 1);
            if (tmp) {
                size_t n = nattel__json_decode_string(d, k + 1, tmp);
                snprintf(out, cap, "%.*s", (int)n, tmp);
                free(tmp);
            }
        } else if (d->toks[k + 1].type == JSMN_PRIMITIVE) {
            snprintf(out, cap, "%.*s", (int)raw.len, raw.ptr);
        } else {
            snprintf(out, cap, "(%zu bytes)", raw.len);
        }
        return;
    }
}

/* One line for people: time, outcome, events, status, reason. */
static void print_text_line(const char *line, size_t len)
{
    nattel__jdoc d;
    if (nattel__json_parse(&d, line, len, NULL)) {
        nattel__json_release(&d);
        printf("(unreadable record)\n");
        return;
    }
    char ts[40], outcome[16], events[24], http[16], reason[300];
    member(&d, "ts", ts, sizeof ts);
    member(&d, "outcome", outcome, sizeof outcome);
    member(&d, "events", events, sizeof events);
    member(&d, "http_status", http, sizeof http);
    member(&d, "reason", reason, sizeof reason);
    printf("%s  %-8s  %s event(s)  http %s  %s\n", ts, outcome, events, http,
           reason);
    /* What went out, exactly as sent, on the next line. */
    unsigned end = (unsigned)NATTEL__JNEXT(&d.toks[0]);
    for (unsigned k = 1; d.toks[0].type == JSMN_OBJECT && k < end;
         k = (unsigned)NATTEL__JNEXT(&d.toks[k + 1]))
        if (nattel__json_string_eq(&d, k, "payload", 7) &&
            d.toks[k + 1].type == JSMN_OBJECT) {
            nattel_str raw = nattel__json_raw(&d, k + 1);
            printf("    %.*s\n", (int)raw.len, raw.ptr);
        }
    nattel__json_release(&d);
}

int nattel__cmd_log(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (nattel__is_help(argv[i])) {
            fputs(usage_text, stdout);
            return NATTEL_EXIT_OK;
        }
    int json = 0;
    size_t n = 0;
    if (parse(argc, argv, &json, &n))
        return NATTEL_EXIT_USAGE;
    nattel_error err;
    nattel_options *o = nattel_options_new();
    if (!o || nattel_options_from_env(o, NULL, NULL, &err)) {
        nattel__tool_error("log", "%s", o ? err.message : "out of memory");
        nattel_options_free(o);
        return NATTEL_EXIT_FAIL;
    }
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_code rc = nattel__state_dir_check(o->state_dir, &err);
    if (rc == NATTEL_ENOTFOUND)
        rc = NATTEL_OK; /* nothing ever delivered: an empty log */
    else if (!rc)
        rc = nattel__audit_tail(o->state_dir, n, &b, &err);
    if (rc) {
        nattel__tool_error("log", "%s", err.message);
        nattel_buf_free(&b);
        nattel_options_free(o);
        return NATTEL_EXIT_FAIL;
    }
    for (size_t i = 0; i < b.len;) {
        const char *nl = memchr(b.data + i, '\n', b.len - i);
        size_t len = nl ? (size_t)(nl - (b.data + i)) : b.len - i;
        if (len && json)
            printf("%.*s\n", (int)len, b.data + i);
        else if (len)
            print_text_line(b.data + i, len);
        i += len + 1;
    }
    nattel_buf_free(&b);
    nattel_options_free(o);
    return NATTEL_EXIT_OK;
}
