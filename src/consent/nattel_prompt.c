/*
 * The first-run consent prompt. Asked only where a person can see and
 * answer it: stdin, stdout and stderr all terminals (a captured stderr
 * would make the question invisible while a keystroke still answers it).
 */
#include "consent/nattel_prompt.h"
#include "config/nattel_options.h"
#include "natx/natx_io.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

static const char prompt_text[] =
    "\n"
    "------------------------------------------------------------------\n"
    "  Anonymous usage telemetry (NeMo Agent Toolkit)\n"
    "------------------------------------------------------------------\n"
    "  May this tool send NVIDIA one small anonymous record per command\n"
    "  run, to learn which commands are used and how often they fail?\n"
    "\n"
    "  Each record holds only:\n"
    "    - the command name and, if it is a registered one, the\n"
    "      subcommand name\n"
    "    - the outcome (success, failure, interrupted), the exit code\n"
    "      and the duration\n"
    "    - on failure, the error's class name (never its message)\n"
    "    - the Python version (if any), the CPU architecture, the tool's\n"
    "      version and a random id made fresh for each run\n"
    "\n"
    "  It never holds:\n"
    "    - command arguments or option values\n"
    "    - file paths or file contents\n"
    "    - anything else you type (user input), workflow or model names\n"
    "    - your host name or user name\n"
    "\n"
    "  Your answer is saved; change it at any time with\n"
    "    nattel consent --enable | --disable | --status\n"
    "  (or the tool's own command, e.g. `nat configure telemetry`).\n"
    "  The environment overrides the saved answer:\n"
    "    NAT_TELEMETRY_ENABLED=1 or 0 turns telemetry on or off;\n"
    "    DO_NOT_TRACK=1 turns it off, whatever else says.\n"
    "------------------------------------------------------------------\n"
    "Allow anonymous telemetry? [Y/n]: ";

const char *nattel_prompt_text(void)
{
    return prompt_text;
}

int nattel_prompt_possible(void)
{
    return isatty(0) && isatty(1) && isatty(2);
}

nattel_consent_state nattel__prompt_answer(const char *line)
{
    if (nattel__word_eq(line, "") || nattel__word_eq(line, "y") ||
        nattel__word_eq(line, "yes"))
        return NATTEL_CONSENT_ENABLED;
    return NATTEL_CONSENT_DISABLED;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Waits until fd is readable with SIGINT unblocked only for the wait
 * itself (pselect swaps the mask atomically), so a Ctrl-C can never slip
 * in between the check of `interrupted` and a blocking read. */
static int wait_readable(int fd, const sigset_t *wait_mask)
{
    if (fd < 0 || fd >= FD_SETSIZE)
        return 1; /* cannot select on it: let read() block */
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    return pselect(fd + 1, &set, NULL, NULL, NULL, wait_mask) > 0;
}

/* Reads one line a byte at a time, so input meant for the host after the
 * answer stays unread. Returns 1 for a line, 0 for EOF or Ctrl-C. */
static int read_answer(int fd, char *line, size_t cap,
                       const sigset_t *wait_mask)
{
    size_t n = 0;
    for (;;) {
        char c;
        if (interrupted)
            return 0;
        if (!wait_readable(fd, wait_mask)) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        if (c == '\n')
            break;
        if (n + 1 < cap)
            line[n++] = c;
        else
            line[0] = 'x'; /* too long to be "yes": a no */
    }
    line[n] = '\0';
    return 1;
}

/* Consumes a SIGINT that arrived while it was blocked here: the Ctrl-C
 * answered the prompt and must not reach the host once its handler is
 * back. Returns whether there was one. */
static int consume_pending_sigint(const sigset_t *sigint)
{
    const struct timespec zero = {0, 0};
    int seen = 0;
    while (sigtimedwait(sigint, NULL, &zero) == SIGINT)
        seen = 1;
    return seen;
}

/* Thread rules (consent.h): the disposition and the calling thread's
 * mask are saved and put back exactly; a SIGINT the host had blocked
 * stays blocked, and pending, for the host. */
nattel_consent_state nattel_prompt_ask(int in_fd, int out_fd)
{
    /* Ctrl-C while asked means "no", not the end of the host. SIGINT stays
     * blocked except while waiting for a key; one that arrived is consumed
     * before the host's own handler is put back. */
    sigset_t sigint, orig, wait_mask;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint, &orig); /* fails only for a bad how */
    int take_sigint = !sigismember(&orig, SIGINT);
    wait_mask = orig;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    if (take_sigint && sigaction(SIGINT, &sa, &old) == 0)
        sigdelset(&wait_mask, SIGINT);
    else
        take_sigint = 0;
    (void)natx_write_all(out_fd, prompt_text, sizeof prompt_text - 1);
    char line[256];
    int got = read_answer(in_fd, line, sizeof line, &wait_mask);
    if (take_sigint) {
        if (consume_pending_sigint(&sigint))
            got = 0;
        sigaction(SIGINT, &old, NULL);
    }
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    if (!got || interrupted) {
        (void)natx_write_all(out_fd, "\n", 1);
        return NATTEL_CONSENT_DISABLED;
    }
    return nattel__prompt_answer(line);
}
