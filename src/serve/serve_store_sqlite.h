#ifndef SERVE_STORE_SQLITE_H
#define SERVE_STORE_SQLITE_H

#include "serve/serve_store_common.h"

/* serve_store_open for a SQLite file `path` (not NULL). */
nattel_code serve_store_sqlite_open(const char *path, int read_only,
                                    serve_store **out, nattel_error *err);

#endif
