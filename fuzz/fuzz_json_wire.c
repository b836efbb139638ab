/* nattel_event_from_json on nat_cli_command, wire mode. */
#define FUZZ_MODE NATTEL_MODE_WIRE
#include "fuzz_event_common.h"
