/*
 * The layers the applications stand on (issue 12):
 * 1. The public reader (include/nattel/reader.h) tells an envelope from
 *    an event, hands out its objects, reports every problem, and writes
 *    the canonical form the library's writers write, whether the document
 *    was canonical already, canonical but for whitespace, or neither.
 * 2. The schema export writes bounds the same in every locale.
 * 3. The one arena (natx_arena, under events and TOML documents): aligned
 *    pieces, a cap on its bytes, the owner's chunk never freed, and reuse
 *    that stops allocating once grown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <nattel/nattel.h>
#include <nattel/reader.h>

#include "natx/natx_mem.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char event_doc[] =
    "{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","
    "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","
    "\"durationMs\":12,\"exitCode\":0,\"errorClass\":\"undefined\","
    "\"pythonVersion\":\"3.12.1\"}";

/* The canonical text of a document, by the library's own writers. */
static char *canonical_of(const nattel_registry *reg, const char *doc)
{
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err;
    if (strstr(doc, "\"events\"")) {
        nattel_envelope *env = NULL;
        assert_int_equal(nattel_envelope_from_json(reg, doc, strlen(doc),
                                                   NATTEL_MODE_WIRE, &env,
                                                   NULL),
                         NATTEL_OK);
        assert_int_equal(nattel_envelope_write_json(env, -1, &out, &err),
                         NATTEL_OK);
        nattel_envelope_free(env);
    } else {
        nattel_event *ev = NULL;
        assert_int_equal(nattel_event_from_json(&nattel_cli_command_type, doc,
                                                strlen(doc), NATTEL_MODE_WIRE,
                                                &ev, NULL),
                         NATTEL_OK);
        assert_int_equal(nattel_event_write_json(ev, &out, &err), NATTEL_OK);
        nattel_event_free(ev);
    }
    return out.data;
}

static void expect_canonical(nattel_reader *r, const nattel_registry *reg,
                             const char *doc, nattel_doc_kind want)
{
    nattel_doc_kind kind = NATTEL_DOC_NONE;
    nattel_problems p;
    nattel_problems_init(&p);
    assert_int_equal(nattel_reader_read(r, &nattel_cli_command_type,
                                        NATTEL_MODE_WIRE, doc, strlen(doc),
                                        &kind, &p),
                     NATTEL_OK);
    assert_int_equal(kind, want);
    assert_int_equal(p.count, 0);
    assert_true((nattel_reader_envelope(r) != NULL) ==
                (want == NATTEL_DOC_ENVELOPE));
    assert_true((nattel_reader_event(r) != NULL) == (want == NATTEL_DOC_EVENT));
    char *expect = canonical_of(reg, doc);
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err;
    assert_int_equal(nattel_buf_append(&out, "<", 1), NATTEL_OK);
    assert_int_equal(nattel_reader_write_canonical(r, &out, &err), NATTEL_OK);
    assert_int_equal(out.data[0], '<'); /* appended, not reset */
    assert_string_equal(out.data + 1, expect);
    free(expect);
    nattel_buf_free(&out);
    nattel_problems_free(&p);
}

static char *read_reference(const char *name)
{
    const char *path = tu_reference(name);
    size_t len;
    return path ? tu_read_file(path, &len) : NULL;
}

static void test_reader_kinds_and_canonical(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    nattel_reader *r = nattel_reader_new(reg);
    assert_non_null(r);
    /* Canonical as written: copied. */
    expect_canonical(r, reg, event_doc, NATTEL_DOC_EVENT);
    /* Canonical but for whitespace. */
    expect_canonical(r, reg,
                     "{ \"nemoSource\": \"agent_toolkit\", \"command\": "
                     "\"run\", \"subcommand\": \"undefined\", \"taskStatus\": "
                     "\"success\", \"durationMs\": 12, \"exitCode\": 0, "
                     "\"errorClass\": \"undefined\", \"pythonVersion\": "
                     "\"3.12.1\" }",
                     NATTEL_DOC_EVENT);
    /* Keys out of order and an escape: re-encoded. */
    expect_canonical(r, reg,
                     "{\"command\":\"r\\u0075n\",\"nemoSource\":"
                     "\"agent_toolkit\",\"subcommand\":\"undefined\","
                     "\"taskStatus\":\"success\",\"durationMs\":12,"
                     "\"exitCode\":0,\"errorClass\":\"undefined\","
                     "\"pythonVersion\":\"3.12.1\"}",
                     NATTEL_DOC_EVENT);
    char *payload = read_reference("payload.example.json");
    if (payload) /* pretty-printed: canonical but for whitespace */
        expect_canonical(r, reg, payload, NATTEL_DOC_ENVELOPE);
    free(payload);
    nattel_reader_free(r);
    nattel_registry_free(reg);
}

