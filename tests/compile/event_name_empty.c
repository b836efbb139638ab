/* Must NOT compile: an event type whose name is the empty string.
 * With -DNATTEL_COMPILE_CONTROL the same file names its type properly and
 * must compile, which shows the refusal comes from the name alone.
 * Checked by tests/integration/test_compile_guard.sh. */
#include <nattel/nattel.h>

#ifdef NATTEL_COMPILE_CONTROL
#define TEST_NAME NATTEL_EVENT_NAME("control_event")
#else
#define TEST_NAME NATTEL_EVENT_NAME("")
#endif

static const nattel_field fields[] = {
    {.c_name = "command", .wire_name = "command", .kind = NATTEL_KIND_STRING},
};

const nattel_event_type compile_guard_type = {
    .name = TEST_NAME,
    .schema_version = "1.5",
    .fields = fields,
    .field_count = 1,
};
