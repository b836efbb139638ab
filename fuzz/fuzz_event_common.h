/* The body of fuzz_json_wire and fuzz_json_model: one parameters object of
 * nat_cli_command decoded in FUZZ_MODE. What is accepted must re-encode to a
 * canonical form that the wire mode accepts and that is a fixed point. */
#ifndef NATTEL_FUZZ_EVENT_COMMON_H
#define NATTEL_FUZZ_EVENT_COMMON_H

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_copy(data, size);
    if (!json)
        return 0;
    nattel_problems problems;
    nattel_problems_init(&problems);
    nattel_event *ev = NULL;
    nattel_code rc = nattel_event_from_json(&nattel_cli_command_type, json,
                                            size, FUZZ_MODE, &ev, &problems);
    fuzz_check_problems(rc, &problems);
    FUZZ_CHECK((rc == NATTEL_OK) == (ev != NULL), "rc %s but event %p",
               nattel_code_name(rc), (void *)ev);
    if (rc == NATTEL_OK) {
        FUZZ_CHECK(problems.count == 0, "accepted with %zu problems",
                   problems.count);
        nattel_error err;
        FUZZ_CHECK(nattel_event_check(ev, &err) == NATTEL_OK,
                   "accepted event fails check: %s", err.message);
        nattel_buf out = NATTEL_BUF_INIT, again = NATTEL_BUF_INIT;
        rc = nattel_event_write_json(ev, &out, &err);
        FUZZ_CHECK(rc == NATTEL_OK, "accepted event does not encode: %s",
                   err.message);
        /* The canonical form is valid on the wire and a fixed point. */
        nattel_event *ev2 = NULL;
        nattel_problems_clear(&problems);
        rc = nattel_event_from_json(&nattel_cli_command_type, out.data, out.len,
                                    NATTEL_MODE_WIRE, &ev2, &problems);
        FUZZ_CHECK(rc == NATTEL_OK, "canonical form refused (%s: %s): %s",
                   problems.count ? problems.items[0].path : "?",
                   problems.count ? problems.items[0].message : "?", out.data);
        rc = nattel_event_write_json(ev2, &again, &err);
        FUZZ_CHECK(rc == NATTEL_OK && again.len == out.len &&
                       memcmp(again.data, out.data, out.len) == 0,
                   "canonical form is not a fixed point:\n%s\n%s", out.data,
                   again.data ? again.data : "(none)");
        nattel_event_free(ev2);
        nattel_buf_free(&out);
        nattel_buf_free(&again);
        nattel_event_free(ev);
    }
    nattel_problems_free(&problems);
    free(json);
    return 0;
}

#endif
