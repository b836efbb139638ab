/* The single-pass reader (src/codec/nattel_fastpath.c and
 * src/codec/nattel_reader.c).
 *
 * 1. Verdicts never differ: every generated document (valid ones written
 *    in many ways, then mutated) gets the same code, the same problems and
 *    the same canonical output through the reader as through the
 *    reporting path alone; what the fast path accepts on its own, the
 *    reporting path accepts with the same values.
 * 2. A document the reader calls "canonical as written" is byte for byte
 *    what the writer writes.
 * 3. Duplicate keys are found without a quadratic scan.
 * 4. Numbers read and write the same under a locale whose decimal point
 *    is ','.
 * 5. `validate`'s line: envelope or parameters by the root's "events".
 * 6. One-shot decoding (nattel_event_from_json, _into), which tries the
 *    straight path with nothing set up, agrees with the reporting path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec/nattel_envelope.h"
#include "model/nattel_event.h"
#include "codec/nattel_reader.h"
#include "natx/natx_json_put.h"
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Counting allocations: the program's malloc family wraps glibc's, so a
 * test can see whether a decode allocates. Not under a sanitizer, which
 * brings its own allocator. */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define COUNTS_ALLOCATIONS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static size_t allocations;
void *malloc(size_t n)
{
    allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    allocations++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    allocations++;
    return __libc_realloc(p, n);
}
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- */
/* Generated documents                                               */
/* ---------------------------------------------------------------- */

static const char *pick(tu_rng *r, const char *const *v, size_t n)
{
    return v[tu_rbelow(r, (unsigned)n)];
}

#define PICK(r, arr) pick((r), (arr), sizeof(arr) / sizeof *(arr))

static const char *const strings[] = {"\"run\"",
                                      "\"info\"",
                                      "\"\"",
                                      "\"caf\xC3\xA9\"",
                                      "\"a\\\"b\"",
                                      "\"\\u0041\"",
                                      "\"x\\u0000\"",
                                      "\"\\ud83d\\ude00\"",
                                      "\"3.12.1\"",
                                      "\"undefined\"",
                                      "\"\xF0\x9F\x98\x80\"",
                                      "\"tab\\t\"",
                                      "\"bad\xC3\""};
static const char *const ints[] = {"0",
                                   "-1",
                                   "87",
                                   "-0",
                                   "12.0",
                                   "1.2e1",
                                   "-2",
                                   "1.5",
                                   "9223372036854775807",
                                   "9223372036854775808",
                                   "007",
                                   "1e400",
                                   "123456789012345678",
                                   "\"5\"",
                                   "null"};
static const char *const sources[] = {"\"agent_toolkit\"",
                                      "\"guardrails\"",
                                      "\"undefined\"",
                                      "\"nope\"",
                                      "\"agent_toolki\"",
                                      "\"agent_toolkitt\"",
                                      "1",
                                      "\"ag\\u0065nt_toolkit\""};
static const char *const statuses[] = {"\"success\"", "\"failure\"",
                                       "\"canceled\"", "\"Success\"", "true"};
static const char *const ws_choices[] = {"", "", "", " ", "\n", " \t"};
/* Whether this document is written with whitespace (set per document). */
static int spaced;

