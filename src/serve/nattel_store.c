#include "nattel_store.h"

#include "natx/natx_error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A writer waits this long for another process's write transaction (a
 * second server on the file, a sqlite3 shell) before the request is
 * answered 503: long enough for a brief one, short enough that the
 * sender is not left hanging and the other requests queued behind it
 * are not either. Readers (`nattel report`) never block a writer in WAL
 * mode. */
#define STORE_WRITE_BUSY_MS 1000
/* How long a read waits for a checkpoint or a recovery to finish. */
#define STORE_READ_BUSY_MS 10000
/* How long a request waits for the requests ahead of it on this
 * connection; past it the store counts as busy. */
#define STORE_QUEUE_WAIT_MS 3000

static const char *const schema_sql =
    "CREATE TABLE envelopes ("
    " id INTEGER PRIMARY KEY,"
    " session_id TEXT NOT NULL,"
    " client_ver TEXT NOT NULL,"
    " schema_ver TEXT NOT NULL,"
    " cpu_architecture TEXT NOT NULL,"
    " sent_ts TEXT NOT NULL,"
    " received_ts TEXT NOT NULL,"
    " event_count INTEGER NOT NULL);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " envelope_id INTEGER NOT NULL REFERENCES envelopes(id),"
    " seq INTEGER NOT NULL,"
    " session_id TEXT NOT NULL,"
    " client_ver TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " schema_ver TEXT NOT NULL,"
    " ts TEXT NOT NULL,"
    " received_ts TEXT NOT NULL,"
    " parameters TEXT NOT NULL,"
    " UNIQUE (envelope_id, seq));"
    "CREATE INDEX events_name ON events(name);"
    "CREATE INDEX events_session ON events(session_id);"
    "CREATE TABLE nat_cli_command ("
    " event_id INTEGER PRIMARY KEY REFERENCES events(id),"
    " nemo_source TEXT NOT NULL,"
    " command TEXT NOT NULL,"
    " subcommand TEXT NOT NULL,"
    " task_status TEXT NOT NULL,"
    " duration_ms INTEGER NOT NULL,"
    " exit_code INTEGER NOT NULL,"
    " error_class TEXT NOT NULL,"
    " python_version TEXT NOT NULL);"
    "CREATE INDEX nat_cli_command_by_command"
    " ON nat_cli_command(command, subcommand);";

enum {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_ENVELOPE,
    STMT_EVENT,
    STMT_CLI,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_ENVELOPE] =
        "INSERT INTO envelopes (session_id, client_ver, schema_ver,"
        " cpu_architecture, sent_ts, received_ts, event_count)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [STMT_EVENT] =
        "INSERT INTO events (envelope_id, seq, session_id, client_ver, name,"
        " schema_ver, ts, received_ts, parameters)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_CLI] =
        "INSERT INTO nat_cli_command (event_id, nemo_source, command,"
        " subcommand, task_status, duration_ms, exit_code, error_class,"
        " python_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
};

struct serve_store {
    sqlite3 *db;
    char *path;
    pthread_mutex_t lock;
    sqlite3_stmt *stmt[STMT_COUNT]; /* NULL when read-only */
};

/* SQLite's reason, with the system's where there is one ("disk I/O
 * error (No space left on device)"). */
static nattel_code db_fail(serve_store *st, nattel_error *err, const char *what)
{
    if (sqlite3_errcode(st->db) == SQLITE_NOTADB)
        return natx_fail(err, NATTEL_EINVAL,
                         "database '%s' is not a SQLite database", st->path);
    int sys = sqlite3_system_errno(st->db);
    return natx_fail(err, NATTEL_EIO, "database '%s': %s: %s%s%s%s", st->path,
                     what, sqlite3_errmsg(st->db), sys ? " (" : "",
                     sys ? strerror(sys) : "", sys ? ")" : "");
}

/* Runs SQL that returns at most one integer (a PRAGMA); *out stays as is
 * when it returns no row. */
static nattel_code query_int(serve_store *st, const char *sql, int64_t *out,
                             nattel_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(st, err, sql);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && out)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(st, err, sql);
    return NATTEL_OK;
}

static nattel_code exec_sql(serve_store *st, const char *sql, nattel_error *err)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "cannot set up");
    return NATTEL_OK;
}

/* A real write at start-up (the header's user_version, rewritten as it
 * is), so that a file the server cannot write is refused now and not by
 * the first POST. */
