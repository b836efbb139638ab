/* nattel log: the audit log, the user's way to see exactly what left the
 * machine (and what was dropped). */
#include "commands.h"

#include <nattel/client.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage_text[] =
    "usage: nattel log [--json] [-n|--lines N]\n"
    "\n"
    "Shows the audit log of deliveries, oldest first, newest last: every\n"
    "envelope sent, rejected by the server, deferred for a retry, and every\n"
    "event dropped: the time, the outcome, the number of events, the\n"
    "server's answer (HTTP 200) when one came, and the reason; below each\n"
    "record, indented, the envelope exactly as it went out. An empty log\n"
    "prints nothing.\n"
    "\n"
    "  --json  one JSON object per line: ts, outcome (sent, rejected,\n"
    "          dropped, deferred), events, http_status (0: none), reason,\n"
    "          endpoint, payload (the envelope sent, or null)\n"
    "  -n, --lines N\n"
    "          only the last N records\n"
    "\n"
    "Exit status: 0 success, 1 the log cannot be read, 2 usage error.\n";

enum { OPT_JSON = TOOL_OPT_LONG, OPT_LINES = 'n' };

static const struct option longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"lines", required_argument, NULL, OPT_LINES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"log", "hn:", longopts, 0, 0};

typedef struct log_args {
    int json;
    size_t n;
} log_args;

static int take(void *ctx, int c, const char *v)
{
    log_args *a = ctx;
    if (c == OPT_JSON) {
        a->json = 1;
        return TOOL_GO;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || x == 0 || v[0] == '-')
        return tool_usage_error("log", "-n: '%s' is not a positive integer", v);
    a->n = (size_t)x;
    return TOOL_GO;
}

int tool_cmd_log(int argc, char **argv)
{
    log_args a = {0, 0};
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &a);
    if (parsed != TOOL_GO)
        return parsed;
    nattel_error err;
    nattel_options *o = nattel_options_new();
    if (!o || nattel_options_from_env(o, NULL, NULL, &err)) {
        tool_error("log", "%s", o ? err.message : "out of memory");
        nattel_options_free(o);
        return NATTEL_EXIT_FAIL;
    }
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_code rc = nattel_audit_read(
        o, a.n, a.json ? NATTEL_AUDIT_JSON : NATTEL_AUDIT_TEXT, &b, &err);
    nattel_options_free(o);
    if (rc) {
        tool_error("log", "%s", err.message);
        nattel_buf_free(&b);
        return NATTEL_EXIT_FAIL;
    }
    int ok = fwrite(b.data ? b.data : "", 1, b.len, stdout) == b.len &&
             !fflush(stdout);
    nattel_buf_free(&b);
    if (!ok) {
        tool_error("log", "cannot write to standard output");
        return NATTEL_EXIT_USAGE;
    }
    return NATTEL_EXIT_OK;
}
