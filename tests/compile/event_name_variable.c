/* Must NOT compile: an event type named by a variable rather than a string
 * literal (nattel.h: "an empty name, NULL or a variable does not compile").
 * With -DNATTEL_COMPILE_CONTROL the same file names its type properly and
 * must compile. Checked by tests/integration/test_compile_guard.sh. */
#include <nattel/nattel.h>

static const char *const chosen_name = "my_event";

#ifdef NATTEL_COMPILE_CONTROL
#define TEST_NAME NATTEL_EVENT_NAME("control_event")
#else
#define TEST_NAME NATTEL_EVENT_NAME(chosen_name)
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

const char *compile_guard_name(void);
const char *compile_guard_name(void)
{
    return chosen_name;
}
