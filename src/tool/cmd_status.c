/* nattel status: consent and its source, endpoint, delivery state. */
#include "commands.h"
#include "natx/natx_jsonw.h"

#include <nattel/client.h>
#include <nattel/consent.h>
#include <nattel/options.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: nattel status [--json]\n"
    "\n"
    "Shows whether telemetry is on and what decided it, the consent file,\n"
    "the endpoint and sink, and the state directory. Never prompts.\n"
    "\n"
    "  --json  one JSON object on standard output: enabled (boolean),\n"
    "          source, sourceText, endpoint, sink, dryRun, consentFile,\n"
    "          fileConsent, fileNote, stateDir, sessionPrefix, delivery,\n"
    "          spooled, sent, dropped, rejected (integers: events waiting\n"
    "          now; sent, dropped and rejected ever), last_delivery\n"
    "          ({ts, outcome, http_status, events} or null),\n"
    "          backoff_until (UTC time before which no flusher starts, or\n"
    "          null)\n"
    "\n"
    "Exit status: 0 success, 1 the status cannot be printed (with --json\n"
    "nothing is printed then: never half a document), 2 usage error.\n";

typedef struct status_info {
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_file file;
    const char *sink;
    const char *delivery;
    nattel_delivery_info *info; /* NULL: an empty state */
} status_info;

/* The delivery state of the state directory, read only (a status query
 * never creates the state directory). NULL, shown as zeros, when the
 * directory is missing or refused (a relative path included): status says
 * what is, it does not fail. */
static nattel_delivery_info *delivery_info(const nattel_options *o)
{
    nattel_delivery_info *info = NULL;
    if (nattel_options_state_dir(o))
        (void)nattel_delivery_status(o, &info, NULL);
    return info;
}

/* What happens to a payload, in words. A sink this list does not know
 * (a new one) is named by the line above it ("sink: NAME"), so adding a
 * sink needs no change here; only the two that send nothing say so. */
static const char *sink_delivery(nattel_sink_kind kind, int spool_only)
{
    switch (kind) {
    case NATTEL_SINK_NONE:
    case NATTEL_SINK_DRY_RUN:
        return "nothing is sent";
    case NATTEL_SINK_STDOUT:
        return "each payload as one line on stderr";
    case NATTEL_SINK_HTTP:
        return spool_only
                   ? "spooled in the state directory, sent by 'nattel flush' "
                     "(NATTEL_DELIVERY=spool-only)"
                   : "spooled in the state directory, sent by a detached "
                     "flusher";
    default: /* a sink added later: its name is on the line above */
        return "handed to the sink named above";
    }
}

static void gather(const nattel_options *o, status_info *s)
{
    nattel_consent_resolve(o, &s->state, &s->source, NULL);
    nattel_consent_file_read(nattel_options_consent_file(o), &s->file);
    nattel_sink_kind kind;
    int ok = !nattel_options_sink(o, &kind, NULL);
    s->sink = ok ? nattel_sink_kind_name(kind) : "invalid";
    int spool_only =
        nattel_options_delivery_mode(o) == NATTEL_DELIVERY_SPOOL_ONLY;
    s->delivery = ok ? sink_delivery(kind, spool_only)
                     : "invalid endpoint: nothing is sent";
    s->info = delivery_info(o);
}

static void member_int(natx_jsonw *w, const char *key, int64_t v)
{
    natx_jsonw_key(w, key);
    natx_jsonw_int64(w, v);
}

static void member_bool(natx_jsonw *w, const char *key, int v)
{
    natx_jsonw_key(w, key);
    natx_jsonw_bool(w, v);
}

/* Paths, the endpoint and the file's note come from the environment and
 * files: bytes that are not UTF-8 are shown as U+FFFD, not refused. */
static void member_str(natx_jsonw *w, const char *key, const char *v)
{
    natx_jsonw_key(w, key);
    if (v)
        natx_jsonw_string_lossy(w, v, strlen(v));
    else
        natx_jsonw_null(w);
}

static void put_last(natx_jsonw *w, const nattel_delivery_info *i)
{
    natx_jsonw_key(w, "last_delivery");
    if (!nattel_delivery_last_ts(i)) {
        natx_jsonw_null(w);
        return;
    }
    natx_jsonw_begin_object(w);
    member_str(w, "ts", nattel_delivery_last_ts(i));
    member_str(w, "outcome", nattel_delivery_last_outcome(i));
    member_int(w, "http_status", nattel_delivery_last_http_status(i));
    member_int(w, "events", nattel_delivery_last_events(i));
    natx_jsonw_end_object(w);
}

static void put_delivery(natx_jsonw *w, const status_info *s)
{
    const nattel_delivery_info *i = s->info;
    member_int(w, "spooled", (int64_t)nattel_delivery_spooled(i));
    member_int(w, "sent", nattel_delivery_sent(i));
    member_int(w, "dropped", nattel_delivery_dropped(i));
    member_int(w, "rejected", nattel_delivery_rejected(i));
    put_last(w, i);
    int64_t until = nattel_delivery_backoff_until(i);
    char when[NATTEL_TS_LEN + 1];
    if (until)
        nattel_format_ts(until, when);
    member_str(w, "backoff_until", until ? when : NULL);
}

