#ifndef NATTEL_TRANSPORT_H
#define NATTEL_TRANSPORT_H

#include <nattel/telemetry.h>

/* True when `url` starts with http:// or https:// (scheme in any case). */
int nattel__is_http_url(const char *url);

#endif
