/*
 * nattel reader: one reusable object that reads documents one after the
 * other (a line of `nattel validate`, a POST body) and says what each one
 * is: an envelope or a parameters object of an event type.
 *
 * It validates and decodes in one walk over the bytes and keeps its
 * decoded objects between documents, so that reading many documents
 * allocates nothing once it is warm. Its verdicts and problems are those
 * of nattel_event_from_json and nattel_envelope_from_json.
 *
 * Thread rule: a reader is used by one thread at a time; any number of
 * readers may share one registry as long as nobody adds types to it while
 * they read. The objects a reader hands out by pointer belong to it and
 * follow the same rule; taken objects are the caller's (see nattel.h).
 * Readers share no state: each thread may have its own.
 *
 * Pointer arguments must not be NULL unless a comment says what NULL
 * does; a `nattel_error *` may always be NULL.
 */
#ifndef NATTEL_NATTEL_READER_H
#define NATTEL_NATTEL_READER_H

#include <nattel/nattel.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nattel_reader nattel_reader;

/* What the last document was. */
typedef enum nattel_doc_kind {
    NATTEL_DOC_NONE = 0, /* no document read, or the last one was invalid */
    NATTEL_DOC_EVENT,    /* a parameters object of the default type */
    NATTEL_DOC_ENVELOPE  /* an envelope (its root object has "events") */
} nattel_doc_kind;

/* A reader of the event types of `reg`, which must outlive it (the reader
 * does not copy it; not NULL). NULL when out of memory. The caller frees
 * it with nattel_reader_free. */
nattel_reader *nattel_reader_new(const nattel_registry *reg);
/* Frees the reader and every object it handed out by pointer. NULL is
 * fine. */
void nattel_reader_free(nattel_reader *r);

/*
 * Reads one document json[0..len): an envelope when its root object has
 * the key "events", else a parameters object of `type` (the default type;
 * NULL: only envelopes are accepted). Envelope events take their type
 * from `reg` by name.
 *
 * NATTEL_OK: *kind (may be NULL) says what it was, and
 * nattel_reader_event() or nattel_reader_envelope() gives the object.
 * Otherwise NATTEL_EPARSE, NATTEL_ESCHEMA, NATTEL_ELIMIT or NATTEL_ENOMEM
 * with every problem in `problems` (may be NULL; appended to, not
 * cleared) and *kind NATTEL_DOC_NONE.
 *
 * The reader keeps a pointer to `json` until the next read, for
 * nattel_reader_write_canonical(): the bytes must stay as they are until
 * then. Decoded strings are copied: taken objects do not need `json`.
 *
 * Every read, valid or not, ends the life of the objects the previous one
 * handed out by pointer (not of taken ones). The reader remembers each
 * `type` it was given by its address, so a type must outlive the reader
 * (a static type or one of `reg` does).
 */
nattel_code nattel_reader_read(nattel_reader *r, const nattel_event_type *type,
                               nattel_mode mode, const char *json, size_t len,
                               nattel_doc_kind *kind,
                               nattel_problems *problems);

/* The last document's object, owned by the reader and valid until its
 * next read or free; NULL when the last document was not of that kind. */
const nattel_event *nattel_reader_event(const nattel_reader *r);
const nattel_envelope *nattel_reader_envelope(const nattel_reader *r);

/* The last document's object, handed to the caller (nattel_event_free /
 * nattel_envelope_free); NULL when there is none of that kind or out of
 * memory. Afterwards the reader holds no object until its next read (even
 * after NULL for out of memory: that document is then lost). The caller
 * may change a taken object freely. */
nattel_event *nattel_reader_take_event(nattel_reader *r);
nattel_envelope *nattel_reader_take_envelope(nattel_reader *r);

/*
 * Appends the canonical wire JSON of the last document (valid, not
 * taken) to `out`: what nattel_event_write_json or
 * nattel_envelope_write_json (keeping its sentTs) would write. A document
 * that already is in that form, or is but for the whitespace between its
 * tokens, is copied from its own bytes, which is much faster than
 * re-encoding it. NATTEL_EINVAL when there is no such document;
 * NATTEL_ENOMEM; no newline is added. On error `out` keeps its length.
 */
nattel_code nattel_reader_write_canonical(nattel_reader *r, nattel_buf *out,
                                          nattel_error *err);

/*
 * The canonical text of the last document without a copy where none is
 * needed: *text points into the document itself when it is canonical as
 * written, else into `scratch` (reset and refilled), for *len bytes. It
 * stays valid while both do: until the next read of `r` and the next
 * change of `scratch`. Same errors as nattel_reader_write_canonical(),
 * and then *text is NULL and *len 0. For a loop that prints every document
 * (`nattel validate --canonical`), this saves copying most of them.
 */
nattel_code nattel_reader_canonical(nattel_reader *r, nattel_buf *scratch,
                                    const char **text, size_t *len,
                                    nattel_error *err);

#ifdef __cplusplus
}
#endif

#endif
