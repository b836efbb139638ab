#ifndef NATTEL_AUDIT_H
#define NATTEL_AUDIT_H

/* The audit log, STATE/audit.log: one JSON line per delivery outcome.
 * The lowest delivery module: it defines the outcome record the state and
 * the flusher hand down to it. */

#include "config/nattel_options.h"

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

/* Rotated past this size, one previous generation (audit.log.1) kept. */
#define NATTEL__AUDIT_MAX_BYTES (4u * 1024u * 1024u)

typedef enum nattel__outcome {
    NATTEL__SENT = 0,
    NATTEL__REJECTED, /* the server said no (400, 422, 413 for one event) */
    NATTEL__DROPPED,  /* dropped here: bounds, retry limit, unreadable */
    NATTEL__DEFERRED  /* kept for a later attempt */
} nattel__outcome;

/* "sent", "rejected", "dropped", "deferred". */
const char *nattel__outcome_name(nattel__outcome o);
/* The outcome named by n bytes at s; -1 when none is. */
int nattel__outcome_parse(const char *s, size_t n, nattel__outcome *out);

/* One delivery outcome. `payload` (may be NULL) is the envelope JSON. */
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

/* Appends one audit record stamped `ts` (the state lock is held). */
nattel_code nattel__audit_append(const nattel_options *o,
                                 const nattel__record *r, const char *ts,
                                 nattel_error *err);

/* Appends lines of the audit log (previous generation first) to out,
 * keeping only the last `n` (0: all). */
nattel_code nattel__audit_tail(const char *state_dir, size_t n, nattel_buf *out,
                               nattel_error *err);

#endif