static const char *ws_pick(tu_rng *r)
{
    return spaced ? PICK(r, ws_choices) : "";
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* weird: 1 in `weird` choices may break the schema (0: none do). */
static int odd(tu_rng *r, unsigned weird)
{
    return weird && tu_rbelow(r, weird) == 0;
}

static void gen_params(tu_rng *r, sbuf *b, unsigned weird)
{
    static const char *const wire[] = {
        "nemoSource", "command",  "subcommand", "taskStatus",
        "durationMs", "exitCode", "errorClass", "pythonVersion"};
    static const char *const cname[] = {
        "nemo_source", "command",   "subcommand",  "task_status",
        "duration_ms", "exit_code", "error_class", "python_version"};
    int order[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    if (tu_rbelow(r, 4) == 0) /* shuffled keys: valid, not canonical */
        for (int i = 7; i > 0; i--) {
            int j = (int)tu_rbelow(r, (unsigned)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    int n = odd(r, weird * 2) ? (int)tu_rbelow(r, 9) : 8;
    sb_str(b, "{");
    sb_str(b, ws_pick(r));
    for (int k = 0; k < n; k++) {
        int f = order[k];
        if (k)
            sb_str(b, ",");
        sb_str(b, ws_pick(r));
        sb_str(b, "\"");
        sb_str(b, odd(r, weird * 3) ? cname[f] : wire[f]);
        sb_str(b, "\":");
        sb_str(b, ws_pick(r));
        if (f == 0)
            sb_str(b, odd(r, weird) ? PICK(r, sources) : "\"agent_toolkit\"");
        else if (f == 3)
            sb_str(b, odd(r, weird) ? PICK(r, statuses) : "\"success\"");
        else if (f == 4 || f == 5)
            sb_str(b, odd(r, weird) ? PICK(r, ints) : "1");
        else
            sb_str(b, odd(r, weird) ? PICK(r, strings) : "\"run\"");
        sb_str(b, ws_pick(r));
    }
    if (odd(r, weird * 4))
        sb_str(b, ",\"extra\":1");
    if (odd(r, weird * 4))
        sb_str(b, ",\"command\":\"again\"");
    sb_str(b, "}");
}

static void gen_item(tu_rng *r, sbuf *b, unsigned weird)
{
    static const char *const ts[] = {"\"2026-05-06T17:00:36.979Z\"",
                                     "\"2026-05-06T17:00:36.979\"",
                                     "\"2026-05-06T17:00:36.97\\u0039Z\"", "1"};
    static const char *const names[] = {"\"nat_cli_command\"", "\"other\"",
                                        "\"\"", "\"nat_cli_comman\\u0064\""};
    int order[3] = {0, 1, 2};
    if (tu_rbelow(r, 5) == 0) {
        order[0] = 2;
        order[2] = 0;
    }
    sb_str(b, "{");
    for (int k = 0; k < 3; k++) {
        if (k)
            sb_str(b, ",");
        if (order[k] == 0) {
            sb_str(b, "\"ts\":");
            sb_str(b, odd(r, weird * 2) ? PICK(r, ts) : ts[0]);
        } else if (order[k] == 1) {
            sb_str(b, "\"parameters\":");
            gen_params(r, b, weird * 4);
        } else if (!odd(r, weird * 6)) {
            sb_str(b, "\"name\":");
            sb_str(b, odd(r, weird * 2) ? PICK(r, names) : names[0]);
        } else {
            sb_str(b, "\"nom\":\"x\"");
        }
    }
    sb_str(b, "}");
}

static void gen_envelope(tu_rng *r, sbuf *b, unsigned weird)
{
    sb_str(b, "{");
    for (size_t k = 0; k < NATTEL__ENV_KEYS; k++) {
        const nattel__env_key *key = &nattel__env_keys[k];
        if (odd(r, weird * 20))
            continue; /* missing */
        if (k)
            sb_str(b, ",");
        sb_str(b, ws_pick(r));
        sb_str(b, "\"");
        sb_str(b, key->key);
        sb_str(b, "\":");
        if (key->rule == NATTEL__ENV_EVENTS) {
            sb_str(b, "[");
            unsigned n = odd(r, weird * 10) ? 0 : 1 + tu_rbelow(r, 4);
            if (tu_rbelow(r, 40) == 0)
                n = 60; /* past the sender's cap: valid on receipt */
            for (unsigned i = 0; i < n; i++) {
                if (i)
                    sb_str(b, ",");
                gen_item(r, b, weird);
            }
            sb_str(b, "]");
        } else if (key->rule == NATTEL__ENV_FIXED) {
            sb_str(b, "\"");
            sb_str(b, odd(r, weird * 15) ? "other" : key->fixed);
            sb_str(b, "\"");
        } else if (key->rule == NATTEL__ENV_TIMESTAMP) {
            sb_str(b, odd(r, weird * 10) ? "\"x\""
                                         : "\"2026-05-06T17:06:16.365Z\"");
        } else if (key->val == NATTEL__EV_SCHEMA_VER) {
            sb_str(b, odd(r, weird * 10) ? "\"1.4\"" : "\"1.5\"");
        } else {
            sb_str(b, odd(r, weird) ? PICK(r, strings) : "\"v\"");
        }
    }
    sb_str(b, "}");
}

static void mutate(tu_rng *r, sbuf *b)
{
    static const char alphabet[] = "{}[]\",:\\ 0-1eE.tfnu\x01\x80\xC3\xA9";
    if (b->n == 0)
        return;
    size_t at = tu_rbelow(r, (unsigned)b->n);
    switch (tu_rbelow(r, 4)) {
    case 0: /* flip */
        b->p[at] = alphabet[tu_rbelow(r, sizeof alphabet - 1)];
        break;
    case 1: /* delete */
        memmove(b->p + at, b->p + at + 1, b->n - at);
        b->n--;
        break;
    case 2: /* truncate */
        b->n = at;
        b->p[at] = '\0';
        break;
    default: { /* insert */
        char c = alphabet[tu_rbelow(r, sizeof alphabet - 1)];
        sb_put(b, " ", 1);
        memmove(b->p + at + 1, b->p + at, b->n - at - 1);
        b->p[at] = c;
    }
    }
}

/* ---------------------------------------------------------------- */
/* One document through both paths                                   */
/* ---------------------------------------------------------------- */

typedef struct outcome {
    nattel_code rc;
    char *problems; /* all of them, one per line */
    char *canonical;
    int fast, canon, tidy;
} outcome;

static char *join_problems(const nattel_problems *p)
{
    sbuf b = {0};
    sb_str(&b, "");
    for (size_t i = 0; i < p->count; i++) {
        sb_str(&b, p->items[i].path);
        sb_str(&b, ": ");
        sb_str(&b, p->items[i].message);
        sb_str(&b, "\n");
    }
    return b.p;
}

static outcome run(nattel__reader *r, int path, int as_line, nattel_mode mode,
                   const char *doc, size_t n)
{
    outcome o = {0};
    nattel_problems p;
    nattel_problems_init(&p);
    const nattel_event *ev = NULL;
    const nattel_envelope *env = NULL;
    r->path = path;
    if (as_line)
        o.rc = nattel__reader_line(r, &nattel_cli_command_type, mode, doc, n,
                                   &ev, &env, &p);
    else
        o.rc = nattel__reader_envelope(r, mode, doc, n, &env, &p);
    o.fast = r->fast;
    o.canon = r->canon;
    o.tidy = r->tidy;
    o.problems = join_problems(&p);
    if (!o.rc) {
        nattel_buf out = NATTEL_BUF_INIT;
        nattel_error err;
        nattel_code rc = env ? nattel_envelope_write_json(env, -1, &out, &err)
                             : nattel_event_write_json(ev, &out, &err);
        if (rc)
            fail_msg("accepted but not written (%s): %s", err.message, doc);
        o.canonical = strdup(out.data);
        nattel_buf_free(&out);
    }
    nattel_problems_free(&p);
    return o;
}

static void outcome_free(outcome *o)
{
    free(o->problems);
    free(o->canonical);
}

typedef struct tally {
    unsigned docs, fast, fast_canon, fast_tidy, accepted;
} tally;

static void compare_paths(nattel__reader *r, int as_line, nattel_mode mode,
                          const char *doc, size_t n, tally *t)
{
    outcome both = run(r, 0, as_line, mode, doc, n);
    outcome slow = run(r, 1, as_line, mode, doc, n);
    outcome fast = run(r, 2, as_line, mode, doc, n);
    if (both.rc != slow.rc || strcmp(both.problems, slow.problems))
        fail_msg("verdicts differ (%s, fast path %s): reader %s\n%s"
                 "reporting path %s\n%s",
                 mode == NATTEL_MODE_WIRE ? "wire" : "model",
                 both.fast ? "took it" : "handed over",
                 nattel_code_name(both.rc), both.problems,
                 nattel_code_name(slow.rc), slow.problems);
    if (!both.rc && strcmp(both.canonical, slow.canonical))
        fail_msg("decoded values differ:\n%s\n%s\nfrom %s", both.canonical,
                 slow.canonical, doc);
    if (!fast.rc) { /* the fast path alone took it */
        if (slow.rc)
            fail_msg("the fast path accepted what the reporting path refuses "
                     "(%s): %s",
                     slow.problems, doc);
        if (strcmp(fast.canonical, slow.canonical))
            fail_msg("fast path values differ:\n%s\n%s", fast.canonical,
                     slow.canonical);
        if (fast.canon &&
            (strlen(fast.canonical) != n || memcmp(fast.canonical, doc, n)))
            fail_msg("called canonical as written, but written as\n%s\nnot\n%s",
                     fast.canonical, doc);
        if (fast.tidy) {
            char *tidied = malloc(n + 1);
            assert_non_null(tidied);
            size_t m = nattel__fastpath_tidy(doc, n, tidied);
            if (strlen(fast.canonical) != m ||
                memcmp(fast.canonical, tidied, m))
                fail_msg("called canonical but for whitespace, but written "
                         "as\n%s\nnot\n%.*s",
                         fast.canonical, (int)m, tidied);
            free(tidied);
        }
        if (fast.canon && !fast.tidy)
            fail_msg("canonical as written but not tidy: %s", doc);
        t->fast++;
        t->fast_canon += (unsigned)fast.canon;
        t->fast_tidy += (unsigned)fast.tidy;
    }
    t->docs++;
    t->accepted += !both.rc;
    outcome_free(&both);
    outcome_free(&slow);
    outcome_free(&fast);
}

static void test_verdicts_never_differ(void **state)
{
    (void)state;
    tu_rng r = {0x9E3779B97F4A7C15ull};
    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    nattel__reader rd;
    nattel__reader_init(&rd, reg);
    tally t = {0};
    for (int i = 0; i < 6000; i++) {
        sbuf b = {0};
        int env = tu_rbelow(&r, 2);
        unsigned weird = tu_rbelow(&r, 2) ? 0 : 2 + tu_rbelow(&r, 4);
        spaced = tu_rbelow(&r, 2);
        if (env)
            gen_envelope(&r, &b, weird);
        else
            gen_params(&r, &b, weird);
        if (tu_rbelow(&r, 3) == 0) {
            unsigned m = 1 + tu_rbelow(&r, 3);
            for (unsigned k = 0; k < m; k++)
                mutate(&r, &b);
        }
        nattel_mode mode =
            tu_rbelow(&r, 4) ? NATTEL_MODE_WIRE : NATTEL_MODE_MODEL;
        compare_paths(&rd, 1, mode, b.p, b.n, &t);
        if (env)
            compare_paths(&rd, 0, mode, b.p, b.n, &t);
        free(b.p);
    }
    nattel__reader_release(&rd);
    nattel_registry_free(reg);
    print_message("%u documents: %u accepted, %u by the fast path alone "
                  "(%u canonical as written, %u but for whitespace)\n",
                  t.docs, t.accepted, t.fast, t.fast_canon,
                  t.fast_tidy - t.fast_canon);
    /* The generator must exercise both paths, or the test shows nothing. */
    assert_true(t.fast > t.docs / 10);
    assert_true(t.fast_canon > 0);
    assert_true(t.fast_tidy > t.fast_canon);
    assert_true(t.accepted > t.fast);
    assert_true(t.docs - t.accepted > t.docs / 10);
}

/* The reader's objects are reused: a long run of documents of varying
 * shape must not leak state from one to the next. */
static void test_reuse_between_documents(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    nattel__reader rd;
    nattel__reader_init(&rd, reg);
    const char *a = "{\"nemoSource\":\"guardrails\",\"command\":\"a\","
                    "\"subcommand\":\"b\",\"taskStatus\":\"failure\","
                    "\"durationMs\":5,\"exitCode\":2,\"errorClass\":\"E\","
                    "\"pythonVersion\":\"3\"}";
    const char *model = "{\"command\":\"run\",\"task_status\":\"success\","
                        "\"python_version\":\"3.12\"}";
    const nattel_event *ev = NULL;
    assert_int_equal(nattel__reader_event(&rd, &nattel_cli_command_type,
                                          NATTEL_MODE_WIRE, a, strlen(a), &ev,
                                          NULL),
                     NATTEL_OK);
    assert_true(rd.fast && rd.canon);
    assert_int_equal(nattel__reader_event(&rd, &nattel_cli_command_type,
                                          NATTEL_MODE_MODEL, model,
                                          strlen(model), &ev, NULL),
                     NATTEL_OK);
    assert_true(rd.fast);
    assert_false(rd.canon); /* defaults filled in */
    /* Defaults, not the previous document's values. */
    assert_string_equal(nattel_event_get_string(ev, "subcommand"), "undefined");
    assert_string_equal(nattel_event_get_string(ev, "errorClass"), "undefined");
    int64_t v = 0;
    assert_int_equal(nattel_event_get_int(ev, "durationMs", &v), NATTEL_OK);
    assert_int_equal(v, -1);
    assert_int_equal(ev->values[0].e, 7); /* agent_toolkit */
    nattel__reader_release(&rd);
    nattel_registry_free(reg);
}

/* Canonical as written: only when the writer would write these bytes. */
static void test_canonical_as_written(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        int canon;
    } cases[] = {
        {"{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\",\"subcommand\":"
         "\"x\",\"taskStatus\":\"success\",\"durationMs\":0,\"exitCode\":-3,"
         "\"errorClass\":\"E\",\"pythonVersion\":\"3\"}",
         1},
        {"{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\",\"subcommand\":"
         "\"x\",\"taskStatus\":\"success\",\"durationMs\":-0,\"exitCode\":-3,"
         "\"errorClass\":\"E\",\"pythonVersion\":\"3\"}",
         0},
        {"{\"command\":\"run\",\"nemoSource\":\"agent_toolkit\",\"subcommand\":"
         "\"x\",\"taskStatus\":\"success\",\"durationMs\":0,\"exitCode\":-3,"
         "\"errorClass\":\"E\",\"pythonVersion\":\"3\"}",
         0},
        {"{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\",\"subcommand\":"
         "\"x\",\"taskStatus\":\"success\",\"durationMs\":0,\"exitCode\":-3,"
         "\"errorClass\":\"E\",\"pythonVersion\":\"3\"} ",
         0},
    };
    nattel__reader rd;
    nattel__reader_init(&rd, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const nattel_event *ev = NULL;
        const char *doc = cases[i].doc;
        assert_int_equal(nattel__reader_event(&rd, &nattel_cli_command_type,
                                              NATTEL_MODE_WIRE, doc,
                                              strlen(doc), &ev, NULL),
                         NATTEL_OK);
        assert_true(rd.fast);
        if (rd.canon != cases[i].canon)
            fail_msg("case %zu: canonical as written %d, want %d", i, rd.canon,
                     cases[i].canon);
    }
    nattel__reader_release(&rd);
}

/* Steady state: once the reader's objects are warm, decoding allocates
 * nothing, whatever mix of envelopes and events comes. */
static void test_no_allocation_in_steady_state(void **state)
{
    (void)state;
#ifndef COUNTS_ALLOCATIONS
    print_message("allocations are not counted in this build: skipped\n");
    skip();
#else
    tu_rng r = {42};
    nattel_registry *reg = nattel_registry_new();
    nattel__reader rd;
    nattel__reader_init(&rd, reg);
    char *docs[64];
    size_t lens[64];
    for (int i = 0; i < 64; i++) {
        sbuf b = {0};
        spaced = i & 1;
        if (i % 3 == 0)
            gen_envelope(&r, &b, 0);
        else
            gen_params(&r, &b, 0);
        if (i == 5) { /* a long string: past the event's inline arena */
            b.n = 0;
            sb_str(&b, "{\"nemoSource\":\"agent_toolkit\",\"command\":\"");
            for (int k = 0; k < 100; k++)
                sb_str(&b, "0123456789");
            sb_str(&b, "\",\"subcommand\":\"u\",\"taskStatus\":\"success\","
                       "\"durationMs\":1,\"exitCode\":0,\"errorClass\":\"u\","
                       "\"pythonVersion\":\"3\"}");
        }
        docs[i] = b.p;
        lens[i] = b.n;
    }
    size_t fast = 0, before = 0;
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            before = allocations; /* round 0 warmed the reader up */
        for (int i = 0; i < 64; i++) {
            const nattel_event *ev;
            const nattel_envelope *env;
            nattel_code rc = nattel__reader_line(&rd, &nattel_cli_command_type,
                                                 NATTEL_MODE_WIRE, docs[i],
                                                 lens[i], &ev, &env, NULL);
            if (rc)
                fail_msg("document %d refused: %s", i, docs[i]);
            fast += (size_t)rd.fast;
        }
    }
    size_t during = allocations - before;
    assert_int_equal(fast, 3 * 64); /* all by the fast path */
    if (during)
        fail_msg("%zu allocations in 128 warm decodes", during);
    for (int i = 0; i < 64; i++)
        free(docs[i]);
    nattel__reader_release(&rd);
    nattel_registry_free(reg);
#endif
}

/* ---------------------------------------------------------------- */
/* Duplicate keys                                                    */
/* ---------------------------------------------------------------- */

static char *many_keys(size_t n, int same, size_t *len)
{
    sbuf b = {0};
    char key[40];
    sb_str(&b, "{");
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s\"k%zu\":1", i ? "," : "",
                 same ? (size_t)7 : i);
        sb_str(&b, key);
    }
    sb_str(&b, "}");
    *len = b.n;
    return b.p;
}

