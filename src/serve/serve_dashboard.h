#ifndef SERVE_DASHBOARD_H
#define SERVE_DASHBOARD_H

/* The usage dashboard: one self-contained HTML page (its style, its data
 * and its chart script inline; nothing loaded from elsewhere) and the same
 * figures as JSON, from serve_usage_load. `nattel serve` answers GET / and
 * GET /api/v1/report with them; `nattel report --html` writes the page to
 * a file. Every stored string is escaped for where it goes: HTML text and
 * attribute values as entities, the embedded JSON with <, > and & as
 * \u escapes, so that no stored string closes an element or a script. */

#include <nattel/nattel.h>

#include "serve/serve_store.h"

/* The paths served. */
#define SERVE_DASHBOARD_PAGE_PATH "/"
#define SERVE_DASHBOARD_API_PATH "/api/v1/report"

/* The query parameters as received (URL-decoded); NULL or "" for absent.
 * from/to: YYYY[-MM[-DD[THH[:MM[:SS]]]]], inclusive; command: a command
 * name exactly; bucket: "hour" or "day" (default). Borrowed. */
typedef struct serve_dashboard_query {
    const char *from;
    const char *to;
    const char *command;
    const char *bucket;
} serve_dashboard_query;

/* 1 for the page, 2 for the API, 0 for another path (`path` not NULL). */
int serve_dashboard_route(const char *path);

/* The page (`file`: 0 served, where the filters are applied by the server
 * at each request; 1 written to a file, where its script applies the
 * command and time filters of its URL to the embedded data) appended to
 * `out`. NATTEL_EINVAL names the bad parameter (a 400); NATTEL_EIO from
 * the store; NATTEL_ENOMEM. Thread-safe as the store is. */
nattel_code serve_dashboard_page(serve_store *st,
                                 const serve_dashboard_query *q, int file,
                                 nattel_buf *out, nattel_error *err);

/* The figures as one JSON object and a newline, appended to `out`
 * (keys: filter, total, commands, outcomes, series, errorClasses,
 * clientVersions, cpuArchitectures, eventTypes; see docs/serve.md).
 * Errors as serve_dashboard_page. */
nattel_code serve_dashboard_json(serve_store *st,
                                 const serve_dashboard_query *q,
                                 nattel_buf *out, nattel_error *err);

#endif
