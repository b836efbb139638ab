/* The hook's command resolution (the privacy boundary): every case of the
 * rule, and that what it returns is the program's own strings, never argv.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/hook.h>
#include <nattel/client.h>

#include <nattel/client.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- invocations, through a real client with a capturing transport ---- */

typedef struct capture {
    int count;
    char last[4096];
} capture;

static nattel_code capture_send(void *state, const char *payload, size_t len,
                                nattel_error *err)
{
    (void)err;
    capture *c = state;
    c->count++;
    if (len >= sizeof c->last)
        len = sizeof c->last - 1;
    memcpy(c->last, payload, len);
    c->last[len] = '\0';
    return NATTEL_OK;
}

/* A client whose consent comes from `enabled` ("1", "0") and whose
 * payloads land in *cap. */
static nattel_client *client_with(capture *cap, const char *enabled)
{
    char env_enabled[64];
    snprintf(env_enabled, sizeof env_enabled, "NAT_TELEMETRY_ENABLED=%s",
             enabled);
    char *envp[] = {env_enabled, "HOME=/nonexistent-nattel-test",
                    "NAT_TELEMETRY_ENDPOINT=stdout", NULL};
    nattel_options *o = nattel_options_new();
    assert_non_null(o);
    nattel_error err;
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, envp, &err),
                     NATTEL_OK);
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    /* Debug lines follow the options, which this test takes from its own
     * environment (test_debug_lines). */
    nattel_options_set_debug(o, nattel_truthy(getenv("NATTEL_DEBUG")));
    nattel_transport *t = nattel_transport_new(capture_send);
    assert_non_null(t);
    nattel_transport_set_state(t, cap);
    nattel_options_set_transport(o, t);
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    return c;
}

/* Runs begin/end for `line` and returns the captured payload count. */
static int run_line(capture *cap, const char *line, int exit_code,
                    const char *error_class, int signo)
{
    memset(cap, 0, sizeof *cap);
    nattel_client *c = client_with(cap, "1");
    argvec a;
    split(&a, line);
    nattel_invocation *inv =
        nattel_invocation_begin(c, &program, a.argc, a.argv, 0);
    assert_non_null(inv);
    release(&a); /* the invocation must not keep pointers into argv */
    if (signo)
        nattel_invocation_end_signal(inv, signo);
    else
        nattel_invocation_end(inv, exit_code, error_class);
    nattel_client_free(c);
    return cap->count;
}

static void has(const capture *cap, const char *want)
{
    if (!strstr(cap->last, want))
        fail_msg("payload lacks %s: %s", want, cap->last);
}

static void test_end_outcomes(void **state)
{
    (void)state;
    capture cap;
    assert_int_equal(run_line(&cap, "info list-channels", 0, NULL, 0), 1);
    has(&cap, "\"command\":\"info\",\"subcommand\":\"list-channels\","
              "\"taskStatus\":\"success\"");
    has(&cap, "\"exitCode\":0,\"errorClass\":\"undefined\","
              "\"pythonVersion\":\"undefined\"");
    /* exit 0 ignores a class */
    run_line(&cap, "run", 0, "ValueError", 0);
    has(&cap, "\"taskStatus\":\"success\"");
    has(&cap, "\"errorClass\":\"undefined\"");
    /* failure keeps an identifier */
    run_line(&cap, "run /tmp/x", 1, "FileNotFoundError", 0);
    has(&cap, "\"taskStatus\":\"failure\",\"durationMs\":");
    has(&cap, "\"exitCode\":1,\"errorClass\":\"FileNotFoundError\"");
    run_line(&cap, "run", 3, "json.JSONDecodeError", 0);
    has(&cap, "\"exitCode\":3,\"errorClass\":\"json.JSONDecodeError\"");
    /* ... and drops anything else: the text never travels */
    run_line(&cap, "run", 1, "cannot open /home/alice/secret", 0);
    has(&cap, "\"errorClass\":\"undefined\"");
    assert_null(strstr(cap.last, "alice"));
    run_line(&cap, "run", 1, "", 0);
    has(&cap, "\"errorClass\":\"undefined\"");
    run_line(&cap, "run", -1, NULL, 0);
    has(&cap, "\"taskStatus\":\"failure\"");
    has(&cap, "\"exitCode\":-1,\"errorClass\":\"undefined\"");
    /* an unregistered command */
    run_line(&cap, "deploy --token hunter2", 2, "UsageError", 0);
    has(&cap, "\"command\":\"unknown\",\"subcommand\":\"undefined\"");
    assert_null(strstr(cap.last, "hunter2"));
    assert_null(strstr(cap.last, "deploy"));
}

