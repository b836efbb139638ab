/* The reader's two paths against each other: every input, as `validate`
 * reads a line (envelope or nat_cli_command parameters), in both modes.
 * The reader (fast path, then the reporting path on hand-over) and the
 * reporting path alone must give the same code, problems and canonical
 * output; what the fast path alone accepts, the reporting path accepts
 * with the same values; a line called canonical as written is exactly
 * what the writer writes. */
#include "fuzz_common.h"

#include "codec/nattel_reader.h"

typedef struct outcome {
    nattel_code rc;
    nattel_buf problems;
    nattel_buf canonical;
    int canon;
    int tidy;
} outcome;

static nattel_registry *reg;
static nattel__reader rd;

/* A second type, so that envelopes can mix types (the reader decodes an
 * item's parameters before it reads the name). */
static const nattel_field pair_fields[] = {
    {.c_name = "left_side", .wire_name = "left", .kind = NATTEL_KIND_STRING},
    {.c_name = "right_side",
     .wire_name = "right",
     .kind = NATTEL_KIND_INT64,
     .flags = NATTEL_FIELD_HAS_DEFAULT | NATTEL_FIELD_HAS_MIN,
     .default_value = {.i = 7},
     .minimum = 0}};
static const nattel_event_type pair_type = {.name =
                                                NATTEL_EVENT_NAME("pair_event"),
                                            .schema_version = "1.5",
                                            .description = "",
                                            .fields = pair_fields,
                                            .field_count = 2};

static void run(int path, nattel_mode mode, const char *doc, size_t n,
                outcome *o)
{
    nattel_problems p;
    nattel_problems_init(&p);
    const nattel_event *ev = NULL;
    const nattel_envelope *env = NULL;
    rd.path = path;
    o->rc = nattel__reader_line(&rd, &nattel_cli_command_type, mode, doc, n,
                                &ev, &env, &p);
    o->canon = rd.canon;
    o->tidy = rd.tidy;
    fuzz_check_problems(o->rc == NATTEL_EINVAL && path == 2 ? NATTEL_OK : o->rc,
                        &p);
    for (size_t i = 0; i < p.count; i++) {
        nattel_buf_append(&o->problems, p.items[i].path,
                          strlen(p.items[i].path));
        nattel_buf_append(&o->problems, ": ", 2);
        nattel_buf_append(&o->problems, p.items[i].message,
                          strlen(p.items[i].message));
        nattel_buf_append(&o->problems, "\n", 1);
    }
    nattel_buf_append(&o->problems, "", 0);
    if (o->rc == NATTEL_OK) {
        nattel_error err;
        nattel_code rc =
            env ? nattel_envelope_write_json(env, -1, &o->canonical, &err)
                : nattel_event_write_json(ev, &o->canonical, &err);
        FUZZ_CHECK(rc == NATTEL_OK, "accepted but not written: %s",
                   err.message);
    }
    nattel_problems_free(&p);
}

static const char *text(const nattel_buf *b)
{
    return b->data ? b->data : "";
}

static void one_mode(const char *doc, size_t n, nattel_mode mode)
{
    outcome both = {0}, slow = {0}, fast = {0};
    run(0, mode, doc, n, &both);
    run(1, mode, doc, n, &slow);
    run(2, mode, doc, n, &fast);
    FUZZ_CHECK(both.rc == slow.rc &&
                   !strcmp(text(&both.problems), text(&slow.problems)),
               "verdicts differ: reader %s\n%s\nreporting path %s\n%s",
               nattel_code_name(both.rc), text(&both.problems),
               nattel_code_name(slow.rc), text(&slow.problems));
    if (both.rc == NATTEL_OK)
        FUZZ_CHECK(!strcmp(text(&both.canonical), text(&slow.canonical)),
                   "values differ:\n%s\n%s", text(&both.canonical),
                   text(&slow.canonical));
    if (fast.rc == NATTEL_OK) {
        FUZZ_CHECK(slow.rc == NATTEL_OK,
                   "fast path accepts what the reporting path refuses:\n%s",
                   text(&slow.problems));
        FUZZ_CHECK(!strcmp(text(&fast.canonical), text(&slow.canonical)),
                   "fast path values differ:\n%s\n%s", text(&fast.canonical),
                   text(&slow.canonical));
        if (fast.tidy) {
            char *t = malloc(n ? n : 1);
            FUZZ_CHECK(t != NULL, "out of memory");
            size_t m = nattel__fastpath_tidy(doc, n, t);
            FUZZ_CHECK(
                fast.canonical.len == m && !memcmp(fast.canonical.data, t, m),
                "called canonical but for whitespace, but written as\n%s",
                text(&fast.canonical));
            free(t);
        }
        if (fast.canon)
            FUZZ_CHECK(fast.canonical.len == n &&
                           !memcmp(fast.canonical.data, doc, n),
                       "called canonical as written, but written as\n%s",
                       text(&fast.canonical));
    }
    outcome *all[3] = {&both, &slow, &fast};
    for (int i = 0; i < 3; i++) {
        nattel_buf_free(&all[i]->problems);
        nattel_buf_free(&all[i]->canonical);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg) {
        reg = nattel_registry_new();
        if (!reg || nattel_registry_add(reg, &pair_type, NULL))
            abort();
        /* One reader for the whole run, as `validate` keeps one: reuse
         * between documents is part of what is tested. */
        nattel__reader_init(&rd, reg);
    }
    char *doc = fuzz_copy(data, size);
    if (!doc)
        return 0;
    one_mode(doc, size, NATTEL_MODE_WIRE);
    one_mode(doc, size, NATTEL_MODE_MODEL);
    free(doc);
    return 0;
}
