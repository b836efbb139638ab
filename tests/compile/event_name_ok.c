/* MUST compile: a properly named event type (the harness's control; if
 * this fails, the refusals of the other files prove nothing). It must be
 * warning-free with -Wall -Wextra -Werror: hosts build with warnings on.
 * With -DNATTEL_COMPILE_RUN it is a program that checks the macro yields
 * the literal itself. Checked by
 * tests/integration/test_compile_guard.sh. */
#include <nattel/nattel.h>

static const nattel_field fields[] = {
    {.c_name = "command", .wire_name = "command", .kind = NATTEL_KIND_STRING},
};

const nattel_event_type compile_guard_type = {
    .name = NATTEL_EVENT_NAME("my_event"),
    .schema_version = "1.5",
    .fields = fields,
    .field_count = 1,
};

/* a one-character name is a name */
const nattel_event_type compile_guard_short = {
    .name = NATTEL_EVENT_NAME("x"),
    .schema_version = "1.5",
    .fields = fields,
    .field_count = 1,
};


#ifdef NATTEL_COMPILE_RUN
#include <string.h>

int main(void)
{
    return strcmp(compile_guard_type.name, "my_event") != 0 ||
           strcmp(compile_guard_short.name, "x") != 0;
}
#endif