static void test_reader_problems_and_take(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    nattel_reader *r = nattel_reader_new(reg);
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_doc_kind kind = NATTEL_DOC_EVENT;
    const char *bad = "{\"command\":\"\",\"durationMs\":-7}";
    assert_int_equal(nattel_reader_read(r, &nattel_cli_command_type,
                                        NATTEL_MODE_WIRE, bad, strlen(bad),
                                        &kind, &p),
                     NATTEL_ESCHEMA);
    assert_int_equal(kind, NATTEL_DOC_NONE);
    assert_true(p.count >= 2); /* every problem, not the first */
    assert_null(nattel_reader_event(r));
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err;
    assert_int_equal(nattel_reader_write_canonical(r, &out, &err),
                     NATTEL_EINVAL);
    /* Without a default type, a parameters object is no envelope. */
    nattel_problems_clear(&p);
    assert_int_not_equal(nattel_reader_read(r, NULL, NATTEL_MODE_WIRE,
                                            event_doc, strlen(event_doc), &kind,
                                            &p),
                         NATTEL_OK);
    assert_true(p.count >= 1);
    /* A taken event outlives the reader's next read and the reader. */
    assert_int_equal(nattel_reader_read(r, &nattel_cli_command_type,
                                        NATTEL_MODE_WIRE, event_doc,
                                        strlen(event_doc), &kind, NULL),
                     NATTEL_OK);
    assert_null(nattel_reader_take_envelope(r));
    nattel_event *ev = nattel_reader_take_event(r);
    assert_non_null(ev);
    assert_null(nattel_reader_event(r));
    assert_null(nattel_reader_take_event(r));
    assert_int_equal(nattel_reader_read(r, &nattel_cli_command_type,
                                        NATTEL_MODE_WIRE, bad, strlen(bad),
                                        &kind, NULL),
                     NATTEL_ESCHEMA);
    nattel_reader_free(r);
    assert_string_equal(nattel_event_get_string(ev, "command"), "run");
    assert_int_equal(nattel_event_write_json(ev, &out, &err), NATTEL_OK);
    assert_string_equal(out.data, event_doc);
    nattel_event_free(ev);
    nattel_buf_free(&out);
    nattel_problems_free(&p);
    nattel_registry_free(reg);
}

static const nattel_field ratio_fields[] = {
    {.c_name = "ratio",
     .wire_name = "ratio",
     .description = "a share",
     .kind = NATTEL_KIND_NUMBER,
     .flags = NATTEL_FIELD_HAS_MIN | NATTEL_FIELD_HAS_MAX,
     .minimum = 0.5,
     .maximum = 2.25}};
static const nattel_event_type ratio_type = {
    .name = NATTEL_EVENT_NAME("ratio_event"),
    .schema_version = "1.5",
    .description = "",
    .gdpr_category = "functional",
    .gdpr_description = "",
    .fields = ratio_fields,
    .field_count = 1};

static void test_export_bounds_in_every_locale(void **state)
{
    (void)state;
    if (!tu_comma_locale()) {
        print_message("no locale with a ',' decimal point (none installed, "
                      "localedef failed): skipped\n");
        skip();
    }
    nattel_registry *reg = nattel_registry_new();
    nattel_error err;
    assert_int_equal(nattel_registry_add(reg, &ratio_type, &err), NATTEL_OK);
    nattel_buf out = NATTEL_BUF_INIT;
    assert_int_equal(
        nattel_registry_export_schema(reg, "ratio_event", &out, &err),
        NATTEL_OK);
    assert_non_null(strstr(out.data, "\"minimum\": 0.5"));
    assert_non_null(strstr(out.data, "\"maximum\": 2.25"));
    assert_null(strstr(out.data, "0,5"));
    /* The host's locale is left as it was. */
    assert_string_equal(localeconv()->decimal_point, ",");
    setlocale(LC_ALL, "C");
    /* And the text is the C locale's. */
    nattel_buf c_out = NATTEL_BUF_INIT;
    assert_int_equal(
        nattel_registry_export_schema(reg, "ratio_event", &c_out, &err),
        NATTEL_OK);
    assert_string_equal(out.data, c_out.data);
    nattel_buf_free(&out);
    nattel_buf_free(&c_out);
    nattel_registry_free(reg);
}

static void test_arena(void **state)
{
    (void)state;
    static max_align_t
        keep_mem[(sizeof(natx_chunk) + 64) / sizeof(max_align_t) + 1];
    natx_chunk *keep = (natx_chunk *)keep_mem;
    keep->cap = 64;
    natx_arena a;
    natx_arena_init(&a, keep, 128, 1024);
    char *p = natx_arena_alloc(&a, 10);
    assert_ptr_equal(p, (char *)keep->data); /* the owner's chunk first */
    char *q = natx_arena_alloc(&a, 10);
    assert_int_equal((size_t)(q - p) % sizeof(max_align_t), 0);
    /* Past the owner's chunk: chunks of its own, up to max_total. */
    assert_non_null(natx_arena_alloc(&a, 100));
    assert_non_null(natx_arena_alloc(&a, 500));
    const size_t al = sizeof(max_align_t), big = (500 + al - 1) / al * al;
    assert_int_equal(a.total, 128 + big);   /* pieces round up */
    assert_null(natx_arena_alloc(&a, 600)); /* would pass 1024 */
    /* Reuse: one chunk of the total, then nothing new for the same. */
    natx_arena_recycle(&a);
    assert_int_equal(a.total, 128 + big);
    assert_ptr_equal(a.head->next, keep);
    natx_chunk *one = a.head;
    assert_non_null(natx_arena_alloc(&a, 100));
    assert_non_null(natx_arena_alloc(&a, 500));
    assert_ptr_equal(a.head, one);
    natx_arena_free(&a);
    assert_ptr_equal(a.head, keep); /* not freed: the owner's */
    assert_int_equal(a.total, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_kinds_and_canonical),
        cmocka_unit_test(test_reader_problems_and_take),
        cmocka_unit_test(test_export_bounds_in_every_locale),
        cmocka_unit_test(test_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
