#ifndef NATTEL_DELIVERY_LIMITS_H
#define NATTEL_DELIVERY_LIMITS_H

/* Defaults and bounds of delivery that more than one module reads (the
 * options' defaults, the client, the flusher loop and its callers);
 * docs/delivery.md lists them. A bound used by one module alone lives in
 * that module's header (the audit log's size in nattel_audit.h, back-off
 * and retry limits in nattel_retry.h). */

#define NATTEL__CONNECT_MS 3000
#define NATTEL__TOTAL_MS 10000
#define NATTEL__SPOOL_MAX_EVENTS 1000
#define NATTEL__SPOOL_MAX_BYTES (4u * 1024u * 1024u)
/* A spool entry larger than this is not read (it cannot be ours). */
#define NATTEL__ENTRY_MAX_BYTES (1u * 1024u * 1024u)
/* How long `nattel flush` waits for a running flusher. */
#define NATTEL__FLUSH_WAIT_MS 120000
#define NATTEL__FLUSH_NOWAIT_MS 5000
/* A detached flusher watches an empty spool this long before it exits. */
#define NATTEL__FLUSHER_LINGER_MS 2000

#endif
