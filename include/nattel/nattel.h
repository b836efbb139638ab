/*
 * nattel: NeMo Agent Toolkit CLI telemetry, in C11.
 *
 * The event model (schema 1.5 of the shared NeMo Usage Telemetry project),
 * its strict JSON wire codec and the wire envelope. One description of each
 * event type drives encoding, decoding, validation and JSON Schema export.
 *
 * Conventions, as in every nattel header:
 *  - Functions that can fail return a nattel_code (NATTEL_OK is 0) and, when
 *    given a non-NULL `nattel_error *`, fill it with a one-line message that
 *    says what failed and where.
 *  - Objects returned by *_new() are released with the matching *_free(),
 *    which accepts NULL.
 *  - Strings are UTF-8. Lengths are in bytes.
 *  - A pointer argument must not be NULL unless its comment says what NULL
 *    does. A `nattel_error *` may always be NULL. Arguments are borrowed
 *    for the call only unless the comment says the callee keeps or takes
 *    them.
 *  - A returned pointer that is not the result of a *_new() is owned by
 *    the object it came from; its comment says how long it stays valid.
 *
 * Thread rules:
 *  - Event types, enum types and the built-ins (nattel_cli_command_type,
 *    ...) are immutable: any number of threads may share them.
 *  - A registry may be read (find, count, at, export, decoding with it,
 *    readers of it) by any number of threads at once, once it is filled;
 *    nattel_registry_add and nattel_registry_load_schema* must not run
 *    while any other thread uses it.
 *  - An event, an envelope, a nattel_buf and a nattel_problems belong to
 *    one thread at a time. Functions that take them by const pointer only
 *    read, so several threads may call those at once while none changes
 *    the object.
 *  - No function here keeps global mutable state, so calls on different
 *    objects may run in parallel (numbers are read and written in the "C"
 *    locale of the calling thread only, with uselocale; timestamps use
 *    gmtime_r).
 */
#ifndef NATTEL_NATTEL_H
#define NATTEL_NATTEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NATTEL_VERSION "1.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

typedef enum nattel_code {
    NATTEL_OK = 0,
    NATTEL_EINVAL = 1,   /* an argument or value breaks a rule */
    NATTEL_EPARSE = 2,   /* input is not well-formed (JSON, TOML) */
    NATTEL_ESCHEMA = 3,  /* well-formed input that breaks the schema */
    NATTEL_ELIMIT = 4,   /* over a size, depth or count limit */
    NATTEL_ENOMEM = 5,   /* out of memory */
    NATTEL_EIO = 6,      /* a system call failed; the message says which */
    NATTEL_ENOTFOUND = 7 /* a name (event type, field) is not known */
} nattel_code;

#define NATTEL_ERROR_MAX 512

typedef struct nattel_error {
    nattel_code code;
    char message[NATTEL_ERROR_MAX];
} nattel_error;

/* Short name of a code, e.g. "EINVAL"; "UNKNOWN" for a value outside
 * the enum. A static string, never NULL. */
const char *nattel_code_name(nattel_code code);

/*
 * Every problem of one document, each with the path of the value it is
 * about (e.g. "events[1].parameters.durationMs"; "$" for the document
 * itself). At most NATTEL_PROBLEMS_MAX are kept; `dropped` counts the rest.
 */
#define NATTEL_PROBLEMS_MAX 100

typedef struct nattel_problem {
    char *path;
    char *message;
} nattel_problem;

typedef struct nattel_problems {
    nattel_problem *items;
    size_t count;
    size_t cap;
    size_t dropped;
} nattel_problems;

/* The problems own their path and message strings. Functions that report
 * problems append to `p`, never clear it. */
/* Makes `p` empty without freeing anything (for a fresh struct). */
void nattel_problems_init(nattel_problems *p);
/* Frees every problem and sets count and dropped to 0; keeps the array. */
void nattel_problems_clear(nattel_problems *p);
/* Frees everything and leaves `p` empty and reusable. NULL is fine. */
void nattel_problems_free(nattel_problems *p);

