/* The SQLite backend of the store: see serve_store.h. */
#include "serve/serve_store_sqlite.h"

#include "serve/serve_sqlite.h"

#include "natx/natx_error.h"
#include "natx/natx_jsonw.h"
#include "natx/natx_mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
/* The WAL is copied into the database (a checkpoint, run by the commit
 * that crosses this size, with two fsyncs) every this many pages (4 KiB
 * each: about 40 MB) rather than SQLite's 1000: every commit rewrites
 * the index pages it inserts into (the time index and the durations'
 * take an insertion point per distinct key), so a larger WAL writes each
 * hot page once per checkpoint instead of once per few commits; at 50
 * events per request the server's CPU per event fell by a fifth. */
#define STORE_CHECKPOINT_PAGES 10000
/* How long a request waits for the requests ahead of it on this
 * connection; past it the store counts as busy. */
#define STORE_QUEUE_WAIT_MS 3000

/* The schema version as SQL text, from the one constant. */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define VERSION_TEXT STRINGIFY(SERVE_STORE_SCHEMA_VERSION)

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
    "CREATE INDEX events_name ON events(name);";

/* Version 1 to 2: exactly once. An envelope's body hash and an event's
 * sender-given ID are each UNIQUE, so that the database itself (across
 * the server's threads, and across servers on one database) keeps one
 * copy of a retried delivery. A new database is made as version 1 and
 * taken through the same steps, so that the steps are always run. Rows
 * stored before have NULL in both, which UNIQUE lets repeat. */
static const char *const migrate_v2_sql =
    "ALTER TABLE envelopes ADD COLUMN body_hash TEXT;"
    "ALTER TABLE events ADD COLUMN event_uid TEXT;"
    "CREATE UNIQUE INDEX envelopes_body_hash ON envelopes(body_hash);"
    "CREATE UNIQUE INDEX events_uid ON events(event_uid);";

/* Version 2 to 3: the time index, through which the dashboard reads a
 * time range (the edge hours of the summary's). Layout 3 also had
 * events(name, schema_ver), which the summary made unnecessary: see
 * drop_unused_sql. */
static const char *const migrate_v3_sql =
    "DROP INDEX IF EXISTS events_name;"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);";

/* Dropped on every writable open: see serve_store_common.h. */
static const char *const drop_unused_sql = SERVE_STORE_DROP_UNUSED_SQL;

/* Version 3 to 4: the per-hour summary the dashboard reads (see
 * serve_store_common.h), built from the stored events in the migration's
 * transaction; from then on the put path adds each envelope's rows in the
 * transaction that stores it. Setting user_version back to 3 makes the
 * next writable open build it again. */
static const char *const migrate_v4_sql =
    SERVE_STORE_SUMMARY_DDL("TEXT", "INTEGER", " WITHOUT ROWID")
        SERVE_STORE_SUMMARY_BUILD;

/* The summary's rows written from a delivery's counts (see sum_flush): a
 * key's count added to its row, or the row made. */
#define SUM_UPSERT_TYPES                                                       \
    "INSERT INTO usage_types AS u (hour, name, schema_ver, n)"                 \
    " VALUES (?, ?, ?, ?) ON CONFLICT (hour, name, schema_ver)"                \
    " DO UPDATE SET n = u.n + excluded.n"
#define SUM_UPSERT_COMMANDS                                                    \
    "INSERT INTO usage_commands AS u (hour, command, subcommand,"              \
    " task_status, error_class, known, n) VALUES (?, ?, ?, ?, ?, ?, ?)"        \
    " ON CONFLICT (hour, command, subcommand, task_status, error_class,"       \
    " known) DO UPDATE SET n = u.n + excluded.n"
#define SUM_UPSERT_CLIENTS                                                     \
    "INSERT INTO usage_clients AS u (hour, command, client_ver,"               \
    " cpu_architecture, n) VALUES (?, ?, ?, ?, ?)"                             \
    " ON CONFLICT (hour, command, client_ver, cpu_architecture)"               \
    " DO UPDATE SET n = u.n + excluded.n"

enum {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_ENVELOPE,
    STMT_EVENT,
    STMT_SUM_TYPES,
    STMT_SUM_COMMANDS,
    STMT_SUM_CLIENTS,
    STMT_UP_TYPES,
    STMT_UP_COMMANDS,
    STMT_UP_CLIENTS,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_ENVELOPE] =
        "INSERT INTO envelopes (session_id, client_ver, schema_ver,"
        " cpu_architecture, sent_ts, received_ts, event_count, body_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    [STMT_EVENT] =
        "INSERT INTO events (envelope_id, seq, session_id, client_ver, name,"
        " schema_ver, ts, received_ts, parameters, event_uid)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    [STMT_SUM_TYPES] = SERVE_STORE_SUMMARY_TYPES("e.envelope_id = $1"),
    [STMT_SUM_COMMANDS] = SERVE_STORE_SUMMARY_COMMANDS("e.envelope_id = $1"),
    [STMT_SUM_CLIENTS] = SERVE_STORE_SUMMARY_CLIENTS("e.envelope_id = $1"),
    [STMT_UP_TYPES] = SUM_UPSERT_TYPES,
    [STMT_UP_COMMANDS] = SUM_UPSERT_COMMANDS,
    [STMT_UP_CLIENTS] = SUM_UPSERT_CLIENTS,
};

/* The summary's keys of one delivery, counted in C while its events are
 * stored: a client's envelope holds a few keys (its events share an hour,
 * a version, a few commands), so one upsert per key replaces the three
 * INSERT ... SELECT ... GROUP BY that read the envelope's events back
 * (a sorter and two joins each). Past SUM_KEYS_MAX keys of a table, or
 * for a value the columns cannot hold as text, the delivery's summary is
 * written by those statements instead: the same rows either way. */
