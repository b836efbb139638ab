/* nattel status: consent and its source, endpoint, delivery state. */
#include "commands.h"
#include "nattel_json.h"

#include <nattel/client.h>
#include <nattel/telemetry.h>

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
    "Exit status: 0 success, 2 usage error.\n";

typedef struct status_info {
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_file file;
    const char *sink;
    const char *delivery;
    nattel_delivery_info *info; /* NULL: an empty state */
} status_info;

/* The options see NATTEL_DELIVERY only through this; status describes the
 * delivery mode itself, valid or not, so the options never read it. */
static const char *getenv_but_delivery(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "NATTEL_DELIVERY") ? getenv(name) : NULL;
}

/* The delivery state, read only (a status query never creates the state
 * directory). NULL, shown as zeros, when the directory is missing or
 * refused: status says what is, it does not fail. */
static nattel_delivery_info *delivery_info(const char *state_dir)
{
    nattel_delivery_info *info = NULL;
    nattel_options *o = nattel_options_new();
    if (o && state_dir &&
        !nattel_options_from_env(o, getenv_but_delivery, NULL, NULL))
        (void)nattel_delivery_status(o, &info, NULL);
    nattel_options_free(o);
    return info;
}

static void gather(const nattel_config *cfg, status_info *s)
{
    nattel_consent_resolve(cfg, &s->state, &s->source, NULL);
    nattel_consent_file_read(cfg->consent_file, &s->file);
    nattel_sink_kind kind;
    int ok = !nattel_config_sink(cfg, &kind, NULL);
    s->sink = ok ? nattel_sink_kind_name(kind) : "invalid";
    /* NATTEL_DELIVERY as `nattel emit` reads it. */
    const char *mode = getenv("NATTEL_DELIVERY");
    int spool_only = mode && !strcmp(mode, "spool-only");
    s->delivery =
        !ok ? "invalid endpoint: nothing is sent"
        : kind == NATTEL_SINK_HTTP && spool_only
            ? "spooled in the state directory, sent by 'nattel flush' "
              "(NATTEL_DELIVERY=spool-only)"
        : kind == NATTEL_SINK_HTTP
            ? "spooled in the state directory, sent by a detached flusher"
        : kind == NATTEL_SINK_STDOUT ? "each payload as one line on stderr"
                                     : "nothing is sent";
    s->info = delivery_info(cfg->state_dir);
}

static void put_key_int(nattel_buf *b, const char *key, int64_t v)
{
    nattel_buf_append(b, ",", 1);
    nattel__json_put_string(b, key, strlen(key));
    nattel_buf_append(b, ":", 1);
    nattel__json_put_int(b, v);
}

static void put_delivery(nattel_buf *b, const status_info *s)
{
    const nattel_delivery_info *i = s->info;
    put_key_int(b, "spooled", (int64_t)nattel_delivery_spooled(i));
    put_key_int(b, "sent", nattel_delivery_sent(i));
    put_key_int(b, "dropped", nattel_delivery_dropped(i));
    put_key_int(b, "rejected", nattel_delivery_rejected(i));
    NATTEL__PUT_LIT(b, ",\"last_delivery\":");
    const char *ts = nattel_delivery_last_ts(i);
    if (ts) {
        NATTEL__PUT_LIT(b, "{\"ts\":");
        nattel__json_put_string(b, ts, strlen(ts));
        NATTEL__PUT_LIT(b, ",\"outcome\":");
        const char *oc = nattel_delivery_last_outcome(i);
        nattel__json_put_string(b, oc, strlen(oc));
        NATTEL__PUT_LIT(b, ",\"http_status\":");
        nattel__json_put_int(b, nattel_delivery_last_http_status(i));
        NATTEL__PUT_LIT(b, ",\"events\":");
        nattel__json_put_int(b, nattel_delivery_last_events(i));
        NATTEL__PUT_LIT(b, "}");
    } else {
        NATTEL__PUT_LIT(b, "null");
    }
    NATTEL__PUT_LIT(b, ",\"backoff_until\":");
    int64_t until = nattel_delivery_backoff_until(i);
    if (until) {
        char when[NATTEL_TS_LEN + 1];
        nattel_format_ts(until, when);
        nattel__json_put_string(b, when, NATTEL_TS_LEN);
    } else {
        NATTEL__PUT_LIT(b, "null");
    }
}

