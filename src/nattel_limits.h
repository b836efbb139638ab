#ifndef NATTEL_LIMITS_H
#define NATTEL_LIMITS_H

/*
 * The library's private limits, each with the reason for its value
 * (docs/design.md, "Where limits live"). Every one bounds memory or time
 * on input the library does not control; going over one is NATTEL_ELIMIT
 * (or, for the consent file, the documented DISABLED reading), never a
 * partial result.
 *
 * Limits that callers must see stay in the public headers:
 *   NATTEL_ERROR_MAX (512)          nattel.h  one-line message buffer
 *   NATTEL_PROBLEMS_MAX (100)       nattel.h  problems kept per document
 *   NATTEL_JSON_MAX_DEPTH/BYTES     nattel.h  documents read
 *   NATTEL_ENVELOPE_MAX_EVENTS (50) nattel.h  events a sender batches
 *   NATTEL_ERROR_CLASS_MAX (128)    client.h  error class names
 * The reader's caps (tokens, names compared, cuts in messages) and
 * delivery's shared defaults and bounds (timeouts, spool, entry, flush
 * waits) are below; the audit log's size and the retry limits live in
 * delivery/nattel_audit.h and delivery/nattel_retry.h, which alone read
 * them. Every layer may include this file: constants only.
 */

/* Fields of one event type. Decoding keeps a stack table of which fields
 * were given, one slot per field, and checking a type compares every pair
 * of field names, so the count must be bounded; real events have a dozen
 * fields at most. Enforced when a type is checked (every registration,
 * hence every schema load). The decoder repeats it as MAX_FIELDS. */
#define NATTEL__MAX_FIELDS 256

/* Largest consent file read whole (ours are ~200 bytes, but a long
 * comment block is legal and upstream reads any size). A bigger one reads
 * as DISABLED: never prompted over, so a "no" cannot become a "yes". */
#define NATTEL__CONSENT_MAX_BYTES (1024u * 1024u)

/* The consent file we write: three comment lines and a two-key table fit
 * in well under 512 bytes, so the text is built in a stack buffer. */
#define NATTEL__CONSENT_TEXT_MAX 512

/* TOML nesting of arrays and inline tables: tomllib stops near 490 levels
 * with a RecursionError; 100 is far beyond any consent file and keeps our
 * recursion shallow. */
#define NATTEL__TOML_MAX_DEPTH 100

/* The densest valid TOML (`x=["","",...]`, `x=[{},{},...]`) needs about 32
 * bytes of nodes per byte of input: 64 MiB leaves room for a whole 1 MiB
 * consent file while keeping memory bounded whatever the file holds. */
#define NATTEL__TOML_ARENA_MAX (64u << 20)

/* Lookups and path parts copied: a valid 1 MiB file needs a few million;
 * a deep [header] over many keys would otherwise cost depth x keys. */
#define NATTEL__TOML_STEPS_MAX (16u << 20)

/* ---- The JSON reader and the codec ---------------------------------- */

/* Tokens of one document's tree held inside the document (no malloc):
 * a nat_cli_command event is 17, an envelope of a few events under 96. */
#define NATTEL__JSON_SMALL 96

/* Tokens of one document's tree (the reporting path and the schema
 * loader): 20-byte tokens, so the tree stays near 20 MiB whatever comes
 * in; a 16 MiB document (NATTEL_JSON_MAX_BYTES) of tiny values is the
 * case it bounds. */
#define NATTEL__JSON_MAX_TOKENS (1u << 20)

/* Longest name (a key with escapes, a field's wire name) compared or
 * written as a name: real names are identifiers of a few dozen bytes, and
 * this lets a decoded copy live in a stack buffer of this size + 1. */
#define NATTEL__NAME_MAX 4096

/* Longest event name looked up in a registry from an envelope item: a
 * longer one cannot be registered in practice and is "unknown event". */
#define NATTEL__EVENT_NAME_MAX 255

/* Fields of a type the fast path plans for (a byte per field of key
 * lengths and enum hints): a type with more takes the reporting path,
 * which has no such table. */
#define NATTEL__PLAN_FIELDS 64

/* Cuts that keep problem messages one readable line whatever the input:
 * a key in a path, a value quoted in a message, and the text shown after
 * "invalid JSON at byte N:". Cut on a UTF-8 boundary, "..." marks one. */
#define NATTEL__PATH_KEY_CUT 64
#define NATTEL__SHOWN_VALUE_CUT 40
#define NATTEL__SYNTAX_NEAR_CUT 24
/* Room for a shown value: the cut, "...", quotes and NUL. */
#define NATTEL__SHOWN_BUF (NATTEL__SHOWN_VALUE_CUT + 24)

/* ------------------------------------------------------------------ */
/* Delivery: defaults and bounds more than one module reads (the       */
/* options' defaults, the client, the flusher loop and its callers;    */
/* docs/delivery.md lists them). A bound used by one module alone      */
/* lives in that module's header (the audit log's size in              */
/* delivery/nattel_audit.h, back-off and retry limits in               */
/* delivery/nattel_retry.h).                                           */
/* ------------------------------------------------------------------ */

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
/* How long nattel_client_free waits for a send in flight before cutting
 * it (client.h). */
#define NATTEL__FREE_WAIT_MS 2000


#endif
