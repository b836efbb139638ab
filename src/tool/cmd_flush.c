/* nattel flush: deliver the spool now, back-off or not. */
#include "commands.h"
#include "natx/natx_jsonw.h"

#include <nattel/client.h>

#include <inttypes.h>
#include <stdio.h>

static const char usage_text[] =
    "usage: nattel flush [--wait] [--json]\n"
    "\n"
    "Sends the events waiting in the spool now, ignoring any back-off: each\n"
    "batch is tried once; an endpoint that does not answer at all ends the\n"
    "run. Sends only while telemetry is on. A flusher that\n"
    "is already running is waited for: up to 5 s, or up to 120 s with\n"
    "--wait.\n"
    "\n"
    "  --wait  wait (bounded) for a running flusher before flushing\n"
    "  --json  print one JSON object: sent, rejected, dropped, deferred,\n"
    "          remaining (events still spooled)\n"
    "\n"
    "Exit status: 0 everything tried was delivered or finally dropped,\n"
    "1 some events stay spooled (sending failed, or a flusher kept the\n"
    "lock), 2 usage error, or the counts cannot be printed.\n";

enum { OPT_WAIT = TOOL_OPT_LONG, OPT_JSON };

static const struct option longopts[] = {{"wait", no_argument, NULL, OPT_WAIT},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
static const tool_spec spec = {"flush", "h", longopts, 0, 0};

typedef struct flush_args {
    int wait;
    int json;
} flush_args;

static int take(void *ctx, int c, const char *v)
{
    flush_args *a = ctx;
    if (c == OPT_WAIT)
        a->wait = 1;
    else
        a->json = 1;
    return TOOL_GO;
}

static nattel_code flush_json(const nattel_flush_result *r, nattel_buf *b,
                              nattel_error *err)
{
    natx_jsonw w;
    natx_jsonw_init(&w, b);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "sent");
    natx_jsonw_int64(&w, r->sent);
    natx_jsonw_key(&w, "rejected");
    natx_jsonw_int64(&w, r->rejected);
    natx_jsonw_key(&w, "dropped");
    natx_jsonw_int64(&w, r->dropped);
    natx_jsonw_key(&w, "deferred");
    natx_jsonw_int64(&w, r->deferred);
    natx_jsonw_key(&w, "remaining");
    natx_jsonw_uint64(&w, r->remaining);
    natx_jsonw_end_object(&w);
    nattel_code code = natx_jsonw_finish(&w, err);
    if (!code) {
        code = nattel_buf_append(b, "\n", 1);
        if (code)
            snprintf(err->message, sizeof err->message, "out of memory");
    }
    return code;
}

/* The counts, built first and printed at once; the exit status when
 * they cannot be printed, else `status`. */
static int report(int json, const nattel_flush_result *r, int status,
                  nattel_code rc)
{
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_error err;
    if (json && flush_json(r, &b, &err)) {
        tool_error("flush", "the JSON document was not printed: %s",
                   err.message);
        nattel_buf_free(&b);
        return NATTEL_EXIT_USAGE;
    }
    if (json)
        fwrite(b.data, 1, b.len, stdout);
    else if (rc)
        ; /* the error line on stderr is the one message: nothing ran */
    else if (!r->sent && !r->rejected && !r->dropped && !r->deferred &&
             !r->remaining)
        /* A detached flusher usually got there first: say so, rather
         * than a row of zeros that reads like a failure. */
        printf("nothing to send: the spool is empty ('nattel log' shows "
               "what was sent)\n");
    else
        printf("sent %" PRId64 ", rejected %" PRId64 ", dropped %" PRId64
               ", deferred %" PRId64 "; %zu event(s) still spooled\n",
               r->sent, r->rejected, r->dropped, r->deferred, r->remaining);
    nattel_buf_free(&b);
    if (fflush(stdout) || ferror(stdout)) {
        tool_error("flush", "cannot write to standard output");
        return NATTEL_EXIT_USAGE;
    }
    return status;
}

/* Says what the run left undone; the exit status. */
static int explain(const nattel_options *o, const nattel_flush_result *r,
                   nattel_code rc, const nattel_error *err)
{
    const char *dir = nattel_options_state_dir(o);
    int status = NATTEL_EXIT_OK;
    if (r->skipped == NATTEL_FLUSH_SKIP_CONSENT_OFF) {
        tool_error("flush", "telemetry is off (%s): nothing sent",
                   nattel_consent_source_text(r->consent_source));
    } else if (r->skipped == NATTEL_FLUSH_SKIP_NOT_HTTP) {
        tool_error("flush", "the endpoint is not http(s) or dry run is set: "
                            "nothing sent");
    } else if (rc) {
        tool_error("flush", "%s", err->message);
        status = NATTEL_EXIT_FAIL;
    } else if (r->symlinks) {
        tool_error("flush",
                   "%" PRId64 " spool entr%s in %s/spool %s a symlink: "
                   "refused and removed (see 'nattel log')",
                   r->symlinks, r->symlinks == 1 ? "y" : "ies", dir,
                   r->symlinks == 1 ? "was" : "were");
    }
    if (r->busy) {
        tool_error("flush",
                   "another flusher is still running in %s (try "
                   "--wait)",
                   dir);
        status = NATTEL_EXIT_FAIL;
    }
    return r->deferred ? NATTEL_EXIT_FAIL : status;
}

int tool_cmd_flush(int argc, char **argv)
{
    flush_args a = {0, 0};
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &a);
    if (parsed != TOOL_GO)
        return parsed;
    nattel_error err;
    nattel_options *o = nattel_options_new();
    /* nattel_flush_now applies a machine policy's endpoint itself. */
    if (!o || nattel_options_from_env(o, NULL, NULL, &err)) {
        tool_error("flush", "%s", o ? err.message : "out of memory");
        nattel_options_free(o);
        return NATTEL_EXIT_FAIL;
    }
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    nattel_flush_result r = NATTEL_FLUSH_RESULT_INIT;
    nattel_code rc =
        nattel_flush_now(o, a.wait ? NATTEL_FLUSH_FLAG_WAIT : 0, &r, &err);
    int status = report(a.json, &r, explain(o, &r, rc, &err), rc);
    nattel_options_free(o);
    return status;
}
