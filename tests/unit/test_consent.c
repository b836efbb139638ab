/* Consent: the file's reading rules (incl. the asymmetric stale
 * prompt_version), atomic writes and their failures, the resolution order,
 * the prompt's answers (through a pipe; the terminal path is
 * tests/integration/test_prompt_pty.py), the sinks and nattel_emit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "consent/nattel_consent.h"
#include "consent/nattel_prompt.h"
#include "consent/nattel_policy.h"

#include <nattel/client.h>
#include <nattel/consent.h>
#include <nattel/options.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static char *tmp;

static int setup(void **state)
{
    (void)state;
    tmp = tu_tmpdir("consent");
    return tmp ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(tmp);
    return 0;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp, name);
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static nattel_consent_state parse(const char *text)
{
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    memset(&f, 0, sizeof f);
    nattel__consent_parse(text, strlen(text), &f);
    return f.state;
}

#define EN NATTEL_CONSENT_ENABLED
#define DIS NATTEL_CONSENT_DISABLED
#define NEVER NATTEL_CONSENT_NEVER_ASKED

static void test_rules(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        nattel_consent_state want;
    } cases[] = {
        {"[telemetry]\nconsent = \"enabled\"\nprompt_version = \"1.0\"\n", EN},
        {"[telemetry]\nconsent = \"disabled\"\nprompt_version = \"1.0\"\n",
         DIS},
        /* stale or missing prompt_version: asymmetric */
        {"[telemetry]\nconsent = \"enabled\"\nprompt_version = \"0.9\"\n",
         NEVER},
        {"[telemetry]\nconsent = \"enabled\"\n", NEVER},
        {"[telemetry]\nconsent = \"disabled\"\nprompt_version = \"0.9\"\n",
         DIS},
        {"[telemetry]\nconsent = \"disabled\"\n", DIS},
        {"[telemetry]\nconsent = \"enabled\"\nprompt_version = 1.0\n", NEVER},
        {"[telemetry]\nconsent = \"disabled\"\nprompt_version = 1.0\n", DIS},
        /* unknown values */
        {"[telemetry]\nconsent = \"Enabled\"\nprompt_version = \"1.0\"\n",
         NEVER},
        {"[telemetry]\nconsent = true\nprompt_version = \"1.0\"\n", NEVER},
        {"[telemetry]\nprompt_version = \"1.0\"\n", NEVER},
        {"[other]\nconsent = \"enabled\"\nprompt_version = \"1.0\"\n", NEVER},
        {"telemetry = \"enabled\"\n", NEVER},
        {"[[telemetry]]\nconsent = \"enabled\"\nprompt_version = \"1.0\"\n",
         NEVER},
        /* other TOML spellings of the same table */
        {"telemetry = {consent = 'enabled', prompt_version = '1.0'}\n", EN},
        {"telemetry.consent = \"disabled\"\ntelemetry.prompt_version = "
         "\"1.0\"\n",
         DIS},
        {"# c\n[x]\na = [1, {b = 2}]\n[telemetry] # t\n  consent='enabled'\n"
         "  prompt_version=\"1.0\"\n  extra = 1979-05-27\n",
         EN},
        /* malformed: never asked, even if a consent line is in there */
        {"[telemetry]\nconsent = \"disabled\"\nprompt_version = "
         "\"1.0\"\nconsent = \"disabled\"\n",
         NEVER},
        {"[telemetry]\nconsent = \"disabled\"\nprompt_version = "
         "\"1.0\"\n[telemetry]\n",
         NEVER},
        {"[telemetry\nconsent = \"enabled\"\n", NEVER},
        {"", NEVER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nattel_consent_state got = parse(cases[i].text);
        if (got != cases[i].want)
            fail_msg("case %zu: %s, want %s:\n%s", i,
                     nattel_consent_state_name(got),
                     nattel_consent_state_name(cases[i].want), cases[i].text);
    }
}

