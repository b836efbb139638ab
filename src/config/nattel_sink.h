#ifndef NATTEL_SINK_H
#define NATTEL_SINK_H

#include <nattel/options.h>

/* True when `url` starts with http:// or https:// (scheme in any case). */
int nattel__is_http_url(const char *url);

/* The sink rule itself, for an endpoint and a dry-run flag: what
 * nattel_options_sink() answers, and what nattel_options_set_endpoint()
 * checks. `what` names the setting in the error ("endpoint",
 * "NAT_TELEMETRY_ENDPOINT"). */
nattel_code nattel__sink_rule(const char *endpoint, int dry_run,
                              const char *what, nattel_sink_kind *out,
                              nattel_error *err);

#endif
