/* nattel validate: JSON lines in, problems out (SOURCE:LINE: PATH: MESSAGE). */
#include "commands.h"

#include <nattel/nattel.h>
#include <nattel/reader.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: nattel validate [--schema FILE]... [--event NAME] [--model]\n"
    "                       [--canonical] [--max-line BYTES] [FILE|-]...\n"
    "\n"
    "Validates JSON lines: each line is an envelope (an object with "
    "\"events\")\n"
    "or a bare parameters object of event NAME (default nat_cli_command).\n"
    "Problems go to stderr as SOURCE:LINE: PATH: MESSAGE, all of them.\n"
    "\n"
    "  --schema FILE    also know the event types of this schema file\n"
    "                   (anonymous_events.json layout)\n"
    "  --event NAME     event type of bare parameter objects\n"
    "  --model          the upstream model's rules: defaults fill missing\n"
    "                   fields, snake_case names accepted (default: wire)\n"
    "  --canonical      print each valid document's canonical wire JSON\n"
    "  --max-line BYTES longest line read (default 1048576); a longer line\n"
    "                   is reported as soon as that much of it is in, then\n"
    "                   skipped, never held in memory\n"
    "  -h, --help       this help\n"
    "\n"
    "Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error.\n";

typedef struct vopts {
    nattel_registry *reg;
    nattel_reader *rd; /* reused line after line: no allocation per line */
    const nattel_event_type *type;
    nattel_mode mode;
    int canonical;
    size_t max_line;
} vopts;

typedef struct vstats {
    unsigned long invalid;
    int hinted; /* said once that the input is one document a line */
    int io_error;
} vstats;

static void report(const char *src, unsigned long line,
                   const nattel_problems *p)
{
    for (size_t i = 0; i < p->count; i++)
        fprintf(stderr, "%s:%lu: %s: %s\n", src, line, p->items[i].path,
                p->items[i].message);
    if (p->dropped)
        fprintf(stderr, "%s:%lu: $: %zu more problems not shown\n", src, line,
                p->dropped);
}

/* A line that ends inside a document is what a pretty-printed document
 * gives, one syntax error a line after it: say once, in the line's own
 * format, what the input must be. */
static void hint_once(vstats *st, const char *src, unsigned long line,
                      nattel_code rc, const nattel_problems *p)
{
    if (st->hinted || rc != NATTEL_EPARSE || !p->count ||
        !strstr(p->items[0].message, "end of input"))
        return;
    st->hinted = 1;
    fprintf(stderr,
            "%s:%lu: $: the input is one JSON document per line (JSON "
            "Lines) and this line ends inside one: put a pretty-printed "
            "document on one line first, e.g. 'jq -c .'\n",
            src, line);
}

static void validate_line(const vopts *o, vstats *st, const char *src,
                          unsigned long line, const char *text, size_t len,
                          nattel_buf *out, nattel_problems *p)
{
    nattel_error err;
    nattel_problems_clear(p);
    nattel_code rc =
        nattel_reader_read(o->rd, o->type, o->mode, text, len, NULL, p);
    if (rc) {
        if (rc == NATTEL_ENOMEM)
            fprintf(stderr, "%s:%lu: $: out of memory\n", src, line);
        report(src, line, p);
        st->invalid++;
        hint_once(st, src, line, rc, p);
        return;
    }
    if (!o->canonical)
        return;
    const char *canon;
    size_t n;
    rc = nattel_reader_canonical(o->rd, out, &canon, &n, &err);
    if (!rc) {
        fwrite(canon, 1, n, stdout);
        putc('\n', stdout);
    } else {
        fprintf(stderr, "%s:%lu: $: %s\n", src, line,
                rc == NATTEL_ENOMEM ? "out of memory" : err.message);
        st->invalid++;
    }
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static void overlong(const vopts *o, vstats *st, const char *src,
                     unsigned long lineno)
{
    fprintf(stderr, "%s:%lu: $: line longer than %zu bytes (see --max-line)\n",
            src, lineno, o->max_line);
    st->invalid++;
}

/* Splits a stream into lines of at most max_line bytes; a longer line is
 * reported as soon as its first max_line + 1 bytes are in (a stream with
 * no newline must not look hung), then skipped up to its end without being
 * held in memory. read(2), not fread: it returns what a pipe has now. */
static void validate_stream(const vopts *o, vstats *st, FILE *f,
                            const char *src)
{
    size_t cap = 1 << 16;
    char *chunk = malloc(cap);
    nattel_buf line = NATTEL_BUF_INIT, out = NATTEL_BUF_INIT;
    nattel_problems p;
    nattel_problems_init(&p);
    unsigned long lineno = 1;
    int skipping = 0; /* inside a line already reported as too long */
    int failed = 0;
    int fd = fileno(f);
    if (!chunk) {
        tool_error("validate", "out of memory");
        st->io_error = 1;
        return;
    }
    for (;;) {
        ssize_t r = read(fd, chunk, cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            tool_error("validate", "cannot read '%s': %s", src,
                       strerror(errno));
            st->io_error = failed = 1;
            break;
        }
        if (r == 0)
            break;
        size_t n = (size_t)r, i = 0;
        while (i < n) {
            char *nl = memchr(chunk + i, '\n', n - i);
            size_t seg = nl ? (size_t)(nl - (chunk + i)) : n - i;
            if (!skipping && line.len + seg > o->max_line) {
                overlong(o, st, src, lineno);
                skipping = 1;
                nattel_buf_reset(&line);
            }
            if (!skipping) {
                if (line.len == 0 && nl) {
                    /* Whole line inside the chunk: no copy. */
                    if (!blank(chunk + i, seg))
                        validate_line(o, st, src, lineno, chunk + i, seg, &out,
                                      &p);
                    i += seg + 1;
                    lineno++;
                    continue;
                }
                if (nattel_buf_append(&line, chunk + i, seg)) {
                    tool_error("validate", "out of memory");
                    st->io_error = 1;
                    skipping = 1;
                    nattel_buf_reset(&line);
                }
            }
            i += seg;
            if (!nl)
                break;
            i++;
            if (!skipping && !blank(line.data ? line.data : "", line.len))
                validate_line(o, st, src, lineno, line.data, line.len, &out,
                              &p);
            skipping = 0;
            nattel_buf_reset(&line);
            lineno++;
        }
    }
    if (!failed && !skipping && line.len && !blank(line.data, line.len))
        validate_line(o, st, src, lineno, line.data, line.len, &out, &p);
    free(chunk);
    nattel_buf_free(&line);
    nattel_buf_free(&out);
    nattel_problems_free(&p);
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > NATTEL_JSON_MAX_BYTES ||
        *s == '-')
        return -1;
    *out = (size_t)v;
    return 0;
}

