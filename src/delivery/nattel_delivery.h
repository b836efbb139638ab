/*
 * Durable delivery, library-internal. Data flows one way:
 *
 *   event -> envelope JSON (client) -> spool (one file per payload)
 *         -> flusher (claim, group, policy) -> sender (libcurl) -> server
 *
 * with the delivery state (counters, back-off) and the audit log beside
 * the spool in the state directory:
 *
 *   STATE/            0700, never a symlink
 *     spool/          waiting payloads, MS-SEQ-RAND-SIZE-ATTEMPTS.json
 *     claims/         payloads a flusher is sending (renamed from spool/)
 *     flusher.lock    flock: one flusher at a time
 *     state.lock      flock: serializes state.json and audit log updates
 *     state.json      counters, last delivery, back-off
 *     audit.log       one JSON line per sent/rejected/dropped/deferred
 *     audit.log.1     the previous audit log (rotation)
 */
#ifndef NATTEL_DELIVERY_H
#define NATTEL_DELIVERY_H

#include "config/nattel_options.h"
#include "delivery/nattel_transport.h"
#include "model/nattel_error.h"

#include <nattel/client.h>

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Defaults and bounds (docs/delivery.md lists them)                   */
/* ------------------------------------------------------------------ */

#define NATTEL__CONNECT_MS 3000
#define NATTEL__TOTAL_MS 10000
#define NATTEL__SPOOL_MAX_EVENTS 1000
#define NATTEL__SPOOL_MAX_BYTES (4u * 1024u * 1024u)
/* A spool entry larger than this is not read (it cannot be ours). */
#define NATTEL__ENTRY_MAX_BYTES (1u * 1024u * 1024u)
/* Back-off after failed attempts: base * 2^(failures-1), capped, then
 * "equal jitter" (half fixed, half random). */
#define NATTEL__BACKOFF_BASE_MS 10000
#define NATTEL__BACKOFF_CAP_MS (60 * 60 * 1000)
/* The longest Retry-After honoured. */
#define NATTEL__RETRY_AFTER_CAP_MS (6 * 60 * 60 * 1000)
/* An event is dropped on a failure once it has been tried this many times
 * AND was spooled this long ago: both, so neither a burst of `nattel
 * flush` runs nor one long outage alone loses it. */
#define NATTEL__RETRY_MAX_ATTEMPTS 10
#define NATTEL__RETRY_MAX_AGE_MS (24 * 60 * 60 * 1000)
/* Audit log: rotated past this size, one previous generation kept. */
#define NATTEL__AUDIT_MAX_BYTES (4u * 1024u * 1024u)
/* How long `nattel flush` waits for a running flusher. */
#define NATTEL__FLUSH_WAIT_MS 120000
#define NATTEL__FLUSH_NOWAIT_MS 5000
/* A detached flusher watches an empty spool this long before it exits. */
#define NATTEL__FLUSHER_LINGER_MS 2000

/* ------------------------------------------------------------------ */
/* State directory and spool                                           */
/* ------------------------------------------------------------------ */

/* Creates (0700) or checks STATE, STATE/spool and STATE/claims: a
 * symlink, a non-directory or a directory of another user is refused. */
nattel_code nattel__state_dir_prepare(const char *dir, nattel_error *err);
/* As prepare, but creates nothing: NATTEL_ENOTFOUND when absent. */
nattel_code nattel__state_dir_check(const char *dir, nattel_error *err);

/* "DIR/name" in out; NATTEL_ELIMIT when it does not fit. */
nattel_code nattel__path(char *out, size_t cap, const char *dir,
                         const char *name, nattel_error *err);
nattel_code nattel__path3(char *out, size_t cap, const char *dir,
                          const char *sub, const char *name, nattel_error *err);

/* A spool entry's name, parsed: MS-SEQ-RAND-SIZE-ATTEMPTS.json. Names
 * sort by spooling time, then by the spooling client's sequence number
 * (so one client's events keep their order within a millisecond). */
typedef struct nattel__entry {
    char name[96];
    int64_t ms;       /* when it was spooled (Unix ms) */
    uint32_t seq;     /* the client's sequence number */
    char rand[17];    /* 16 hex digits: unique across processes */
    uint64_t size;    /* payload bytes */
    unsigned attempt; /* failed attempts so far */
} nattel__entry;

