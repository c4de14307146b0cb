/*
 * manifest — a backup's .json manifest read back (manifest.c).
 */
#ifndef CITAPLANNER_BACKUP_MANIFEST_H
#define CITAPLANNER_BACKUP_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backup/layout.h"
#include "common/err.h"
#include "db/db.h"
#include "db/db_backup.h"

#define BACKUP_MANIFEST_FORMAT 1

/* A manifest read back (verify and restore use it). */
struct backup_manifest {
    int format;
    char *program_version;
    char *file; /* the data file's basename */
    char *tier;
    unsigned tiers;   /* bit 1 << tier for each tier the run wrote */
    char *started_at; /* UTC "YYYY-MM-DDTHH:MM:SSZ" */
    char *finished_at;
    char *db_kind;        /* "postgresql" / "sqlite" */
    char *server_version; /* "PostgreSQL 15.20" / "SQLite 3.40.1" */
    char *schema_version; /* newest applied migration, NULL when none */
    char **tables;        /* sorted names */
    int64_t *rows;        /* rows[i] of tables[i] */
    int ntables;
    /* db_schema_objects at backup time, sorted; NULL when not recorded (older manifests) */
    char **objects;
    int nobjects;
    uint64_t raw_bytes, gz_bytes;
    char sha256[65];
    char *origin;      /* NULL: ours; "adopted": another tool's, adopted; "other tool": none read */
    char *secrets_key; /* SECRETS_KEY_FILE age-encrypted, base64 (secrets_key.h); NULL: none */
};

/*
 * Read and check a manifest (.json): every field above must be present with
 * its type (schema_version may be null).  m is released with
 * backup_manifest_release (also on failure).  -ERR_VERIFY naming the file
 * and the field when it is unreadable or incomplete.
 */
int backup_manifest_load(const char *path, struct backup_manifest *m, struct err *e);
void backup_manifest_release(struct backup_manifest *m);

/* What a manifest says, to be written.  Borrowed pointers. */
struct backup_manifest_in {
    const char *file;
    enum backup_tier tier;
    unsigned tiers;
    time_t started, finished; /* epoch; written as UTC */
    enum db_kind kind;
    const char *database; /* redacted URL or path */
    const struct db_snapshot_stats *stats;
    const char *pg_dump_version; /* NULL for SQLite */
    uint64_t raw_bytes, gz_bytes;
    const char *sha256;
    const char *origin;      /* NULL: ours; "adopted" (backup adopt); stats->ntables < 0: unknown */
    const char *secrets_key; /* encrypted backups: the key, age-encrypted (secrets_key.h) */
};

/* The manifest's JSON text (ends with a newline).  Caller frees. */
char *backup_manifest_render(const struct backup_manifest_in *in);

#endif
