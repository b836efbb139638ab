/* One event, end to end, for callers holding options: the one-shot form
 * of the client. */
#include "config/nattel_options.h"
#include "model/nattel_error.h"

#include <nattel/client.h>

nattel_code nattel_emit(const nattel_options *opts, nattel_event *ev, int *sent,
                        nattel_error *err)
{
    if (sent)
        *sent = 0;
    /* The client takes its options; the caller keeps theirs. */
    nattel_options *o = nattel__options_dup(opts);
    nattel_client *c = o ? nattel_client_new(o, err) : NULL;
    if (!c) {
        nattel_event_free(ev);
        return o ? (err ? err->code : NATTEL_EIO)
                 : natx_fail(err, NATTEL_ENOMEM, "emit: out of memory");
    }
    nattel_consent_state state;
    nattel_client_consent(c, 1, &state, NULL);
    nattel_code rc = nattel_client_emit(c, ev, err);
    if (!rc && sent)
        *sent = state == NATTEL_CONSENT_ENABLED;
    nattel_client_free(c);
    return rc;
}

const char *nattel_error_class_sanitize(const nattel_options *opts,
                                        const char *s)
{
    nattel_error why;
    if (!s || !nattel_error_class_check(s, &why))
        return s;
    nattel_options *env = opts ? NULL : nattel_options_new();
    if (env && nattel_options_from_env(env, NULL, NULL, NULL)) {
        nattel_options_free(env);
        env = NULL;
    }
    nattel_debug(opts ? opts : env, "%s: replaced by \"undefined\"",
                 why.message);
    nattel_options_free(env);
    return "undefined";
}