/* ------------------------------------------------------------------ */
/* Growable byte buffer (always NUL-terminated after a successful append) */
/* ------------------------------------------------------------------ */

typedef struct nattel_buf {
    char *data;
    size_t len;
    size_t cap;
} nattel_buf;

#define NATTEL_BUF_INIT                                                        \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* The buffer owns `data`. Any append may move it (realloc): a pointer
 * into `data` is valid only until the next append or free. */
void nattel_buf_init(nattel_buf *b);
void nattel_buf_reset(nattel_buf *b); /* len = 0, keeps the memory */
/* Frees `data` and leaves `b` empty and reusable. NULL is fine. */
void nattel_buf_free(nattel_buf *b);
/* Appends p[0..n) (copied). NATTEL_ENOMEM only, and then `b` is as it
 * was. */
nattel_code nattel_buf_append(nattel_buf *b, const void *p, size_t n);

/* ------------------------------------------------------------------ */
/* Schema 1.5 enums                                                    */
/* ------------------------------------------------------------------ */

typedef enum nattel_nemo_source {
    NATTEL_NEMO_SOURCE_INFERENCE = 0,
    NATTEL_NEMO_SOURCE_AUDITOR,
    NATTEL_NEMO_SOURCE_DATADESIGNER,
    NATTEL_NEMO_SOURCE_EVALUATOR,
    NATTEL_NEMO_SOURCE_GUARDRAILS,
    NATTEL_NEMO_SOURCE_SAFE_SYNTHESIZER,
    NATTEL_NEMO_SOURCE_ANONYMIZER,
    NATTEL_NEMO_SOURCE_AGENT_TOOLKIT,
    NATTEL_NEMO_SOURCE_UNDEFINED,
    NATTEL_NEMO_SOURCE_COUNT
} nattel_nemo_source;

typedef enum nattel_task_status {
    /* Not a wire value: what NATTEL_CLI_COMMAND_INIT starts with, so that
     * a status the host forgot to set is refused, never sent. */
    NATTEL_TASK_STATUS_UNSET = -1,
    NATTEL_TASK_STATUS_SUCCESS = 0,
    NATTEL_TASK_STATUS_FAILURE,
    NATTEL_TASK_STATUS_COMPLETED,
    NATTEL_TASK_STATUS_ERROR,
    NATTEL_TASK_STATUS_CANCELED,
    NATTEL_TASK_STATUS_INTERRUPTED,
    NATTEL_TASK_STATUS_UNDEFINED,
    NATTEL_TASK_STATUS_COUNT
} nattel_task_status;

/* Wire value of an enum member ("agent_toolkit"); NULL when out of range.
 * A static string, never freed. */
const char *nattel_nemo_source_name(nattel_nemo_source v);
const char *nattel_task_status_name(nattel_task_status v);

/* Wire value to member. An unknown string or NULL `s` is NATTEL_EINVAL,
 * never a default; *out is written on NATTEL_OK only. Never another code. */
nattel_code nattel_nemo_source_parse(const char *s, nattel_nemo_source *out,
                                     nattel_error *err);
nattel_code nattel_task_status_parse(const char *s, nattel_task_status *out,
                                     nattel_error *err);

/* ------------------------------------------------------------------ */
/* Event types, described by data                                      */
/* ------------------------------------------------------------------ */

typedef enum nattel_kind {
    NATTEL_KIND_STRING = 0,
    NATTEL_KIND_ENUM,   /* a string from a nattel_enum_type */
    NATTEL_KIND_INT64,  /* JSON Schema "integer" within int64 */
    NATTEL_KIND_NUMBER, /* any finite JSON number */
    NATTEL_KIND_BOOL,
    NATTEL_KIND_STRING_ARRAY
} nattel_kind;

/* JSON Schema name of a kind ("string", "integer", ...); "unknown" for a
 * value outside the enum. A static string, never NULL. */