static void test_duplicate_keys_linear(void **state)
{
    (void)state;
    for (int same = 0; same < 2; same++) {
        size_t n;
        char *doc = many_keys(80000, same, &n);
        assert_true(n < (1u << 20)); /* within validate's line limit */
        nattel_problems p;
        nattel_problems_init(&p);
        double t0 = now_s();
        nattel_code rc = nattel_event_from_json(&nattel_cli_command_type, doc,
                                                n, NATTEL_MODE_WIRE, NULL, &p);
        double took = now_s() - t0;
        assert_int_equal(rc, NATTEL_ESCHEMA);
        /* All problems counted (only the first few kept). */
        assert_true(p.count + p.dropped >= 80000);
        if (same) {
            assert_string_equal(p.items[0].message,
                                "unknown field (not in nat_cli_command)");
            assert_string_equal(p.items[1].message, "duplicate key");
        } else {
            assert_string_equal(p.items[1].message,
                                "unknown field (not in nat_cli_command)");
        }
        /* Quadratic took 10 s here; a sort takes milliseconds. The bound
         * is a hundred times that, for a loaded machine. */
        if (took > 3.0)
            fail_msg("80,000 keys (same=%d) took %.1f s", same, took);
        nattel_problems_free(&p);
        free(doc);
    }
    /* Escaped spellings of one key are the same key. */
    const char *esc = "{\"command\":\"a\",\"comm\\u0061nd\":\"b\"}";
    nattel_problems p;
    nattel_problems_init(&p);
    assert_int_equal(nattel_event_from_json(&nattel_cli_command_type, esc,
                                            strlen(esc), NATTEL_MODE_WIRE, NULL,
                                            &p),
                     NATTEL_ESCHEMA);
    int dup = 0;
    for (size_t i = 0; i < p.count; i++)
        dup |= !strcmp(p.items[i].message, "duplicate key");
    assert_true(dup);
    nattel_problems_free(&p);
}

