/* The store of `nattel serve` (tables, transactions, many writers, the
 * report queries) and the ingest step that sits between HTTP and it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "serve/serve_ingest.h"
#include "serve/serve_report.h"
#include "serve/serve_store.h"
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1778086805000LL /* 2026-05-06T17:00:05.000Z */

static char *db_path(const char *tag)
{
    char *dir = tu_tmpdir(tag);
    assert_non_null(dir);
    char *path = malloc(strlen(dir) + 16);
    assert_non_null(path);
    sprintf(path, "%s/t.db", dir);
    free(dir);
    return path;
}

static nattel_event *cli(const char *command, const char *sub,
                         nattel_task_status status, int64_t duration,
                         const char *error_class)
{
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = command;
    c.subcommand = sub;
    c.task_status = status;
    c.duration_ms = duration;
    c.error_class = error_class;
    nattel_event *ev = NULL;
    nattel_error err;
    assert_int_equal(nattel_cli_command_event(&c, &ev, &err), NATTEL_OK);
    return ev;
}

static nattel_envelope *one_event_envelope(nattel_event *ev,
                                           const char *session)
{
    nattel_envelope *env = nattel_envelope_new("1.0.0", session);
    nattel_error err;
    assert_non_null(env);
    assert_int_equal(nattel_envelope_add(env, ev, T0, &err), NATTEL_OK);
    return env;
}

/* Stores `env` with no body to compare and no IDs. */
static nattel_code put_env(serve_store *st, const nattel_envelope *env,
                           int64_t ms, nattel_error *err)
{
    serve_store_delivery d = {env, NULL, 0, NULL, ms};
    return serve_store_put(st, &d, NULL, err);
}

static void put(serve_store *st, nattel_event *ev)
{
    nattel_envelope *env = one_event_envelope(ev, "s");
    nattel_error err;
    assert_int_equal(put_env(st, env, T0 + 1, &err), NATTEL_OK);
    nattel_envelope_free(env);
}

static void test_open_put_count(void **state)
{
    (void)state;
    char *path = db_path("store-basic");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    nattel_envelope *env = nattel_envelope_new("1.0.0", "sess");
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            nattel_envelope_add(
                env, cli("run", NULL, NATTEL_TASK_STATUS_SUCCESS, i, NULL),
                T0 + i, &err),
            NATTEL_OK);
    assert_int_equal(put_env(st, env, T0 + 10, &err), NATTEL_OK);
    nattel_envelope_free(env);
    int64_t n = 0;
    assert_int_equal(serve_store_event_count(st, &n, &err), NATTEL_OK);
    assert_int_equal(n, 3);
    serve_store_close(st);

    /* Read-only reopening sees them; writing through it is refused. */
    assert_int_equal(serve_store_open(path, 1, &st, &err), NATTEL_OK);
    assert_int_equal(serve_store_event_count(st, &n, &err), NATTEL_OK);
    assert_int_equal(n, 3);
    env = one_event_envelope(
        cli("x", NULL, NATTEL_TASK_STATUS_SUCCESS, 1, NULL), "s");
    assert_int_not_equal(put_env(st, env, T0, &err), NATTEL_OK);
    nattel_envelope_free(env);
    serve_store_close(st);
    free(path);
}

/* The exactly-once parts: IDs split and checked, a body hash that tells
 * bodies apart by any byte and its length, and the UNIQUE keys. */
static void test_ids_and_hash(void **state)
{
    (void)state;
    nattel_error err;
    serve_store_ids ids;
    assert_int_equal(serve_store_ids_parse(" a-1 ,B.2,c_3", &ids, &err),
                     NATTEL_OK);
    assert_int_equal(ids.count, 3);
    assert_string_equal(ids.items[0], "a-1");
    assert_string_equal(ids.items[2], "c_3");
    serve_store_ids_free(&ids);
    const char *bad[] = {"", "a,", ",a", "a b", "a;b", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(serve_store_ids_parse(bad[i], &ids, &err),
                         NATTEL_EINVAL);
        assert_non_null(strstr(err.message, SERVE_STORE_IDS_HEADER));
        serve_store_ids_free(&ids);
    }
    char h1[33], h2[33];
    const char body[] = "{\"events\":[1,2,3]}";
    serve_store_body_hash(body, sizeof body - 1, h1);
    assert_int_equal(strlen(h1), 32);
    serve_store_body_hash(body, sizeof body - 1, h2);
    assert_string_equal(h1, h2);
    /* Every single-bit change, and a trailing NUL, change the hash. */
    char copy[sizeof body];
    for (size_t i = 0; i < (sizeof body - 1) * 8; i++) {
        memcpy(copy, body, sizeof body);
        copy[i / 8] ^= (char)(1 << (i % 8));
        serve_store_body_hash(copy, sizeof body - 1, h2);
        assert_string_not_equal(h1, h2);
    }
    serve_store_body_hash(body, sizeof body, h2);
    assert_string_not_equal(h1, h2);
}