const char *nattel_kind_name(nattel_kind kind);

typedef struct nattel_enum_type {
    const char *name; /* shared type name, e.g. "TaskStatusEnum" */
    const char *description;
    const char *const *values; /* wire values, in schema order */
    size_t count;
} nattel_enum_type;

typedef struct nattel_str {
    const char *ptr;
    size_t len;
} nattel_str;

#define NATTEL_STR(lit)                                                        \
    {                                                                          \
        (lit), sizeof(lit) - 1                                                 \
    }

typedef struct nattel_str_array {
    nattel_str *items;
    size_t count;
} nattel_str_array;

/* One value of a field; which member is live follows the field's kind. */
typedef union nattel_value {
    nattel_str s;       /* STRING */
    size_t e;           /* ENUM: index into the enum type's values */
    int64_t i;          /* INT64 */
    double d;           /* NUMBER */
    int b;              /* BOOL: 0 or 1 */
    nattel_str_array a; /* STRING_ARRAY */
} nattel_value;

/* Field flags. */
#define NATTEL_FIELD_HAS_DEFAULT 0x1u /* model mode may omit it */
#define NATTEL_FIELD_WIRE_OPTIONAL                                             \
    0x2u                          /* not in the wire schema's required list */
#define NATTEL_FIELD_HAS_MIN 0x4u /* int64/number: value >= minimum */
#define NATTEL_FIELD_HAS_MAX 0x8u /* int64/number: value <= maximum */

typedef struct nattel_field {
    const char *c_name;    /* snake_case, e.g. "duration_ms" */
    const char *wire_name; /* camelCase alias, e.g. "durationMs" */
    const char *description;
    nattel_kind kind;
    const nattel_enum_type *enum_type; /* ENUM only */
    /* Shared integer type this field refers to in the schema export
     * (e.g. "RestrictedTelemetryInteger"); NULL for an inline type. */
    const char *type_ref;
    unsigned flags;
    nattel_value default_value; /* with NATTEL_FIELD_HAS_DEFAULT */
    double minimum;             /* with NATTEL_FIELD_HAS_MIN */
    double maximum;             /* with NATTEL_FIELD_HAS_MAX */
} nattel_field;

typedef struct nattel_event_type {
    const char *name;           /* event name on the wire; never NULL or "" */
    const char *schema_version; /* e.g. "1.5" */
    const char *description;
    const char *gdpr_category; /* eventMeta.gdpr.category, e.g. "functional" */
    const char *gdpr_description;
    const nattel_field *fields; /* in wire order */
    size_t field_count;
} nattel_event_type;

/*
 * The only supported way to name an event type in a static definition:
 *
 *   static const nattel_event_type my_type = {
 *       .name = NATTEL_EVENT_NAME("my_event"), ...};
 *
 * NAME must be a non-empty string literal: an empty name, NULL or a
 * variable does not compile (the C counterpart of the TypeError the
 * upstream model raises when a class has no event name).
 */
#define NATTEL_EVENT_NAME(NAME)                                                \
    (&("" NAME)[0 * sizeof(struct {                                            \
                    int nattel_event_type_needs_a_non_empty_name               \
                        : (sizeof("" NAME) > 1);                               \
                })])

/* The built-in nat_cli_command type (schema 1.5). */
extern const nattel_event_type nattel_cli_command_type;
extern const nattel_enum_type nattel_nemo_source_enum;
extern const nattel_enum_type nattel_task_status_enum;

/* Index of a field by C name or wire name name[0..len) (need not be
 * NUL-terminated); -1 when none. Never fails. */
int nattel_event_type_field_index(const nattel_event_type *type,
                                  const char *name, size_t len);

/*
 * Checks a type assembled at run time: a name, a schema version, no two
 * fields with one wire or C name, enum fields with an enum type, defaults
 * that satisfy their own constraints. NATTEL_EINVAL says which rule broke
 * (a NULL `type` too); NATTEL_ELIMIT for more fields than the library
 * supports. Reads `type` only.
 */
