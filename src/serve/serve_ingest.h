#ifndef SERVE_INGEST_H
#define SERVE_INGEST_H

/* One POSTed envelope, from body to HTTP answer, without HTTP: decode and
 * validate it, store it, and say which status and JSON body to send. */

#include <nattel/nattel.h>

#include "serve/serve_store.h"

#include <stdint.h>

typedef struct serve_ingest_result {
    unsigned status;   /* 200, 400, 413, 422, 500 (out of memory) or 503
                          (the store cannot write now) */
    size_t accepted;   /* events in the accepted envelope (200 only) */
    size_t stored;     /* of those, new ones written; the others were
                          stored before (a retried delivery) */
    nattel_buf body;   /* the JSON answer, one line */
    char summary[256]; /* for the log: count or first problem */
} serve_ingest_result;

/* Fills `res` (initialised here; release with serve_ingest_result_free).
 * `event_ids`: the Nattel-Event-Ids header's value, or NULL when none
 * was sent (see serve_store_put for the exactly-once rule); malformed or
 * of the wrong count it makes a 400 naming the header, after the
 * envelope itself was found valid. Returns NATTEL_ENOMEM when even the
 * answer cannot be built. */
nattel_code serve_ingest(const nattel_registry *reg, serve_store *store,
                         const char *body, size_t len, const char *event_ids,
                         int64_t received_ms, serve_ingest_result *res);

void serve_ingest_result_free(serve_ingest_result *res);

/* {"error":MESSAGE} plus, when given, "problems":[{"path","message"}...]
 * and "dropped":N. Bytes that are not UTF-8 become U+FFFD. */
nattel_code serve_ingest_error_body(nattel_buf *out, const char *message,
                                    const nattel_problems *problems);

#endif
