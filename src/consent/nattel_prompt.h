#ifndef NATTEL_PROMPT_H
#define NATTEL_PROMPT_H

#include <nattel/consent.h>

/* The decision an answer line means: "" / "y" / "yes" (trimmed, any case)
 * are ENABLED, anything else DISABLED. */
nattel_consent_state nattel__prompt_answer(const char *line);

#endif
