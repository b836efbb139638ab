/* Session ids: the options' prefix and a UUID4 from their random seam. */
#include "config/nattel_options.h"
#include "model/nattel_error.h"

#include <stdlib.h>
#include <string.h>

nattel_code nattel_session_id_new(const nattel_options *o, char **out,
                                  nattel_error *err)
{
    unsigned char raw[NATTEL_SESSION_HEX_LEN / 2];
    nattel_code rc = nattel__random(o, raw, sizeof raw, err);
    if (rc)
        return rc;
    /* A UUID4 (upstream's uuid.uuid4().hex): version nibble 4, variant
     * bits 10 (the 17th digit is 8, 9, a or b). */
    raw[6] = (unsigned char)((raw[6] & 0x0F) | 0x40);
    raw[8] = (unsigned char)((raw[8] & 0x3F) | 0x80);
    const char *prefix = o->session_prefix ? o->session_prefix : "";
    size_t plen = strlen(prefix);
    char *id = malloc(plen + NATTEL_SESSION_HEX_LEN + 1);
    if (!id)
        return natx_fail(err, NATTEL_ENOMEM, "session id: out of memory");
    memcpy(id, prefix, plen);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        id[plen + 2 * i] = hex[raw[i] >> 4];
        id[plen + 2 * i + 1] = hex[raw[i] & 15];
    }
    id[plen + NATTEL_SESSION_HEX_LEN] = '\0';
    *out = id;
    return NATTEL_OK;
}