static nattel_code probe_write(serve_store *st, nattel_error *err)
{
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE; PRAGMA user_version = 1; COMMIT",
                     NULL, NULL, NULL) == SQLITE_OK)
        return NATTEL_OK;
    nattel_code code = db_fail(st, err, "cannot write");
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

/* SQLite opens a file it may not write read-only without a word; say so,
 * with the system's reason. */
static nattel_code check_writable(serve_store *st, nattel_error *err)
{
    if (sqlite3_db_readonly(st->db, "main") != 1)
        return NATTEL_OK;
    int fd = open(st->path, O_RDWR | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    return natx_fail(err, NATTEL_EIO, "cannot write database '%s': %s",
                     st->path, e ? strerror(e) : "opened read-only");
}

/* Why no file can be created beside `path` (errno), 0 when one can: the
 * database itself, its WAL and shared-memory files live there. */
static int dir_errno(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

/* SQLite says "attempt to write a readonly database" when the WAL file
 * cannot be created; the directory's permissions say why. */
static nattel_code wal_fail(serve_store *st, nattel_error *err)
{
    int e = dir_errno(st->path);
    if (e)
        return natx_fail(err, NATTEL_EIO,
                         "database '%s': cannot create its WAL file "
                         "beside it: %s",
                         st->path, strerror(e));
    return db_fail(st, err, "cannot enable WAL mode");
}

static nattel_code enable_wal(serve_store *st, nattel_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) !=
        SQLITE_OK)
        return wal_fail(st, err);
    int rc = sqlite3_step(s);
    const char *mode =
        rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    /* An in-memory database (unit tests) has no WAL and needs none. */
    int ok = mode && (!strcmp(mode, "wal") || !strcmp(mode, "memory"));
    nattel_code code = NATTEL_OK;
    if (!ok)
        code = rc == SQLITE_ROW
                   ? natx_fail(err, NATTEL_EIO,
                               "database '%s': cannot enable WAL mode "
                               "(journal mode stays '%s')",
                               st->path, mode ? mode : "?")
                   : wal_fail(st, err);
    sqlite3_finalize(s);
    return code;
}

static nattel_code version_mismatch(serve_store *st, int64_t version,
                                    nattel_error *err)
{
    if (version == 0)
        return natx_fail(err, NATTEL_EINVAL,
                         "database '%s' is not a nattel serve database "
                         "(no schema version)",
                         st->path);
    return natx_fail(err, NATTEL_EINVAL,
                     "database '%s' has schema version %lld; this nattel "
                     "knows version %d",
                     st->path, (long long)version, SERVE_STORE_SCHEMA_VERSION);
}

/* Creates the tables on first use. BEGIN IMMEDIATE makes two servers
 * starting on one new file agree on who creates them. */
static nattel_code migrate(serve_store *st, nattel_error *err)
{
    nattel_code code = exec_sql(st, "BEGIN IMMEDIATE", err);
    if (code)
        return code;
    int64_t version = 0;
    code = query_int(st, "PRAGMA user_version", &version, err);
    if (!code && version == 0) {
        code = exec_sql(st, schema_sql, err);
        if (!code)
            code = exec_sql(st, "PRAGMA user_version = 1", err);
    } else if (!code && version != SERVE_STORE_SCHEMA_VERSION) {
        code = version_mismatch(st, version, err);
    }
    if (code) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return code;
    }
    return exec_sql(st, "COMMIT", err);
}

static nattel_code check_version(serve_store *st, nattel_error *err)
{
    int64_t version = 0;
    nattel_code code = query_int(st, "PRAGMA user_version", &version, err);
    if (code)
        return code;
    if (version != SERVE_STORE_SCHEMA_VERSION)
        return version_mismatch(st, version, err);
    return NATTEL_OK;
}

static nattel_code prepare_all(serve_store *st, nattel_error *err)
{
    for (int i = 0; i < STMT_COUNT; i++)
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK)
            return db_fail(st, err, "cannot prepare statement");
    return NATTEL_OK;
}

