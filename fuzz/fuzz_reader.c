/* The reader's two paths against each other: every input, as `validate`
 * reads a line (envelope or nat_cli_command parameters), in both modes.
 * The reader (fast path, then the reporting path on hand-over) and the
 * reporting path alone must give the same code, problems and canonical
 * output; what the fast path alone accepts, the reporting path accepts
 * with the same values; a line called canonical as written is exactly
 * what the writer writes. One-shot decoding (nattel_event_from_json and
 * _into, which try the straight path first) gives the reporting path's
 * code, problems and values. */
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

/* Code, problems and written values of one decode, as text. */
static void outcome_text(nattel_code rc, const nattel_event *ev,
                         nattel_problems *p, nattel_buf *out)
{
    nattel_error err;
    const char *name = nattel_code_name(rc);
    nattel_buf_append(out, name, strlen(name));
    nattel_buf_append(out, "\n", 1);
    for (size_t i = 0; i < p->count; i++) {
        nattel_buf_append(out, p->items[i].path, strlen(p->items[i].path));
        nattel_buf_append(out, ": ", 2);
        nattel_buf_append(out, p->items[i].message,
                          strlen(p->items[i].message));
        nattel_buf_append(out, "\n", 1);
    }
    if (rc == NATTEL_OK && ev)
        FUZZ_CHECK(nattel_event_write_json(ev, out, &err) == NATTEL_OK,
                   "accepted but not written: %s", err.message);
    nattel_buf_append(out, "", 0);
    nattel_problems_clear(p);
}

/* One-shot decoding, which tries the straight path with nothing set up
 * (nattel_event_from_json, and _into a kept event), against the
 * reporting path alone read as parameters. */
static void one_shot(const char *doc, size_t n, nattel_mode mode)
{
    static nattel_event *fill;
    nattel_buf want = NATTEL_BUF_INIT, got = NATTEL_BUF_INIT;
    nattel_problems p;
    nattel_problems_init(&p);
    if (!fill)
        fill = nattel_event_new(&nattel_cli_command_type);
    FUZZ_CHECK(fill != NULL, "out of memory");
    const nattel_event *sev = NULL;
    rd.path = 1;
    nattel_code rc = nattel__reader_event(&rd, &nattel_cli_command_type, mode,
                                          doc, n, &sev, &p);
    outcome_text(rc, sev, &p, &want);
    nattel_event *ev = NULL;
    rc =
        nattel_event_from_json(&nattel_cli_command_type, doc, n, mode, &ev, &p);
    outcome_text(rc, ev, &p, &got);
    nattel_event_free(ev);
    FUZZ_CHECK(!strcmp(text(&got), text(&want)),
               "nattel_event_from_json:\n%s\nreporting path:\n%s", text(&got),
               text(&want));
    nattel_buf_reset(&got);
    rc = nattel_event_from_json_into(fill, doc, n, mode, &p);
    outcome_text(rc, fill, &p, &got);
    FUZZ_CHECK(!strcmp(text(&got), text(&want)),
               "nattel_event_from_json_into:\n%s\nreporting path:\n%s",
               text(&got), text(&want));
    nattel_buf_free(&want);
    nattel_buf_free(&got);
    nattel_problems_free(&p);
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
    one_shot(doc, size, NATTEL_MODE_WIRE);
    one_shot(doc, size, NATTEL_MODE_MODEL);
    free(doc);
    return 0;
}
