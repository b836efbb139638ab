/*
 * bench_codec: ns per event inside the library for one nat_cli_command,
 * and ns per envelope of the flusher's body.
 *
 *   encode    nattel_event_write_json into a reused nattel_buf
 *   decode    the public one-shot nattel_event_from_json (wire mode) of
 *             the same event's JSON, then nattel_event_free
 *   fill      nattel_event_from_json_into: the same into one event the
 *             caller keeps from document to document
 *   reader    the public reader (nattel_reader_read) kept across
 *             documents, as `validate` and `serve` keep it
 *   env1, env50
 *             the body the flusher sends for 1 and 50 spooled payloads of
 *             one event each: each entry's envelope key, then the merged
 *             envelope (nattel__envelope_key, nattel__envelope_merge)
 *   write1, write50
 *             nattel_envelope_write_json of an envelope of 1 and 50 events
 *             (an in-process client's payload)
 *
 * Timed (default): each loop runs in batches until at least --seconds
 * (default 1.0) of CLOCK_MONOTONIC time have passed; the best of --rounds
 * (default 3) is reported. --machine prints "key value" lines for
 * bench/run.sh. --only NAME runs one measure.
 *
 * Counted: --count N runs each chosen measure exactly N times and prints
 * nothing else, for a profiler: the instructions of one event are
 *   (callgrind of --only NAME --count N) - (--only NAME --count 0), / N
 * (bench/run.sh does this).
 */
#include <nattel/nattel.h>
#include <nattel/reader.h>

#include "delivery/nattel_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_codec: %s: %s\n", what, why);
    exit(1);
}

static void check(nattel_code rc, const char *what)
{
    if (rc)
        die(what, nattel_code_name(rc));
}

/* Keeps the optimizer from dropping work whose result is unused. */
static volatile size_t sink;

/* What every measure reads or writes, built once. */
typedef struct fixture {
    nattel_event *ev;
    nattel_buf json; /* the event's wire JSON */
    nattel_buf out;  /* reused output */
    nattel_event *fill;
    nattel_reader *reader;
    nattel_envelope *env[2]; /* 1 and 50 events */
    nattel_buf spooled;      /* one spooled payload (an envelope of ev) */
    const char *jsons[NATTEL_ENVELOPE_MAX_EVENTS];
    size_t lens[NATTEL_ENVELOPE_MAX_EVENTS];
} fixture;

static void one_encode(fixture *f)
{
    nattel_buf_reset(&f->out);
    check(nattel_event_write_json(f->ev, &f->out, NULL), "encode");
    sink += f->out.len;
}

static void one_decode(fixture *f)
{
    nattel_event *ev = NULL;
    check(nattel_event_from_json(&nattel_cli_command_type, f->json.data,
                                 f->json.len, NATTEL_MODE_WIRE, &ev, NULL),
          "nattel_event_from_json");
    sink += (size_t)nattel_event_type_of(ev);
    nattel_event_free(ev);
}

static void one_fill(fixture *f)
{
    check(nattel_event_from_json_into(f->fill, f->json.data, f->json.len,
                                      NATTEL_MODE_WIRE, NULL),
          "nattel_event_from_json_into");
    sink += (size_t)nattel_event_type_of(f->fill);
}

static void one_reader(fixture *f)
{
    nattel_doc_kind kind;
    check(nattel_reader_read(f->reader, &nattel_cli_command_type,
                             NATTEL_MODE_WIRE, f->json.data, f->json.len, &kind,
                             NULL),
          "nattel_reader_read");
    sink += (size_t)nattel_reader_event(f->reader);
}

/* The flusher's work for n spooled payloads: each one's key, the body. */
static void flusher_body(fixture *f, size_t n)
{
    nattel_buf key = NATTEL_BUF_INIT;
    size_t events = 0;
    for (size_t i = 0; i < n; i++) {
        nattel_buf_reset(&key);
        check(nattel__envelope_key(f->jsons[i], f->lens[i], &key, NULL, NULL),
              "nattel__envelope_key");
    }
    nattel_buf_free(&key);
    nattel_buf_reset(&f->out);
    check(nattel__envelope_merge(f->jsons, f->lens, n, 1700000000123, &f->out,
                                 &events, NULL),
          "nattel__envelope_merge");
    sink += f->out.len + events;
}

static void one_env1(fixture *f)
{
    flusher_body(f, 1);
}
static void one_env50(fixture *f)
{
    flusher_body(f, 50);
}

static void write_env(fixture *f, int which)
{
    nattel_buf_reset(&f->out);
    check(
        nattel_envelope_write_json(f->env[which], 1700000000123, &f->out, NULL),
        "nattel_envelope_write_json");
    sink += f->out.len;
}

static void one_write1(fixture *f)
{
    write_env(f, 0);
}
static void one_write50(fixture *f)
{
    write_env(f, 1);
}

typedef struct measure {
    const char *name;
    void (*one)(fixture *);
    const char *label;
} measure;

