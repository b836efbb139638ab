#ifndef NATTEL_CONSENT_CONSENT_H
#define NATTEL_CONSENT_CONSENT_H

#include <nattel/consent.h>
#include <nattel/options.h>

#include "nattel_limits.h"

/* The file's text for a decision at `now_ms`, in the upstream layout
 * (three comment lines, then [telemetry]); `out` holds at least
 * NATTEL__CONSENT_TEXT_MAX bytes. Returns the length. */
size_t nattel__consent_text(nattel_consent_state state, int64_t now_ms,
                            char *out);

/* Reads the consent file's rules from text already in memory (the same
 * rules as nattel_consent_file_read). */
void nattel__consent_parse(const char *text, size_t len,
                           nattel_consent_file *out);

/* nattel_consent_resolve() with the prompt allowed only when
 * `allow_prompt` is non-zero (and the options allow it): a tool's run or
 * the flusher never asks, whatever the options say. */
nattel_code nattel__consent_resolve(const nattel_options *o, int allow_prompt,
                                    nattel_consent_state *state,
                                    nattel_consent_source *source,
                                    nattel_error *err);

#endif