#define SUM_KEYS_MAX 64
#define SUM_PARTS 5 /* text parts of the widest key (usage_commands) */
#define HOUR_LEN 13 /* YYYY-MM-DDTHH of an event's time */

enum { SUM_TYPES, SUM_COMMANDS, SUM_CLIENTS, SUM_TABLES };

/* A key's parts point into the delivery (or the enum's values), which
 * outlive the put. */
typedef struct sum_key {
    const char *part[SUM_PARTS];
    size_t len[SUM_PARTS];
    int known; /* usage_commands: a known duration */
    int64_t n;
} sum_key;

typedef struct sum_table {
    sum_key key[SUM_KEYS_MAX];
    size_t count;
} sum_table;

typedef struct sum_acc {
    sum_table t[SUM_TABLES];
    int by_sql; /* the delivery's summary by the SQL statements */
} sum_acc;

/* The typed table of one event type: a column per field, named by the
 * field's C name, typed by its kind (see typed_create_sql). */
typedef struct typed_table {
    char *name; /* the event type's name, also the table's */
    char **columns;
    size_t column_count;
    sqlite3_stmt *insert;
} typed_table;

typedef struct sqlite_store {
    serve_store base;
    sqlite3 *db;
    char *path;
    pthread_mutex_t lock; /* the connection: one user at a time */
    /* Group commit: requests queue here; the first finding nobody
     * leading leads, storing the whole queue in one transaction. */
    pthread_mutex_t queue_lock; /* guards queue, leading, jobs' flags */
    pthread_cond_t queue_wake;
    struct put_job *queue;
    int leading;
    sqlite3_stmt *stmt[STMT_COUNT]; /* NULL when read-only */
    sum_acc sum;                    /* the delivery being stored (under lock) */
    typed_table *tables;
    size_t table_count;
    size_t table_cap;
} sqlite_store;

/* libsqlite3's calls. serve_store_sqlite_open loads it before a store
 * exists, so here it is always loaded: this is pthread_once's fast path. */
static const serve_sqlite_api *sq(void)
{
    return serve_sqlite_load(NULL);
}

/* SQLite's reason, with the system's where there is one ("disk I/O
 * error (No space left on device)"). */
static nattel_code db_fail(sqlite_store *st, nattel_error *err,
                           const char *what)
{
    if (sq()->errcode(st->db) == SQLITE_NOTADB)
        return natx_fail(err, NATTEL_EINVAL,
                         "database '%s' is not a SQLite database", st->path);
    int sys = sq()->system_errno(st->db);
    return natx_fail(err, NATTEL_EIO, "database '%s': %s: %s%s%s%s", st->path,
                     what, sq()->errmsg(st->db), sys ? " (" : "",
                     sys ? strerror(sys) : "", sys ? ")" : "");
}

/* Runs SQL that returns at most one integer (a PRAGMA); *out stays as is
 * when it returns no row. */
static nattel_code query_int(sqlite_store *st, const char *sql, int64_t *out,
                             nattel_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sq()->prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(st, err, sql);
    int rc = sq()->step(s);
    if (rc == SQLITE_ROW && out)
        *out = sq()->column_int64(s, 0);
    sq()->finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(st, err, sql);
    return NATTEL_OK;
}

static nattel_code exec_sql(sqlite_store *st, const char *sql,
                            nattel_error *err)
{
    if (sq()->exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "cannot set up");
    return NATTEL_OK;
}

/* A real write at start-up (the header's user_version, rewritten as it
 * is), so that a file the server cannot write is refused now and not by
 * the first POST. */
static nattel_code probe_write(sqlite_store *st, nattel_error *err)
{
    if (sq()->exec(st->db,
                   "BEGIN IMMEDIATE; PRAGMA user_version = " VERSION_TEXT
                   "; COMMIT",
                   NULL, NULL, NULL) == SQLITE_OK)
        return NATTEL_OK;
    nattel_code code = db_fail(st, err, "cannot write");
    if (!sq()->get_autocommit(st->db))
        sq()->exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

/* SQLite opens a file it may not write read-only without a word; say so,
 * with the system's reason. */
static nattel_code check_writable(sqlite_store *st, nattel_error *err)
{
    if (sq()->db_readonly(st->db, "main") != 1)
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
static nattel_code wal_fail(sqlite_store *st, nattel_error *err)
{
    int e = dir_errno(st->path);
    if (e)
        return natx_fail(err, NATTEL_EIO,
                         "database '%s': cannot create its WAL file "
                         "beside it: %s",
                         st->path, strerror(e));
    return db_fail(st, err, "cannot enable WAL mode");
}

static nattel_code enable_wal(sqlite_store *st, nattel_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sq()->prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) !=
        SQLITE_OK)
        return wal_fail(st, err);
    int rc = sq()->step(s);
    const char *mode =
        rc == SQLITE_ROW ? (const char *)sq()->column_text(s, 0) : NULL;
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
    sq()->finalize(s);
    return code;
}