/* ---------------------------------------------------------------- */
/* Locale                                                            */
/* ---------------------------------------------------------------- */

static const nattel_field num_fields[] = {
    {.c_name = "ratio", .wire_name = "ratio", .kind = NATTEL_KIND_NUMBER}};
static const nattel_event_type num_type = {.name =
                                               NATTEL_EVENT_NAME("ratio_event"),
                                           .schema_version = "1.5",
                                           .description = "",
                                           .fields = num_fields,
                                           .field_count = 1};

static void test_numbers_in_every_locale(void **state)
{
    (void)state;
    if (!tu_comma_locale()) {
        print_message("no locale with a ',' decimal point (none installed, "
                      "localedef failed): skipped\n");
        skip();
    }
    const char *doc = "{\"ratio\":1.5}";
    nattel_event *ev = NULL;
    nattel_problems p;
    nattel_problems_init(&p);
    assert_int_equal(nattel_event_from_json(&num_type, doc, strlen(doc),
                                            NATTEL_MODE_WIRE, &ev, &p),
                     NATTEL_OK);
    assert_true(ev->values[0].d == 1.5);
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err;
    assert_int_equal(nattel_event_write_json(ev, &out, &err), NATTEL_OK);
    assert_string_equal(out.data, doc);
    nattel_event_free(ev);
    nattel_buf_free(&out);
    assert_true(natx_json_strtod("2.25e1") == 22.5);
    /* The host's locale is left as it was. */
    assert_string_equal(localeconv()->decimal_point, ",");
    nattel_problems_free(&p);
    setlocale(LC_ALL, "C");
}

