#ifndef NATTEL_CONSENT_LOCAL_H
#define NATTEL_CONSENT_LOCAL_H

/*
 * The local-only mode: the choice, kept in nattel's own config file
 * (the shared NAT consent file says "disabled" meanwhile), and the events
 * kept for the person in STATE/local/, one envelope per file named
 * MS-RAND.json, never sent.
 */

#include <nattel/consent.h>

#include "config/nattel_options.h"

/* True when nattel's config file records the local choice and the shared
 * file (`shared`, as read) still says the "disabled" written beside it
 * (same consented_at, current prompt_version): a later decision made
 * through the Python `nat` rewrites the shared file and so wins. */
int nattel__local_chosen(const nattel_options *o,
                         const nattel_consent_file *shared);

/* Keeps one envelope in STATE/local/ (created 0700): temporary file,
 * rename, 0600. Past the options' max_events the oldest are removed.
 * Errors: NATTEL_EINVAL without a state directory, NATTEL_EIO. */
nattel_code nattel__local_keep(const nattel_options *o, const char *payload,
                               size_t len, nattel_error *err);

/* STATE/local in out; NATTEL_ELIMIT when it does not fit. */
nattel_code nattel__local_dir(const nattel_options *o, char *out, size_t cap,
                              nattel_error *err);

/* Records mode = "local" in nattel's config file, beside the shared
 * file's consented_at (created 0600, directories 0700, atomically).
 * NATTEL_EINVAL when no config file is known; NATTEL_EIO. */
nattel_code nattel__local_write_choice(const nattel_options *o,
                                       const char *shared_consented_at,
                                       nattel_error *err);

#endif