static void test_put_once(void **state)
{
    (void)state;
    char *path = db_path("store-once");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    nattel_envelope *env = nattel_envelope_new("1.0.0", "sess");
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            nattel_envelope_add(
                env, cli("once", NULL, NATTEL_TASK_STATUS_SUCCESS, i, NULL),
                T0 + i, &err),
            NATTEL_OK);
    serve_store_ids ids;
    assert_int_equal(serve_store_ids_parse("x,y", &ids, &err), NATTEL_OK);
    serve_store_delivery d = {env, "body-1", 6, &ids, T0};
    size_t stored = 9;
    assert_int_equal(serve_store_put(st, &d, &stored, &err), NATTEL_OK);
    assert_int_equal(stored, 2);
    /* The same body again: nothing. Another body, the same IDs: nothing. */
    assert_int_equal(serve_store_put(st, &d, &stored, &err), NATTEL_OK);
    assert_int_equal(stored, 0);
    d.body = "body-2";
    assert_int_equal(serve_store_put(st, &d, &stored, &err), NATTEL_OK);
    assert_int_equal(stored, 0);
    serve_store_ids_free(&ids);
    /* One ID new, one stored: one row. */
    assert_int_equal(serve_store_ids_parse("y,z", &ids, &err), NATTEL_OK);
    d.body = "body-3";
    assert_int_equal(serve_store_put(st, &d, &stored, &err), NATTEL_OK);
    assert_int_equal(stored, 1);
    serve_store_ids_free(&ids);
    /* A count that differs is refused, storing nothing. */
    assert_int_equal(serve_store_ids_parse("w", &ids, &err), NATTEL_OK);
    d.body = "body-4";
    assert_int_equal(serve_store_put(st, &d, &stored, &err), NATTEL_EINVAL);
    serve_store_ids_free(&ids);
    int64_t n = 0;
    assert_int_equal(serve_store_event_count(st, &n, &err), NATTEL_OK);
    assert_int_equal(n, 3);
    nattel_envelope_free(env);
    serve_store_close(st);
    free(path);
}

static void test_open_errors(void **state)
{
    (void)state;
    serve_store *st = NULL;
    nattel_error err;
    char *path = db_path("store-missing");
    assert_int_equal(serve_store_open(path, 1, &st, &err), NATTEL_EIO);
    assert_null(st);
    assert_non_null(strstr(err.message, path));
    assert_int_equal(serve_store_open("/nonexistent-dir/x/t.db", 0, &st, &err),
                     NATTEL_EIO);
    assert_non_null(strstr(err.message, "cannot create database"));
    free(path);
}

typedef struct writer {
    serve_store *st;
    int id;
    int failures;
} writer;

static void *write_many(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < 50; i++) {
        nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
        c.command = "conc";
        c.task_status = NATTEL_TASK_STATUS_SUCCESS;
        c.exit_code = w->id * 1000 + i;
        nattel_event *ev = NULL;
        nattel_envelope *env = nattel_envelope_new("1", "s");
        nattel_error err;
        if (nattel_cli_command_event(&c, &ev, &err) ||
            nattel_envelope_add(env, ev, T0, &err) ||
            put_env(w->st, env, T0, &err))
            w->failures++;
        nattel_envelope_free(env);
    }
    return NULL;
}

/* Which --db is PostgreSQL, and what of it may be shown: the password of
 * a URI, in its userinfo or its query, never; the rest as it is. Pure
 * helpers, checked without a server. */
