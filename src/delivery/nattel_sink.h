#ifndef NATTEL_SINK_H
#define NATTEL_SINK_H

#include <nattel/telemetry.h>

/* True when `url` starts with http:// or https:// (scheme in any case). */
int nattel__is_http_url(const char *url);

#endif
