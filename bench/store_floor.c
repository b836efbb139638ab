/* The floor of the ingest rate: the rows `nattel serve` writes for the
 * bench's envelopes (an envelope row, then per event an events row and a
 * nat_cli_command row), inserted by a C loop with the store's own
 * statements into a database `nattel serve` created (its tables and
 * indexes), all in one transaction, WAL and synchronous=NORMAL as the
 * store runs. No HTTP, no JSON, no per-request commit: what SQLite itself
 * takes, so that the bench can say how far the endpoint is from it.
 *
 * usage: store_floor DB EVENTS_PER_ENVELOPE TOTAL_EVENTS
 * Prints "floor events_per_envelope=N events=M seconds=S events_per_s=R".
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const envelope_sql =
    "INSERT INTO envelopes (session_id, client_ver, schema_ver,"
    " cpu_architecture, sent_ts, received_ts, event_count, body_hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char *const event_sql =
    "INSERT INTO events (envelope_id, seq, session_id, client_ver, name,"
    " schema_ver, ts, received_ts, parameters, event_uid)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char *const typed_sql =
    "INSERT INTO nat_cli_command (event_id, nemo_source, command,"
    " subcommand, task_status, duration_ms, exit_code, error_class,"
    " python_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "store_floor: %s: %s\n", what,
            db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void text(sqlite3_stmt *s, int col, const char *t)
{
    sqlite3_bind_text(s, col, t, -1, SQLITE_TRANSIENT);
}

static void step(sqlite3 *db, sqlite3_stmt *s)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        die(db, "insert");
    sqlite3_reset(s);
}

static const char *const commands[] = {"run", "serve", "info", "eval"};

/* One event's rows, its values as bench/ingest.py's envelope has them. */
static void put_event(sqlite3 *db, sqlite3_stmt *ev, sqlite3_stmt *ty,
                      sqlite3_int64 envelope, int k, const char *session)
{
    char ts[32], params[400];
    int fail = k % 10 == 0;
    const char *cmd = commands[k % 4];
    const char *sub = k % 4 == 2 ? "list-components" : "undefined";
    snprintf(ts, sizeof ts, "2026-05-06T17:00:%02d.%03dZ", 5 + k / 1000 % 50,
             k % 1000);
    snprintf(params, sizeof params,
             "{\"nemoSource\":\"agent_toolkit\",\"command\":\"%s\","
             "\"subcommand\":\"%s\",\"taskStatus\":\"%s\",\"durationMs\":%d,"
             "\"exitCode\":%d,\"errorClass\":\"%s\","
             "\"pythonVersion\":\"3.12.1\"}",
             cmd, sub, fail ? "failure" : "success", 100 + k, fail,
             fail ? "ValueError" : "undefined");
    sqlite3_bind_int64(ev, 1, envelope);
    sqlite3_bind_int(ev, 2, k);
    text(ev, 3, session);
    text(ev, 4, "1.7.0");
    text(ev, 5, "nat_cli_command");
    text(ev, 6, "1.5");
    text(ev, 7, ts);
    text(ev, 8, "2026-05-06T17:00:05.000Z");
    text(ev, 9, params);
    sqlite3_bind_null(ev, 10);
    step(db, ev);
    sqlite3_bind_int64(ty, 1, sqlite3_last_insert_rowid(db));
    text(ty, 2, "agent_toolkit");
    text(ty, 3, cmd);
    text(ty, 4, sub);
    text(ty, 5, fail ? "failure" : "success");
    sqlite3_bind_int(ty, 6, 100 + k);
    sqlite3_bind_int(ty, 7, fail);
    text(ty, 8, fail ? "ValueError" : "undefined");
    text(ty, 9, "3.12.1");
    step(db, ty);
}

static void put_envelope(sqlite3 *db, sqlite3_stmt *s[3], long e, int per)
{
    char session[32], hash[33];
    snprintf(session, sizeof session, "floor%011ld", e);
    snprintf(hash, sizeof hash, "%032lx", e);
    text(s[0], 1, session);
    text(s[0], 2, "1.7.0");
    text(s[0], 3, "1.5");
    text(s[0], 4, "x86_64");
    text(s[0], 5, "2026-05-06T17:00:05.000Z");
    text(s[0], 6, "2026-05-06T17:00:05.000Z");
    sqlite3_bind_int(s[0], 7, per);
    text(s[0], 8, hash);
    step(db, s[0]);
    sqlite3_int64 id = sqlite3_last_insert_rowid(db);
    for (int k = 0; k < per; k++)
        put_event(db, s[1], s[2], id, k, session);
}

int main(int argc, char **argv)
{
    if (argc != 4 || atoi(argv[2]) < 1 || atol(argv[3]) < 1) {
        fprintf(stderr, "usage: store_floor DB EVENTS_PER_ENVELOPE "
                        "TOTAL_EVENTS\n");
        return 2;
    }
    int per = atoi(argv[2]);
    long envelopes = (atol(argv[3]) + per - 1) / per;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die(db, argv[1]);
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                     NULL, NULL, NULL) != SQLITE_OK)
        die(db, "pragma");
    sqlite3_stmt *s[3] = {NULL, NULL, NULL};
    const char *sql[3] = {envelope_sql, event_sql, typed_sql};
    for (int i = 0; i < 3; i++)
        if (sqlite3_prepare_v2(db, sql[i], -1, &s[i], NULL) != SQLITE_OK)
            die(db, "prepare");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        die(db, "begin");
    for (long e = 0; e < envelopes; e++)
        put_envelope(db, s, e, per);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die(db, "commit");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long n = envelopes * per;
    printf("floor events_per_envelope=%d events=%ld seconds=%.3f "
           "events_per_s=%.0f\n",
           per, n, secs, (double)n / secs);
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(s[i]);
    sqlite3_close(db);
    return 0;
}
