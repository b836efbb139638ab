/* nattel_registry_load_schema: a schema file in the anonymous_events.json
 * layout. What loads must pass nattel_event_type_check, export, reload from
 * its own export into a fresh registry and export identically, and drive
 * the decoder. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_copy(data, size);
    if (!json)
        return 0;
    nattel_registry *reg = nattel_registry_new();
    if (!reg)
        abort();
    size_t builtin = nattel_registry_count(reg);
    nattel_error err;
    memset(&err, 0, sizeof err);
    nattel_code rc = nattel_registry_load_schema(reg, json, size, "fuzz", &err);
    /* A failed load may keep the events loaded before the failing one (the
     * API does not promise all-or-nothing); they must still be sound. */
    if (rc != NATTEL_OK)
        FUZZ_CHECK(err.message[0] != '\0', "load failed with %s and no message",
                   nattel_code_name(rc));
    for (size_t i = builtin; i < nattel_registry_count(reg); i++) {
        const nattel_event_type *t = nattel_registry_at(reg, i);
        FUZZ_CHECK(t && t->name && t->name[0], "type %zu without a name", i);
        FUZZ_CHECK(nattel_event_type_check(t, &err) == NATTEL_OK,
                   "loaded type '%s' fails its check: %s", t->name,
                   err.message);
        FUZZ_CHECK(nattel_registry_find(reg, t->name, strlen(t->name)) == t,
                   "type '%s' not found by name", t->name);

        nattel_buf out = NATTEL_BUF_INIT, again = NATTEL_BUF_INIT;
        rc = nattel_registry_export_schema(reg, t->name, &out, &err);
        FUZZ_CHECK(rc == NATTEL_OK, "loaded type '%s' does not export: %s",
                   t->name, err.message);
        nattel_registry *reg2 = nattel_registry_new();
        if (!reg2)
            abort();
        rc = nattel_registry_load_schema(reg2, out.data, out.len, "export",
                                         &err);
        FUZZ_CHECK(rc == NATTEL_OK, "export of '%s' does not load: %s\n%s",
                   t->name, err.message, out.data);
        rc = nattel_registry_export_schema(reg2, t->name, &again, &err);
        FUZZ_CHECK(rc == NATTEL_OK && again.len == out.len &&
                       memcmp(again.data, out.data, out.len) == 0,
                   "export of '%s' is not a fixed point:\n%s\n%s", t->name,
                   out.data, again.data ? again.data : "(none)");
        nattel_registry_free(reg2);
        nattel_buf_free(&out);
        nattel_buf_free(&again);

        /* Drive the decoder with the loaded type: defaults only, and the
         * input itself. */
        nattel_problems problems;
        nattel_problems_init(&problems);
        nattel_event *ev = NULL;
        rc = nattel_event_from_json(t, "{}", 2, NATTEL_MODE_MODEL, &ev,
                                    &problems);
        fuzz_check_problems(rc, &problems);
        if (rc == NATTEL_OK) {
            nattel_buf enc = NATTEL_BUF_INIT;
            FUZZ_CHECK(nattel_event_write_json(ev, &enc, &err) == NATTEL_OK,
                       "event of defaults of '%s' does not encode: %s", t->name,
                       err.message);
            nattel_buf_free(&enc);
        }
        nattel_event_free(ev);
        nattel_problems_free(&problems);
        rc = NATTEL_OK;
    }
    nattel_registry_free(reg);
    free(json);
    return 0;
}