nattel_code nattel_event_type_check(const nattel_event_type *type,
                                    nattel_error *err);

/* ------------------------------------------------------------------ */
/* Registry: the event types a validator knows by name                 */
/* ------------------------------------------------------------------ */

typedef struct nattel_registry nattel_registry;

/* A registry holding the built-in types (nat_cli_command). NULL when out
 * of memory. */
nattel_registry *nattel_registry_new(void);
/* Frees the registry and every type it loaded (the pointers find and at
 * gave for them dangle from here on); types added with
 * nattel_registry_add stay their owner's. NULL is fine. */
void nattel_registry_free(nattel_registry *reg);

/* Adds a type after nattel_event_type_check(); the registry keeps the
 * pointer (borrowed, not copied), so `type` must outlive it. A second
 * type of one name is NATTEL_EINVAL; otherwise the codes of
 * nattel_event_type_check, or NATTEL_ENOMEM. */
nattel_code nattel_registry_add(nattel_registry *reg,
                                const nattel_event_type *type,
                                nattel_error *err);

/* Loads every event of a schema file in the layout of the shared
 * anonymous_events.json (definitions.types, definitions.events). The
 * registry owns what it loads. Unsupported constructs are NATTEL_ESCHEMA
 * naming the JSON path.
 *
 * json[0..len) is only read during the call. `source` names the input in
 * messages (NULL: "<schema>"). All of a file's events or none: on error
 * the registry knows the types it knew before (memory the failed load
 * allocated is freed with the registry). Errors: NATTEL_EPARSE (not
 * JSON), NATTEL_ELIMIT (a JSON limit), NATTEL_ESCHEMA, NATTEL_EINVAL (an
 * event name already registered, or a type nattel_event_type_check
 * refuses), NATTEL_ENOMEM. The _file form adds NATTEL_EIO (cannot open or
 * read `path`) and NATTEL_ELIMIT (over NATTEL_JSON_MAX_BYTES). */
nattel_code nattel_registry_load_schema(nattel_registry *reg, const char *json,
                                        size_t len, const char *source,
                                        nattel_error *err);
nattel_code nattel_registry_load_schema_file(nattel_registry *reg,
                                             const char *path,
                                             nattel_error *err);

/* The type named name[0..len) (need not be NUL-terminated); NULL when
 * none. Never fails. The type is the registry's (built-in or loaded) or
 * its adder's: it stays valid until nattel_registry_free, and a later
 * add or load does not move it. */
const nattel_event_type *nattel_registry_find(const nattel_registry *reg,
                                              const char *name, size_t len);
/* The types in the order they were added (the built-in first); `at` is
 * NULL when i >= count, and its type lives as find's does. */
size_t nattel_registry_count(const nattel_registry *reg);
const nattel_event_type *nattel_registry_at(const nattel_registry *reg,
                                            size_t i);

/* JSON Schema (draft-07) of the registry's types, in the layout of
 * anonymous_events.json; `only` limits it to one event name (NULL: all).
 * Pretty-printed, 4-space indent, ending in a newline, appended to `out`.
 * NATTEL_ENOTFOUND when no type is named `only`; NATTEL_EINVAL when a type's
 * text cannot be written as JSON; NATTEL_ENOMEM, and then `out` may hold part
 * of the document. */
nattel_code nattel_registry_export_schema(const nattel_registry *reg,
                                          const char *only, nattel_buf *out,
                                          nattel_error *err);

/* ------------------------------------------------------------------ */
/* Schema drift: what changed between two schema files                 */
/* ------------------------------------------------------------------ */