static void put_key_str(nattel_buf *b, const char *key, const char *v,
                        int comma)
{
    if (comma)
        nattel_buf_append(b, ",", 1);
    nattel__json_put_string(b, key, strlen(key));
    nattel_buf_append(b, ":", 1);
    if (!v || nattel__json_put_string(b, v, strlen(v)))
        NATTEL__PUT_LIT(b, "null");
}

static void put_key_bool(nattel_buf *b, const char *key, int v)
{
    nattel_buf_append(b, ",", 1);
    nattel__json_put_string(b, key, strlen(key));
    if (v)
        NATTEL__PUT_LIT(b, ":true");
    else
        NATTEL__PUT_LIT(b, ":false");
}

static int print_json(const nattel_config *cfg, const status_info *s)
{
    nattel_buf b = NATTEL_BUF_INIT;
    NATTEL__PUT_LIT(&b, "{\"enabled\":");
    if (s->state == NATTEL_CONSENT_ENABLED)
        NATTEL__PUT_LIT(&b, "true");
    else
        NATTEL__PUT_LIT(&b, "false");
    put_key_str(&b, "source", nattel_consent_source_name(s->source), 1);
    put_key_str(&b, "sourceText", nattel_consent_source_text(s->source), 1);
    put_key_str(&b, "endpoint", cfg->endpoint, 1);
    put_key_str(&b, "sink", s->sink, 1);
    put_key_bool(&b, "dryRun", cfg->dry_run);
    put_key_bool(&b, "doNotTrack", cfg->do_not_track);
    put_key_str(&b, "envEnabled", cfg->env_enabled_raw, 1);
    put_key_str(&b, "consentFile", cfg->consent_file, 1);
    put_key_str(&b, "fileConsent", nattel_consent_state_name(s->file.state), 1);
    put_key_str(&b, "fileNote", s->file.note, 1);
    put_key_str(&b, "stateDir", cfg->state_dir, 1);
    put_key_str(&b, "sessionPrefix", cfg->session_prefix, 1);
    put_key_str(&b, "delivery", s->delivery, 1);
    put_delivery(&b, s);
    NATTEL__PUT_LIT(&b, "}\n");
    int ok = b.data && fwrite(b.data, 1, b.len, stdout) == b.len;
    nattel_buf_free(&b);
    return ok ? NATTEL_EXIT_OK : NATTEL_EXIT_FAIL;
}

static void print_text(const nattel_config *cfg, const status_info *s)
{
    printf("telemetry:     %s\n", nattel_consent_state_name(s->state));
    printf("decided by:    %s\n", nattel_consent_source_text(s->source));
    printf("consent file:  %s (%s%s%s)\n",
           cfg->consent_file ? cfg->consent_file : "(none)",
           nattel_consent_state_name(s->file.state),
           s->file.note[0] ? ": " : "", s->file.note);
    printf("endpoint:      %s\n", *cfg->endpoint ? cfg->endpoint : "(empty)");
    printf("sink:          %s%s\n", s->sink, cfg->dry_run ? " (dry run)" : "");
    printf("delivery:      %s\n", s->delivery);
    printf("state dir:     %s\n", cfg->state_dir ? cfg->state_dir : "(none)");
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
    if (*cfg->session_prefix)
        printf("session prefix: %s\n", cfg->session_prefix);
}

enum { OPT_JSON = TOOL_OPT_LONG };

static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
static const tool_spec spec = {"status", "h", longopts, 0, 0};

int tool_cmd_status(int argc, char **argv)
{
    tool_args a;
    const char *v;
    int c, json = 0;
    if (tool_args_start(&a, &spec, argc, argv))
        return tool_print_help(usage_text);
    while ((c = tool_args_next(&a, &v)) != TOOL_ARGS_END) {
        if (c == TOOL_ARGS_BAD)
            return NATTEL_EXIT_USAGE;
        json = 1;
    }
    nattel_config cfg;
    nattel_error err;
    if (nattel_config_from_env(&cfg, NULL, NULL, &err)) {
        nattel_config_clear(&cfg);
        tool_error("status", "%s", err.message);
        return NATTEL_EXIT_FAIL;
    }
    cfg.prompt = NATTEL_PROMPT_NEVER;
    status_info s;
    gather(&cfg, &s);
    int rc = NATTEL_EXIT_OK;
    if (json)
        rc = print_json(&cfg, &s);
    else
        print_text(&cfg, &s);
    nattel_delivery_info_free(s.info);
    nattel_config_clear(&cfg);
    return rc;
}