static void test_pg_uri_and_mask(void **state)
{
    (void)state;
    assert_true(serve_store_is_pg("postgresql://h/db"));
    assert_true(serve_store_is_pg("postgres://"));
    assert_false(serve_store_is_pg("postgresq://h/db"));
    assert_false(serve_store_is_pg("/var/db/postgresql://x"));
    assert_false(serve_store_is_pg("events.db"));
    static const char *const cases[][2] = {
        {"events.db", "events.db"},
        {"postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db"},
        {"postgres://u@h/db", "postgres://u@h/db"},
        {"postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"},
        {"postgresql://u:p@h", "postgresql://u:***@h"},
        {"postgresql:///db?host=/tmp&password=s3cret",
         "postgresql:///db?host=/tmp&password=***"},
        {"postgresql://h/db?password=s3cret&sslmode=require",
         "postgresql://h/db?password=***&sslmode=require"},
        {"postgresql://u:a@h/db?password=b",
         "postgresql://u:***@h/db?password=***"},
        {"postgresql://h/db?user=u", "postgresql://h/db?user=u"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        serve_store_mask(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
        assert_null(strstr(out, "s3cret"));
    }
    /* Cut to fit, NUL included, and nothing past the buffer. */
    char small[12];
    memset(small, 'x', sizeof small);
    serve_store_mask("postgresql://u:s3cret@h/db", small, 10);
    assert_string_equal(small, "postgresq");
    assert_int_equal(small[10], 'x');
    serve_store_mask("postgresql://u:s3cret@h/db", small, 1);
    assert_string_equal(small, "");
}

/* Group commit: requests that queue while another holds the file are
 * stored together; a body repeated within one batch is stored once,
 * and each request learns how many of its events were new. */
typedef struct batch_writer {
    serve_store *st;
    const char *body;
    const char *session;
    size_t stored;
    nattel_code code;
} batch_writer;

static void *write_one(void *arg)
{
    batch_writer *w = arg;
    nattel_envelope *env = one_event_envelope(
        cli("batch", NULL, NATTEL_TASK_STATUS_SUCCESS, 1, NULL), w->session);
    nattel_error err;
    serve_store_delivery d = {env, w->body, strlen(w->body), NULL, T0};
    w->code = serve_store_put(w->st, &d, &w->stored, &err);
    nattel_envelope_free(env);
    return NULL;
}

static void test_group_commit(void **state)
{
    (void)state;
    char *path = db_path("store-batch");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    /* Another connection holds the write lock, so that the first put
     * waits in BEGIN while the others queue behind it. */
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    enum { N = 6 };
    static const char *const bodies[N] = {"b0", "b1", "b2", "b2", "b4", "b4"};
    static const char *const sessions[N] = {"s0", "s1", "s2", "s2", "s4", "s4"};
    pthread_t th[N];
    batch_writer w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (batch_writer){st, bodies[i], sessions[i], 9, NATTEL_EIO};
        assert_int_equal(pthread_create(&th[i], NULL, write_one, &w[i]), 0);
    }
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].code, NATTEL_OK);
        assert_true(w[i].stored <= 1);
        total += w[i].stored;
    }
    /* Of each repeated body exactly one request stored it. */
    assert_int_equal(w[2].stored + w[3].stored, 1);
    assert_int_equal(w[4].stored + w[5].stored, 1);
    assert_int_equal(total, 4);
    int64_t n = 0;
    assert_int_equal(serve_store_event_count(st, &n, &err), NATTEL_OK);
    assert_int_equal(n, 4);
    sqlite3_close(other);
    serve_store_close(st);
    free(path);
}