static void test_end_signal(void **state)
{
    (void)state;
    capture cap;
    static const struct {
        int signo;
        const char *want;
    } cases[] = {{SIGINT, "\"exitCode\":130,\"errorClass\":\"SIGINT\""},
                 {SIGTERM, "\"exitCode\":143,\"errorClass\":\"SIGTERM\""},
                 {SIGHUP, "\"exitCode\":129,\"errorClass\":\"SIGHUP\""},
                 {SIGUSR1, "\"errorClass\":\"undefined\""}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(run_line(&cap, "serve", 0, NULL, cases[i].signo), 1);
        has(&cap, "\"command\":\"serve\",\"subcommand\":\"undefined\","
                  "\"taskStatus\":\"interrupted\"");
        has(&cap, cases[i].want);
    }
}

static void test_duration_is_measured(void **state)
{
    (void)state;
    capture cap = {0};
    nattel_client *c = client_with(&cap, "1");
    char *argv[] = {"natdemo", "run", NULL};
    nattel_invocation *inv = nattel_invocation_begin(c, &program, 2, argv, 0);
    const struct timespec pause = {0, 30 * 1000000};
    nanosleep(&pause, NULL);
    nattel_invocation_end(inv, 0, NULL);
    nattel_client_free(c);
    const char *d = strstr(cap.last, "\"durationMs\":");
    assert_non_null(d);
    long ms = strtol(d + 13, NULL, 10);
    assert_true(ms >= 30); /* a lower bound only: the machine may be slow */
}

static void test_off_null_and_quiet(void **state)
{
    (void)state;
    /* NULL client: begin gives NULL, the ends accept it */
    char *argv[] = {"natdemo", "run", NULL};
    assert_null(nattel_invocation_begin(NULL, &program, 2, argv, 0));
    nattel_invocation_end(NULL, 1, "X");
    nattel_invocation_end_signal(NULL, SIGINT);
    assert_null(nattel_invocation_resolved(NULL));
    /* consent off: no payload */
    capture cap = {0};
    nattel_client *c = client_with(&cap, "0");
    nattel_invocation *inv = nattel_invocation_begin(
        c, &program, 2, argv, NATTEL_INVOCATION_NO_PROMPT);
    assert_non_null(inv);
    assert_string_equal(nattel_invocation_resolved(inv)->command, "run");
    nattel_invocation_end(inv, 0, NULL);
    nattel_client_free(c);
    assert_int_equal(cap.count, 0);
    /* nothing on standard output, whatever happens */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    int saved = dup(1);
    dup2(fds[1], 1);
    close(fds[1]);
    capture cap2;
    run_line(&cap2, "info list-components", 0, NULL, 0);
    run_line(&cap2, "run", 1, "bad class!", 0);
    run_line(&cap2, "serve", 0, NULL, SIGTERM);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    char buf[16];
    assert_int_equal(read(fds[0], buf, sizeof buf), 0);
    close(fds[0]);
}

/* With NATTEL_DEBUG=1 an internal problem is said on stderr, without the
 * value; without it, nothing at all is said. */
static char *stderr_of_bad_class_run(const char *debug)
{
    static char buf[4096];
    if (debug)
        setenv("NATTEL_DEBUG", debug, 1);
    else
        unsetenv("NATTEL_DEBUG");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    close(fds[1]);
    capture cap;
    run_line(&cap, "run /home/alice/secret.yml", 1, "no such file: /home/alice",
             0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    unsetenv("NATTEL_DEBUG");
    return buf;
}

static void test_debug_lines(void **state)
{
    (void)state;
    const char *quiet = stderr_of_bad_class_run(NULL);
    assert_string_equal(quiet, "");
    const char *said = stderr_of_bad_class_run("1");
    assert_non_null(strstr(said, "nattel: debug: hook: "));
    assert_non_null(strstr(said, "not an identifier"));
    assert_null(strstr(said, "alice"));
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
        cmocka_unit_test(test_end_outcomes),
        cmocka_unit_test(test_end_signal),
        cmocka_unit_test(test_duration_is_measured),
        cmocka_unit_test(test_off_null_and_quiet),
        cmocka_unit_test(test_debug_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