/* An envelope of two event types: the parameters come before the name,
 * so the reader decodes them as the item before's type and again when the
 * name says otherwise. */
static const nattel_field pair_fields[] = {
    {.c_name = "left", .wire_name = "left", .kind = NATTEL_KIND_STRING},
    {.c_name = "right", .wire_name = "right", .kind = NATTEL_KIND_INT64}};
static const nattel_event_type pair_type = {.name =
                                                NATTEL_EVENT_NAME("pair_event"),
                                            .schema_version = "1.5",
                                            .description = "",
                                            .fields = pair_fields,
                                            .field_count = 2};

static void test_two_types_in_one_envelope(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    assert_int_equal(nattel_registry_add(reg, &pair_type, NULL), NATTEL_OK);
    nattel__reader rd;
    nattel__reader_init(&rd, reg);
    static const char *const items[] = {
        "{\"ts\":\"2026-05-06T17:00:36.979Z\",\"parameters\":{\"nemoSource\":"
        "\"agent_toolkit\",\"command\":\"run\",\"subcommand\":\"u\","
        "\"taskStatus\":\"success\",\"durationMs\":1,\"exitCode\":0,"
        "\"errorClass\":\"u\",\"pythonVersion\":\"3\"},\"name\":"
        "\"nat_cli_command\"}",
        "{\"ts\":\"2026-05-06T17:00:37.000Z\",\"parameters\":{\"left\":\"l\","
        "\"right\":2},\"name\":\"pair_event\"}",
        "{\"name\":\"pair_event\",\"parameters\":{\"left\":\"m\",\"right\":3},"
        "\"ts\":\"2026-05-06T17:00:38.000Z\"}",
        /* a pair_event's parameters that nat_cli_command would refuse */
        "{\"ts\":\"2026-05-06T17:00:39.000Z\",\"parameters\":{\"left\":\"x\","
        "\"right\":4},\"name\":\"pair_event\"}"};
    static const int orders[][4] = {
        {0, 1, 2, 3}, {1, 0, 3, 2}, {3, 3, 0, 0}, {0, 3, 1, 0}};
    tally t = {0};
    for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
        sbuf b = {0};
        sb_str(&b, "{");
        for (size_t k = 0; nattel__env_keys[k].rule != NATTEL__ENV_EVENTS;
             k++) {
            const nattel__env_key *key = &nattel__env_keys[k];
            char kv[128];
            const char *v = key->fixed                          ? key->fixed
                            : key->val == NATTEL__EV_SCHEMA_VER ? "1.5"
                            : key->rule == NATTEL__ENV_TIMESTAMP
                                ? "2026-05-06T17:06:16.365Z"
                                : "v";
            snprintf(kv, sizeof kv, "\"%s\":\"%s\",", key->key, v);
            sb_str(&b, kv);
        }
        sb_str(&b, "\"events\":[");
        for (int i = 0; i < 4; i++) {
            if (i)
                sb_str(&b, ",");
            sb_str(&b, items[orders[o][i]]);
        }
        sb_str(&b, "]}");
        compare_paths(&rd, 0, NATTEL_MODE_WIRE, b.p, b.n, &t);
        free(b.p);
    }
    assert_int_equal(t.accepted, 4);
    assert_int_equal(t.fast, 4); /* all taken by the fast path */
    nattel__reader_release(&rd);
    nattel_registry_free(reg);
}

