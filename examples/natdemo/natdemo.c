/*
 * natdemo: a small command-line program instrumented with nattel the way
 * NAT's `nat` CLI is: one nat_cli_command event per run, the first-run
 * prompt, Ctrl-C and SIGTERM reported as interruptions.
 *
 *   natdemo [--log-level LEVEL] COMMAND ...
 *     run [FILE]             read a workflow file (standard input: - or none)
 *     serve                  run until SIGINT or SIGTERM
 *     info list-components   list the components
 *     info list-channels     list the channels
 *     configure telemetry [--enable|--disable|--status]
 *
 * Exit status: 0 success, 1 the command failed, 2 usage error,
 * 128 + signal number when stopped by SIGINT (130) or SIGTERM (143).
 */
#include <nattel/client.h>
#include <nattel/hook.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const info_subcommands[] = {"list-components",
                                               "list-channels", NULL};
static const char *const configure_subcommands[] = {"telemetry", NULL};
static const nattel_command commands[] = {
    {"run", NULL, 0},
    {"serve", NULL, 0},
    {"info", info_subcommands, 0},
    {"configure", configure_subcommands, NATTEL_COMMAND_CONFIGURES_TELEMETRY},
};
static const char *const value_options[] = {"--log-level", NULL};
static const nattel_program program = {
    commands, sizeof commands / sizeof *commands, value_options,
    NULL /* pythonVersion "undefined": a C host has no Python */};

/* How a command ended: an exit code with an error class, or a signal. */
typedef struct outcome {
    int exit_code;
    const char *error_class; /* an identifier, or NULL */
    int signo;               /* non-zero: stopped by this signal */
} outcome;

static const char usage_text[] =
    "usage: natdemo [--log-level LEVEL] COMMAND [ARGS...]\n"
    "\n"
    "An example CLI instrumented with nattel (NeMo Agent Toolkit CLI\n"
    "telemetry): each run sends at most one anonymous nat_cli_command event,\n"
    "only with consent.\n"
    "\n"
    "commands:\n"
    "  run [FILE]                 read a workflow file (- or none: stdin)\n"
    "  serve                      run until Ctrl-C (SIGINT) or SIGTERM\n"
    "  info list-components       list the components\n"
    "  info list-channels         list the channels\n"
    "  configure telemetry [--enable | --disable | --status]\n"
    "                             show or change the telemetry decision\n"
    "\n"
    "options:\n"
    "  --log-level LEVEL          debug, info, warning or error (default "
    "warning)\n"
    "  -h, --help                 this text\n"
    "  --version                  the version\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted\n"
    "(SIGINT), 143 terminated (SIGTERM).\n";

static void say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* One line on stderr, "natdemo: ...". */
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("natdemo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Set by the handler of SIGINT and SIGTERM outside `serve`: a blocking
 * read sees EINTR and the command ends as interrupted. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int signo)
{
    stop_signal = signo;
}

/* Catches SIGINT and SIGTERM (no SA_RESTART, so a blocked read returns),
 * unless the program was started with them ignored: a background job of
 * a shell keeps ignoring Ctrl-C. */
static void catch_stop_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) || old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static outcome ok(void)
{
    outcome o = {0, NULL, 0};
    return o;
}

static outcome failed(int code, const char *error_class)
{
    outcome o = {code, error_class, 0};
    return o;
}

static outcome usage_error(const char *what, const char *arg)
{
    say("%s%s%s%s (see 'natdemo --help')", what, arg ? " '" : "",
        arg ? arg : "", arg ? "'" : "");
    return failed(2, "UsageError");
}

/* Python's names for the OSError subclasses, as a Python host's exception
 * class names would read in the same situation. */
static const char *os_error_class(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return "FileNotFoundError";
    case EACCES:
    case EPERM:
        return "PermissionError";
    case EISDIR:
        return "IsADirectoryError";
    default:
        return "OSError";
    }
}