/* One change. `change` names its kind, a static string: event-added,
 * event-removed, type-added, type-removed, field-added, field-removed,
 * kind-changed, required-added, required-removed, enum-value-added,
 * enum-value-removed, bound-tightened, bound-loosened,
 * additional-properties-changed, schema-version-changed,
 * definition-version-changed. `breaking` is 1 when a sender that keeps
 * the old definition would now have payloads refused (a removed event or
 * field, a new required field, a field made required, a changed kind, a
 * removed enum value, a tighter or new bound, additionalProperties made
 * false), else 0. `path` is the JSON path in the schema (e.g.
 * "definitions.events.nat_cli_command.properties.durationMs") and
 * `detail` one line for a person; names in both are cut at 120 bytes and
 * control characters shown as '?'. */
typedef struct nattel_schema_change {
    char *path;
    const char *change;
    int breaking;
    char *detail;
} nattel_schema_change;

typedef struct nattel_schema_diff {
    nattel_schema_change *items; /* schemaMeta, then types, then events */
    size_t count;
    size_t cap;
    size_t breaking; /* how many items are breaking */
} nattel_schema_diff;

/* Compares two schema documents in the layout of the shared
 * anonymous_events.json (schemaMeta, definitions.types,
 * definitions.events): the old and the new. Shared types are compared
 * once under definitions.types; a property that refers to the same
 * shared type on both sides reports only its own bounds. On NATTEL_OK
 * *out holds every change (count 0: none); free it with
 * nattel_schema_diff_free. Errors: NATTEL_EINVAL (a NULL argument),
 * NATTEL_EPARSE or NATTEL_ELIMIT (not JSON within the reader's limits),
 * NATTEL_ESCHEMA (no definitions.events object, or definitions.types not
 * an object), NATTEL_ENOMEM; `err` names the source (`old_source`,
 * `new_source`; NULL: "<old>", "<new>"); *out is then empty. The inputs
 * are only read during the call. Any thread; no shared state. */
nattel_code nattel_schema_diff_run(const char *old_json, size_t old_len,
                                   const char *old_source, const char *new_json,
                                   size_t new_len, const char *new_source,
                                   nattel_schema_diff *out, nattel_error *err);
/* Frees the changes and leaves `d` empty. NULL is fine. */
void nattel_schema_diff_free(nattel_schema_diff *d);

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

typedef struct nattel_event nattel_event;

/* A new event with every defaulted field at its default; fields without a
 * default are unset until set. NULL when out of memory. The event keeps
 * `type` (not copied, not checked: use nattel_event_type_check for a type
 * built at run time), which must outlive it; the caller frees the event
 * with nattel_event_free unless it hands it on (nattel_envelope_add,
 * nattel_client_emit). */
nattel_event *nattel_event_new(const nattel_event_type *type);
/* Frees the event and every string it holds. NULL is fine. */
void nattel_event_free(nattel_event *ev);
/* The type the event was made with (or decoded as). */
const nattel_event_type *nattel_event_type_of(const nattel_event *ev);

/* Setters take the field by C name or wire name and check the kind and
 * the field's constraints (NATTEL_EINVAL), UTF-8 of strings (NATTEL_EINVAL)
 * and the name (NATTEL_ENOTFOUND). Strings are copied. A NULL `field` is
 * NATTEL_ENOTFOUND, a NULL string `value` NATTEL_EINVAL; set_string can
 * also fail with NATTEL_ENOMEM. On error the field keeps its value. Each
 * set_string copies into the event's own memory and the earlier copy is
 * freed only with the event, so setting one field many times grows it.
 * set_bool stores any non-zero `value` as 1. */
nattel_code nattel_event_set_string(nattel_event *ev, const char *field,
                                    const char *value, nattel_error *err);
nattel_code nattel_event_set_enum(nattel_event *ev, const char *field,
                                  const char *value, nattel_error *err);
nattel_code nattel_event_set_int(nattel_event *ev, const char *field,
                                 int64_t value, nattel_error *err);
nattel_code nattel_event_set_number(nattel_event *ev, const char *field,
                                    double value, nattel_error *err);