enum {
    OPT_SCHEMA = TOOL_OPT_LONG,
    OPT_EVENT,
    OPT_MODEL,
    OPT_CANONICAL,
    OPT_MAX_LINE
};

static const struct option longopts[] = {
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"event", required_argument, NULL, OPT_EVENT},
    {"model", no_argument, NULL, OPT_MODEL},
    {"canonical", no_argument, NULL, OPT_CANONICAL},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"validate", "h", longopts, -1, 0};

typedef struct vargs {
    vopts *o;
    const char *event;
    char **files;
    int nfiles;
} vargs;

static int take(void *ctx, int c, const char *v)
{
    vargs *a = ctx;
    nattel_error err;
    switch (c) {
    case TOOL_ARGS_OPERAND:
        a->files[a->nfiles++] = (char *)v;
        break;
    case OPT_MODEL:
        a->o->mode = NATTEL_MODE_MODEL;
        break;
    case OPT_CANONICAL:
        a->o->canonical = 1;
        break;
    case OPT_EVENT:
        a->event = v;
        break;
    case OPT_MAX_LINE:
        if (parse_size(v, &a->o->max_line))
            return tool_usage_error(
                "validate", "--max-line: '%s' is not a size from 1 to %u", v,
                NATTEL_JSON_MAX_BYTES);
        break;
    case OPT_SCHEMA:
        if (nattel_registry_load_schema_file(a->o->reg, v, &err)) {
            tool_error("validate", "%s", err.message);
            return NATTEL_EXIT_USAGE;
        }
        break;
    }
    return TOOL_GO;
}

int tool_cmd_validate(int argc, char **argv)
{
    vopts o = {.mode = NATTEL_MODE_WIRE, .max_line = 1u << 20};
    vstats st = {0, 0, 0};
    char **files = calloc((size_t)argc, sizeof *files);
    o.reg = nattel_registry_new();
    vargs va = {&o, "nat_cli_command", files, 0};
    int status = NATTEL_EXIT_USAGE;
    if (!o.reg || !files)
        tool_error("validate", "out of memory");
    else
        status = tool_parse(&spec, usage, argc, argv, take, &va);
    if (status != TOOL_GO) {
        free(files);
        nattel_registry_free(o.reg);
        return status;
    }
    const char *event = va.event;
    int nfiles = va.nfiles;
    status = NATTEL_EXIT_OK;
    if (status == NATTEL_EXIT_OK)
        o.type = nattel_registry_find(o.reg, event, strlen(event));
    if (status == NATTEL_EXIT_OK && !o.type) {
        tool_error("validate", "--event: no event type named '%s'", event);
        status = NATTEL_EXIT_USAGE;
    }
    if (status == NATTEL_EXIT_OK)
        o.rd = nattel_reader_new(o.reg);
    if (status == NATTEL_EXIT_OK && !o.rd) {
        tool_error("validate", "out of memory");
        status = NATTEL_EXIT_USAGE;
    }
    if (status == NATTEL_EXIT_OK) {
        static char outbuf[1 << 16];
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
        if (nfiles == 0)
            files[nfiles++] = "-";
        for (int i = 0; i < nfiles; i++) {
            if (!strcmp(files[i], "-")) {
                validate_stream(&o, &st, stdin, "-");
                continue;
            }
            FILE *f = fopen(files[i], "rb");
            if (!f) {
                tool_error("validate", "cannot open '%s': %s", files[i],
                           strerror(errno));
                st.io_error = 1;
                continue;
            }
            validate_stream(&o, &st, f, files[i]);
            fclose(f);
        }
        if (fflush(stdout)) {
            tool_error("validate", "cannot write to standard output");
            st.io_error = 1;
        }
        status = st.io_error  ? NATTEL_EXIT_USAGE
                 : st.invalid ? NATTEL_EXIT_FAIL
                              : NATTEL_EXIT_OK;
    }
    nattel_reader_free(o.rd);
    free(files);
    nattel_registry_free(o.reg);
    return status;
}