static void test_notes(void **state)
{
    (void)state;
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    memset(&f, 0, sizeof f);
    const char *t =
        "[telemetry]\nconsent = \"enabled\"\nprompt_version = \"0.9\"\n";
    nattel__consent_parse(t, strlen(t), &f);
    assert_int_equal(f.stale, 1);
    assert_string_equal(f.prompt_version, "0.9");
    assert_non_null(strstr(f.note, "asked again"));
    memset(&f, 0, sizeof f);
    nattel__consent_parse("a = =", 5, &f);
    assert_int_equal(f.malformed, 1);
    assert_non_null(strstr(f.note, "line 1"));
}

static void test_write_read(void **state)
{
    (void)state;
    char path[1100], dir[1024];
    path_in(dir, sizeof dir, "new/nat");
    snprintf(path, sizeof path, "%s/telemetry.toml", dir);
    nattel_error err;
    /* 2026-01-02T03:04:05.678Z */
    assert_int_equal(
        nattel_consent_file_write(path, DIS, 1767323045678LL, &err), NATTEL_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(path, &f);
    assert_int_equal(f.state, DIS);
    assert_int_equal(f.exists, 1);
    assert_string_equal(f.consented_at, "2026-01-02T03:04:05Z");
    assert_string_equal(f.prompt_version, NATTEL_PROMPT_VERSION);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    /* upstream layout: three comment lines, then the table */
    assert_true(text[0] == '#');
    char *table = strstr(text, "\n[telemetry]\nconsent = \"disabled\"\n"
                               "consented_at = \"2026-01-02T03:04:05Z\"\n"
                               "prompt_version = \"1.0\"\n");
    assert_non_null(table);
    int comment_lines = 0;
    for (char *p = text; p <= table; p++)
        comment_lines += *p == '\n';
    assert_int_equal(comment_lines, 3);
    free(text);
    /* overwrite leaves no temporary files behind */
    assert_int_equal(nattel_consent_file_write(path, EN, 0, &err), NATTEL_OK);
    nattel_consent_file_read(path, &f);
    assert_int_equal(f.state, EN);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_write_failures(void **state)
{
    (void)state;
    char file[1024], path[1100];
    nattel_error err;
    /* a regular file where a directory must be (works as root too) */
    path_in(file, sizeof file, "plain");
    put_file(file, "x");
    snprintf(path, sizeof path, "%s/sub/telemetry.toml", file);
    assert_int_equal(nattel_consent_file_write(path, EN, 0, &err), NATTEL_EIO);
    assert_non_null(strstr(err.message, "plain"));
    /* a directory where the file must be */
    path_in(path, sizeof path, "isdir");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(nattel_consent_file_write(path, EN, 0, &err), NATTEL_EIO);
    assert_non_null(strstr(err.message, "rename"));
    assert_int_equal(nattel_consent_file_write(NULL, EN, 0, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_consent_file_write(path, NEVER, 0, &err),
                     NATTEL_EINVAL);
    /* consent_set reports the failure too */
    nattel_options *o = nattel_options_new();
    assert_non_null(o);
    assert_int_equal(nattel_options_set_consent_file(o, path, &err), 0);
    assert_int_equal(nattel_consent_set(o, DIS, &err), NATTEL_EIO);
    nattel_options_free(o);
}

/* Size-versioned: a caller that knows fewer members (a smaller size) gets
 * those, and nothing past them is written. */
static void test_read_size_versioned(void **state)
{
    (void)state;
    char path[1024];
    path_in(path, sizeof path, "sized.toml");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("[telemetry]\nconsent = \"disabled\"\nprompt_version = \"1.0\"\n",
          fp);
    fclose(fp);
    union {
        nattel_consent_file f;
        unsigned char bytes[sizeof(nattel_consent_file) + 8];
    } u;
    memset(&u, 0xA5, sizeof u);
    u.f.size = offsetof(nattel_consent_file, stale);
    nattel_consent_file_read(path, &u.f);
    assert_int_equal(u.f.size, offsetof(nattel_consent_file, stale));
    assert_int_equal(u.f.state, DIS);
    assert_int_equal(u.f.exists, 1);
    for (size_t i = offsetof(nattel_consent_file, stale); i < sizeof u; i++)
        assert_int_equal(u.bytes[i], 0xA5);
    nattel_consent_file whole = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(path, &whole);
    assert_string_equal(whole.consent, "disabled");
}

static void test_read_oddities(void **state)
{
    (void)state;
    char path[1024];
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    path_in(path, sizeof path, "absent.toml");
    nattel_consent_file_read(path, &f);
    assert_int_equal(f.state, NEVER);
    assert_int_equal(f.exists, 0);
    nattel_consent_file_read(NULL, &f);
    assert_int_equal(f.state, NEVER);
    path_in(path, sizeof path, "big.toml");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("[telemetry]\nconsent = \"enabled\"\nprompt_version = \"1.0\"\n", fp);
    for (unsigned i = 0; i < NATTEL__CONSENT_MAX_BYTES; i++)
        fputc('\n', fp);
    fclose(fp);
    nattel_consent_file_read(path, &f);
    assert_int_equal(f.state, DIS); /* over 1 MiB: never prompted over */
    assert_non_null(strstr(f.note, "larger"));
}

static int64_t clock_fixed(void *ctx)
{
    return *(int64_t *)ctx;
}

static nattel_options *config_with(const char *file, char **extra)
{
    char *env[16];
    static char var[1100];
    snprintf(var, sizeof var, "NAT_TELEMETRY_CONSENT_FILE=%s", file);
    size_t n = 0;
    env[n++] = "HOME=/nonexistent";
    env[n++] = var;
    for (; extra && *extra; extra++)
        env[n++] = *extra;
    env[n] = NULL;
    nattel_error err;
    nattel_options *o = nattel_options_new();
    assert_non_null(o);
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, env, &err),
                     0);
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    return o;
}

/* A file of exactly `size` bytes: comment lines, then a decision `value`
 * under the current prompt_version. */
static void put_sized(const char *path, size_t size, const char *value)
{
    char tail[128];
    snprintf(tail, sizeof tail,
             "[telemetry]\nconsent = \"%s\"\nprompt_version = \"%s\"\n", value,
             NATTEL_PROMPT_VERSION);
    size_t tlen = strlen(tail);
    assert_true(size > tlen + 2);
    char *text = malloc(size);
    assert_non_null(text);
    size_t n = 0;
    while (n + tlen < size) { /* "# xxx...\n" lines of up to 80 bytes */
        size_t line = size - tlen - n < 80 ? size - tlen - n : 80;
        text[n] = '#';
        memset(text + n + 1, 'x', line - 1);
        text[n + line - 1] = '\n';
        if (line == 1)
            text[n] = '\n';
        n += line;
    }
    memcpy(text + n, tail, tlen);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, size, fp), size);
    fclose(fp);
    free(text);
}