nattel_code nattel_event_set_bool(nattel_event *ev, const char *field,
                                  int value, nattel_error *err);

/* Sets field `field` (C or wire name) from json[0..len), one JSON value of
 * the field's kind: a string for STRING and ENUM, an integer for INT64, a
 * number for NUMBER, true or false for BOOL, an array of strings for
 * STRING_ARRAY (the only setter for that kind). The value is checked as
 * the typed setters check it. NATTEL_ENOTFOUND: no such field (or a NULL
 * `field`); NATTEL_EPARSE or NATTEL_ELIMIT: json is not one JSON value
 * (within NATTEL_JSON_MAX_DEPTH); NATTEL_EINVAL: a NULL `ev` or `json`,
 * another JSON type than the kind takes, a value the field's constraints
 * refuse, a string holding a NUL byte; NATTEL_ENOMEM. On error the field
 * keeps its value. json is only read during the call; strings are copied
 * into the event. One thread per event, as for every setter. */
nattel_code nattel_event_set_json(nattel_event *ev, const char *field,
                                  const char *json, size_t len,
                                  nattel_error *err);

/* Value of field `i` (in type order); NULL when unset or i is out of
 * range. Owned by the event and valid until it is freed; what it holds
 * changes when the field is set again. */
const nattel_value *nattel_event_value(const nattel_event *ev, size_t i);
/* By name: the string (for STRING and ENUM) or NULL (NULL `field`, no such
 * field, unset, another kind). The caller must not free it. A STRING set
 * or decoded is owned by the event, an ENUM value or an untouched default
 * by the type. Valid until the field is set again or the event is freed
 * (and no longer than the type lives). Today an earlier copy survives a
 * later set until the free; do not rely on it. */
const char *nattel_event_get_string(const nattel_event *ev, const char *field);
/* By name: NATTEL_OK and *out for an INT64 field that is set. Otherwise
 * NATTEL_ENOTFOUND (NULL `field`, no such field, unset, or not INT64) and
 * *out untouched. */
nattel_code nattel_event_get_int(const nattel_event *ev, const char *field,
                                 int64_t *out);

/* NATTEL_ESCHEMA naming the first required field that is unset, else
 * NATTEL_OK; no other code. */
nattel_code nattel_event_check(const nattel_event *ev, nattel_error *err);

/* Appends the parameters object: compact JSON, wire names, schema order.
 * Refuses (NATTEL_EINVAL) an unset required field or invalid UTF-8 rather
 * than emit an invalid payload. On any error (also NATTEL_ENOMEM) `out` is
 * cut back to the length it had. */
nattel_code nattel_event_write_json(const nattel_event *ev, nattel_buf *out,
                                    nattel_error *err);

/* Convenience for the built-in type: one nat_cli_command event. */
typedef struct nattel_cli_command {
    nattel_nemo_source nemo_source; /* default AGENT_TOOLKIT */
    const char *command;            /* required */
    const char *subcommand;         /* NULL: "undefined" */
    nattel_task_status task_status; /* required: UNSET is refused */
    int64_t duration_ms;            /* -1: unknown; must be >= -1 */
    int64_t exit_code;              /* -1: unknown */
    const char *error_class;        /* NULL: "undefined" */
    const char *python_version;     /* NULL: "undefined" (no Python) */
} nattel_cli_command;

#define NATTEL_CLI_COMMAND_INIT                                                \
    {                                                                          \
        NATTEL_NEMO_SOURCE_AGENT_TOOLKIT, NULL, NULL,                          \
            NATTEL_TASK_STATUS_UNSET, -1, -1, NULL, NULL                       \
    }

/* Builds the event from `c` (read during the call only; its strings are
 * copied). On NATTEL_OK *out is a new event the caller owns: free it with
 * nattel_event_free or hand it on (nattel_envelope_add,
 * nattel_client_emit). On error *out is untouched and nothing is left to
 * free. NATTEL_EINVAL: `c` or `out` NULL, a NULL command, an UNSET or
 * out-of-range status or source, duration_ms < -1, a string that is not valid
 * UTF-8; NATTEL_ENOMEM. */