static void put_status(natx_jsonw *w, const nattel_options *o,
                       const status_info *s)
{
    natx_jsonw_begin_object(w);
    member_bool(w, "enabled", s->state == NATTEL_CONSENT_ENABLED);
    member_str(w, "source", nattel_consent_source_name(s->source));
    member_str(w, "sourceText", nattel_consent_source_text(s->source));
    member_str(w, "endpoint", nattel_options_endpoint(o));
    member_str(w, "sink", s->sink);
    member_bool(w, "dryRun", nattel_options_dry_run(o));
    member_bool(w, "doNotTrack", nattel_options_do_not_track(o));
    member_str(w, "envEnabled", nattel_options_env_enabled_raw(o));
    member_str(w, "consentFile", nattel_options_consent_file(o));
    member_str(w, "fileConsent", nattel_consent_state_name(s->file.state));
    member_str(w, "fileNote", s->file.note);
    member_str(w, "stateDir", nattel_options_state_dir(o));
    member_str(w, "sessionPrefix", nattel_options_session_prefix(o));
    member_str(w, "delivery", s->delivery);
    put_delivery(w, s);
    natx_jsonw_end_object(w);
}

/* The whole document is built first and printed at once: never half an
 * object with exit 0. */
static int print_json(const nattel_options *o, const status_info *s)
{
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    nattel_error err;
    natx_jsonw_init(&w, &b);
    put_status(&w, o, s);
    int rc = NATTEL_EXIT_OK;
    nattel_code code = natx_jsonw_finish(&w, &err);
    if (!code) {
        code = nattel_buf_append(&b, "\n", 1);
        if (code)
            snprintf(err.message, sizeof err.message, "out of memory");
    }
    if (code) {
        tool_error("status", "the JSON document was not printed: %s",
                   err.message);
        rc = NATTEL_EXIT_FAIL;
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) {
        tool_error("status", "cannot write to standard output");
        rc = NATTEL_EXIT_FAIL;
    }
    nattel_buf_free(&b);
    return rc;
}

static void print_text(const nattel_options *o, const status_info *s)
{
    printf("telemetry:     %s\n", nattel_consent_state_name(s->state));
    printf("decided by:    %s\n", nattel_consent_source_text(s->source));
    const char *file = nattel_options_consent_file(o);
    const char *dir = nattel_options_state_dir(o);
    const char *endpoint = nattel_options_endpoint(o);
    const char *prefix = nattel_options_session_prefix(o);
    printf("consent file:  %s (%s%s%s)\n", file ? file : "(none)",
           nattel_consent_state_name(s->file.state),
           s->file.note[0] ? ": " : "", s->file.note);
    printf("endpoint:      %s\n", *endpoint ? endpoint : "(empty)");
    printf("sink:          %s%s\n", s->sink,
           nattel_options_dry_run(o) ? " (dry run)" : "");
    printf("delivery:      %s\n", s->delivery);
    printf("state dir:     %s\n", dir ? dir : "(none)");
    const nattel_delivery_info *i = s->info;
    printf("spooled:       %zu event(s) waiting\n", nattel_delivery_spooled(i));
    printf("sent:          %lld\n", (long long)nattel_delivery_sent(i));
    printf("dropped:       %lld (of which rejected by the server: %lld)\n",
           (long long)nattel_delivery_dropped(i),
           (long long)nattel_delivery_rejected(i));
    if (nattel_delivery_last_ts(i))
        printf("last delivery: %s %s, %lld event(s), http %d\n",
               nattel_delivery_last_ts(i), nattel_delivery_last_outcome(i),
               (long long)nattel_delivery_last_events(i),
               nattel_delivery_last_http_status(i));
    else
        printf("last delivery: none\n");
    if (nattel_delivery_backoff_until(i)) {
        char ts[NATTEL_TS_LEN + 1];
        nattel_format_ts(nattel_delivery_backoff_until(i), ts);
        printf("back-off:      no automatic attempt before %s\n", ts);
    }
    if (*prefix)
        printf("session prefix: %s\n", prefix);
}

enum { OPT_JSON = TOOL_OPT_LONG };

static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
static const tool_spec spec = {"status", "h", longopts, 0, 0};

static int take(void *ctx, int c, const char *v)
{
    *(int *)ctx = 1; /* --json */
    return TOOL_GO;
}

int tool_cmd_status(int argc, char **argv)
{
    int json = 0;
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &json);
    if (parsed != TOOL_GO)
        return parsed;
    nattel_options *o = tool_options_load("status");
    if (!o)
        return NATTEL_EXIT_FAIL;
    status_info s;
    gather(o, &s);
    int rc = NATTEL_EXIT_OK;
    if (json)
        rc = print_json(o, &s);
    else
        print_text(o, &s);
    nattel_delivery_info_free(s.info);
    nattel_options_free(o);
    return rc;
}