static nattel_code version_mismatch(sqlite_store *st, int64_t version,
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

static nattel_code typed_create_sql(const nattel_event_type *t, nattel_buf *b);

/* The typed tables of the built-in types, when missing: the summary
 * reads nat_cli_command. */
static nattel_code create_builtin_tables(sqlite_store *st, nattel_error *err)
{
    nattel_registry *reg = nattel_registry_new();
    if (!reg)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    nattel_buf sql = NATTEL_BUF_INIT;
    nattel_code code = NATTEL_OK;
    for (size_t i = 0; !code && i < nattel_registry_count(reg); i++) {
        nattel_buf_reset(&sql);
        code = typed_create_sql(nattel_registry_at(reg, i), &sql);
        if (code)
            code = natx_fail(err, code, "out of memory");
        else
            code = exec_sql(st, sql.data, err);
    }
    nattel_buf_free(&sql);
    nattel_registry_free(reg);
    return code;
}

/* Takes a database of version `version` (0: new) to the current one. */
static nattel_code migrate_from(sqlite_store *st, int64_t version,
                                nattel_error *err)
{
    nattel_code code = NATTEL_OK;
    if (version == 0)
        code = exec_sql(st, schema_sql, err);
    if (!code && version < 2)
        code = exec_sql(st, migrate_v2_sql, err);
    if (!code && version < 3)
        code = exec_sql(st, migrate_v3_sql, err);
    if (!code && version < 4)
        code = create_builtin_tables(st, err);
    if (!code && version < 4)
        code = exec_sql(st, migrate_v4_sql, err);
    if (!code)
        code = exec_sql(st, "PRAGMA user_version = " VERSION_TEXT, err);
    return code;
}

/* Creates the tables on first use and brings an older layout forward, in
 * one transaction. BEGIN IMMEDIATE makes two servers starting on one file
 * agree on who does it. A newer layout is refused. */
static nattel_code migrate(sqlite_store *st, nattel_error *err)
{
    nattel_code code = exec_sql(st, "BEGIN IMMEDIATE", err);
    if (code)
        return code;
    int64_t version = 0;
    code = query_int(st, "PRAGMA user_version", &version, err);
    if (!code && (version > SERVE_STORE_SCHEMA_VERSION || version < 0))
        code = version_mismatch(st, version, err);
    else if (!code && version < SERVE_STORE_SCHEMA_VERSION)
        code = migrate_from(st, version, err);
    if (!code)
        code = exec_sql(st, drop_unused_sql, err);
    if (code) {
        sq()->exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return code;
    }
    return exec_sql(st, "COMMIT", err);
}

static nattel_code check_version(sqlite_store *st, nattel_error *err)
{
    int64_t version = 0;
    nattel_code code = query_int(st, "PRAGMA user_version", &version, err);
    if (code)
        return code;
    /* A reader needs no column added since version 1, and cannot add
     * them: an older database is read as it is. */
    if (version < SERVE_STORE_MIN_READ_VERSION ||
        version > SERVE_STORE_SCHEMA_VERSION)
        return version_mismatch(st, version, err);
    st->base.layout = (int)version;
    return NATTEL_OK;
}

static nattel_code prepare_all(sqlite_store *st, nattel_error *err)
{
    for (int i = 0; i < STMT_COUNT; i++)
        if (sq()->prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                             &st->stmt[i], NULL) != SQLITE_OK)
            return db_fail(st, err, "cannot prepare statement");
    return NATTEL_OK;
}

static nattel_code open_db(sqlite_store *st, int read_only, nattel_error *err)
{
    /* SQLite would only say "unable to open database file". */
    if (read_only && access(st->path, F_OK) != 0)
        return natx_fail(err, NATTEL_EIO, "cannot open database '%s': %s",
                         st->path, strerror(errno));
    /* st->lock serialises every use of the connection: SQLite's own
     * mutex would only be taken again on each call. */
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY
                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sq()->open_v2(st->path, &st->db, flags, NULL) == SQLITE_OK)
        return NATTEL_OK;
    /* A new file: SQLite reports the failed open, not the failed create. */
    if (!read_only && access(st->path, F_OK) != 0 && errno == ENOENT) {
        int e = dir_errno(st->path);
        if (e != 0)
            return natx_fail(err, NATTEL_EIO, "cannot create database '%s': %s",
                             st->path, strerror(e));
    }
    int sys = st->db ? sq()->system_errno(st->db) : 0;
    return natx_fail(err, NATTEL_EIO, "cannot open database '%s': %s%s%s%s",
                     st->path, st->db ? sq()->errmsg(st->db) : "out of memory",
                     sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "");
}

/* ------------------------------------------------------------------ */
/* Typed tables, from the registry's description of each event type     */
/* ------------------------------------------------------------------ */

static void typed_free(typed_table *t)
{
    for (size_t i = 0; i < t->column_count; i++)
        free(t->columns[i]);
    free(t->columns);
    free(t->name);
    sq()->finalize(t->insert);
}

static const char *column_type(nattel_kind kind)
{
    switch (kind) {
    case NATTEL_KIND_INT64:
    case NATTEL_KIND_BOOL:
        return "INTEGER";
    case NATTEL_KIND_NUMBER:
        return "REAL";
    default: /* strings, enums, string arrays (as JSON) */
        return "TEXT";
    }
}

static void put_sql(nattel_buf *b, const char *sql, nattel_code *code)
{
    if (!*code)
        *code = nattel_buf_append(b, sql, strlen(sql));
}

/* " (event_id, "<field>", ...)", with each column's declaration when
 * `declared`. */
static void put_columns(nattel_buf *b, const nattel_event_type *t, int declared,
                        nattel_code *code)
{
    put_sql(b, " (event_id", code);
    if (declared)
        put_sql(b, " INTEGER PRIMARY KEY REFERENCES events(id)", code);
    for (size_t i = 0; i < t->field_count; i++) {
        const nattel_field *f = &t->fields[i];
        put_sql(b, ", ", code);
        serve_store_put_ident(b, serve_store_column_name(f), code);
        if (!declared)
            continue;
        put_sql(b, " ", code);
        put_sql(b, column_type(f->kind), code);
        if (serve_store_always_set(f))
            put_sql(b, " NOT NULL", code);
    }
    put_sql(b, ")", code);
}