/* Issue 8: a file over 8 KiB read as "never asked", and the prompt turned
 * its "no" into a "yes". Now: whole up to 1 MiB, disabled above. */
static void test_file_size_rules(void **state)
{
    (void)state;
    char path[1024];
    path_in(path, sizeof path, "sized.toml");
    static const struct {
        size_t size;
        const char *value;
        nattel_consent_state want;
    } cases[] = {
        {9 * 1024, "disabled", DIS},
        {9 * 1024, "enabled", EN},
        {20 * 1024, "disabled", DIS},
        {20 * 1024, "enabled", EN},
        {NATTEL__CONSENT_MAX_BYTES, "disabled", DIS},
        {NATTEL__CONSENT_MAX_BYTES, "enabled", EN},
        {NATTEL__CONSENT_MAX_BYTES + 1, "disabled", DIS},
        {NATTEL__CONSENT_MAX_BYTES + 1, "enabled", DIS},
        {3 * NATTEL__CONSENT_MAX_BYTES, "enabled", DIS},
    };
    assert_int_equal(NATTEL__CONSENT_MAX_BYTES, 1024 * 1024);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        put_sized(path, cases[i].size, cases[i].value);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((size_t)st.st_size, cases[i].size);
        nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
        nattel_consent_file_read(path, &f);
        if (f.state != cases[i].want)
            fail_msg("%zu bytes, %s: read as %s (%s)", cases[i].size,
                     cases[i].value, nattel_consent_state_name(f.state),
                     f.note);
        if (cases[i].size > NATTEL__CONSENT_MAX_BYTES)
            assert_non_null(strstr(f.note, "larger"));
        else
            assert_string_equal(f.consent, cases[i].value);
        /* and the resolution takes it from the file, never the prompt */
        char *no_extra[] = {NULL};
        nattel_options *opts = config_with(path, no_extra);
        nattel_consent_state st2;
        nattel_consent_source src;
        assert_int_equal(nattel_consent_resolve(opts, &st2, &src, NULL),
                         NATTEL_OK);
        assert_int_equal(src, NATTEL_CONSENT_SOURCE_FILE);
        assert_int_equal(st2, cases[i].want);
        nattel_options_free(opts);
    }
}

