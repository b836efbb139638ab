/* nattel status: consent and its source, endpoint, delivery state. */
#include "commands.h"
#include "delivery/nattel_delivery.h"
#include "nattel_json.h"

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
    size_t spooled;
    nattel__state st;
} status_info;

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
    /* Read only: a status query never creates the state directory. */
    memset(&s->st, 0, sizeof s->st);
    s->spooled = 0;
    if (cfg->state_dir && !nattel__state_dir_check(cfg->state_dir, NULL)) {
        s->spooled = nattel__spool_count(cfg->state_dir);
        nattel__state_read(cfg->state_dir, &s->st);
    }
}

static void put_key_int(nattel_buf *b, const char *key, int64_t v)
{
    nattel_buf_append(b, ",", 1);
    nattel__json_put_string(b, key, strlen(key));
    nattel_buf_append(b, ":", 1);
    nattel__json_put_int(b, v);
}

static void put_delivery(nattel_buf *b, const status_info *s, int64_t now)
{
    put_key_int(b, "spooled", (int64_t)s->spooled);
    put_key_int(b, "sent", s->st.sent);
    put_key_int(b, "dropped", s->st.dropped);
    put_key_int(b, "rejected", s->st.rejected);
    NATTEL__PUT_LIT(b, ",\"last_delivery\":");
    if (s->st.has_last) {
        NATTEL__PUT_LIT(b, "{\"ts\":");
        nattel__json_put_string(b, s->st.last_ts, strlen(s->st.last_ts));
        NATTEL__PUT_LIT(b, ",\"outcome\":\"");
        const char *oc = nattel__outcome_name(s->st.last_outcome);
        nattel_buf_append(b, oc, strlen(oc));
        NATTEL__PUT_LIT(b, "\",\"http_status\":");
        nattel__json_put_int(b, s->st.last_http);
        NATTEL__PUT_LIT(b, ",\"events\":");
        nattel__json_put_int(b, s->st.last_events);
        NATTEL__PUT_LIT(b, "}");
    } else {
        NATTEL__PUT_LIT(b, "null");
    }
    NATTEL__PUT_LIT(b, ",\"backoff_until\":");
    if (s->st.next_ms > now) {
        char ts[NATTEL_TS_LEN + 1];
        nattel_format_ts(s->st.next_ms, ts);
        nattel__json_put_string(b, ts, NATTEL_TS_LEN);
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
    put_delivery(&b, s, nattel_config_now_ms(cfg));
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
    printf("spooled:       %zu event(s) waiting\n", s->spooled);
    printf("sent:          %lld\n", (long long)s->st.sent);
    printf("dropped:       %lld (of which rejected by the server: %lld)\n",
           (long long)s->st.dropped, (long long)s->st.rejected);
    if (s->st.has_last)
        printf("last delivery: %s %s, %lld event(s), http %d\n", s->st.last_ts,
               nattel__outcome_name(s->st.last_outcome),
               (long long)s->st.last_events, s->st.last_http);
    else
        printf("last delivery: none\n");
    if (s->st.next_ms > nattel_config_now_ms(cfg)) {
        char ts[NATTEL_TS_LEN + 1];
        nattel_format_ts(s->st.next_ms, ts);
        printf("back-off:      no automatic attempt before %s\n", ts);
    }
    if (*cfg->session_prefix)
        printf("session prefix: %s\n", cfg->session_prefix);
}

int nattel__cmd_status(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (nattel__is_help(argv[i])) {
            fputs(usage_text, stdout);
            return NATTEL_EXIT_OK;
        }
        if (strcmp(argv[i], "--json")) {
            nattel__tool_error("status",
                               "unknown argument '%s' (see 'nattel "
                               "status --help')",
                               argv[i]);
            return NATTEL_EXIT_USAGE;
        }
        json = 1;
    }
    nattel_config cfg;
    nattel_error err;
    if (nattel_config_from_env(&cfg, NULL, NULL, &err)) {
        nattel_config_clear(&cfg);
        nattel__tool_error("status", "%s", err.message);
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
    nattel_config_clear(&cfg);
    return rc;
}