/* CREATE TABLE IF NOT EXISTS <type> (event_id ..., <field> <kind>, ...). */
static nattel_code typed_create_sql(const nattel_event_type *t, nattel_buf *b)
{
    nattel_code code = NATTEL_OK;
    put_sql(b, "CREATE TABLE IF NOT EXISTS ", &code);
    serve_store_put_ident(b, t->name, &code);
    put_columns(b, t, 1, &code);
    return code;
}

/* INSERT INTO <type> (event_id, <field>, ...) VALUES (?, ?, ...). */
static nattel_code typed_insert_sql(const nattel_event_type *t, nattel_buf *b)
{
    nattel_code code = NATTEL_OK;
    put_sql(b, "INSERT INTO ", &code);
    serve_store_put_ident(b, t->name, &code);
    put_columns(b, t, 0, &code);
    put_sql(b, " VALUES (?", &code);
    for (size_t i = 0; i < t->field_count; i++)
        put_sql(b, ", ?", &code);
    put_sql(b, ")", &code);
    return code;
}

static typed_table *typed_find(sqlite_store *st, const char *name)
{
    for (size_t i = 0; i < st->table_count; i++)
        if (!strcmp(st->tables[i].name, name))
            return &st->tables[i];
    return NULL;
}

/* The table's description, copied: the registry may go before the store. */
static nattel_code typed_describe(typed_table *tt, const nattel_event_type *t)
{
    memset(tt, 0, sizeof *tt);
    tt->name = strdup(t->name);
    tt->columns =
        calloc(t->field_count ? t->field_count : 1, sizeof *tt->columns);
    if (!tt->name || !tt->columns)
        return NATTEL_ENOMEM;
    for (; tt->column_count < t->field_count; tt->column_count++) {
        char *column =
            strdup(serve_store_column_name(&t->fields[tt->column_count]));
        if (!column)
            return NATTEL_ENOMEM;
        tt->columns[tt->column_count] = column;
    }
    return NATTEL_OK;
}

static nattel_code typed_add(sqlite_store *st, const nattel_event_type *t,
                             nattel_buf *sql, nattel_error *err)
{
    if (NATX_GROW(st->tables, st->table_cap, st->table_count + 1))
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    typed_table *tt = &st->tables[st->table_count];
    nattel_code code = typed_describe(tt, t);
    nattel_buf_reset(sql);
    if (!code)
        code = typed_create_sql(t, sql);
    if (code) {
        typed_free(tt);
        return natx_fail(err, code, "out of memory");
    }
    if (sq()->exec(st->db, sql->data, NULL, NULL, NULL) != SQLITE_OK) {
        typed_free(tt);
        return db_fail(st, err, "cannot create a typed table");
    }
    nattel_buf_reset(sql);
    code = typed_insert_sql(t, sql);
    if (code != NATTEL_OK) {
        typed_free(tt);
        return natx_fail(err, code, "out of memory");
    }
    if (sq()->prepare_v3(st->db, sql->data, -1, SQLITE_PREPARE_PERSISTENT,
                         &tt->insert, NULL) != SQLITE_OK) {
        code = db_fail(st, err, "cannot prepare a typed insert");
        typed_free(tt);
        return code;
    }
    st->table_count++;
    return NATTEL_OK;
}

static nattel_code add_types_locked(sqlite_store *st, const void *arg,
                                    nattel_error *err)
{
    const nattel_registry *reg = arg;
    nattel_buf sql = NATTEL_BUF_INIT;
    nattel_code code = exec_sql(st, "BEGIN IMMEDIATE", err);
    size_t n = nattel_registry_count(reg);
    for (size_t i = 0; !code && i < n; i++) {
        const nattel_event_type *t = nattel_registry_at(reg, i);
        if (!typed_find(st, t->name))
            code = typed_add(st, t, &sql, err);
    }
    if (code)
        sq()->exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    else
        code = exec_sql(st, "COMMIT", err);
    nattel_buf_free(&sql);
    return code;
}

/* Runs fn under the connection's lock; NATTEL_EINVAL for a store opened
 * read-only. */
static nattel_code write_locked(sqlite_store *st,
                                nattel_code (*fn)(sqlite_store *, const void *,
                                                  nattel_error *),
                                const void *arg, nattel_error *err)
{
    if (!st->stmt[STMT_BEGIN])
        return natx_fail(err, NATTEL_EINVAL, "database '%s' is open read-only",
                         st->path);
    pthread_mutex_lock(&st->lock);
    nattel_code code = fn(st, arg, err);
    pthread_mutex_unlock(&st->lock);
    return code;
}

static nattel_code sqlite_add_types(sqlite_store *st,
                                    const nattel_registry *reg,
                                    nattel_error *err)
{
    return write_locked(st, add_types_locked, reg, err);
}

static nattel_code exec_locked(sqlite_store *st, const void *sql,
                               nattel_error *err)
{
    if (sq()->exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, sql);
    return NATTEL_OK;
}

static nattel_code sqlite_exec(sqlite_store *st, const char *sql,
                               nattel_error *err)
{
    return write_locked(st, exec_locked, sql, err);
}

static nattel_code setup(sqlite_store *st, int read_only, nattel_error *err)
{
    nattel_code code = open_db(st, read_only, err);
    if (code)
        return code;
    sq()->busy_timeout(st->db,
                       read_only ? STORE_READ_BUSY_MS : STORE_WRITE_BUSY_MS);
    sq()->extended_result_codes(st->db, 1);
    if (read_only)
        return check_version(st, err);
    code = check_writable(st, err);
    if (code != NATTEL_OK)
        return code;
    code = enable_wal(st, err);
    if (code != NATTEL_OK)
        return code;
    /* NORMAL in WAL mode loses nothing when the process dies; only a power
     * cut can take the last transactions, an accepted trade for an
     * endpoint that serves development and tests. */
    code = exec_sql(
        st,
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA wal_autocheckpoint=" STRINGIFY(STORE_CHECKPOINT_PAGES) ";",
        err);
    if (code != NATTEL_OK)
        return code;
    code = migrate(st, err);
    if (code != NATTEL_OK)
        return code;
    st->base.layout = SERVE_STORE_SCHEMA_VERSION;
    code = probe_write(st, err);
    if (code != NATTEL_OK)
        return code;
    code = prepare_all(st, err);
    if (code != NATTEL_OK)
        return code;
    nattel_registry *builtin = nattel_registry_new();
    code = builtin ? sqlite_add_types(st, builtin, err)
                   : natx_fail(err, NATTEL_ENOMEM, "out of memory");
    nattel_registry_free(builtin);
    return code;
}

