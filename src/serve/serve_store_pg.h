#ifndef SERVE_STORE_PG_H
#define SERVE_STORE_PG_H

#include "serve/serve_store_common.h"

/* serve_store_open for a PostgreSQL URI `uri` (not NULL): one connection
 * now (NATTEL_EIO when the server cannot be reached), the others on first
 * use. */
nattel_code serve_store_pg_open(const char *uri, int read_only,
                                serve_store **out, nattel_error *err);

#endif
