#ifndef NATTEL_CONSENT_POLICY_H
#define NATTEL_CONSENT_POLICY_H

/* The machine-wide policy (<nattel/consent.h>): reading, and the
 * stricter-wins rule over two files. */

#include <nattel/consent.h>

/* Where the machine policy lives: SYSCONFDIR (a build-time definition,
 * CMAKE_INSTALL_FULL_SYSCONFDIR) plus /nattel/policy.toml. */
#ifndef NATTEL_SYSCONFDIR
#define NATTEL_SYSCONFDIR "/etc"
#endif
#define NATTEL__POLICY_PATH NATTEL_SYSCONFDIR "/nattel/policy.toml"
/* A policy is a few lines; anything larger is not one. */
#define NATTEL__POLICY_MAX_BYTES (64u * 1024u)

/* Reads the machine policy at `machine` and, when non-NULL and non-empty,
 * `extra`, into `out` (a full-size struct, cleared first): the stricter
 * level wins; on a tie the first file named keeps the say. The machine's
 * endpoint wins over the extra one's. */
void nattel__policy_read_paths(const char *machine, const char *extra,
                               nattel_consent_policy *out);

#endif