static const serve_store_ops sqlite_ops;
static void sqlite_close(sqlite_store *st);

nattel_code serve_store_sqlite_open(const char *path, int read_only,
                                    serve_store **out, nattel_error *err)
{
    *out = NULL;
    /* Loaded when a SQLite store is opened, not at start-up. */
    if (!serve_sqlite_load(err))
        return NATTEL_EIO;
    sqlite_store *st = calloc(1, sizeof *st);
    if (st)
        st->path = strdup(path);
    if (!st || !st->path) {
        free(st);
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    }
    if (pthread_mutex_init(&st->lock, NULL) != 0 ||
        pthread_mutex_init(&st->queue_lock, NULL) != 0 ||
        pthread_cond_init(&st->queue_wake, NULL) != 0) {
        free(st->path);
        free(st);
        return natx_fail(err, NATTEL_ENOMEM, "cannot create a mutex");
    }
    st->base.ops = &sqlite_ops;
    nattel_code code = setup(st, read_only, err);
    if (code) {
        sqlite_close(st);
        return code;
    }
    *out = &st->base;
    return NATTEL_OK;
}

static void sqlite_close(sqlite_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sq()->finalize(st->stmt[i]);
    for (size_t i = 0; i < st->table_count; i++)
        typed_free(&st->tables[i]);
    free(st->tables);
    sq()->close(st->db);
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->queue_lock);
    pthread_cond_destroy(&st->queue_wake);
    free(st->path);
    free(st);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

static int bind_text(sqlite3_stmt *s, int col, const char *text)
{
    return sq()->bind_text(s, col, text ? text : "", -1, SQLITE_STATIC);
}

