/*
 * bench_codec: ns/event inside the library for one nat_cli_command.
 *
 *   encode          nattel_event_write_json into a reused nattel_buf
 *   decode+validate nattel_event_from_json (wire mode) of the same event's
 *                   JSON, then nattel_event_free
 *   reused reader   the same through one nattel__reader kept across
 *                   documents (as `validate` and `serve` do): no allocation
 *
 * Each loop runs in batches until at least --seconds (default 1.0) of
 * CLOCK_MONOTONIC time have passed; the best of --rounds (default 3) is
 * reported. Output: one "name: N ns/event (M events in S s)" line per
 * measurement, and with --machine, "key value" lines for bench/run.sh.
 * --only encode|decode runs one of the two (for a profiler).
 */
#include <nattel/nattel.h>

#include "codec/nattel_reader.h"

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

static void die(const char *what, const nattel_error *err)
{
    fprintf(stderr, "bench_codec: %s: %s\n", what,
            err ? err->message : "failed");
    exit(1);
}

/* Keeps the optimizer from dropping work whose result is unused. */
static volatile size_t sink;

typedef struct result {
    double ns_per_event;
    unsigned long long events;
    double seconds;
} result;

static result bench_encode(const nattel_event *ev, double min_s)
{
    nattel_buf buf = NATTEL_BUF_INIT;
    nattel_error err;
    unsigned long long n = 0;
    unsigned batch = 1000;
    double t0 = now_s(), t;
    do {
        for (unsigned k = 0; k < batch; k++) {
            nattel_buf_reset(&buf);
            if (nattel_event_write_json(ev, &buf, &err))
                die("nattel_event_write_json", &err);
            sink += buf.len;
        }
        n += batch;
        t = now_s() - t0;
    } while (t < min_s);
    nattel_buf_free(&buf);
    result r = {t * 1e9 / (double)n, n, t};
    return r;
}

static result bench_decode(const char *json, size_t len, double min_s)
{
    unsigned long long n = 0;
    unsigned batch = 1000;
    double t0 = now_s(), t;
    do {
        for (unsigned k = 0; k < batch; k++) {
            nattel_event *ev = NULL;
            nattel_code rc =
                nattel_event_from_json(&nattel_cli_command_type, json, len,
                                       NATTEL_MODE_WIRE, &ev, NULL);
            if (rc || !ev) {
                fprintf(stderr,
                        "bench_codec: nattel_event_from_json refused %s: %s\n",
                        json, nattel_code_name(rc));
                exit(1);
            }
            sink += (size_t)nattel_event_type_of(ev);
            nattel_event_free(ev);
        }
        n += batch;
        t = now_s() - t0;
    } while (t < min_s);
    result r = {t * 1e9 / (double)n, n, t};
    return r;
}

/* The reader the tool and the endpoint use: one nattel__reader kept from
 * document to document, so nothing is allocated in the steady state. */
static result bench_reader(const char *json, size_t len, double min_s)
{
    nattel__reader rd;
    nattel__reader_init(&rd, NULL);
    unsigned long long n = 0;
    unsigned batch = 1000;
    double t0 = now_s(), t;
    do {
        for (unsigned k = 0; k < batch; k++) {
            const nattel_event *ev = NULL;
            nattel_code rc =
                nattel__reader_event(&rd, &nattel_cli_command_type,
                                     NATTEL_MODE_WIRE, json, len, &ev, NULL);
            if (rc || !ev) {
                fprintf(stderr, "bench_codec: the reader refused %s: %s\n",
                        json, nattel_code_name(rc));
                exit(1);
            }
            sink += (size_t)nattel_event_type_of(ev);
        }
        n += batch;
        t = now_s() - t0;
    } while (t < min_s);
    nattel__reader_release(&rd);
    result r = {t * 1e9 / (double)n, n, t};
    return r;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_codec [--seconds S] [--rounds N] [--machine] "
                    "[--only encode|decode]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double min_s = 1.0;
    int rounds = 3, machine = 0, do_enc = 1, do_dec = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            min_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--machine"))
            machine = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc &&
                 !strcmp(argv[i + 1], "encode"))
            do_dec = 0, i++;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc &&
                 !strcmp(argv[i + 1], "decode"))
            do_enc = 0, i++;
        else
            usage();
    }
    if (min_s <= 0 || rounds < 1)
        usage();

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
        die("nattel_cli_command_event", &err);
    nattel_buf json = NATTEL_BUF_INIT;
    if (nattel_event_write_json(ev, &json, &err))
        die("nattel_event_write_json", &err);

    result enc = {1e300, 0, 0}, dec = {1e300, 0, 0}, tok = {1e300, 0, 0};
    for (int r = 0; r < rounds; r++) {
        if (do_enc) {
            result e = bench_encode(ev, min_s);
            if (e.ns_per_event < enc.ns_per_event)
                enc = e;
        }
        if (do_dec) {
            result d = bench_decode(json.data, json.len, min_s);
            if (d.ns_per_event < dec.ns_per_event)
                dec = d;
            d = bench_reader(json.data, json.len, min_s);
            if (d.ns_per_event < tok.ns_per_event)
                tok = d;
        }
    }
    if (machine) {
        printf("event %s\n", json.data);
        printf("event_bytes %zu\n", json.len);
        if (do_enc)
            printf("encode_ns %.1f\n", enc.ns_per_event);
        if (do_dec)
            printf("decode_ns %.1f\nreader_ns %.1f\n", dec.ns_per_event,
                   tok.ns_per_event);
    } else {
        printf("event: %s (%zu bytes)\n", json.data, json.len);
        if (do_enc)
            printf("encode:          %8.1f ns/event (%llu events in %.2f s, "
                   "best of %d)\n",
                   enc.ns_per_event, enc.events, enc.seconds, rounds);
        if (do_dec)
            printf("decode+validate: %8.1f ns/event (%llu events in %.2f s, "
                   "best of %d)\n"
                   "reused reader:   %8.1f ns/event\n",
                   dec.ns_per_event, dec.events, dec.seconds, rounds,
                   tok.ns_per_event);
    }
    nattel_buf_free(&json);
    nattel_event_free(ev);
    return 0;
}