/* Valid TOML under 1 MiB that would cost the reader more than its bounds
 * (a header 200 keys deep over 60,000 keys) reads as disabled, not as
 * "never asked": a file we cannot afford to read is never prompted over. */
static void test_costly_file_reads_disabled(void **state)
{
    (void)state;
    char path[1024];
    path_in(path, sizeof path, "costly.toml");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("[telemetry]\nconsent = \"enabled\"\nprompt_version = \"1.0\"\n[a",
          fp);
    for (int i = 0; i < 200; i++)
        fputs(".a", fp);
    fputs("]\n", fp);
    for (int i = 0; i < 60000; i++)
        fprintf(fp, "k%d=1\n", i);
    fclose(fp);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size < NATTEL__CONSENT_MAX_BYTES);
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(path, &f);
    assert_int_equal(f.state, DIS);
    assert_int_equal(f.malformed, 0);
    assert_non_null(strstr(f.note, "reads as disabled"));
}

static void resolve(const char *file, char **extra, nattel_consent_state want,
                    nattel_consent_source want_src)
{
    nattel_options *opts = config_with(file, extra);
    nattel_consent_state st;
    nattel_consent_source src;
    assert_int_equal(nattel_consent_resolve(opts, &st, &src, NULL), NATTEL_OK);
    if (st != want || src != want_src)
        fail_msg("%s by %s, want %s by %s", nattel_consent_state_name(st),
                 nattel_consent_source_name(src),
                 nattel_consent_state_name(want),
                 nattel_consent_source_name(want_src));
    nattel_options_free(opts);
}

static void test_resolution_order(void **state)
{
    (void)state;
    char on[1024], off[1024], none[1024];
    path_in(on, sizeof on, "on.toml");
    path_in(off, sizeof off, "off.toml");
    path_in(none, sizeof none, "none.toml");
    nattel_error err;
    assert_int_equal(nattel_consent_file_write(on, EN, 0, &err), 0);
    assert_int_equal(nattel_consent_file_write(off, DIS, 0, &err), 0);

    resolve(on, NULL, EN, NATTEL_CONSENT_SOURCE_FILE);
    resolve(off, NULL, DIS, NATTEL_CONSENT_SOURCE_FILE);
    resolve(none, NULL, DIS, NATTEL_CONSENT_SOURCE_NOBODY);
    char *env_on[] = {"NAT_TELEMETRY_ENABLED=yes", NULL};
    char *env_off[] = {"NAT_TELEMETRY_ENABLED=0", NULL};
    resolve(off, env_on, EN, NATTEL_CONSENT_SOURCE_ENV);
    resolve(on, env_off, DIS, NATTEL_CONSENT_SOURCE_ENV);
    resolve(none, env_on, EN, NATTEL_CONSENT_SOURCE_ENV);
    char *dnt[] = {"DO_NOT_TRACK=1", "NAT_TELEMETRY_ENABLED=1", NULL};
    resolve(on, dnt, DIS, NATTEL_CONSENT_SOURCE_DO_NOT_TRACK);
    char *dnt_false[] = {"DO_NOT_TRACK=false", NULL};
    resolve(on, dnt_false, EN, NATTEL_CONSENT_SOURCE_FILE);
}

/* ------------------------------------------------------------ policy */

static nattel_consent_policy policy_of(const char *machine, const char *extra)
{
    nattel_consent_policy p;
    nattel__policy_read_paths(machine, extra, &p);
    return p;
}

/* The stricter of two files wins, whichever order they come in: the
 * environment's file adds a restriction and never lifts the machine's. */
