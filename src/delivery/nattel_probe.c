/* nattel_delivery_can_send: what a tool asks before promising delivery
 * (`nattel status`): is there a flusher to start, and can libcurl be
 * loaded the way the sender loads it. */
#include "delivery/nattel_spawn.h"

#include <nattel/client.h>
#include <nattel/options.h>

#include "natx/natx_error.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The detached flusher of NATTEL_DELIVERY_SPAWN: found, a regular file,
 * executable by us. */
static nattel_code probe_flusher(const nattel_options *o, nattel_error *err)
{
    const char *path = nattel__flusher_path(o);
    struct stat st;
    if (!path)
        return natx_fail(err, NATTEL_ENOTFOUND,
                         "no flusher program found (not installed, "
                         "not in the build tree): set NATTEL_FLUSHER "
                         "to the nattel-flusher program");
    if (stat(path, &st))
        return natx_fail(err, NATTEL_ENOTFOUND,
                         "flusher '%s': %s: set NATTEL_FLUSHER to the "
                         "nattel-flusher program",
                         path, strerror(errno));
    if (!S_ISREG(st.st_mode) || access(path, X_OK))
        return natx_fail(
            err, NATTEL_EIO,
            "flusher '%s' cannot be run (%s): set "
            "NATTEL_FLUSHER to the nattel-flusher program",
            path, S_ISREG(st.st_mode) ? strerror(errno) : "not a regular file");
    return NATTEL_OK;
}

/* The sender's own names and order (nattel_sender.c). The handle is
 * closed again: the sender opens its own, in the flusher. */
static nattel_code probe_libcurl(nattel_error *err)
{
    void *lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libcurl.so", RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        return natx_fail(err, NATTEL_EIO,
                         "cannot load libcurl (%s): install libcurl4 "
                         "(Debian: apt-get install libcurl4)",
                         e ? e : "unknown error");
    }
    int ok = dlsym(lib, "curl_easy_perform") != NULL;
    dlclose(lib);
    if (!ok)
        return natx_fail(err, NATTEL_EIO,
                         "the libcurl found has no curl_easy_perform: "
                         "install libcurl4");
    return NATTEL_OK;
}

nattel_code nattel_delivery_can_send(const nattel_options *opts,
                                     nattel_error *err)
{
    nattel_sink_kind kind;
    nattel_code rc = nattel_options_sink(opts, &kind, err);
    if (rc || kind != NATTEL_SINK_HTTP)
        return rc;
    if (nattel_options_delivery_mode(opts) == NATTEL_DELIVERY_SPAWN) {
        rc = probe_flusher(opts, err);
        if (rc)
            return rc;
    }
    return probe_libcurl(err);
}
