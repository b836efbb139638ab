/* The hook's command resolution (the privacy boundary): every case of the
 * rule, and that what it returns is the program's own strings, never argv.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/hook.h>
#include <nattel/telemetry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const info_subs[] = {"list-components", "list-channels",
                                        NULL};
static const char *const configure_subs[] = {"telemetry", NULL};
static const nattel_command commands[] = {
    {"run", NULL, 0},
    {"serve", NULL, 0},
    {"info", info_subs, 0},
    {"configure", configure_subs, NATTEL_COMMAND_CONFIGURES_TELEMETRY},
};
static const char *const value_options[] = {"--log-level", NULL};
static const nattel_program program = {commands, 4, value_options, NULL};

/* argv from a space-separated line; tokens are fresh heap copies so a
 * returned pointer into them would be caught. */
typedef struct argvec {
    int argc;
    char *argv[32];
} argvec;

static void split(argvec *a, const char *line)
{
    a->argc = 0;
    a->argv[a->argc++] = strdup("natdemo");
    char *copy = strdup(line);
    for (char *tok = strtok(copy, " "); tok && a->argc < 31;
         tok = strtok(NULL, " "))
        a->argv[a->argc++] = strdup(strcmp(tok, "<empty>") ? tok : "");
    a->argv[a->argc] = NULL;
    free(copy);
}

static void release(argvec *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
}

static int points_into_argv(const argvec *a, const char *p)
{
    for (int i = 0; i < a->argc; i++) {
        size_t n = strlen(a->argv[i]);
        if (p >= a->argv[i] && p <= a->argv[i] + n)
            return 1;
    }
    return 0;
}

static void expect(const char *line, const char *command,
                   const char *subcommand)
{
    argvec a;
    split(&a, line);
    nattel_resolved r;
    nattel_command_resolve(&program, a.argc, a.argv, &r);
    if (strcmp(r.command, command) || strcmp(r.subcommand, subcommand))
        fail_msg("'%s': got %s/%s, want %s/%s", line, r.command, r.subcommand,
                 command, subcommand);
    assert_false(points_into_argv(&a, r.command));
    assert_false(points_into_argv(&a, r.subcommand));
    release(&a);
}

static void test_leaf_command(void **state)
{
    (void)state;
    expect("run", "run", "undefined");
    /* a leaf's argument is never a subcommand, even a registered name */
    expect("run /home/alice/secret.yml", "run", "undefined");
    expect("run list-components", "run", "undefined");
    expect("serve", "serve", "undefined");
}

static void test_group(void **state)
{
    (void)state;
    expect("info list-components", "info", "list-components");
    expect("info list-channels", "info", "list-channels");
    expect("configure telemetry --enable", "configure", "telemetry");
    /* an unknown token under a group */
    expect("info hunter2", "info", "undefined");
    expect("info", "info", "undefined");
    /* a registered name of another group is not this group's */
    expect("info telemetry", "info", "undefined");
    expect("configure list-components", "configure", "undefined");
    /* a registered name in a later position: only the first counts */
    expect("info hunter2 list-components", "info", "undefined");
    expect("info list-components list-channels", "info", "list-components");
    /* exact match only */
    expect("info list-component", "info", "undefined");
    expect("info LIST-COMPONENTS", "info", "undefined");
    expect("info list-components=x", "info", "undefined");
}

static void test_options(void **state)
{
    (void)state;
    /* flags before and after the group */
    expect("--log-level debug info list-channels", "info", "list-channels");
    expect("--log-level=debug info list-channels", "info", "list-channels");
    expect("info --verbose list-channels", "info", "list-channels");
    expect("-v info -q --log-level warning list-components", "info",
           "list-components");
    /* a declared option's value equal to a registered name is skipped */
    expect("--log-level run info list-channels", "info", "list-channels");
    expect("info --log-level list-components list-channels", "info",
           "list-channels");
    /* "--" ends options */
    expect("-- run", "run", "undefined");
    expect("info -- list-channels", "info", "list-channels");
    expect("info -- --x", "info", "undefined");
    /* "-" alone is positional (stdin), not an option */
    expect("- run", "unknown", "undefined");
    expect("info - list-channels", "info", "undefined");
    /* the documented bounded exposure: an undeclared option's value that
     * equals a registered name is taken as the positional token */
    expect("--profile run info", "run", "undefined");
    expect("info --filter list-channels list-components", "info",
           "list-channels");
}

static void test_unknown_and_none(void **state)
{
    (void)state;
    expect("deploy", "unknown", "undefined");
    expect("deploy list-components", "unknown", "undefined");
    expect("RUN", "unknown", "undefined");
    expect("/etc/passwd run", "unknown", "undefined");
    expect("<empty> run", "unknown", "undefined");
    expect("", "undefined", "undefined");
    expect("--help", "undefined", "undefined");
    expect("--log-level", "undefined", "undefined");
    expect("--log-level info", "undefined", "undefined");
    expect("--", "undefined", "undefined");
}

static void test_entry_and_flags(void **state)
{
    (void)state;
    char *argv[] = {"natdemo", "configure", "telemetry", NULL};
    nattel_resolved r;
    nattel_command_resolve(&program, 3, argv, &r);
    assert_ptr_equal(r.entry, &commands[3]);
    assert_ptr_equal(r.command, commands[3].name);
    assert_ptr_equal(r.subcommand, configure_subs[0]);
    assert_true(r.entry->flags & NATTEL_COMMAND_CONFIGURES_TELEMETRY);
    char *argv2[] = {"natdemo", "nope", NULL};
    nattel_command_resolve(&program, 2, argv2, &r);
    assert_null(r.entry);
}

static void test_degenerate_input(void **state)
{
    (void)state;
    nattel_resolved r;
    nattel_command_resolve(NULL, 0, NULL, &r);
    assert_string_equal(r.command, "undefined");
    char *argv[] = {"natdemo", "run", NULL};
    nattel_command_resolve(&program, 0, argv, &r);
    assert_string_equal(r.command, "undefined");
    /* argc past the NULL terminator stops at the terminator */
    char *argv2[] = {"natdemo", "--log-level", NULL, NULL};
    nattel_command_resolve(&program, 4, argv2, &r);
    assert_string_equal(r.command, "undefined");
    char *argv3[] = {"natdemo", "--", NULL};
    nattel_command_resolve(&program, 5, argv3, &r);
    assert_string_equal(r.command, "undefined");
    /* a program without commands or value options */
    nattel_program empty = {NULL, 0, NULL, NULL};
    nattel_command_resolve(&empty, 2, argv, &r);
    assert_string_equal(r.command, "unknown");
}

static void test_prompt_text_says_what(void **state)
{
    (void)state;
    const char *t = nattel_prompt_text();
    static const char *const words[] = {
        "command name",   "subcommand",
        "outcome",        "exit code",
        "duration",       "class name",
        "Python version", "CPU architecture",
        "never holds",    "arguments",
        "option values",  "file paths",
        "file contents",  "user input",
        "host name",      "user name",
        "nattel consent", "NAT_TELEMETRY_ENABLED",
        "DO_NOT_TRACK",   "[Y/n]"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strstr(t, words[i]))
            fail_msg("prompt text lacks '%s'", words[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_command),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_unknown_and_none),
        cmocka_unit_test(test_entry_and_flags),
        cmocka_unit_test(test_degenerate_input),
        cmocka_unit_test(test_prompt_text_says_what),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