static void test_policy_stricter_wins(void **state)
{
    (void)state;
    char allowed[1024], off[1024], local[1024], missing[1024];
    path_in(allowed, sizeof allowed, "p-allowed.toml");
    path_in(off, sizeof off, "p-off.toml");
    path_in(local, sizeof local, "p-local.toml");
    path_in(missing, sizeof missing, "p-missing.toml");
    put_file(allowed, "telemetry = \"allowed\"\n"
                      "endpoint = \"https://ingest.example.org/v1\"\n");
    put_file(off, "# the administrator's word\ntelemetry = \"off\"\n");
    put_file(local, "telemetry = \"local\"\nprompt = \"never\"\n"
                    "endpoint = \"https://other.example.org/v1\"\n");

    nattel_consent_policy p = policy_of(missing, NULL);
    assert_int_equal(p.level, NATTEL_POLICY_ALLOWED);
    assert_string_equal(p.decided_by, "");
    assert_int_equal(p.prompt_never, 0);

    p = policy_of(off, allowed); /* the environment cannot lift "off" */
    assert_int_equal(p.level, NATTEL_POLICY_OFF);
    assert_string_equal(p.decided_by, off);
    p = policy_of(off, local);
    assert_int_equal(p.level, NATTEL_POLICY_OFF);
    assert_string_equal(p.decided_by, off);
    p = policy_of(allowed, off); /* ... and can add it */
    assert_int_equal(p.level, NATTEL_POLICY_OFF);
    assert_string_equal(p.decided_by, off);
    p = policy_of(local, allowed);
    assert_int_equal(p.level, NATTEL_POLICY_LOCAL);
    assert_string_equal(p.decided_by, local);
    assert_int_equal(p.prompt_never, 1);
    assert_string_equal(p.endpoint, "https://other.example.org/v1");
    p = policy_of(allowed, local); /* the machine's endpoint wins */
    assert_int_equal(p.level, NATTEL_POLICY_LOCAL);
    assert_string_equal(p.decided_by, local);
    assert_string_equal(p.endpoint, "https://ingest.example.org/v1");
    const char *machine = nattel_consent_policy_path();
    size_t n = strlen(machine);
    assert_true(machine[0] == '/' && n > 19 &&
                !strcmp(machine + n - 19, "/nattel/policy.toml"));
}

/* A policy that is there but unusable is "off", and says why. */
static void test_policy_unusable_is_off(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "telemetry = \"of\"\n",            /* unknown value */
        "telemetry = 'off\n",              /* not TOML */
        "telemetri = \"allowed\"\n",       /* unknown key: a typo */
        "endpoint = \"ftp://x\"\n",        /* not http(s) */
        "prompt = \"always\"\n",           /* not "never" */
        "telemetry = \"allowed\"\n\xff\n", /* not UTF-8 */
    };
    char missing[1024], path[1024];
    path_in(missing, sizeof missing, "p-missing.toml");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(path, sizeof path, "%s/p-bad-%zu.toml", tmp, i);
        put_file(path, bad[i]);
        nattel_consent_policy p = policy_of(path, NULL);
        if (p.level != NATTEL_POLICY_OFF || !strstr(p.note, "cannot be used"))
            fail_msg("policy %zu (%s): %s, note '%s'", i, bad[i],
                     nattel_policy_level_name(p.level), p.note);
        assert_string_equal(p.decided_by, path);
    }
    /* A directory and a FIFO: refused without reading (no hang). */
    path_in(path, sizeof path, "p-dir.toml");
    assert_int_equal(mkdir(path, 0700), 0);
    nattel_consent_policy p = policy_of(missing, path);
    assert_int_equal(p.level, NATTEL_POLICY_OFF);
    assert_non_null(strstr(p.note, "not a regular file"));
    path_in(path, sizeof path, "p-fifo.toml");
    assert_int_equal(mkfifo(path, 0600), 0);
    p = policy_of(missing, path);
    assert_int_equal(p.level, NATTEL_POLICY_OFF);
    /* Over 64 KiB. */
    path_in(path, sizeof path, "p-big.toml");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 70 * 1024 / 16; i++)
        fputs("# padding......\n", f);
    fclose(f);
    p = policy_of(path, NULL);
    assert_int_equal(p.level, NATTEL_POLICY_OFF);
    assert_non_null(strstr(p.note, "64 KiB"));
}