/* Many threads on one store: every envelope lands, once. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    char *path = db_path("store-conc");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    enum { N = 16 };
    pthread_t th[N];
    writer w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (writer){st, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, write_many, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    int64_t n = 0;
    assert_int_equal(serve_store_event_count(st, &n, &err), NATTEL_OK);
    assert_int_equal(n, N * 50);
    serve_store_close(st);
    free(path);
}

static void test_report_rows(void **state)
{
    (void)state;
    char *path = db_path("store-report");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    /* "run": durations 1..20 and one unknown; nearest rank 10 and 19. */
    for (int d = 20; d >= 1; d--)
        put(st,
            cli("run", NULL,
                d % 5 ? NATTEL_TASK_STATUS_SUCCESS : NATTEL_TASK_STATUS_FAILURE,
                d, d % 5 ? NULL : (d % 2 ? "KeyError" : "ValueError")));
    put(st, cli("run", NULL, NATTEL_TASK_STATUS_INTERRUPTED, -1, "ValueError"));
    /* "info list": only unknown durations. */
    put(st, cli("info", "list", NATTEL_TASK_STATUS_ERROR, -1, NULL));

    serve_report r;
    assert_int_equal(serve_report_load(st, &r, &err), NATTEL_OK);
    assert_int_equal(r.count, 2);
    const serve_report_row *info = &r.rows[0], *run = &r.rows[1];
    assert_string_equal(info->command.s, "info");
    assert_string_equal(info->subcommand.s, "list");
    assert_int_equal(info->count, 1);
    assert_int_equal(info->success + info->failure + info->interrupted, 0);
    assert_int_equal(info->p50_ms, -1);
    assert_int_equal(info->p95_ms, -1);
    assert_string_equal(run->command.s, "run");
    assert_string_equal(run->subcommand.s, "undefined");
    assert_int_equal(run->count, 21);
    assert_int_equal(run->success, 16);
    assert_int_equal(run->failure, 4);
    assert_int_equal(run->interrupted, 1);
    assert_int_equal(run->p50_ms, 10);
    assert_int_equal(run->p95_ms, 19);
    /* ValueError: 10, 20 and the interrupted one; KeyError: 5, 15. */
    assert_int_equal(run->error_count, 2);
    assert_string_equal(run->errors[0].name.s, "ValueError");
    assert_int_equal(run->errors[0].count, 3);
    assert_string_equal(run->errors[1].name.s, "KeyError");
    assert_int_equal(run->errors[1].count, 2);

    nattel_buf out = NATTEL_BUF_INIT;
    assert_int_equal(serve_report_write_json(&r, &out, &err), NATTEL_OK);
    assert_string_equal(
        out.data,
        "[{\"command\":\"info\",\"subcommand\":\"list\",\"count\":1,"
        "\"success\":0,\"failure\":0,\"interrupted\":0,"
        "\"p50DurationMs\":null,\"p95DurationMs\":null,\"errorClasses\":[]},"
        "{\"command\":\"run\",\"subcommand\":\"undefined\",\"count\":21,"
        "\"success\":16,\"failure\":4,\"interrupted\":1,"
        "\"p50DurationMs\":10,\"p95DurationMs\":19,\"errorClasses\":["
        "{\"errorClass\":\"ValueError\",\"count\":3},"
        "{\"errorClass\":\"KeyError\",\"count\":2}]}]\n");
    nattel_buf_reset(&out);
    assert_int_equal(serve_report_write_table(&r, &out, &err), NATTEL_OK);
    assert_non_null(strstr(out.data, "ValueError (3), KeyError (2)\n"));
    nattel_buf_free(&out);
    serve_report_free(&r);
    serve_store_close(st);
    free(path);
}

static const char *const ENVELOPE_HEAD =
    "{\"browserType\":\"undefined\",\"clientId\":\"184482118588404\","
    "\"clientType\":\"Native\",\"clientVariant\":\"Release\","
    "\"clientVer\":\"1.0\",\"cpuArchitecture\":\"x86_64\","
    "\"deviceGdprBehOptIn\":\"None\",\"deviceGdprFuncOptIn\":\"None\","
    "\"deviceGdprTechOptIn\":\"None\",\"deviceId\":\"undefined\","
    "\"deviceMake\":\"undefined\",\"deviceModel\":\"undefined\","
    "\"deviceOS\":\"undefined\",\"deviceOSVersion\":\"undefined\","
    "\"deviceType\":\"undefined\",\"eventProtocol\":\"1.6\","
    "\"eventSchemaVer\":\"1.5\",\"eventSysVer\":\"nat-telemetry/1.0\","
    "\"externalUserId\":\"undefined\",\"gdprBehOptIn\":\"None\","
    "\"gdprFuncOptIn\":\"None\",\"gdprTechOptIn\":\"None\","
    "\"idpId\":\"undefined\",\"integrationId\":\"undefined\","
    "\"productName\":\"undefined\",\"productVersion\":\"undefined\","
    "\"sentTs\":\"2026-05-06T17:00:09.999Z\",\"sessionId\":\"abc\","
    "\"userId\":\"undefined\",\"events\":[{\"ts\":"
    "\"2026-05-06T17:00:05.000Z\",\"name\":\"nat_cli_command\","
    "\"parameters\":{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","
    "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","
    "\"exitCode\":0,\"errorClass\":\"undefined\","
    "\"pythonVersion\":\"undefined\",\"durationMs\":";