static const measure measures[] = {
    {"encode", one_encode, "encode (write_json)"},
    {"decode", one_decode, "one-shot nattel_event_from_json"},
    {"fill", one_fill, "nattel_event_from_json_into"},
    {"reader", one_reader, "reused nattel_reader"},
    {"env1", one_env1, "flusher body, 1 event (ns/envelope)"},
    {"env50", one_env50, "flusher body, 50 events (ns/envelope)"},
    {"write1", one_write1, "envelope_write_json, 1 event"},
    {"write50", one_write50, "envelope_write_json, 50 events"},
};
#define NMEASURES (sizeof measures / sizeof measures[0])

static double timed(const measure *m, fixture *f, double min_s,
                    unsigned long long *count)
{
    unsigned long long n = 0;
    double t0 = now_s(), t;
    do {
        for (unsigned k = 0; k < 200; k++)
            m->one(f);
        n += 200;
        t = now_s() - t0;
    } while (t < min_s);
    *count = n;
    return t * 1e9 / (double)n;
}

static nattel_event *sample_event(void)
{
    /* The event the upstream tests use as their typical failure case. */
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "info";
    c.subcommand = "list-components";
    c.task_status = NATTEL_TASK_STATUS_FAILURE;
    c.duration_ms = 87;
    c.exit_code = 1;
    c.error_class = "ValueError";
    c.python_version = "3.12.1";
    nattel_error err;
    nattel_event *ev = NULL;
    if (nattel_cli_command_event(&c, &ev, &err))
        die("nattel_cli_command_event", err.message);
    return ev;
}

static nattel_envelope *sample_envelope(size_t n)
{
    nattel_envelope *env = nattel_envelope_new("1.4.0", "bench-session");
    if (!env)
        die("nattel_envelope_new", "out of memory");
    for (size_t i = 0; i < n; i++) {
        nattel_event *ev = sample_event();
        check(nattel_envelope_add(env, ev, 1700000000000 + (int64_t)i, NULL),
              "nattel_envelope_add");
    }
    return env;
}

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ev = sample_event();
    check(nattel_event_write_json(f->ev, &f->json, NULL), "encode");
    f->fill = nattel_event_new(&nattel_cli_command_type);
    f->reader = nattel_reader_new(NULL);
    if (!f->fill || !f->reader)
        die("setup", "out of memory");
    f->env[0] = sample_envelope(1);
    f->env[1] = sample_envelope(NATTEL_ENVELOPE_MAX_EVENTS);
    check(
        nattel_envelope_write_json(f->env[0], 1700000000000, &f->spooled, NULL),
        "spooled payload");
    for (size_t i = 0; i < NATTEL_ENVELOPE_MAX_EVENTS; i++) {
        f->jsons[i] = f->spooled.data;
        f->lens[i] = f->spooled.len;
    }
}

static void fixture_free(fixture *f)
{
    nattel_event_free(f->ev);
    nattel_event_free(f->fill);
    nattel_reader_free(f->reader);
    nattel_envelope_free(f->env[0]);
    nattel_envelope_free(f->env[1]);
    nattel_buf_free(&f->json);
    nattel_buf_free(&f->out);
    nattel_buf_free(&f->spooled);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_codec [--seconds S] [--rounds N] [--machine] "
                    "[--count N] [--only NAME]\nNAME:");
    for (size_t i = 0; i < NMEASURES; i++)
        fprintf(stderr, " %s", measures[i].name);
    fprintf(stderr, "\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double min_s = 1.0;
    int rounds = 3, machine = 0;
    long count = -1;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            min_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = atol(argv[++i]);
        else if (!strcmp(argv[i], "--machine"))
            machine = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else
            usage();
    }
    int known = !only;
    for (size_t m = 0; m < NMEASURES; m++)
        known |= only && !strcmp(only, measures[m].name);
    if (min_s <= 0 || rounds < 1 || !known)
        usage();

    fixture f;
    fixture_init(&f);
    if (machine)
        printf("event %s\nevent_bytes %zu\n", f.json.data, f.json.len);
    else if (count < 0)
        printf("event: %s (%zu bytes)\n", f.json.data, f.json.len);
    for (size_t m = 0; m < NMEASURES; m++) {
        const measure *ms = &measures[m];
        if (only && strcmp(only, ms->name))
            continue;
        if (count >= 0) {
            for (long k = 0; k < count; k++)
                ms->one(&f);
            continue;
        }
        double best = 1e300;
        unsigned long long n = 0, bn = 0;
        for (int r = 0; r < rounds; r++) {
            double ns = timed(ms, &f, min_s, &n);
            if (ns < best)
                best = ns, bn = n;
        }
        if (machine)
            printf("%s_ns %.1f\n", ms->name, best);
        else
            printf("%-40s %9.1f ns (%llu in best round, best of %d)\n",
                   ms->label, best, bn, rounds);
    }
    fixture_free(&f);
    return 0;
}
