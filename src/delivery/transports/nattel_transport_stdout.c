/* The "stdout" sink (upstream's name; it writes to the log descriptor,
 * standard error by default): one JSON line per payload, synchronously. */
#include "config/nattel_options.h"
#include "delivery/transports/nattel_transports.h"
#include "transport/nattel_transport.h"
#include "model/nattel_error.h"
#include "natx/natx_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static nattel_code send_stdout(void *state, const char *payload, size_t len,
                               nattel_error *err)
{
    const nattel_options *o = state;
    /* One write of payload + newline: whole lines, never split by other
     * processes writing to the same descriptor. */
    char *line = malloc(len + 1);
    if (!line)
        return natx_fail(err, NATTEL_ENOMEM, "stdout sink: out of memory");
    memcpy(line, payload, len);
    line[len] = '\n';
    int rc = natx_write_all(o->log_fd, line, len + 1);
    int e = errno;
    free(line);
    if (rc)
        return natx_fail(err, NATTEL_EIO, "stdout sink: write: %s",
                         strerror(e));
    return NATTEL_OK;
}

nattel_transport *nattel__transport_stdout_new(const nattel_options *o)
{
    nattel_transport *t = nattel_transport_new(send_stdout);
    if (t)
        nattel_transport_set_state(t, (void *)o);
    return t;
}