nattel_code nattel_cli_command_event(const nattel_cli_command *c,
                                     nattel_event **out, nattel_error *err);

/* ------------------------------------------------------------------ */
/* Decoding and validation                                             */
/* ------------------------------------------------------------------ */

typedef enum nattel_mode {
    /* The wire schema: every required field present, exact types. */
    NATTEL_MODE_WIRE = 0,
    /* The upstream model's construction rules: defaults fill missing
     * fields, C names are accepted beside wire names. */
    NATTEL_MODE_MODEL = 1
} nattel_mode;

/* Limits of the reader. */
#define NATTEL_JSON_MAX_DEPTH 64
#define NATTEL_JSON_MAX_BYTES (16u * 1024u * 1024u)

/*
 * Decodes and validates one parameters object of `type`. On NATTEL_OK and
 * a non-NULL `out`, *out is the event (caller frees). Otherwise the code is
 * NATTEL_EPARSE (not JSON), NATTEL_ESCHEMA (breaks the schema) or
 * NATTEL_ELIMIT, and every problem is in `problems` (may be NULL).
 *
 * json[0..len) is only read during the call. `out` may be NULL to
 * validate only; on error *out is untouched. `problems` is appended to,
 * not cleared. NATTEL_ENOMEM is possible too. `type` must not be NULL.
 */
nattel_code nattel_event_from_json(const nattel_event_type *type,
                                   const char *json, size_t len,
                                   nattel_mode mode, nattel_event **out,
                                   nattel_problems *problems);

/*
 * nattel_event_from_json into an event the caller keeps and refills from
 * document to document (made once with nattel_event_new of the type the
 * documents are read as): nothing is allocated once the event's memory
 * has grown to the documents' strings, which makes it the fastest way to
 * decode many documents one at a time without a reader (reader.h).
 *
 * The type is ev's own. Same verdicts, codes and problems as
 * nattel_event_from_json. On NATTEL_OK every field of `ev` is the
 * document's (or its default); on any error `ev` is reset to what
 * nattel_event_new gives (defaults set, the rest unset). Either way `ev`
 * stays the caller's: refill it or free it. Strings the event held before
 * the call (nattel_event_get_string) are invalid after it.
 *
 * NULL `ev` or `json`: NATTEL_EINVAL. json[0..len) is only read during the
 * call. `problems` may be NULL; appended to, not cleared. Threads: `ev` is
 * used by one thread at a time; calls on different events run in
 * parallel.
 */
nattel_code nattel_event_from_json_into(nattel_event *ev, const char *json,
                                        size_t len, nattel_mode mode,
                                        nattel_problems *problems);

/* ------------------------------------------------------------------ */
/* Envelopes (event protocol 1.6)                                      */
/* ------------------------------------------------------------------ */

#define NATTEL_CLIENT_ID "184482118588404"
#define NATTEL_EVENT_PROTOCOL "1.6"
#define NATTEL_EVENT_SYS_VER "nat-telemetry/1.0"
/* The most events a sender puts in one envelope (upstream's batch size).
 * Only nattel_envelope_add enforces it: a reader (nattel_envelope_from_json,
 * `nattel validate`, `nattel serve`) takes any number, because upstream's
 * handler sends more than 50 when retried and new events meet; the bound
 * on receipt is the document size (NATTEL_JSON_MAX_BYTES). */
#define NATTEL_ENVELOPE_MAX_EVENTS 50
#define NATTEL_TS_LEN 24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

typedef struct nattel_envelope nattel_envelope;

/* An empty envelope for one session (NULL or "": "undefined") sent by
 * client version `client_ver` (NULL or "": "unknown"); both are copied.
 * NULL when out of memory. */
nattel_envelope *nattel_envelope_new(const char *client_ver,
                                     const char *session_id);
