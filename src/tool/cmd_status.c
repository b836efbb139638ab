/* nattel status: consent and its source, endpoint, delivery state. */
#include "commands.h"
#include "nattel_json.h"

#include <nattel/telemetry.h>

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: nattel status [--json]\n"
    "\n"
    "Shows whether telemetry is on and what decided it, the consent file,\n"
    "the endpoint and sink, and the state directory. Never prompts.\n"
    "\n"
    "  --json  one JSON object on standard output: enabled (boolean),\n"
    "          source, sourceText, endpoint, sink, dryRun, consentFile,\n"
    "          fileConsent, fileNote, stateDir, sessionPrefix, delivery\n"
    "\n"
    "Exit status: 0 success, 2 usage error.\n";

typedef struct status_info {
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_file file;
    const char *sink;
    const char *delivery;
} status_info;

static void gather(const nattel_config *cfg, status_info *s)
{
    nattel_consent_resolve(cfg, &s->state, &s->source, NULL);
    nattel_consent_file_read(cfg->consent_file, &s->file);
    nattel_sink_kind kind;
    int ok = !nattel_config_sink(cfg, &kind, NULL);
    s->sink = ok ? nattel_sink_kind_name(kind) : "invalid";
    s->delivery =
        !ok                        ? "invalid endpoint: nothing is sent"
        : kind == NATTEL_SINK_HTTP ? "not built yet: events are built, not sent"
        : kind == NATTEL_SINK_STDOUT ? "each payload as one line on stderr"
                                     : "nothing is sent";
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