/* Parses an entry's name; -1 for anything else. */
int nattel__entry_parse(const char *name, nattel__entry *out);
/* The name of an entry (after changing e.g. its attempt). */
void nattel__entry_name(const nattel__entry *e, char *out, size_t cap);

/* Writes one payload into STATE/spool (temporary file, then rename),
 * named by the real-time clock, `seq` and random digits. */
nattel_code nattel__spool_write(const nattel_options *o, uint32_t seq,
                                const char *payload, size_t len,
                                nattel_error *err);

/* The entries of STATE/SUB (SUB "spool" or "claims"), oldest first.
 * Names that are not entries are skipped; symlinks are counted in
 * *symlinks (may be NULL) and not listed. */
nattel_code nattel__spool_list(const char *state_dir, const char *sub,
                               nattel__entry **out, size_t *count,
                               size_t *symlinks, nattel_error *err);

/* Drops the oldest entries of STATE/spool until both bounds hold;
 * *dropped (may be NULL) counts events dropped. Records each drop. */
nattel_code nattel__spool_enforce(const nattel_options *o, size_t *dropped,
                                  nattel_error *err);

/* Removes symlinks from STATE/spool (a flusher holding the lock does
 * this), recording each as dropped; how many. */
size_t nattel__spool_refuse_symlinks(const nattel_options *o);

/* Spooled events: entries in spool/ and claims/. */
size_t nattel__spool_count(const char *state_dir);

/* Reads one entry file (O_NOFOLLOW, bounded) into out. */
nattel_code nattel__read_file(const char *path, size_t max, nattel_buf *out,
                              nattel_error *err);

/* ------------------------------------------------------------------ */
/* Delivery state (state.json) and audit log                           */
/* ------------------------------------------------------------------ */

typedef enum nattel__outcome {
    NATTEL__SENT = 0,
    NATTEL__REJECTED, /* the server said no (400, 422, 413 for one event) */
    NATTEL__DROPPED,  /* dropped here: bounds, retry limit, unreadable */
    NATTEL__DEFERRED  /* kept for a later attempt */
} nattel__outcome;

const char *nattel__outcome_name(nattel__outcome o);

typedef struct nattel__state {
    int64_t sent;
    int64_t dropped; /* every event that will never be delivered */
    int64_t rejected;
    int64_t failures; /* consecutive failed attempts (back-off) */
    int64_t next_ms;  /* Unix ms before which no flusher starts; 0 none */
    int has_last;
    char last_ts[NATTEL_TS_LEN + 1];
    nattel__outcome last_outcome;
    int last_http;
    int64_t last_events;
} nattel__state;

/* Reads STATE/state.json; a missing or unreadable file is all zeros. */
void nattel__state_read(const char *state_dir, nattel__state *st);
/* True while a back-off recorded in STATE/state.json has not run out. */
int nattel__backoff_pending(const nattel_options *o);

/* One delivery outcome: under STATE/state.lock, updates the counters and
 * the last delivery (and, for DEFERRED, the back-off by `backoff_ms`; for
 * SENT, clears it) and appends an audit record. `payload` (may be NULL)
 * is the envelope JSON. */
typedef struct nattel__record {
    nattel__outcome outcome;
    int64_t events;
    int http_status;
    const char *reason;
    const char *endpoint;
    const char *payload;
    size_t payload_len;
    int64_t backoff_ms; /* DEFERRED: delay before the next automatic try */
    int count_failure;  /* DEFERRED: counts toward the back-off */
} nattel__record;

nattel_code nattel__record_outcome(const nattel_options *o,
                                   const nattel__record *r, nattel_error *err);

/* Back-off arithmetic, pure: the delay after `failures` consecutive
 * failures (>= 1) with `jitter` in [0, 1), and a server's Retry-After
 * (ms, -1 none) honoured up to its cap. */
int64_t nattel__backoff_ms(int64_t failures, double jitter,
                           int64_t retry_after_ms);

