/* nattel_event_from_json on nat_cli_command, model mode (defaults, C names). */
#define FUZZ_MODE NATTEL_MODE_MODEL
#include "fuzz_event_common.h"
