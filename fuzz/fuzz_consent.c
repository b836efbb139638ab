/* The consent-file reader (TOML subset + upstream rules): whatever the
 * bytes, a verdict, never a crash; a malformed file never says "enabled". */
#include "fuzz_common.h"

#include "consent/nattel_consent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    if (!text)
        return 0;
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    memset(&f, 0, sizeof f);
    nattel__consent_parse(text, size, &f);
    FUZZ_CHECK(f.state == NATTEL_CONSENT_NEVER_ASKED ||
                   f.state == NATTEL_CONSENT_ENABLED ||
                   f.state == NATTEL_CONSENT_DISABLED,
               "state %d out of range", (int)f.state);
    FUZZ_CHECK(!f.malformed || f.state == NATTEL_CONSENT_NEVER_ASKED,
               "a malformed file decided %s",
               nattel_consent_state_name(f.state));
    FUZZ_CHECK(f.state != NATTEL_CONSENT_ENABLED || !f.stale,
               "a stale 'enabled' was kept");
    FUZZ_CHECK(memchr(f.note, '\0', sizeof f.note) != NULL,
               "note not terminated");
    free(text);
    return 0;
}
