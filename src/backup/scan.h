/*
 * scan — reading a backup file once (scan.c): SHA-256 over every byte and
 * gzip decoding of the same bytes, the decoded bytes to a sink.  Used by
 * verify, restore and the psql feeder.
 */
#ifndef CITAPLANNER_BACKUP_SCAN_H
#define CITAPLANNER_BACKUP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup/take.h"
#include "common/err.h"

/*
 * Receives the decompressed bytes of a backup in order.  Returns 0, or a
 * negative code (with e set) to stop the scan.
 */
typedef int (*backup_scan_sink)(void *arg, const void *p, size_t n, struct err *e);

struct backup_scan {
    uint64_t gz_bytes;  /* bytes read (all of the file, even after a decoding error) */
    uint64_t raw_bytes; /* decompressed bytes handed to the sink */
    int members;
    char sha256[65];      /* of every byte of the file */
    bool gzip_ok;         /* the whole file is valid gzip, members back to back */
    char gzip_error[256]; /* why not, when !gzip_ok */
};

/*
 * Read path once: SHA-256 over every byte, gzip decoding of the same bytes
 * (libdeflate for members of a bounded size, zlib streaming otherwise;
 * CRC-32 and length of each member checked), the output to sink (may be
 * NULL).  A decoding error does not stop the hashing: the rest of the file
 * is still read, so that the hash is complete; the sink is not called
 * again.  Returns 0 when the file was read to its end (gzip_ok tells whether
 * it decoded), or a negative code: the file unreadable (-ERR_VERIFY), the
 * sink's error, or cancellation (-ERR_VERIFY "cancelled").  progress/tick
 * may be NULL; it is called with the counters a few times a second.
 */
int backup_scan_file(const char *path, backup_scan_sink sink, void *sink_arg, volatile int *cancel,
                     void (*tick)(void *arg, const struct backup_scan *s), void *tick_arg,
                     struct backup_scan *out, struct err *e);

/*
 * A backup_scan_file tick that reports a step's progress to an opts'
 * progress callback (which may be NULL: then nothing is reported).  Pass
 * backup_progress_tick with a struct backup_tick as tick_arg.
 */
struct backup_tick {
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
    const char *step; /* "verify", "deep", "restore" */
    double t0;        /* time_mono() when the step began */
};
void backup_progress_tick(void *arg, const struct backup_scan *s);

#endif