static void test_policy_and_ci_in_resolution(void **state)
{
    (void)state;
    char on[1024], off[1024], none[1024], pol_off[1024], pol_local[1024];
    path_in(on, sizeof on, "r-on.toml");
    path_in(off, sizeof off, "r-off.toml");
    path_in(none, sizeof none, "r-none.toml");
    path_in(pol_off, sizeof pol_off, "r-pol-off.toml");
    path_in(pol_local, sizeof pol_local, "r-pol-local.toml");
    nattel_error err;
    assert_int_equal(nattel_consent_file_write(on, EN, 0, &err), 0);
    assert_int_equal(nattel_consent_file_write(off, DIS, 0, &err), 0);
    put_file(pol_off, "telemetry = \"off\"\n");
    put_file(pol_local, "telemetry = \"local\"\n");
    char v_off[1100], v_local[1100];
    snprintf(v_off, sizeof v_off, "NATTEL_POLICY_FILE=%s", pol_off);
    snprintf(v_local, sizeof v_local, "NATTEL_POLICY_FILE=%s", pol_local);

    char *off_env_on[] = {v_off, "NAT_TELEMETRY_ENABLED=1", NULL};
    resolve(on, off_env_on, DIS, NATTEL_CONSENT_SOURCE_POLICY);
    char *local_file_on[] = {v_local, NULL};
    resolve(on, local_file_on, NATTEL_CONSENT_LOCAL,
            NATTEL_CONSENT_SOURCE_POLICY);
    resolve(off, local_file_on, DIS, NATTEL_CONSENT_SOURCE_FILE);
    char *local_env_on[] = {v_local, "NAT_TELEMETRY_ENABLED=yes", NULL};
    resolve(none, local_env_on, NATTEL_CONSENT_LOCAL,
            NATTEL_CONSENT_SOURCE_POLICY);

    char *ci[] = {"CI=true", NULL};
    resolve(none, ci, DIS, NATTEL_CONSENT_SOURCE_CI);
    resolve(on, ci, EN, NATTEL_CONSENT_SOURCE_FILE); /* a decision stands */
    char *ci_false[] = {"CI=false", NULL};
    resolve(none, ci_false, DIS, NATTEL_CONSENT_SOURCE_NOBODY);
    char *gha[] = {"GITHUB_ACTIONS=true", NULL};
    resolve(none, gha, DIS, NATTEL_CONSENT_SOURCE_CI);
    char *jenkins[] = {"JENKINS_URL=http://ci.example/", NULL};
    nattel_options *o = config_with(none, jenkins);
    assert_string_equal(nattel_options_ci(o), "JENKINS_URL");
    nattel_options_free(o);
}

/* The local choice: the shared file says "disabled" (by the upstream
 * rules), nattel's config says local; a later decision written by
 * someone else into the shared file wins; --enable forgets it. */