static nattel_code open_db(serve_store *st, int read_only, nattel_error *err)
{
    /* SQLite would only say "unable to open database file". */
    if (read_only && access(st->path, F_OK) != 0)
        return natx_fail(err, NATTEL_EIO, "cannot open database '%s': %s",
                         st->path, strerror(errno));
    int flags = SQLITE_OPEN_FULLMUTEX |
                (read_only ? SQLITE_OPEN_READONLY
                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(st->path, &st->db, flags, NULL) == SQLITE_OK)
        return NATTEL_OK;
    /* A new file: SQLite reports the failed open, not the failed create. */
    int e = 0;
    if (!read_only && access(st->path, F_OK) != 0 && errno == ENOENT &&
        (e = dir_errno(st->path)) != 0)
        return natx_fail(err, NATTEL_EIO, "cannot create database '%s': %s",
                         st->path, strerror(e));
    int sys = st->db ? sqlite3_system_errno(st->db) : 0;
    return natx_fail(err, NATTEL_EIO, "cannot open database '%s': %s%s%s%s",
                     st->path,
                     st->db ? sqlite3_errmsg(st->db) : "out of memory",
                     sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "");
}

static nattel_code setup(serve_store *st, int read_only, nattel_error *err)
{
    nattel_code code = open_db(st, read_only, err);
    if (code)
        return code;
    sqlite3_busy_timeout(st->db,
                         read_only ? STORE_READ_BUSY_MS : STORE_WRITE_BUSY_MS);
    sqlite3_extended_result_codes(st->db, 1);
    if (read_only)
        return check_version(st, err);
    if ((code = check_writable(st, err)) != NATTEL_OK)
        return code;
    if ((code = enable_wal(st, err)) != NATTEL_OK)
        return code;
    /* NORMAL in WAL mode loses nothing when the process dies; only a power
     * cut can take the last transactions, an accepted trade for an
     * endpoint that serves development and tests. */
    if ((code = exec_sql(st,
                         "PRAGMA synchronous=NORMAL;"
                         "PRAGMA foreign_keys=ON;",
                         err)) != NATTEL_OK)
        return code;
    if ((code = migrate(st, err)) != NATTEL_OK)
        return code;
    if ((code = probe_write(st, err)) != NATTEL_OK)
        return code;
    return prepare_all(st, err);
}

nattel_code serve_store_open(const char *path, int read_only, serve_store **out,
                             nattel_error *err)
{
    *out = NULL;
    serve_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    }
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st->path);
        free(st);
        return natx_fail(err, NATTEL_ENOMEM, "cannot create a mutex");
    }
    nattel_code code = setup(st, read_only, err);
    if (code) {
        serve_store_close(st);
        return code;
    }
    *out = st;
    return NATTEL_OK;
}

void serve_store_close(serve_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    free(st->path);
    free(st);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

static int bind_text(sqlite3_stmt *s, int col, const char *text)
{
    return sqlite3_bind_text(s, col, text ? text : "", -1, SQLITE_STATIC);
}

/* Binds field `name` of a nat_cli_command event by its exact bytes: a
 * string may hold an escaped NUL, which a C string would cut short. */
static int bind_field(sqlite3_stmt *s, int col, const nattel_event *ev,
                      const char *name)
{
    const nattel_event_type *type = nattel_event_type_of(ev);
    int i = nattel_event_type_field_index(type, name, strlen(name));
    const nattel_value *v = i >= 0 ? nattel_event_value(ev, (size_t)i) : NULL;
    if (!v)
        return sqlite3_bind_null(s, col);
    const nattel_field *f = &type->fields[i];
    switch (f->kind) {
    case NATTEL_KIND_STRING:
        return sqlite3_bind_text(s, col, v->s.ptr, (int)v->s.len,
                                 SQLITE_STATIC);
    case NATTEL_KIND_ENUM:
        return bind_text(s, col, f->enum_type->values[v->e]);
    case NATTEL_KIND_INT64:
        return sqlite3_bind_int64(s, col, v->i);
    default:
        return sqlite3_bind_null(s, col);
    }
}

static int step_reset(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static nattel_code put_envelope_row(serve_store *st, const nattel_envelope *env,
                                    const char *received, int64_t *id,
                                    nattel_error *err)
{
    sqlite3_stmt *s = st->stmt[STMT_ENVELOPE];
    bind_text(s, 1, nattel_envelope_session_id(env));
    bind_text(s, 2, nattel_envelope_client_ver(env));
    bind_text(s, 3, nattel_envelope_schema_ver(env));
    bind_text(s, 4, nattel_envelope_cpu_architecture(env));
    bind_text(s, 5, nattel_envelope_sent_ts(env));
    bind_text(s, 6, received);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)nattel_envelope_count(env));
    if (step_reset(s) != SQLITE_OK)
        return db_fail(st, err, "cannot insert an envelope");
    *id = sqlite3_last_insert_rowid(st->db);
    return NATTEL_OK;
}