/* Appends one audit record stamped `ts` (the state lock is held). */
nattel_code nattel__audit_append(const nattel_options *o,
                                 const nattel__record *r, const char *ts,
                                 nattel_error *err);

/* Appends lines of the audit log (previous generation first) to out,
 * keeping only the last `n` (0: all). */
nattel_code nattel__audit_tail(const char *state_dir, size_t n, nattel_buf *out,
                               nattel_error *err);

/* ------------------------------------------------------------------ */
/* Sender (libcurl lives in nattel_sender.c alone)                     */
/* ------------------------------------------------------------------ */

typedef struct nattel__sender nattel__sender;

typedef struct nattel__send_result {
    int http_status;        /* 0: no HTTP answer */
    int64_t retry_after_ms; /* -1: none */
    char reason[256];       /* network error or status text */
} nattel__send_result;

nattel__sender *nattel__sender_new(const char *url, int64_t connect_ms,
                                   int64_t total_ms,
                                   int (*should_stop)(void *ctx), void *ctx,
                                   nattel_error *err);
void nattel__sender_post(nattel__sender *s, const char *payload, size_t len,
                         nattel__send_result *out);
void nattel__sender_free(nattel__sender *s);

/* Status policy (docs/delivery.md, "Status policy"; docs/design.md
 * section 6). */
typedef enum nattel__policy {
    NATTEL__POLICY_DONE = 0,
    NATTEL__POLICY_REJECT,
    NATTEL__POLICY_SPLIT,
    NATTEL__POLICY_RETRY
} nattel__policy;

nattel__policy nattel__policy_for(int http_status);

/* Parses a Retry-After value: delta-seconds or an HTTP date (relative to
 * now_ms); -1 when neither. */
int64_t nattel__retry_after_parse(const char *v, int64_t now_ms);

/* ------------------------------------------------------------------ */
/* Flusher                                                             */
/* ------------------------------------------------------------------ */

typedef struct nattel__flush_stats {
    int64_t sent;
    int64_t rejected;
    int64_t dropped;
    int64_t deferred;
    int64_t batches;
    int64_t symlinks; /* spool entries refused (removed) as symlinks */
    int busy;         /* another flusher held the lock for the whole wait */
} nattel__flush_stats;

typedef struct nattel__flush_opts {
    /* Try each batch once, back-off or not (`nattel flush`). */
    int ignore_backoff;
    /* How long to wait for the lock (0: give up at once). */
    int64_t lock_wait_ms;
    /* How long an empty spool is watched for new events before the run
     * ends (0: not at all). */
    int64_t linger_ms;
    /* Stop between batches once this monotonic time passes (-1: never). */
    int64_t deadline_mono;
    int (*should_stop)(void *ctx);
    void *stop_ctx;
} nattel__flush_opts;

/* One flusher run over the spool. */
nattel_code nattel__flush_run(const nattel_options *o,
                              const nattel__flush_opts *fo,
                              nattel__flush_stats *stats, nattel_error *err);

/* Envelope grouping, pure: the key that decides which payloads may share
 * an envelope (every envelope member but sentTs and events), and a merged
 * envelope of several payloads with one key. */
nattel_code nattel__envelope_key(const char *json, size_t len, nattel_buf *key,
                                 nattel_error *err);
nattel_code nattel__envelope_merge(const char *const *jsons, const size_t *lens,
                                   size_t n, int64_t sent_ms, nattel_buf *out,
                                   size_t *events, nattel_error *err);

/* True when a flusher holds STATE/flusher.lock. */
int nattel__flusher_running(const char *state_dir);
/* Takes STATE/flusher.lock (blocking or not): the descriptor, or -1. */
int nattel__flusher_lock(const char *state_dir, int block, nattel_error *err);

/* ------------------------------------------------------------------ */
/* Spawning the flusher                                                */
/* ------------------------------------------------------------------ */

/* The flusher program: option, $NATTEL_FLUSHER (read into the option by
 * nattel_options_from_env), install path, build-tree path. NULL: none. */
const char *nattel__flusher_path(const nattel_options *o);

/* Starts a detached flusher unless one runs or back-off is pending. */
nattel_code nattel__maybe_spawn(const nattel_options *o, nattel_error *err);

#endif