static void test_local_choice(void **state)
{
    (void)state;
    char shared[1024], config[1024], v_config[1100];
    path_in(shared, sizeof shared, "l/nat/telemetry.toml");
    path_in(config, sizeof config, "l/nattel/config.toml");
    snprintf(v_config, sizeof v_config, "NATTEL_CONFIG_FILE=%s", config);
    char *env[] = {v_config, NULL};
    nattel_options *o = config_with(shared, env);
    nattel_error err;
    assert_int_equal(nattel_consent_set_local(o, &err), NATTEL_OK);
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(shared, &f);
    assert_int_equal(f.state, DIS);
    assert_string_equal(f.consent, "disabled");
    resolve(shared, env, NATTEL_CONSENT_LOCAL,
            NATTEL_CONSENT_SOURCE_LOCAL_CHOICE);
    char *env_off[] = {v_config, "NAT_TELEMETRY_ENABLED=0", NULL};
    resolve(shared, env_off, DIS, NATTEL_CONSENT_SOURCE_ENV);
    /* The Python `nat` records "disabled" again, later: its decision. */
    assert_int_equal(nattel_consent_file_write(shared, DIS, 1000, &err), 0);
    resolve(shared, env, DIS, NATTEL_CONSENT_SOURCE_FILE);
    /* Local again, then enabled through nattel: the choice is gone. */
    assert_int_equal(nattel_consent_set_local(o, &err), NATTEL_OK);
    resolve(shared, env, NATTEL_CONSENT_LOCAL,
            NATTEL_CONSENT_SOURCE_LOCAL_CHOICE);
    assert_int_equal(nattel_consent_set(o, EN, &err), NATTEL_OK);
    resolve(shared, env, EN, NATTEL_CONSENT_SOURCE_FILE);
    assert_int_equal(nattel_consent_set(o, DIS, &err), NATTEL_OK);
    resolve(shared, env, DIS, NATTEL_CONSENT_SOURCE_FILE);
    struct stat st;
    assert_int_equal(stat(config, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    nattel_options_free(o);
    assert_string_equal(nattel_consent_state_name(NATTEL_CONSENT_LOCAL),
                        "local");
    assert_string_equal(
        nattel_consent_source_name(NATTEL_CONSENT_SOURCE_LOCAL_CHOICE),
        "local_choice");
}

static void test_consent_set_uses_clock(void **state)
{
    (void)state;
    char path[1024];
    path_in(path, sizeof path, "clock/telemetry.toml");
    nattel_options *opts = config_with(path, NULL);
    int64_t now = 946684800000LL; /* 2000-01-01T00:00:00Z */
    nattel_options_set_clock(opts, clock_fixed, NULL, &now);
    nattel_error err;
    assert_int_equal(nattel_consent_set(opts, EN, &err), NATTEL_OK);
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(path, &f);
    assert_string_equal(f.consented_at, "2000-01-01T00:00:00Z");
    nattel_options_free(opts);
}

/* Feeds `input` to the prompt through a pipe; returns the answer and what
 * was left unread in `rest`. */
static nattel_consent_state ask_with(const char *input, size_t len, char *rest,
                                     size_t cap)
{
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(write(in[1], input, len), (ssize_t)len);
    close(in[1]);
    nattel_consent_state st = nattel_prompt_ask(in[0], out[1]);
    close(out[1]);
    char text[4096];
    ssize_t n = read(out[0], text, sizeof text - 1);
    assert_true(n > 0);
    text[n] = '\0';
    assert_non_null(strstr(text, "[Y/n]"));
    ssize_t r = read(in[0], rest, cap - 1);
    rest[r > 0 ? r : 0] = '\0';
    close(in[0]);
    close(out[0]);
    return st;
}

static void test_prompt_answers(void **state)
{
    (void)state;
    static const struct {
        const char *input;
        nattel_consent_state want;
    } cases[] = {{"\n", EN},   {"y\n", EN},   {"YES\n", EN},   {"  Yes \n", EN},
                 {"n\n", DIS}, {"no\n", DIS}, {"yess\n", DIS}, {"sure\n", DIS},
                 {"", DIS},    {"y", DIS},    {"x y\n", DIS}};
    char rest[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nattel_consent_state got =
            ask_with(cases[i].input, strlen(cases[i].input), rest, sizeof rest);
        if (got != cases[i].want)
            fail_msg("answer '%s': %s", cases[i].input,
                     nattel_consent_state_name(got));
    }
    /* only the answer line is consumed: the host's input stays */
    assert_int_equal(ask_with("y\nhost input\n", 13, rest, sizeof rest), EN);
    assert_string_equal(rest, "host input\n");
}

static void test_prompt_text(void **state)
{
    (void)state;
    const char *t = nattel_prompt_text();
    assert_non_null(strstr(t, "never holds"));
    assert_non_null(strstr(t, "nattel consent"));
    assert_non_null(strstr(t, "NAT_TELEMETRY_ENABLED"));
}

static char *drain(int fd)
{
    static char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* One event through a client with these options; its emit result. */
static nattel_code client_emit(int fd, const char *endpoint, int dry_run,
                               int debug)
{
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", NULL};
    char dir[1024];
    path_in(dir, sizeof dir, "transport-state");
    nattel_error err;
    nattel_options *o = nattel_options_new();
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, env, &err),
                     0);
    assert_int_equal(nattel_options_set_state_dir(o, dir, &err), 0);
    nattel_code rc = nattel_options_set_endpoint(o, endpoint, &err);
    if (rc) {
        nattel_options_free(o);
        return rc;
    }
    nattel_options_set_dry_run(o, dry_run);
    nattel_options_set_debug(o, debug);
    nattel_options_set_log_fd(o, fd);
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPOOL_ONLY);
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    rc = nattel_client_emit(c, tu_event("run"), &err);
    nattel_client_free(c);
    return rc;
}