static int step_reset(sqlite3_stmt *s)
{
    int rc = sq()->step(s);
    sq()->reset(s);
    sq()->clear_bindings(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static nattel_code put_envelope_row(sqlite_store *st,
                                    const nattel_envelope *env,
                                    const char *received, const char *hash,
                                    int64_t *id, nattel_error *err)
{
    sqlite3_stmt *s = st->stmt[STMT_ENVELOPE];
    bind_text(s, 1, nattel_envelope_session_id(env));
    bind_text(s, 2, nattel_envelope_client_ver(env));
    bind_text(s, 3, nattel_envelope_schema_ver(env));
    bind_text(s, 4, nattel_envelope_cpu_architecture(env));
    bind_text(s, 5, nattel_envelope_sent_ts(env));
    bind_text(s, 6, received);
    sq()->bind_int64(s, 7, (sqlite3_int64)nattel_envelope_count(env));
    if (hash)
        bind_text(s, 8, hash);
    else
        sq()->bind_null(s, 8);
    if (step_reset(s) != SQLITE_OK)
        return db_fail(st, err, "cannot insert an envelope");
    /* 0: this body is stored already (ON CONFLICT DO NOTHING). */
    *id = sq()->changes(st->db) ? sq()->last_insert_rowid(st->db) : 0;
    return NATTEL_OK;
}

/* A string array as JSON text, e.g. ["a","b"]. */
static int bind_array(sqlite3_stmt *s, int col, const nattel_str_array *a)
{
    nattel_buf b = NATTEL_BUF_INIT;
    int rc =
        serve_store_array_json(a, &b)
            ? SQLITE_NOMEM
            : sq()->bind_text(s, col, b.data, (int)b.len, SQLITE_TRANSIENT);
    nattel_buf_free(&b);
    return rc;
}

/* Binds a value by its exact bytes: a string may hold an escaped NUL,
 * which a C string would cut short. */
static int bind_value(sqlite3_stmt *s, int col, const nattel_field *f,
                      const nattel_value *v)
{
    if (!v)
        return sq()->bind_null(s, col);
    switch (f->kind) {
    case NATTEL_KIND_STRING:
        return sq()->bind_text(s, col, v->s.ptr ? v->s.ptr : "", (int)v->s.len,
                               SQLITE_STATIC);
    case NATTEL_KIND_ENUM:
        return bind_text(s, col, f->enum_type->values[v->e]);
    case NATTEL_KIND_INT64:
        return sq()->bind_int64(s, col, v->i);
    case NATTEL_KIND_NUMBER:
        return sq()->bind_double(s, col, v->d);
    case NATTEL_KIND_BOOL:
        return sq()->bind_int(s, col, v->b != 0);
    case NATTEL_KIND_STRING_ARRAY:
        return bind_array(s, col, &v->a);
    }
    return sq()->bind_null(s, col);
}

static nattel_code put_typed_row(sqlite_store *st, const typed_table *tt,
                                 const nattel_event *ev, int64_t event_id,
                                 nattel_error *err)
{
    sqlite3_stmt *s = tt->insert;
    sq()->bind_int64(s, 1, event_id);
    for (size_t i = 0; i < tt->column_count; i++) {
        const nattel_field *f = NULL;
        const nattel_value *v =
            serve_store_column_value(ev, tt->columns[i], &f);
        bind_value(s, (int)i + 2, f, v);
    }
    if (step_reset(s) != SQLITE_OK)
        return db_fail(st, err, "cannot insert a typed row");
    return NATTEL_OK;
}

/* Counts one more of the key; its parts are copied by pointer. */
static void sum_add(sum_acc *acc, int table, const char *const *part,
                    const size_t *len, size_t parts, int known)
{
    sum_table *t = &acc->t[table];
    for (size_t k = 0; k < t->count; k++) {
        sum_key *key = &t->key[k];
        size_t p = 0;
        while (p < parts && key->len[p] == len[p] &&
               !memcmp(key->part[p], part[p], len[p]))
            p++;
        if (p == parts && key->known == known) {
            key->n++;
            return;
        }
    }
    if (t->count == SUM_KEYS_MAX) {
        acc->by_sql = 1;
        return;
    }
    sum_key *key = &t->key[t->count++];
    for (size_t p = 0; p < parts; p++) {
        key->part[p] = part[p];
        key->len[p] = len[p];
    }
    key->known = known;
    key->n = 1;
}

/* A text column's value as the typed row stores it (see bind_value); 0
 * for a value of another kind, or none. */
static int column_text(const nattel_event *ev, const char *column,
                       const char **text, size_t *len)
{
    const nattel_field *f = NULL;
    const nattel_value *v = serve_store_column_value(ev, column, &f);
    if (!v || !f)
        return 0;
    if (f->kind == NATTEL_KIND_STRING) {
        *text = v->s.ptr ? v->s.ptr : "";
        *len = v->s.len;
        return 1;
    }
    if (f->kind == NATTEL_KIND_ENUM) {
        *text = f->enum_type->values[v->e];
        *len = strlen(*text);
        return 1;
    }
    return 0;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The summary keys of stored event i: its type's, and for a
 * nat_cli_command (with its typed row) its command's and client's, as
 * SERVE_STORE_SUMMARY_COMMANDS and _CLIENTS read them from the rows. */
static void sum_event(sqlite_store *st, const nattel_envelope *env, size_t i,
                      const nattel_event *ev, const typed_table *tt)
{
    sum_acc *acc = &st->sum;
    const char *type = nattel_event_type_of(ev)->name;
    const char *ver = or_empty(nattel_envelope_schema_ver(env));
    const char *ts = nattel_envelope_event_ts(env, i);
    if (!ts || strlen(ts) < HOUR_LEN) {
        acc->by_sql = 1;
        return;
    }
    const char *part[SUM_PARTS] = {ts, type, ver};
    size_t len[SUM_PARTS] = {HOUR_LEN, strlen(type), strlen(ver)};
    sum_add(acc, SUM_TYPES, part, len, 3, 0);
    if (!tt || strcmp(tt->name, "nat_cli_command"))
        return;
    static const char *const text_columns[] = {"command", "subcommand",
                                               "task_status", "error_class"};
    for (size_t c = 0; c < 4; c++)
        if (!column_text(ev, text_columns[c], &part[c + 1], &len[c + 1])) {
            acc->by_sql = 1;
            return;
        }
    const nattel_field *f = NULL;
    const nattel_value *dur = serve_store_column_value(ev, "duration_ms", &f);
    if (!dur || !f || f->kind != NATTEL_KIND_INT64) {
        acc->by_sql = 1;
        return;
    }
    sum_add(acc, SUM_COMMANDS, part, len, 5, dur->i >= 0);
    const char *client = or_empty(nattel_envelope_client_ver(env));
    const char *arch = or_empty(nattel_envelope_cpu_architecture(env));
    part[2] = client;
    len[2] = strlen(client);
    part[3] = arch;
    len[3] = strlen(arch);
    sum_add(acc, SUM_CLIENTS, part, len, 4, 0);
}

static nattel_code put_event(sqlite_store *st, const serve_store_delivery *d,
                             size_t i, int64_t envelope_id,
                             const char *received, nattel_buf *json,
                             size_t *stored, nattel_error *err)
{
    const nattel_envelope *env = d->env;
    const nattel_event *ev = nattel_envelope_event(env, i);
    const nattel_event_type *type = nattel_event_type_of(ev);
    nattel_buf_reset(json);
    nattel_code code = nattel_event_write_json(ev, json, err);
    if (code)
        return code;
    sqlite3_stmt *s = st->stmt[STMT_EVENT];
    sq()->bind_int64(s, 1, envelope_id);
    sq()->bind_int64(s, 2, (sqlite3_int64)i);
    bind_text(s, 3, nattel_envelope_session_id(env));
    bind_text(s, 4, nattel_envelope_client_ver(env));
    bind_text(s, 5, type->name);
    bind_text(s, 6, nattel_envelope_schema_ver(env));
    bind_text(s, 7, nattel_envelope_event_ts(env, i));
    bind_text(s, 8, received);
    sq()->bind_text(s, 9, json->data ? json->data : "{}", (int)json->len,
                    SQLITE_STATIC);
    if (d->ids)
        bind_text(s, 10, d->ids->items[i]);
    else
        sq()->bind_null(s, 10);
    if (step_reset(s) != SQLITE_OK)
        return db_fail(st, err, "cannot insert an event");
    /* Its ID is stored already (ON CONFLICT DO NOTHING): one copy. */
    if (!sq()->changes(st->db))
        return NATTEL_OK;
    ++*stored;
    const typed_table *tt = typed_find(st, type->name);
    if (tt)
        code = put_typed_row(st, tt, ev, sq()->last_insert_rowid(st->db), err);
    if (!code)
        sum_event(st, env, i, ev, tt);
    return code;
}

/* One upsert per counted key (see sum_acc). */
static nattel_code sum_flush(sqlite_store *st, nattel_error *err)
{
    static const size_t parts[SUM_TABLES] = {3, 5, 4};
    for (int t = 0; t < SUM_TABLES; t++) {
        sqlite3_stmt *s = st->stmt[STMT_UP_TYPES + t];
        const sum_table *tab = &st->sum.t[t];
        for (size_t k = 0; k < tab->count; k++) {
            const sum_key *key = &tab->key[k];
            int col = 1;
            for (size_t p = 0; p < parts[t]; p++, col++)
                sq()->bind_text(s, col, key->part[p], (int)key->len[p],
                                SQLITE_STATIC);
            if (t == SUM_COMMANDS)
                sq()->bind_int(s, col++, key->known);
            sq()->bind_int64(s, col, key->n);
            if (step_reset(s) != SQLITE_OK)
                return db_fail(st, err, "cannot add to the summary");
        }
    }
    return NATTEL_OK;
}

/* The summary rows of the envelope's stored events (see
 * serve_store_common.h), in the transaction that stores them: from the
 * counts taken while storing them, or read back by the SQL statements. */
static nattel_code put_summary(sqlite_store *st, int64_t envelope_id,
                               nattel_error *err)
{
    if (!st->sum.by_sql)
        return sum_flush(st, err);
    for (int i = STMT_SUM_TYPES; i <= STMT_SUM_CLIENTS; i++) {
        sq()->bind_int64(st->stmt[i], 1, envelope_id);
        if (step_reset(st->stmt[i]) != SQLITE_OK)
            return db_fail(st, err, "cannot add to the summary");
    }
    return NATTEL_OK;
}

/* The rows of one delivery, inside the open transaction. */
static nattel_code put_rows(sqlite_store *st, const serve_store_delivery *d,
                            const char *received, nattel_buf *json,
                            size_t *stored, nattel_error *err)
{
    char hash[33];
    if (d->body)
        serve_store_body_hash(d->body, d->len, hash);
    int64_t envelope_id = 0;
    size_t before = *stored;
    for (int t = 0; t < SUM_TABLES; t++)
        st->sum.t[t].count = 0;
    st->sum.by_sql = 0;
    nattel_code code = put_envelope_row(
        st, d->env, received, d->body ? hash : NULL, &envelope_id, err);
    size_t n = envelope_id ? nattel_envelope_count(d->env) : 0;
    for (size_t i = 0; !code && i < n; i++)
        code = put_event(st, d, i, envelope_id, received, json, stored, err);
    if (!code && *stored > before)
        code = put_summary(st, envelope_id, err);
    return code;
}

/* One request waiting to be stored (see put_batch). */
typedef struct put_job {
    const serve_store_delivery *d;
    const char *received;
    size_t stored;
    nattel_code code;
    nattel_error err;
    int taken; /* by a leader: it will be answered, it cannot leave */
    int done;  /* its transaction has ended; code says how */
    struct put_job *next;
} put_job;

static nattel_code begin(sqlite_store *st, nattel_error *err)
{
    if (step_reset(st->stmt[STMT_BEGIN]) != SQLITE_OK)
        return db_fail(st, err, "cannot begin a transaction");
    return NATTEL_OK;
}

static nattel_code commit_or_rollback(sqlite_store *st, nattel_code code,
                                      nattel_error *err)
{
    if (!code && step_reset(st->stmt[STMT_COMMIT]) != SQLITE_OK)
        code = db_fail(st, err, "cannot commit");
    if (code && !sq()->get_autocommit(st->db))
        step_reset(st->stmt[STMT_ROLLBACK]);
    return code;
}

/* One job in a transaction of its own. */
static void put_alone(sqlite_store *st, put_job *j, nattel_buf *json)
{
    j->stored = 0;
    j->code = begin(st, &j->err);
    if (!j->code)
        j->code = put_rows(st, j->d, j->received, json, &j->stored, &j->err);
    j->code = commit_or_rollback(st, j->code, &j->err);
    if (j->code)
        j->stored = 0;
}

/* Group commit: the rows of every job of the batch in one transaction,
 * so that concurrent requests share one commit (one WAL append) instead
 * of paying one each. Each job is answered only after the COMMIT that
 * holds its rows. A job whose rows fail would take the others down
 * with it: then the batch is rolled back and each job runs alone, so
 * that one request's failure stays its own. */
static void put_batch(sqlite_store *st, put_job *batch, nattel_buf *json)
{
    if (!batch->next) {
        put_alone(st, batch, json);
        return;
    }
    nattel_error err = {NATTEL_OK, ""};
    nattel_code code = begin(st, &err);
    for (put_job *j = batch; !code && j; j = j->next) {
        j->stored = 0;
        code = put_rows(st, j->d, j->received, json, &j->stored, &j->err);
    }
    code = commit_or_rollback(st, code, &err);
    if (!code) {
        for (put_job *j = batch; j; j = j->next)
            j->code = NATTEL_OK;
        return;
    }
    for (put_job *j = batch; j; j = j->next)
        put_alone(st, j, json);
}

/* Removes j, not yet taken, from the queue. */
static void unqueue(sqlite_store *st, put_job *j)
{
    put_job **at = &st->queue;
    while (*at && *at != j)
        at = &(*at)->next;
    if (*at)
        *at = j->next;
}

/* Waits until j is done or nobody leads; 0 when j timed out in the queue
 * (then it is out of it). Under queue_lock. */
static int wait_turn(sqlite_store *st, put_job *j, const struct timespec *until)
{
    while (!j->done && st->leading) {
        /* Taken: its leader answers it soon (its own wait is bounded). */
        if (j->taken) {
            pthread_cond_wait(&st->queue_wake, &st->queue_lock);
            continue;
        }
        int rc =
            pthread_cond_timedwait(&st->queue_wake, &st->queue_lock, until);
        if (rc && !j->done && !j->taken) {
            unqueue(st, j);
            return 0;
        }
    }
    return 1;
}

/* Leads: takes the queue (this job is in it), stores it as one batch
 * under the connection's lock, and answers every job of it. */
static void lead(sqlite_store *st, const struct timespec *until)
{
    st->leading = 1;
    put_job *batch = st->queue;
    st->queue = NULL;
    for (put_job *j = batch; j; j = j->next)
        j->taken = 1;
    pthread_mutex_unlock(&st->queue_lock);
    nattel_buf json = NATTEL_BUF_INIT;
    if (pthread_mutex_timedlock(&st->lock, until) == 0) {
        put_batch(st, batch, &json);
        pthread_mutex_unlock(&st->lock);
    } else {
        for (put_job *j = batch; j; j = j->next)
            j->code = natx_fail(&j->err, NATTEL_EIO,
                                "database '%s' is busy: requests ahead are "
                                "still waiting for it",
                                st->path);
    }
    nattel_buf_free(&json);
    pthread_mutex_lock(&st->queue_lock);
    for (put_job *j = batch; j; j = j->next)
        j->done = 1;
    st->leading = 0;
    pthread_cond_broadcast(&st->queue_wake);
}

static nattel_code sqlite_put(sqlite_store *st, const serve_store_delivery *d,
                              const char *received, size_t *stored,
                              nattel_error *err)
{
    if (!st->stmt[STMT_BEGIN])
        return natx_fail(err, NATTEL_EINVAL, "database '%s' is open read-only",
                         st->path);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STORE_QUEUE_WAIT_MS / 1000;
    put_job job = {d, received, 0, NATTEL_OK, {NATTEL_OK, ""}, 0, 0, NULL};
    pthread_mutex_lock(&st->queue_lock);
    put_job **tail = &st->queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = &job;
    int queued = wait_turn(st, &job, &until);
    /* Not done and nobody leads: this job is still queued, and leads. */
    if (queued && !job.done)
        lead(st, &until);
    pthread_mutex_unlock(&st->queue_lock);
    if (!queued)
        return natx_fail(err, NATTEL_EIO,
                         "database '%s' is busy: requests ahead are "
                         "still waiting for it",
                         st->path);
    if (job.code)
        *err = job.err;
    *stored = job.code ? 0 : job.stored;
    return job.code;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static nattel_code sqlite_event_count(sqlite_store *st, int64_t *out,
                                      nattel_error *err)
{
    pthread_mutex_lock(&st->lock);
    nattel_code code = query_int(st, "SELECT count(*) FROM events", out, err);
    pthread_mutex_unlock(&st->lock);
    return code;
}

static const char *sqlite_row_text(const serve_store_row *row, int col,
                                   size_t *len)
{
    const unsigned char *t = sq()->column_text(row->result, col);
    *len = t ? (size_t)sq()->column_bytes(row->result, col) : 0;
    return t ? (const char *)t : "";
}

static int sqlite_row_is_null(const serve_store_row *row, int col)
{
    return sq()->column_type(row->result, col) == SQLITE_NULL;
}

static nattel_code run_query(sqlite_store *st, const serve_store_query *q,
                             void *ctx, nattel_error *err)
{
    serve_store_row row = {&sqlite_ops, NULL, 0};
    sqlite3_stmt *stmt = NULL;
    const char *sql = NULL;
    nattel_code made = serve_store_query_sql(q, ctx, &sql, err);
    if (made || !sql)
        return made;
    if (sq()->prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return db_fail(st, err, "cannot prepare a query");
    row.result = stmt;
    nattel_code code = NATTEL_OK;
    int rc = sq()->step(stmt);
    while (rc == SQLITE_ROW) {
        code = q->on_row(ctx, &row, err);
        if (code)
            break;
        rc = sq()->step(stmt);
    }
    if (!code && rc != SQLITE_DONE)
        code = db_fail(st, err, "cannot read");
    sq()->finalize(stmt);
    return code;
}

static nattel_code sqlite_select(sqlite_store *st, const serve_store_query *q,
                                 size_t n, void *ctx, nattel_error *err)
{
    pthread_mutex_lock(&st->lock);
    /* One read transaction: the queries see the same snapshot even while
     * a server keeps writing. */
    nattel_code code = exec_sql(st, "BEGIN", err);
    for (size_t i = 0; !code && i < n; i++)
        code = run_query(st, &q[i], ctx, err);
    sq()->exec(st->db, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&st->lock);
    return code;
}

/* The ops take the base store; each is the backend's own behind it. */
static sqlite_store *of(serve_store *st)
{
    return (sqlite_store *)st;
}

static void op_close(serve_store *st)
{
    sqlite_close(of(st));
}

static nattel_code op_put(serve_store *st, const serve_store_delivery *d,
                          const char *received, size_t *stored,
                          nattel_error *err)
{
    return sqlite_put(of(st), d, received, stored, err);
}

static nattel_code op_event_count(serve_store *st, int64_t *out,
                                  nattel_error *err)
{
    return sqlite_event_count(of(st), out, err);
}

static nattel_code op_add_types(serve_store *st, const nattel_registry *reg,
                                nattel_error *err)
{
    return sqlite_add_types(of(st), reg, err);
}

static nattel_code op_exec(serve_store *st, const char *sql, nattel_error *err)
{
    return sqlite_exec(of(st), sql, err);
}

static nattel_code op_select(serve_store *st, const serve_store_query *q,
                             size_t n, void *ctx, nattel_error *err)
{
    return sqlite_select(of(st), q, n, ctx, err);
}

static const serve_store_ops sqlite_ops = {
    op_close, op_put,    op_event_count,  op_add_types,
    op_exec,  op_select, sqlite_row_text, sqlite_row_is_null,
};
