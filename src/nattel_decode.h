#ifndef NATTEL_DECODE_H
#define NATTEL_DECODE_H

/* Validation over a document that is already parsed, for callers that
 * look at a document before choosing how to validate it (the tool's
 * `validate` tells envelopes from bare events without parsing twice). */

#include "nattel_json.h"

nattel_code nattel__decode_event(const nattel__jdoc *d,
                                 const nattel_event_type *type,
                                 nattel_mode mode, nattel_event **out,
                                 nattel_problems *problems);

nattel_code nattel__decode_envelope(const nattel__jdoc *d,
                                    const nattel_registry *reg,
                                    nattel_mode mode, nattel_envelope **out,
                                    nattel_problems *problems);

/* Whether the document's root is an object with key `key`. */
int nattel__json_root_has(const nattel__jdoc *d, const char *key);

#endif