/* ---------------------------------------------------------------- */
/* validate's line                                                   */
/* ---------------------------------------------------------------- */

static void test_line_dispatch(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    nattel__reader rd;
    nattel__reader_init(&rd, reg);
    const nattel_event *ev;
    const nattel_envelope *env;
    nattel_problems p;
    nattel_problems_init(&p);
    /* Starts like an envelope, is not one: the root has no "events". */
    const char *a = "{\"clientId\":\"x\",\"command\":\"run\"}";
    assert_int_equal(nattel__reader_line(&rd, &nattel_cli_command_type,
                                         NATTEL_MODE_WIRE, a, strlen(a), &ev,
                                         &env, &p),
                     NATTEL_ESCHEMA);
    char *all = join_problems(&p);
    assert_non_null(strstr(all, "clientId: unknown field"));
    free(all);
    /* Parameters with an "events" key: judged as an envelope. */
    nattel_problems_clear(&p);
    const char *b = "{\"command\":\"run\",\"events\":[]}";
    assert_int_equal(nattel__reader_line(&rd, &nattel_cli_command_type,
                                         NATTEL_MODE_WIRE, b, strlen(b), &ev,
                                         &env, &p),
                     NATTEL_ESCHEMA);
    all = join_problems(&p);
    assert_non_null(strstr(all, "unknown field (not in the envelope)"));
    free(all);
    /* A syntax error: one problem at "$" with its byte offset. */
    nattel_problems_clear(&p);
    const char *c = "{\"command\":\"run\",}";
    assert_int_equal(nattel__reader_line(&rd, &nattel_cli_command_type,
                                         NATTEL_MODE_WIRE, c, strlen(c), &ev,
                                         &env, &p),
                     NATTEL_EPARSE);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.items[0].path, "$");
    assert_non_null(strstr(p.items[0].message, "at byte 17"));
    nattel_problems_free(&p);
    nattel__reader_release(&rd);
    nattel_registry_free(reg);
}