/* Frees the envelope and every event it holds. NULL is fine. */
void nattel_envelope_free(nattel_envelope *env);

/* Adds an event created at `ts_ms` (Unix milliseconds). The envelope takes
 * ownership of `ev` on NATTEL_OK only. Refuses (NATTEL_EINVAL) an event of
 * another schema version than those already in, and (NATTEL_ELIMIT) the
 * 51st: this is the sender's batch limit, NATTEL_ENVELOPE_MAX_EVENTS.
 * Also NATTEL_EINVAL for an event with a required field unset (err's code
 * then says NATTEL_ESCHEMA), NATTEL_ENOMEM. On error the caller still owns
 * `ev` and must free it. `ev` must not be held by another envelope.
 */
nattel_code nattel_envelope_add(nattel_envelope *env, nattel_event *ev,
                                int64_t ts_ms, nattel_error *err);

size_t nattel_envelope_count(const nattel_envelope *env);
/* Event `i` (NULL when out of range), still owned by the envelope: never
 * free it or add it elsewhere. Valid until the envelope is freed (for a
 * reader's envelope, until the reader's next read or free). The caller may
 * change its fields with the setters on an envelope it owns; the next
 * nattel_envelope_write_json writes the new values. It must not change an
 * event of an envelope a reader still holds (nattel_reader_envelope):
 * the reader may copy the document's own bytes as the canonical text. */
nattel_event *nattel_envelope_event(const nattel_envelope *env, size_t i);
/* The event's ts as written on the wire; NULL when out of range. Valid
 * until the next nattel_envelope_add (which may move it) or the free. */
const char *nattel_envelope_event_ts(const nattel_envelope *env, size_t i);
/* The envelope's own values, owned by it and valid until it is freed.
 * schema_ver is NULL until the first nattel_envelope_add, sent_ts NULL
 * unless the envelope was decoded; cpu_architecture is uname's machine
 * ("undefined" when unknown). */
const char *nattel_envelope_session_id(const nattel_envelope *env);
const char *nattel_envelope_client_ver(const nattel_envelope *env);
const char *nattel_envelope_schema_ver(const nattel_envelope *env);
const char *nattel_envelope_cpu_architecture(const nattel_envelope *env);
const char *nattel_envelope_sent_ts(const nattel_envelope *env);

/* Writes the payload with sentTs = `sent_ms` (Unix milliseconds); a
 * negative `sent_ms` keeps the sentTs of a decoded envelope (canonical
 * re-encoding). No events is NATTEL_EINVAL, and so is a negative `sent_ms`
 * on an envelope with no decoded sentTs, or an event that
 * nattel_event_write_json refuses; NATTEL_ENOMEM. Appends to `out`; on
 * error `out` is cut back to the length it had. */
nattel_code nattel_envelope_write_json(const nattel_envelope *env,
                                       int64_t sent_ms, nattel_buf *out,
                                       nattel_error *err);

/* Decodes and validates an envelope: its own schema, then each event's
 * parameters by the type its name selects in `reg`. Same results as
 * nattel_event_from_json. Any number of events (at least one) is
 * accepted: NATTEL_ENVELOPE_MAX_EVENTS binds senders, not readers.
 * `reg` (must not be NULL) and json[0..len) are only read during the
 * call; `out` may be NULL to validate only, and on error *out is
 * untouched. On NATTEL_OK the caller owns *out (nattel_envelope_free). */
nattel_code nattel_envelope_from_json(const nattel_registry *reg,
                                      const char *json, size_t len,
                                      nattel_mode mode, nattel_envelope **out,
                                      nattel_problems *problems);

/* Formats Unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into
 * `out`, which holds at least NATTEL_TS_LEN + 1 bytes. Never fails: a time
 * outside the years 0-9999 is written as "1970-01-01T00:00:00.000Z". */
void nattel_format_ts(int64_t ms, char *out);

#ifdef __cplusplus
}
#endif

#endif
