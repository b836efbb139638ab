#ifndef NATTEL_SPAWN_H
#define NATTEL_SPAWN_H

/* Starting the detached flusher from a host. */

#include "config/nattel_options.h"

#include <nattel/nattel.h>

/* The flusher program: option, $NATTEL_FLUSHER (read into the option by
 * nattel_options_from_env), ../libexec/nattel/nattel-flusher beside the
 * object holding the library (libnattel.so.1, or the program linked to
 * libnattel.a), the compiled-in install path, the build-tree path.
 * NULL: none. */
const char *nattel__flusher_path(const nattel_options *o);

/* Starts a detached flusher unless one runs or back-off is pending. */
nattel_code nattel__maybe_spawn(const nattel_options *o, nattel_error *err);

#endif