/* ---------------------------------------------------------------- */
/* One-shot decoding: the straight path against the reporting path    */
/* ---------------------------------------------------------------- */

/* The written form of ev, or of the refusal: code and problems. */
static char *one_shot_outcome(nattel_code rc, const nattel_event *ev,
                              const nattel_problems *p)
{
    sbuf b = {0};
    sb_str(&b, nattel_code_name(rc));
    sb_str(&b, "\n");
    char *probs = join_problems(p);
    sb_str(&b, probs);
    free(probs);
    if (!rc && ev) {
        nattel_buf out = NATTEL_BUF_INIT;
        nattel_error err;
        if (nattel_event_write_json(ev, &out, &err))
            fail_msg("accepted but not written: %s", err.message);
        sb_str(&b, out.data);
        nattel_buf_free(&out);
    }
    return b.p;
}

/* nattel_event_from_json and nattel_event_from_json_into (which try the
 * straight path first, with nothing set up) against the reporting path
 * alone: the same code, problems and values. `fill` is kept from
 * document to document, as a caller keeps it. */
static void compare_one_shot(nattel_event *fill, nattel_mode mode,
                             const char *doc, size_t n, unsigned *straight)
{
    nattel__reader rd;
    nattel__reader_init(&rd, NULL);
    rd.path = 1;
    nattel_problems p;
    nattel_problems_init(&p);
    const nattel_event *sev = NULL;
    nattel_code rc = nattel__reader_event(&rd, &nattel_cli_command_type, mode,
                                          doc, n, &sev, &p);
    char *want = one_shot_outcome(rc, sev, &p);
    nattel__reader_release(&rd);

    nattel_problems_clear(&p);
    nattel_event *ev = NULL;
    rc =
        nattel_event_from_json(&nattel_cli_command_type, doc, n, mode, &ev, &p);
    char *got = one_shot_outcome(rc, ev, &p);
    if (strcmp(got, want))
        fail_msg("nattel_event_from_json:\n%s\nreporting path:\n%s\nof %.*s",
                 got, want, (int)n, doc);
    free(got);
    nattel_event_free(ev);

    nattel_problems_clear(&p);
    rc = nattel_event_from_json_into(fill, doc, n, mode, &p);
    got = one_shot_outcome(rc, fill, &p);
    if (strcmp(got, want))
        fail_msg("nattel_event_from_json_into:\n%s\nreporting path:\n%s\n"
                 "of %.*s",
                 got, want, (int)n, doc);
    free(got);
    free(want);
    nattel_problems_free(&p);

    nattel_event *tmp = nattel_event_new(&nattel_cli_command_type);
    assert_non_null(tmp);
    *straight += (unsigned)nattel__fastpath_straight(&nattel_cli_command_type,
                                                     doc, n, tmp);
    nattel_event_free(tmp);
}

