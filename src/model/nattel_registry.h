#ifndef NATTEL_REGISTRY_H
#define NATTEL_REGISTRY_H

#include <nattel/nattel.h>

struct nattel_registry {
    const nattel_event_type **types;
    size_t count;
    size_t cap;
    void **owned; /* memory of loaded schemas, freed with the registry */
    size_t owned_count;
    size_t owned_cap;
};

/* Hands `p` to the registry to free with it; frees `p` at once and returns
 * NULL when even that bookkeeping cannot be had. */
void *nattel__registry_own(nattel_registry *reg, void *p);

/* A copy of s[0..n) owned by the registry (NUL-terminated). */
char *nattel__registry_strndup(nattel_registry *reg, const char *s, size_t n);

#endif
