/* nattel flush: deliver the spool now, back-off or not. */
#include "commands.h"
#include "delivery/nattel_delivery.h"

#include <nattel/client.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
    "lock), 2 usage error.\n";

static int parse(int argc, char **argv, int *wait, int *json)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--wait"))
            *wait = 1;
        else if (!strcmp(argv[i], "--json"))
            *json = 1;
        else {
            nattel__tool_error("flush",
                               "unknown argument '%s' (see 'nattel flush "
                               "--help')",
                               argv[i]);
            return -1;
        }
    }
    return 0;
}

static void report(int json, const nattel__flush_stats *st, size_t remaining)
{
    if (json)
        printf("{\"sent\":%" PRId64 ",\"rejected\":%" PRId64
               ",\"dropped\":%" PRId64 ",\"deferred\":%" PRId64
               ",\"remaining\":%zu}\n",
               st->sent, st->rejected, st->dropped, st->deferred, remaining);
    else
        printf("sent %" PRId64 ", rejected %" PRId64 ", dropped %" PRId64
               ", deferred %" PRId64 "; %zu event(s) still spooled\n",
               st->sent, st->rejected, st->dropped, st->deferred, remaining);
}

int nattel__cmd_flush(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (nattel__is_help(argv[i])) {
            fputs(usage_text, stdout);
            return NATTEL_EXIT_OK;
        }
    int wait = 0, json = 0;
    if (parse(argc, argv, &wait, &json))
        return NATTEL_EXIT_USAGE;
    nattel_error err;
    nattel_options *o = nattel_options_new();
    if (!o || nattel_options_from_env(o, NULL, NULL, &err)) {
        nattel__tool_error("flush", "%s", o ? err.message : "out of memory");
        nattel_options_free(o);
        return NATTEL_EXIT_FAIL;
    }
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    nattel_config cfg;
    nattel__options_config(o, &cfg);
    nattel_consent_state state;
    nattel_consent_source source;
    (void)nattel_consent_resolve(&cfg, &state, &source, NULL);
    nattel__flush_stats st = {0};
    int rc = NATTEL_EXIT_OK;
    if (state != NATTEL_CONSENT_ENABLED) {
        fprintf(stderr, "nattel flush: telemetry is off (%s): nothing sent\n",
                nattel_consent_source_text(source));
    } else if (!o->endpoint[0] || !strcmp(o->endpoint, "stdout") ||
               o->dry_run) {
        fprintf(stderr, "nattel flush: the endpoint is not http(s) or dry run "
                        "is set: nothing sent\n");
    } else {
        nattel__flush_opts fo = {.ignore_backoff = 1,
                                 .lock_wait_ms = wait ? NATTEL__FLUSH_WAIT_MS
                                                      : NATTEL__FLUSH_NOWAIT_MS,
                                 .deadline_mono = -1};
        if (nattel__flush_run(o, &fo, &st, &err)) {
            nattel__tool_error("flush", "%s", err.message);
            rc = NATTEL_EXIT_FAIL;
        } else if (st.symlinks) {
            nattel__tool_error("flush",
                               "%" PRId64 " spool entr%s in %s/spool %s a "
                               "symlink: refused and removed (see 'nattel "
                               "log')",
                               st.symlinks, st.symlinks == 1 ? "y" : "ies",
                               o->state_dir, st.symlinks == 1 ? "was" : "were");
        }
        if (st.busy) {
            nattel__tool_error("flush",
                               "another flusher is still running in "
                               "%s (try --wait)",
                               o->state_dir);
            rc = NATTEL_EXIT_FAIL;
        }
    }
    size_t remaining = o->state_dir ? nattel__spool_count(o->state_dir) : 0;
    if (st.deferred)
        rc = NATTEL_EXIT_FAIL;
    report(json, &st, remaining);
    nattel_options_free(o);
    return rc;
}