static unsigned ingest(nattel_registry *reg, serve_store *st, const char *tail,
                       char **body)
{
    char doc[4096];
    snprintf(doc, sizeof doc, "%s%s", ENVELOPE_HEAD, tail);
    serve_ingest_result res;
    assert_int_equal(serve_ingest(reg, st, doc, strlen(doc), NULL, T0, &res),
                     NATTEL_OK);
    *body = strdup(res.body.data ? res.body.data : "");
    unsigned status = res.status;
    serve_ingest_result_free(&res);
    return status;
}

static void test_ingest_statuses(void **state)
{
    (void)state;
    char *path = db_path("store-ingest");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    char *body = NULL;

    assert_int_equal(ingest(reg, st, "5}}]}", &body), 200);
    assert_string_equal(body, "{\"accepted\":1}");
    free(body);
    assert_int_equal(ingest(reg, st, "-5}}]}", &body), 422);
    assert_non_null(strstr(body, "\"events[0].parameters.durationMs\""));
    free(body);
    assert_int_equal(ingest(reg, st, "5}}]", &body), 400);
    free(body);

    int64_t n = 0;
    assert_int_equal(serve_store_event_count(st, &n, &err), NATTEL_OK);
    assert_int_equal(n, 1);
    nattel_registry_free(reg);
    serve_store_close(st);
    free(path);
}

/* Stored text is shown whole: a NUL or a control character is escaped,
 * never cut, in the table and in JSON. */
static void test_report_escapes_whole_text(void **state)
{
    (void)state;
    static const char cmd[] = "a\0b\nc\x1b[31m\\d\xc2\x9b\x7f\xff";
    static const char sub[] = "\tx\0";
    serve_report r;
    serve_report_init(&r);
    serve_report_row *row =
        serve_report_add_row(&r, cmd, sizeof cmd - 1, sub, sizeof sub - 1);
    assert_non_null(row);
    row->count = 1;
    assert_int_equal(serve_report_add_error(row, "E\0rr", 4, 1), NATTEL_OK);
    assert_ptr_equal(
        serve_report_find(&r, cmd, sizeof cmd - 1, sub, sizeof sub - 1), row);
    /* Not the same text cut at its NUL. */
    assert_null(serve_report_find(&r, "a", 1, sub, sizeof sub - 1));
    nattel_error err;
    nattel_buf out = NATTEL_BUF_INIT;
    assert_int_equal(serve_report_write_table(&r, &out, &err), NATTEL_OK);
    assert_non_null(strstr(out.data, "a\\u0000b\\nc\\u001b[31m\\\\d"
                                     "\\u009b\\u007f\\xff  \\tx\\u0000"));
    assert_non_null(strstr(out.data, "E\\u0000rr (1)\n"));
    /* Two lines: the header and the row. */
    size_t lines = 0;
    for (size_t i = 0; i < out.len; i++)
        lines += out.data[i] == '\n';
    assert_int_equal(lines, 2);
    nattel_buf_reset(&out);
    assert_int_equal(serve_report_write_json(&r, &out, &err), NATTEL_OK);
    /* DEL and C1 escaped too: JSON shown raw must not steer a terminal. */
    assert_non_null(strstr(out.data, "\"command\":\"a\\u0000b\\nc"
                                     "\\u001b[31m\\\\d\\u009b\\u007f"));
    assert_non_null(strstr(out.data, "\xef\xbf\xbd\",\"subcommand\":"
                                     "\"\\tx\\u0000\""));
    assert_non_null(strstr(out.data, "\"errorClass\":\"E\\u0000rr\""));
    nattel_buf_free(&out);
    serve_report_free(&r);
}

/* A database locked by another connection's write transaction: 503, so
 * that the sender keeps the events, and 200 once it is released. */
static void test_ingest_locked_is_503(void **state)
{
    (void)state;
    char *path = db_path("store-locked");
    serve_store *st = NULL;
    nattel_error err;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    nattel_registry *reg = nattel_registry_new();
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
                     SQLITE_OK);
    char *body = NULL;
    assert_int_equal(ingest(reg, st, "5}}]}", &body), 503);
    assert_non_null(strstr(body, "locked"));
    free(body);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(ingest(reg, st, "5}}]}", &body), 200);
    free(body);
    nattel_registry_free(reg);
    serve_store_close(st);
    free(path);
}

