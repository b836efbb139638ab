#include "model/nattel_registry.h"
#include "natx/natx_mem.h"

#include "model/nattel_error.h"

#include <stdlib.h>
#include <string.h>

nattel_registry *nattel_registry_new(void)
{
    nattel_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return NULL;
    if (nattel_registry_add(reg, &nattel_cli_command_type, NULL)) {
        nattel_registry_free(reg);
        return NULL;
    }
    return reg;
}

void nattel_registry_free(nattel_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->owned_count; i++)
        free(reg->owned[i]);
    free(reg->owned);
    free(reg->types);
    free(reg);
}

void *nattel__registry_own(nattel_registry *reg, void *p)
{
    if (!p)
        return NULL;
    if (NATX_GROW(reg->owned, reg->owned_cap, reg->owned_count + 1)) {
        free(p);
        return NULL;
    }
    reg->owned[reg->owned_count++] = p;
    return p;
}

char *nattel__registry_strndup(nattel_registry *reg, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return nattel__registry_own(reg, p);
}

nattel_code nattel_registry_add(nattel_registry *reg,
                                const nattel_event_type *type,
                                nattel_error *err)
{
    nattel_code rc = nattel_event_type_check(type, err);
    if (rc)
        return rc;
    if (nattel_registry_find(reg, type->name, strlen(type->name)))
        return natx_fail(err, NATTEL_EINVAL,
                         "event type '%s' is already registered", type->name);
    if (NATX_GROW(reg->types, reg->cap, reg->count + 1))
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    reg->types[reg->count++] = type;
    return NATTEL_OK;
}

const nattel_event_type *nattel_registry_find(const nattel_registry *reg,
                                              const char *name, size_t len)
{
    for (size_t i = 0; i < reg->count; i++)
        if (strlen(reg->types[i]->name) == len &&
            !memcmp(reg->types[i]->name, name, len))
            return reg->types[i];
    return NULL;
}

size_t nattel_registry_count(const nattel_registry *reg)
{
    return reg->count;
}

const nattel_event_type *nattel_registry_at(const nattel_registry *reg,
                                            size_t i)
{
    return i < reg->count ? reg->types[i] : NULL;
}
