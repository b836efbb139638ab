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
/* The merged envelope of n payloads with one key: the first payload's
 * members in its order, sentTs set to sent_ms, events the events of all n
 * in order. Payloads must be ones nattel__envelope_key accepted (it
 * verifies them strictly): the merge follows their structure only, and
 * splices each events array's bytes with the whitespace outside strings
 * dropped (no token tree). A payload it cannot take that way (escapes in
 * a top-level key, a repeated events or sentTs, more than 64 members, not
 * an object with a non-empty events array) sends the whole merge through
 * nattel__envelope_merge_tree, which reports the errors. On error `out`
 * is as it was. Not thread-safe on one `out`. */
nattel_code nattel__envelope_merge(const char *const *jsons, const size_t *lens,
                                   size_t n, int64_t sent_ms, nattel_buf *out,
                                   size_t *events, nattel_error *err);
/* The same through token trees, every payload parsed and verified again:
 * the reference the fast merge matches byte for byte (tests), and its
 * fallback. */
nattel_code nattel__envelope_merge_tree(const char *const *jsons,
                                        const size_t *lens, size_t n,
                                        int64_t sent_ms, nattel_buf *out,
                                        size_t *events, nattel_error *err);

#endif