static outcome cmd_run(int argc, char **argv)
{
    if (argc > 2)
        return usage_error("run takes at most one FILE, got", argv[2]);
    if (argc == 2 && argv[1][0] == '-' && argv[1][1])
        return usage_error("run: unknown option", argv[1]);
    const char *path = argc == 2 ? argv[1] : "-";
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (fd < 0) {
        int e = errno;
        say("run: cannot read '%s': %s", path, strerror(e));
        return failed(1, os_error_class(e));
    }
    char buf[65536];
    long long bytes = 0, lines = 0;
    /* A signal seen at any point, even with the end of the input, stops
     * the command: the user asked for it. */
    for (;;) {
        if (stop_signal) {
            if (fd)
                close(fd);
            outcome o = {128 + stop_signal, NULL, stop_signal};
            return o;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 && stop_signal)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            say("run: cannot read '%s': %s", path, strerror(e));
            if (fd)
                close(fd);
            return failed(1, os_error_class(e));
        }
        if (n == 0)
            break;
        bytes += n;
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    if (fd)
        close(fd);
    printf("ran workflow %s: %lld lines, %lld bytes\n", fd ? path : "(stdin)",
           lines, bytes);
    return ok();
}

/* Waits for SIGINT or SIGTERM with both blocked and taken by sigwait:
 * no handler runs, so nothing async-signal-unsafe can happen in one. */
static outcome cmd_serve(int argc, char **argv)
{
    if (argc > 1)
        return usage_error("serve takes no argument, got", argv[1]);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL)) {
        say("serve: cannot block signals: %s", strerror(errno));
        return failed(1, "OSError");
    }
    /* An ignored signal is discarded, never pending, and a shell starts
     * background jobs with SIGINT ignored: serve stops on these two
     * whatever it inherited. They stay blocked, so the default action
     * never runs; sigwait takes them. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    printf("natdemo serve: ready (pid %ld); stop with Ctrl-C or SIGTERM\n",
           (long)getpid());
    fflush(stdout);
    int signo = stop_signal; /* one caught before serve blocked them */
    while (!signo && sigwait(&set, &signo) != 0)
        ;
    printf("natdemo serve: stopped by %s\n",
           signo == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    outcome o = {128 + signo, NULL, signo};
    return o;
}

static outcome cmd_info(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("info needs a subcommand: list-components or "
                           "list-channels",
                           NULL);
    if (argc > 2)
        return usage_error("info: unexpected argument", argv[2]);
    if (!strcmp(argv[1], "list-components")) {
        puts("components:\n  llm\n  embedder\n  retriever\n  memory\n  "
             "function");
        return ok();
    }
    if (!strcmp(argv[1], "list-channels")) {
        puts("channels:\n  stable\n  nightly");
        return ok();
    }
    return usage_error("info: unknown subcommand", argv[1]);
}

static outcome telemetry_status(const nattel_options *opts)
{
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_resolve(opts, &state, &source, NULL);
    const char *file = nattel_options_consent_file(opts);
    printf("telemetry: %s (decided by %s)\nconsent file: %s\n",
           nattel_consent_state_name(state), nattel_consent_source_text(source),
           file ? file : "(none)");
    return ok();
}

static outcome cmd_configure(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "telemetry"))
        return usage_error("configure: unknown or missing subcommand (only "
                           "'telemetry')",
                           NULL);
    const char *action = "--status";
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--enable") && strcmp(argv[i], "--disable") &&
            strcmp(argv[i], "--status"))
            return usage_error("configure telemetry: unknown argument",
                               argv[i]);
        if (i > 2)
            return usage_error("configure telemetry takes one of --enable, "
                               "--disable, --status",
                               NULL);
        action = argv[i];
    }
    nattel_options *opts = nattel_options_new();
    nattel_error err;
    outcome o = ok();
    if (!opts) {
        say("configure telemetry: out of memory");
        return failed(1, "ConfigError");
    }
    if (nattel_options_from_env(opts, NULL, NULL, &err)) {
        say("configure telemetry: %s", err.message);
        o = failed(1, "ConfigError");
    } else if (!strcmp(action, "--status")) {
        /* this command is the answer */
        nattel_options_set_prompt(opts, NATTEL_PROMPT_NEVER);
        o = telemetry_status(opts);
    } else {
        nattel_consent_state want = strcmp(action, "--enable")
                                        ? NATTEL_CONSENT_DISABLED
                                        : NATTEL_CONSENT_ENABLED;
        if (nattel_consent_set(opts, want, &err)) {
            say("configure telemetry: the decision was not saved: %s",
                err.message);
            o = failed(1, "OSError");
        } else {
            printf("telemetry %s; saved in %s\n",
                   nattel_consent_state_name(want),
                   nattel_options_consent_file(opts));
        }
    }
    nattel_options_free(opts);
    return o;
}

