#ifndef NATTEL_BATCH_H
#define NATTEL_BATCH_H

/* Envelope grouping, pure: the key that decides which payloads may share
 * an envelope (every envelope member but sentTs and events), and a merged
 * envelope of several payloads with one key. nattel__envelope_key also
 * counts the payload's events in *events (may be NULL): the merge keeps
 * them in order, so the flusher can name each one (Nattel-Event-Ids). */

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

nattel_code nattel__envelope_key(const char *json, size_t len, nattel_buf *key,
                                 size_t *events, nattel_error *err);
nattel_code nattel__envelope_merge(const char *const *jsons, const size_t *lens,
                                   size_t n, int64_t sent_ms, nattel_buf *out,
                                   size_t *events, nattel_error *err);

#endif
