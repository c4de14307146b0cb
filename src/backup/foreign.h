/*
 * foreign — backups made by other tools, and the schema a dump holds
 * (foreign.c).
 */
#ifndef CITAPLANNER_BACKUP_FOREIGN_H
#define CITAPLANNER_BACKUP_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "backup/layout.h"
#include "backup/verify.h"
#include "common/err.h"
#include "db/db.h"

/* ---- backups made by other tools (foreign.c; issue 15) ---- */

/*
 * The original CitaPlanner's backups: `pg_dump --format=plain --no-owner
 * --no-acl | gzip` into citaplanner_<tier>_YYYYMMDD_HHMMSS.sql.gz and
 * `sha256sum "$file" > "$file.sha256"` (an absolute path in the sidecar, no
 * manifest).  Such a backup is verified by its content; `backup adopt`
 * writes our sidecar and manifest beside it.
 */

/* Where a backup came from: "citaplanner", "adopted" (backup adopt) or "other tool" (no
 * manifest).  Static strings. */
const char *backup_entry_origin(const struct backup_entry *it);

/* Does path.json exist? */
bool backup_has_manifest(const char *path);

/*
 * Check path.sha256 against sha: sha256sum's format, the hash, and the name
 * it gives, compared by base name (absolute, relative or bare; a different
 * directory is logged as a warning).  A missing sidecar is a reason only when
 * required.  Reasons are appended to why ("; "-separated).
 */
struct buf;
void backup_sidecar_check(const char *path, const char *sha, bool required, struct buf *why);

/* Fill r->m for a backup without a manifest, from its name and r ("other tool"). */
void backup_manifest_synthesize(const char *path, struct backup_verify_result *r);

/* Which schema a backup (or a database) holds. */
enum backup_schema {
    BACKUP_SCHEMA_EMPTY,   /* no tables */
    BACKUP_SCHEMA_OURS,    /* _migrations: ours, at the version found */
    BACKUP_SCHEMA_PRISMA,  /* the original CitaPlanner's: _prisma_migrations, camelCase columns */
    BACKUP_SCHEMA_UNKNOWN, /* tables, none of the above */
};

/* "empty", "citaplanner", "original-prisma", "unknown". */
const char *backup_schema_name(enum backup_schema s);

/*
 * Reading a plain dump as it streams (a backup_verify_opts content sink):
 * its CREATE TABLE statements and column names, and the rows of
 * COPY _migrations (the newest applied migration).  Bounded memory.
 */
struct backup_schema_scan {
    char *line;
    size_t len;
    bool in_table, in_copy, copy_ours;
    int col_name, col_finished, col_rolled;
    int tables;
    bool ours, prisma, camel;
    char *version;           /* newest applied migration in the dump's _migrations */
    char server_version[96]; /* "PostgreSQL 15.4" from the dump's header, or "" */
    char pg_dump_version[96];
};
void backup_schema_scan_init(struct backup_schema_scan *s);
void backup_schema_scan_release(struct backup_schema_scan *s);
int backup_schema_sink(void *arg, const void *p, size_t n, struct err *e);
enum backup_schema backup_schema_scan_result(const struct backup_schema_scan *s);

/* The same for a SQLite file (a verified copy).  *version: caller frees. */
int backup_schema_of_sqlite(const char *path, enum backup_schema *out, char **version,
                            struct err *e);

/*
 * 0 when a backup of this schema may be restored into a database of kind:
 * ours at a version this program knows (or older), or empty.  Otherwise
 * -ERR_RESTORE_REFUSED saying why: the original's schema (naming
 * `citaplanner import --from-backup FILE`), unknown tables, a newer schema.
 */
int backup_schema_refuse(const char *file, enum backup_schema schema, const char *version,
                         enum db_kind kind, struct err *e);

/*
 * `backup adopt`: write our .sha256 and .json beside a verified backup that
 * has no manifest, so that it is one of ours from then on (the manifest's
 * "origin": "adopted").  r is its verification (with deep: the row counts),
 * schema what its dump says.  -ERR_BACKUP when a file cannot be written.
 */
int backup_adopt_write(const char *path, const struct backup_verify_result *r,
                       const struct backup_schema_scan *schema, struct err *e);

#endif