static void test_one_shot_agrees(void **state)
{
    (void)state;
    tu_rng r = {0xD1B54A32D192ED03ull};
    nattel_event *fill = nattel_event_new(&nattel_cli_command_type);
    assert_non_null(fill);
    unsigned docs = 0, straight = 0;
    for (int i = 0; i < 4000; i++, docs++) {
        sbuf b = {0};
        unsigned weird = tu_rbelow(&r, 2) ? 0 : 2 + tu_rbelow(&r, 4);
        spaced = tu_rbelow(&r, 4) == 0;
        gen_params(&r, &b, weird);
        if (tu_rbelow(&r, 3) == 0) {
            unsigned m = 1 + tu_rbelow(&r, 2);
            for (unsigned k = 0; k < m; k++)
                mutate(&r, &b);
        }
        nattel_mode mode =
            tu_rbelow(&r, 4) ? NATTEL_MODE_WIRE : NATTEL_MODE_MODEL;
        compare_one_shot(fill, mode, b.p, b.n, &straight);
        free(b.p);
    }
    /* Where the straight path gives up, byte by byte: every prefix of a
     * canonical document, and each value replaced by what only the
     * general loop or the reporting path may judge. */
    static const char *const canon =
        "{\"nemoSource\":\"agent_toolkit\",\"command\":\"info\","
        "\"subcommand\":\"list-components\",\"taskStatus\":\"failure\","
        "\"durationMs\":87,\"exitCode\":1,\"errorClass\":\"ValueError\","
        "\"pythonVersion\":\"3.12.1\"}";
    for (size_t n = 0; n <= strlen(canon); n++, docs++)
        compare_one_shot(fill, NATTEL_MODE_WIRE, canon, n, &straight);
    static const char *const values[] = {"-0",
                                         "01",
                                         "-01",
                                         "1.0",
                                         "1e3",
                                         "-",
                                         "-2",
                                         "-1",
                                         "2.5",
                                         "true",
                                         "null",
                                         "\"x\"",
                                         "123456789012345678",
                                         "1234567890123456789",
                                         "9223372036854775807",
                                         "\"caf\xC3\xA9\"",
                                         "\"\xC3\"",
                                         "\"a\\u0041\"",
                                         "\"tab\there\"",
                                         "\"\"",
                                         "\"failure\"",
                                         "\"failur\"",
                                         "\"failures\"",
                                         "\"FAILURE\"",
                                         "\"undefined\"",
                                         "\"agent_toolkit\"",
                                         "\"3.12.1\" ",
                                         " 5"};
    static const char *const keys[] = {"durationMs", "exitCode", "command",
                                       "taskStatus", "nemoSource"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        for (size_t v = 0; v < sizeof values / sizeof *values; v++, docs++) {
            char doc[512];
            const char *at = strstr(canon, keys[k]) + strlen(keys[k]) + 2;
            const char *end = at;
            while (*end != ',' && *end != '}')
                end++;
            snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - canon), canon,
                     values[v], end);
            compare_one_shot(fill, NATTEL_MODE_WIRE, doc, strlen(doc),
                             &straight);
            compare_one_shot(fill, NATTEL_MODE_MODEL, doc, strlen(doc),
                             &straight);
        }
    }
    nattel_event_free(fill);
    print_message("%u documents one-shot, %u of them straight\n", docs,
                  straight);
    /* Both ways must be exercised, or the test shows nothing. */
    assert_true(straight > docs / 20);
    assert_true(straight < docs / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts_never_differ),
        cmocka_unit_test(test_reuse_between_documents),
        cmocka_unit_test(test_canonical_as_written),
        cmocka_unit_test(test_no_allocation_in_steady_state),
        cmocka_unit_test(test_duplicate_keys_linear),
        cmocka_unit_test(test_numbers_in_every_locale),
        cmocka_unit_test(test_two_types_in_one_envelope),
        cmocka_unit_test(test_line_dispatch),
        cmocka_unit_test(test_one_shot_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