/* The typed table of an event type loaded at run time comes from its
 * description: a column per field, typed by kind (booleans as integers,
 * numbers as reals, string arrays as JSON text). */
static void test_typed_table_of_a_loaded_type(void **state)
{
    (void)state;
    const char *schema = tu_reference("guardrails_usage_event.schema.json");
    if (!schema)
        skip();
    nattel_registry *reg = nattel_registry_new();
    nattel_error err;
    assert_int_equal(nattel_registry_load_schema_file(reg, schema, &err),
                     NATTEL_OK);
    char *path = db_path("store-typed");
    serve_store *st = NULL;
    assert_int_equal(serve_store_open(path, 0, &st, &err), NATTEL_OK);
    assert_int_equal(serve_store_add_types(st, reg, &err), NATTEL_OK);
    /* Adding them again changes nothing. */
    assert_int_equal(serve_store_add_types(st, reg, &err), NATTEL_OK);
    /* One event of the loaded type (schema version 1.7) in the head of
     * the envelope the other tests send. */
    const char *events = strstr(ENVELOPE_HEAD, "\"events\":[");
    char doc[4096];
    snprintf(doc, sizeof doc, "%.*s%s", (int)(events + 10 - ENVELOPE_HEAD),
             ENVELOPE_HEAD,
             "{\"ts\":\"2026-05-06T17:00:06.000Z\","
             "\"name\":\"guardrails_usage_event\",\"parameters\":{"
             "\"nemoSource\":\"guardrails\",\"sessionId\":\"undefined\","
             "\"nemoguardrailsVersion\":\"0.21.0\","
             "\"pythonVersion\":\"3.13.7\",\"platform\":\"Linux\","
             "\"osName\":\"Linux\",\"colangVersion\":\"1.0\","
             "\"llmProviders\":[\"nim\",\"openai\"],"
             "\"numRailsConfigured\":3,\"railTypesInUse\":[\"input\"],"
             "\"tracingEnabled\":false,\"deploymentType\":\"library\","
             "\"railsEngine\":\"LLMRails\",\"hasKnowledgeBase\":true,"
             "\"streamingConfigured\":false,\"builtinFeatures\":[],"
             "\"numCustomFlows\":0,\"timestamp\":1767225600.5,"
             "\"event\":\"startup\"}}]}");
    char *ver = strstr(doc, "\"eventSchemaVer\":\"1.5\"");
    assert_non_null(ver);
    ver[20] = '7';
    serve_ingest_result res;
    assert_int_equal(serve_ingest(reg, st, doc, strlen(doc), NULL, T0, &res),
                     NATTEL_OK);
    if (res.status != 200)
        fail_msg("status %u: %s", res.status, res.body.data);
    serve_ingest_result_free(&res);
    serve_store_close(st);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT llm_providers, num_rails_configured,"
                           " tracing_enabled, has_knowledge_base, timestamp,"
                           " typeof(timestamp), builtin_features, event"
                           " FROM guardrails_usage_event",
                           -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(s, 0), "[\"nim\",\"openai\"]");
    assert_int_equal(sqlite3_column_int64(s, 1), 3);
    assert_int_equal(sqlite3_column_int64(s, 2), 0);
    assert_int_equal(sqlite3_column_int64(s, 3), 1);
    assert_true(sqlite3_column_double(s, 4) == 1767225600.5);
    assert_string_equal(sqlite3_column_text(s, 5), "real");
    assert_string_equal(sqlite3_column_text(s, 6), "[]");
    assert_string_equal(sqlite3_column_text(s, 7), "startup");
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);

    /* A read-only store creates nothing, and says so. */
    assert_int_equal(serve_store_open(path, 1, &st, &err), NATTEL_OK);
    nattel_code rc = serve_store_add_types(st, reg, &err);
    assert_int_equal(rc, NATTEL_EINVAL);
    assert_int_equal(err.code, rc);
    serve_store_close(st);
    nattel_registry_free(reg);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_put_count),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_pg_uri_and_mask),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_report_rows),
        cmocka_unit_test(test_ingest_statuses),
        cmocka_unit_test(test_report_escapes_whole_text),
        cmocka_unit_test(test_ids_and_hash),
        cmocka_unit_test(test_put_once),
        cmocka_unit_test(test_ingest_locked_is_503),
        cmocka_unit_test(test_typed_table_of_a_loaded_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
