#ifndef NATTEL_FLUSH_RUN_H
#define NATTEL_FLUSH_RUN_H

/* The flusher loop: one run over the spool under STATE/flusher.lock. */

#include "config/nattel_options.h"

#include <nattel/consent.h>
#include <nattel/nattel.h>

#include <stdint.h>

typedef struct nattel__flush_stats {
    int64_t sent;
    int64_t rejected;
    int64_t dropped;
    int64_t deferred;
    int64_t batches;
    int64_t symlinks;    /* spool entries refused (removed) as symlinks */
    int64_t odd;         /* other non-files (FIFO, directory...) set aside */
    int busy;            /* another flusher held the lock for the whole wait */
    int consent_revoked; /* consent found off before a batch: stopped */
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
    /* Polled between batches: no new batch once true. */
    int (*should_stop)(void *ctx);
    /* Polled during a send: cut it once true (NULL: should_stop). */
    int (*should_abort)(void *ctx);
    void *stop_ctx;
} nattel__flush_opts;

/* One flusher run over the spool. */
nattel_code nattel__flush_run(const nattel_options *o,
                              const nattel__flush_opts *fo,
                              nattel__flush_stats *stats, nattel_error *err);

/* An explicit revocation (`nattel consent --disable`): removes every
 * event waiting in STATE/spool and STATE/claims under the flusher lock
 * (waiting up to 3 s for a running flusher, which stops at its next batch
 * once consent is off) and records the count and `why` in the audit log.
 * *removed: how many. A state directory never made is no error. Errors:
 * NATTEL_EIO (a flusher kept the lock), those of the lock and the
 * directory check. */
nattel_code nattel__spool_clear(const nattel_options *o, const char *why,
                                size_t *removed, nattel_error *err);

/* A flusher (or `nattel flush`) that finds consent off before it starts:
 * when a machine policy or DO_NOT_TRACK decided, what waits is removed as
 * nattel__spool_clear does (a consent file's "disabled" keeps it: it may
 * come with --keep-spool). Returns how many were removed. */
int64_t nattel__flush_clear_revoked(const nattel_options *o,
                                    nattel_consent_source source);

/* True when a flusher holds STATE/flusher.lock. */
int nattel__flusher_running(const char *state_dir);
/* Takes STATE/flusher.lock (blocking or not): the descriptor, or -1. */
int nattel__flusher_lock(const char *state_dir, int block, nattel_error *err);

#endif
