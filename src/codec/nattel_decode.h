#ifndef NATTEL_DECODE_H
#define NATTEL_DECODE_H

/* The reporting path: validation over a document's token tree, finding
 * every problem with its path. The reader (nattel_reader.h) hands it the
 * documents its fast path does not take; its verdict is the verdict. */

#include "json/nattel_json.h"

nattel_code nattel__decode_event(const nattel__jdoc *d,
                                 const nattel_event_type *type,
                                 nattel_mode mode, nattel_event **out,
                                 nattel_problems *problems);

nattel_code nattel__decode_envelope(const nattel__jdoc *d,
                                    const nattel_registry *reg,
                                    nattel_mode mode, nattel_envelope **out,
                                    nattel_problems *problems);

#endif
