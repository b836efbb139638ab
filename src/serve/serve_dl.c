#include "serve/serve_dl.h"

#include "natx/natx_error.h"

#include <dlfcn.h>
#include <string.h>

void *serve_dl_open(const char *soname, const char *package, nattel_error *err)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        /* dlerror's text is per thread: read right after the failure. */
        const char *why = dlerror();
        natx_fail(err, NATTEL_EIO,
                  "cannot load %s (%s); install the Debian package %s", soname,
                  why ? why : "unknown error", package);
    }
    return lib;
}

int serve_dl_sym(void *lib, const char *name, void *slot, size_t size,
                 const char *soname, const char *package, nattel_error *err)
{
    /* dlsym's own lookup: a NULL answer cannot be a defined function. */
    void *sym = dlsym(lib, name);
    if (!sym) {
        natx_fail(err, NATTEL_EIO,
                  "cannot use %s: it has no %s (too old?); install the "
                  "Debian package %s",
                  soname, name, package);
        return -1;
    }
    memcpy(slot, &sym, size);
    return 0;
}

nattel_code serve_dl_load(const char *soname, const char *package,
                          serve_dl_resolve_fn resolve, void *api,
                          nattel_error *err)
{
    void *lib = serve_dl_open(soname, package, err);
    if (!lib)
        return NATTEL_EIO;
    if (resolve(lib, soname, api, err)) {
        dlclose(lib);
        return NATTEL_EIO;
    }
    return NATTEL_OK;
}

const void *serve_dl_result(const serve_dl_once *o, const void *table,
                            nattel_error *err)
{
    if (!o->code)
        return table;
    if (err)
        *err = o->err;
    return NULL;
}