static nattel_code put_cli_row(serve_store *st, const nattel_event *ev,
                               int64_t event_id, nattel_error *err)
{
    static const char *const fields[] = {
        "nemoSource", "command",  "subcommand", "taskStatus",
        "durationMs", "exitCode", "errorClass", "pythonVersion"};
    sqlite3_stmt *s = st->stmt[STMT_CLI];
    sqlite3_bind_int64(s, 1, event_id);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        bind_field(s, (int)i + 2, ev, fields[i]);
    if (step_reset(s) != SQLITE_OK)
        return db_fail(st, err, "cannot insert a nat_cli_command row");
    return NATTEL_OK;
}

static nattel_code put_event(serve_store *st, const nattel_envelope *env,
                             size_t i, int64_t envelope_id,
                             const char *received, nattel_buf *json,
                             nattel_error *err)
{
    const nattel_event *ev = nattel_envelope_event(env, i);
    const nattel_event_type *type = nattel_event_type_of(ev);
    nattel_buf_reset(json);
    nattel_code code = nattel_event_write_json(ev, json, err);
    if (code)
        return code;
    sqlite3_stmt *s = st->stmt[STMT_EVENT];
    sqlite3_bind_int64(s, 1, envelope_id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
    bind_text(s, 3, nattel_envelope_session_id(env));
    bind_text(s, 4, nattel_envelope_client_ver(env));
    bind_text(s, 5, type->name);
    bind_text(s, 6, nattel_envelope_schema_ver(env));
    bind_text(s, 7, nattel_envelope_event_ts(env, i));
    bind_text(s, 8, received);
    sqlite3_bind_text(s, 9, json->data ? json->data : "{}", (int)json->len,
                      SQLITE_STATIC);
    if (step_reset(s) != SQLITE_OK)
        return db_fail(st, err, "cannot insert an event");
    if (type != &nattel_cli_command_type)
        return NATTEL_OK;
    return put_cli_row(st, ev, sqlite3_last_insert_rowid(st->db), err);
}

static nattel_code put_locked(serve_store *st, const nattel_envelope *env,
                              const char *received, nattel_buf *json,
                              nattel_error *err)
{
    if (step_reset(st->stmt[STMT_BEGIN]) != SQLITE_OK)
        return db_fail(st, err, "cannot begin a transaction");
    int64_t envelope_id = 0;
    nattel_code code = put_envelope_row(st, env, received, &envelope_id, err);
    size_t n = nattel_envelope_count(env);
    for (size_t i = 0; !code && i < n; i++)
        code = put_event(st, env, i, envelope_id, received, json, err);
    if (!code && step_reset(st->stmt[STMT_COMMIT]) != SQLITE_OK)
        code = db_fail(st, err, "cannot commit");
    if (code && !sqlite3_get_autocommit(st->db))
        step_reset(st->stmt[STMT_ROLLBACK]);
    return code;
}

nattel_code serve_store_put(serve_store *st, const nattel_envelope *env,
                            int64_t received_ms, nattel_error *err)
{
    if (!st->stmt[STMT_BEGIN])
        return natx_fail(err, NATTEL_EINVAL, "database '%s' is open read-only",
                         st->path);
    char received[NATTEL_TS_LEN + 1];
    nattel_format_ts(received_ms, received);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STORE_QUEUE_WAIT_MS / 1000;
    if (pthread_mutex_timedlock(&st->lock, &until) != 0)
        return natx_fail(err, NATTEL_EIO,
                         "database '%s' is busy: requests ahead are "
                         "still waiting for it",
                         st->path);
    nattel_buf json = NATTEL_BUF_INIT;
    nattel_code code = put_locked(st, env, received, &json, err);
    pthread_mutex_unlock(&st->lock);
    nattel_buf_free(&json);
    return code;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

nattel_code serve_store_event_count(serve_store *st, int64_t *out,
                                    nattel_error *err)
{
    *out = 0;
    pthread_mutex_lock(&st->lock);
    nattel_code code = query_int(st, "SELECT count(*) FROM events", out, err);
    pthread_mutex_unlock(&st->lock);
    return code;
}

/* Counts and nearest-rank percentiles (rank ceil(p * n / 100) among the n
 * known durations, in ascending order) per (command, subcommand). */
static const char *const report_sql =
    "WITH counts AS ("
    "  SELECT command, subcommand, count(*) AS n,"
    "    sum(task_status = 'success') AS ok,"
    "    sum(task_status = 'failure') AS failed,"
    "    sum(task_status = 'interrupted') AS interrupted"
    "  FROM nat_cli_command GROUP BY command, subcommand),"
    " known AS ("
    "  SELECT command, subcommand, duration_ms,"
    "    row_number() OVER (PARTITION BY command, subcommand"
    "                       ORDER BY duration_ms) AS rank,"
    "    count(*) OVER (PARTITION BY command, subcommand) AS n"
    "  FROM nat_cli_command WHERE duration_ms >= 0),"
    " pct AS ("
    "  SELECT command, subcommand,"
    "    max(CASE WHEN rank = (n * 50 + 99) / 100 THEN duration_ms END) AS p50,"
    "    max(CASE WHEN rank = (n * 95 + 99) / 100 THEN duration_ms END) AS p95"
    "  FROM known GROUP BY command, subcommand)"
    " SELECT c.command, c.subcommand, c.n, c.ok, c.failed, c.interrupted,"
    "   p.p50, p.p95"
    " FROM counts c LEFT JOIN pct p"
    "   ON p.command = c.command AND p.subcommand = c.subcommand"
    " ORDER BY c.command, c.subcommand";

/* Most frequent first; ties by name so that the report is deterministic. */
static const char *const errors_sql =
    "SELECT command, subcommand, error_class, count(*) AS n"
    " FROM nat_cli_command WHERE error_class <> 'undefined'"
    " GROUP BY command, subcommand, error_class"
    " ORDER BY command, subcommand, n DESC, error_class";

/* Column `col` as text, whole: its length counts NULs within. */
static const char *col_text(sqlite3_stmt *s, int col, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    *len = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
    return t ? (const char *)t : "";
}

static int64_t col_int_or(sqlite3_stmt *s, int col, int64_t fallback)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return fallback;
    return sqlite3_column_int64(s, col);
}

static nattel_code read_counts(serve_store *st, sqlite3_stmt *s,
                               serve_report *out, nattel_error *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t cmd_len, sub_len;
        const char *cmd = col_text(s, 0, &cmd_len);
        const char *sub = col_text(s, 1, &sub_len);
        serve_report_row *row =
            serve_report_add_row(out, cmd, cmd_len, sub, sub_len);
        if (!row)
            return natx_fail(err, NATTEL_ENOMEM, "out of memory");
        row->count = sqlite3_column_int64(s, 2);
        row->success = sqlite3_column_int64(s, 3);
        row->failure = sqlite3_column_int64(s, 4);
        row->interrupted = sqlite3_column_int64(s, 5);
        row->p50_ms = col_int_or(s, 6, -1);
        row->p95_ms = col_int_or(s, 7, -1);
    }
    return rc == SQLITE_DONE ? NATTEL_OK
                             : db_fail(st, err, "cannot read the report");
}

