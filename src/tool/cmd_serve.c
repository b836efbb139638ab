/* Placeholder until this command is built; its owner replaces this file. */
#include "commands.h"

int nattel__cmd_serve(int argc, char **argv)
{
    (void)argc;
    nattel__tool_error(argv[0], "not built yet");
    return NATTEL_EXIT_USAGE;
}
