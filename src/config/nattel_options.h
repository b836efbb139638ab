/*
 * The options of <nattel/client.h>, library-internal: the struct behind
 * the opaque type and the functions the rest of the library reads it by.
 */
#ifndef NATTEL_OPTIONS_H
#define NATTEL_OPTIONS_H

#include "model/nattel_error.h"

#include <nattel/client.h>

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Options (the opaque struct of client.h)                             */
/* ------------------------------------------------------------------ */

struct nattel_options {
    char *endpoint;
    char *state_dir;
    char *consent_file;
    char *client_version;
    char *session_prefix;
    char *flusher_path;
    int env_enabled; /* as nattel_config */
    char *env_enabled_raw;
    int do_not_track;
    nattel_prompt_mode prompt;
    int dry_run;
    int debug;
    int log_fd;
    int64_t connect_ms;
    int64_t total_ms;
    size_t max_events;
    size_t max_bytes;
    nattel_delivery_mode mode;
    int64_t (*realtime_ms)(void *ctx);
    int64_t (*monotonic_ms)(void *ctx);
    void *clock_ctx;
    nattel_code (*random_bytes)(void *ctx, void *buf, size_t n,
                                nattel_error *err);
    void *random_ctx;
    nattel_transport *transport;
};

/* What the environment decides, from cfg into o (strings copied): the
 * one list of those fields for nattel_options_from_env and nattel_emit.
 * A NULL consent file or state dir in cfg keeps o's. */
nattel_code nattel__options_apply_config(nattel_options *o,
                                         const nattel_config *cfg,
                                         nattel_error *err);
/* A nattel_config that borrows the options' strings (never cleared), for
 * the consent, session and debug functions that take one. */
void nattel__options_config(const nattel_options *o, nattel_config *cfg);
/* The options a client was made with (the hook's clock and debug). */
const nattel_options *nattel__client_options(const nattel_client *c);
/* One debug line, as nattel_debug(), when the options say debug. */
void nattel__options_debug(const nattel_options *o, const char *fmt, ...)
    NATX_PRINTF(2, 3);
/* A deep copy; NULL when out of memory. The transport is not copied. */
nattel_options *nattel__options_dup(const nattel_options *o);
int64_t nattel__now_real(const nattel_options *o);
int64_t nattel__now_mono(const nattel_options *o);
nattel_code nattel__random(const nattel_options *o, void *buf, size_t n,
                           nattel_error *err);

#endif
