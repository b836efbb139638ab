#ifndef NATX_FILE_H
#define NATX_FILE_H

/*
 * File operations, one home for the library, the tool and the endpoint:
 * "DIR/name" with a bound, a bounded read of regular files only, an
 * atomic replace (temporary file in the same directory, then rename), and
 * mkdir -p with a mode.
 */

#include <nattel/nattel.h>

#include <stddef.h>
#include <sys/types.h>

/* "DIR/name" (or "DIR/SUB/name") in out; NATTEL_ELIMIT when it does not
 * fit in cap bytes. */
nattel_code natx_path_join(char *out, size_t cap, const char *dir,
                           const char *name, nattel_error *err);
nattel_code natx_path_join3(char *out, size_t cap, const char *dir,
                            const char *sub, const char *name,
                            nattel_error *err);

/* Appends the file at path to out, as long as out->len stays within max.
 * Only a regular file is read, never through a symlink: a FIFO, a
 * directory or a device is refused (NATTEL_EINVAL, naming what it is)
 * before any read, so a planted FIFO can never make a reader hang. A
 * missing file is NATTEL_ENOTFOUND, one over the bound NATTEL_ELIMIT
 * (checked against its size first, and again while reading, as a file
 * may grow). On error out may hold part of the file. */
nattel_code natx_file_read(const char *path, size_t max, nattel_buf *out,
                           nattel_error *err);

/* natx_file_write_atomic flags. Durability is the caller's choice: the
 * host's spool write must cost no more than it does. */
#define NATX_FILE_FSYNC 1u    /* fsync the file before the rename */
#define NATX_FILE_SYNC_DIR 2u /* fsync the directory after the rename */
#define NATX_FILE_CHMOD 4u    /* fchmod to mode (exact despite the umask) */

typedef struct natx_file_write_opts {
    mode_t mode;    /* the new file's permission bits (less the umask
                       unless NATX_FILE_CHMOD) */
    unsigned flags; /* NATX_FILE_* */
    /* Makes the temporary name unique: ".NAME.tmp-TAG", created with
     * O_EXCL. NULL: six random characters from mkostemp. A caller with
     * random digits at hand passes them and saves the generation. */
    const char *tmp_tag;
} natx_file_write_opts;

/* Replaces path with len bytes of data: written to a temporary file in
 * the same directory (a dot name, so directory readers skip it), then
 * renamed over path. A reader sees the old content or the new, never a
 * part; a failure removes the temporary file and leaves path as it was. */
nattel_code natx_file_write_atomic(const char *path, const void *data,
                                   size_t len, const natx_file_write_opts *o,
                                   nattel_error *err);

/* Opens (creating, 0600, never through a symlink, never waiting on a
 * FIFO) and flocks path exclusively: the descriptor, which holds the
 * lock until closed, or -1. Not blocking and held elsewhere: -1 with err
 * untouched; anything else (not a regular file, a read-only file system)
 * sets err. */
int natx_file_lock(const char *path, int block, nattel_error *err);

/* mkdir -p: creates dir and each missing parent with mode (an existing
 * one is left as it is). */
nattel_code natx_mkdirs(const char *dir, mode_t mode, nattel_error *err);

#endif