static int valid_level(const char *v)
{
    static const char *const levels[] = {"debug", "info", "warning", "error"};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
        if (!strcmp(v, levels[i]))
            return 1;
    return 0;
}

/* Removes the global options from args (in place; they may appear
 * anywhere before "--"), checking their values. */
static int take_global_options(int *argc, char **args, int *debug_on,
                               outcome *bad)
{
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = args[i];
        const char *level = NULL;
        if (!strcmp(a, "--")) {
            while (i < *argc)
                args[n++] = args[i++];
            break;
        }
        if (!strcmp(a, "--log-level")) {
            if (i + 1 >= *argc) {
                *bad = usage_error("--log-level needs a value", NULL);
                return -1;
            }
            level = args[++i];
        } else if (!strncmp(a, "--log-level=", 12)) {
            level = a + 12;
        } else {
            args[n++] = args[i];
            continue;
        }
        if (!valid_level(level)) {
            *bad = usage_error("--log-level must be debug, info, warning or "
                               "error, got",
                               level);
            return -1;
        }
        *debug_on = !strcmp(level, "debug");
    }
    *argc = n;
    args[n] = NULL;
    return 0;
}

static outcome dispatch(int argc, char **argv)
{
    /* argv[0] is the program; args is the rest, without global options */
    int n = argc - 1;
    char **args = argv + 1;
    outcome bad;
    int debug_on = 0;
    if (take_global_options(&n, args, &debug_on, &bad))
        return bad;
    if (n > 0 && !strcmp(args[0], "--")) {
        args++;
        n--;
    } else if (n > 0 &&
               (!strcmp(args[0], "-h") || !strcmp(args[0], "--help"))) {
        fputs(usage_text, stdout);
        return ok();
    } else if (n > 0 && !strcmp(args[0], "--version")) {
        printf("natdemo %s\n", NATTEL_VERSION);
        return ok();
    }
    if (n == 0) {
        fputs(usage_text, stderr);
        return failed(2, "UsageError");
    }
    if (args[0][0] == '-' && args[0][1])
        return usage_error("unknown option", args[0]);
    if (debug_on)
        say("debug: dispatching %s", args[0]);
    if (!strcmp(args[0], "run"))
        return cmd_run(n, args);
    if (!strcmp(args[0], "serve"))
        return cmd_serve(n, args);
    if (!strcmp(args[0], "info"))
        return cmd_info(n, args);
    if (!strcmp(args[0], "configure"))
        return cmd_configure(n, args);
    return usage_error("unknown command", args[0]);
}

/* The client from the NAT_* environment; NULL (telemetry off for this
 * run) when the environment is unusable, which never stops the program. */
static nattel_client *make_client(void)
{
    nattel_options *opts = nattel_options_new();
    if (!opts)
        return NULL;
    nattel_error err;
    if (nattel_options_from_env(opts, NULL, NULL, &err) ||
        nattel_options_set_client_version(opts, NATTEL_VERSION, &err)) {
        if (nattel_truthy(getenv("NATTEL_DEBUG")))
            say("telemetry off for this run: %s", err.message);
        nattel_options_free(opts);
        return NULL;
    }
    return nattel_client_new(opts, &err);
}

int main(int argc, char **argv)
{
    nattel_client *client = make_client();
    nattel_invocation *inv =
        nattel_invocation_begin(client, &program, argc, argv, 0);
    catch_stop_signals();
    /* The hook sees argv; the commands get their own copy to reorder. */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    outcome o = failed(1, "MemoryError");
    if (args) {
        memcpy(args, argv, (size_t)argc * sizeof *args);
        o = dispatch(argc, args);
        free(args);
    }
    fflush(stdout);
    if (o.signo)
        nattel_invocation_end_signal(inv, o.signo);
    else
        nattel_invocation_end(inv, o.exit_code, o.error_class);
    nattel_client_free(client);
    return o.exit_code;
}