static void test_transports(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);

    /* "stdout": one line, also under dry run (as upstream). */
    for (int dry = 0; dry <= 1; dry++) {
        assert_int_equal(client_emit(p[1], "stdout", dry, 0), 0);
        char *out = drain(p[0]);
        assert_non_null(strstr(out, "\"nat_cli_command\""));
        assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    }

    const char *quiet[] = {"", NATTEL_DEFAULT_ENDPOINT};
    for (int dry = 0; dry <= 1; dry++)
        for (size_t i = 0; i < 2; i++) {
            if (!dry && i == 1)
                continue; /* http without dry run spools: below */
            assert_int_equal(client_emit(p[1], quiet[i], dry, 0), 0);
            assert_string_equal(drain(p[0]), "");
        }

    assert_int_equal(client_emit(p[1], NATTEL_DEFAULT_ENDPOINT, 0, 1), 0);
    char *line = drain(p[0]);
    assert_non_null(strstr(line, "spooled"));
    assert_null(strstr(line, "nat_cli_command"));

    assert_int_equal(client_emit(p[1], "gopher://x", 0, 0), NATTEL_EINVAL);
    close(p[0]);
    close(p[1]);
}

static void test_emit(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    char none[1024];
    path_in(none, sizeof none, "emit-none.toml");
    char *on[] = {"NAT_TELEMETRY_ENABLED=1", "NAT_TELEMETRY_ENDPOINT=stdout",
                  "NAT_SESSION_PREFIX=t-", NULL};
    char *off[] = {"NAT_TELEMETRY_ENDPOINT=stdout", NULL};
    int64_t now = 1700000000123LL;
    for (int enabled = 1; enabled >= 0; enabled--) {
        nattel_options *opts = config_with(none, enabled ? on : off);
        nattel_options_set_log_fd(opts, p[1]);
        nattel_options_set_clock(opts, clock_fixed, NULL, &now);
        nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
        c.command = "run";
        c.task_status = NATTEL_TASK_STATUS_FAILURE;
        c.error_class = "ValueError";
        nattel_event *ev;
        nattel_error err;
        assert_int_equal(nattel_cli_command_event(&c, &ev, &err), 0);
        int sent = -1;
        assert_int_equal(nattel_options_set_client_version(opts, "9.9", &err),
                         NATTEL_OK);
        assert_int_equal(nattel_emit(opts, ev, &sent, &err), NATTEL_OK);
        assert_int_equal(sent, enabled);
        char *out = drain(p[0]);
        if (enabled) {
            assert_non_null(strstr(out, "\"sessionId\":\"t-"));
            assert_non_null(strstr(out, "\"clientVer\":\"9.9\""));
            assert_non_null(
                strstr(out, "\"sentTs\":\"2023-11-14T22:13:20.123Z\""));
            assert_non_null(strstr(out, "\"errorClass\":\"ValueError\""));
            assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
        } else {
            assert_string_equal(out, "");
        }
        nattel_options_free(opts);
    }
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_write_failures),
        cmocka_unit_test(test_read_oddities),
        cmocka_unit_test(test_file_size_rules),
        cmocka_unit_test(test_costly_file_reads_disabled),
        cmocka_unit_test(test_resolution_order),
        cmocka_unit_test(test_policy_stricter_wins),
        cmocka_unit_test(test_policy_unusable_is_off),
        cmocka_unit_test(test_policy_and_ci_in_resolution),
        cmocka_unit_test(test_local_choice),
        cmocka_unit_test(test_consent_set_uses_clock),
        cmocka_unit_test(test_prompt_answers),
        cmocka_unit_test(test_prompt_text),
        cmocka_unit_test(test_transports),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_read_size_versioned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
