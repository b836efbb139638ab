/* nattel_envelope_from_json in both modes. An accepted envelope holds 1..50
 * events, re-encodes to a payload the wire mode accepts, and that payload
 * is a fixed point. */
#include "fuzz_common.h"

static nattel_registry *reg;

static void one_mode(const char *json, size_t size, nattel_mode mode)
{
    nattel_problems problems;
    nattel_problems_init(&problems);
    nattel_envelope *env = NULL;
    nattel_code rc =
        nattel_envelope_from_json(reg, json, size, mode, &env, &problems);
    fuzz_check_problems(rc, &problems);
    FUZZ_CHECK((rc == NATTEL_OK) == (env != NULL), "rc %s but envelope %p",
               nattel_code_name(rc), (void *)env);
    if (rc == NATTEL_OK) {
        size_t n = nattel_envelope_count(env);
        FUZZ_CHECK(n >= 1 && n <= NATTEL_ENVELOPE_MAX_EVENTS,
                   "accepted %zu events", n);
        for (size_t i = 0; i < n; i++) {
            const char *ts = nattel_envelope_event_ts(env, i);
            FUZZ_CHECK(ts && strlen(ts) == NATTEL_TS_LEN, "event %zu ts '%s'",
                       i, ts ? ts : "(null)");
            FUZZ_CHECK(nattel_envelope_event(env, i) != NULL,
                       "event %zu missing", i);
        }
        const int64_t sent = 1778086809999; /* 2026-05-06T17:00:09.999Z */
        nattel_error err;
        nattel_buf out = NATTEL_BUF_INIT, again = NATTEL_BUF_INIT;
        rc = nattel_envelope_write_json(env, sent, &out, &err);
        FUZZ_CHECK(rc == NATTEL_OK, "accepted envelope does not encode: %s",
                   err.message);
        nattel_envelope *env2 = NULL;
        nattel_problems_clear(&problems);
        rc = nattel_envelope_from_json(reg, out.data, out.len, NATTEL_MODE_WIRE,
                                       &env2, &problems);
        FUZZ_CHECK(rc == NATTEL_OK, "re-encoded envelope refused (%s: %s): %s",
                   problems.count ? problems.items[0].path : "?",
                   problems.count ? problems.items[0].message : "?", out.data);
        rc = nattel_envelope_write_json(env2, sent, &again, &err);
        FUZZ_CHECK(rc == NATTEL_OK && again.len == out.len &&
                       memcmp(again.data, out.data, out.len) == 0,
                   "payload is not a fixed point:\n%s\n%s", out.data,
                   again.data ? again.data : "(none)");
        nattel_envelope_free(env2);
        nattel_buf_free(&out);
        nattel_buf_free(&again);
        nattel_envelope_free(env);
    }
    nattel_problems_free(&problems);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg) {
        reg = nattel_registry_new();
        if (!reg)
            abort();
    }
    char *json = fuzz_copy(data, size);
    if (!json)
        return 0;
    one_mode(json, size, NATTEL_MODE_WIRE);
    one_mode(json, size, NATTEL_MODE_MODEL);
    free(json);
    return 0;
}