static nattel_code read_errors(serve_store *st, sqlite3_stmt *s,
                               serve_report *out, nattel_error *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t cmd_len, sub_len, name_len;
        const char *cmd = col_text(s, 0, &cmd_len);
        const char *sub = col_text(s, 1, &sub_len);
        serve_report_row *row =
            serve_report_find(out, cmd, cmd_len, sub, sub_len);
        const char *name = col_text(s, 2, &name_len);
        if (row && serve_report_add_error(row, name, name_len,
                                          sqlite3_column_int64(s, 3)))
            return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    }
    return rc == SQLITE_DONE ? NATTEL_OK
                             : db_fail(st, err, "cannot read the report");
}

static nattel_code
run_report(serve_store *st, const char *sql,
           nattel_code (*reader)(serve_store *, sqlite3_stmt *, serve_report *,
                                 nattel_error *),
           serve_report *out, nattel_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(st, err, "cannot prepare the report");
    nattel_code code = reader(st, s, out, err);
    sqlite3_finalize(s);
    return code;
}

nattel_code serve_store_report(serve_store *st, serve_report *out,
                               nattel_error *err)
{
    serve_report_init(out);
    pthread_mutex_lock(&st->lock);
    /* One read transaction: both queries see the same snapshot even while
     * a server keeps writing. */
    nattel_code code = exec_sql(st, "BEGIN", err);
    if (!code)
        code = run_report(st, report_sql, read_counts, out, err);
    if (!code)
        code = run_report(st, errors_sql, read_errors, out, err);
    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&st->lock);
    if (code)
        serve_report_free(out);
    return code;
}
