/*
 * import — `citaplanner import`: the original CitaPlanner's data (Next.js +
 * Prisma on PostgreSQL) copied into a database of ours (issue 15).
 *
 * The source is a live database (read in one REPEATABLE READ READ ONLY
 * transaction: never written) or one of its backups, loaded first into a
 * scratch database (created on a PostgreSQL server, dropped afterwards).
 * The target is migrated (migrate deploy) and must hold nothing but what an
 * earlier import brought: every row imported is recorded in import_map
 * (source table, old cuid -> our id), so that a second run changes nothing
 * and a run that failed is resumed.  Each tenant is one transaction on the
 * target: a failure leaves the target as it was before that tenant.
 *
 * Mappings (source -> ours): tenants; branches; users (bcrypt $2a$/$2b$
 * hashes kept; SUPERADMIN -> ADMIN, reported; CLIENT refused: clients are
 * not staff); services (float price -> price_cents rounded half-up,
 * reported when rounding changed it; duration -> duration_min);
 * service_users -> service_professionals (commission -> commission_pct,
 * rounded, reported); clients; working_hours (inactive ones refused);
 * appointments (price_cents from the service; an appointment overlapping an
 * earlier one of the same professional is imported CANCELLED and
 * reported); payments (amount -> amount_cents; createdAt -> paid_at); the
 * master admin's hash.  Source columns and tables with no place here are
 * listed in the report.
 */
#ifndef CITAPLANNER_IMPORT_H
#define CITAPLANNER_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/url.h"
#include "db/db.h"

enum import_table {
    IMP_TENANTS,
    IMP_BRANCHES,
    IMP_USERS,
    IMP_SERVICES,
    IMP_SERVICE_USERS,
    IMP_CLIENTS,
    IMP_WORKING_HOURS,
    IMP_APPOINTMENTS,
    IMP_PAYMENTS,
    IMP_MASTER_ADMIN,
    IMP_TABLE_COUNT
};

/* One row that was changed or refused, and why. */
struct import_note {
    char *source_id;
    bool refused;
    char *reason;
};

struct import_table_report {
    const char *source; /* the original's table */
    const char *target; /* ours */
    int64_t read, imported, already, changed, refused;
    struct import_note *notes;
    int nnotes;
    char *unplaced; /* source columns with no place in ours, ", "-separated; NULL: none */
};

struct import_report {
    struct import_table_report t[IMP_TABLE_COUNT];
    char *unplaced_tables; /* source tables not imported at all, with row counts */
    int tenants_committed;
    char *source; /* redacted URL or the backup file */
};

struct import_opts {
    const struct url *from;    /* a live source, or NULL */
    const char *from_backup;   /* or one of its backups (.sql.gz) */
    const struct url *scratch; /* the server for the backup's scratch database (PostgreSQL) */
    const char *tmp_dir;       /* the private passfile's directory */
    const char *identity;      /* BACKUP_DECRYPT_IDENTITY: an encrypted backup's key; may be NULL */
    /* Testing aid (CITAPLANNER_IMPORT_FAIL_AT): fail on reaching this table. */
    const char *fail_at;
};

/*
 * Run the import into target (opened on our database).  r is filled as far
 * as it got (release with import_report_release, also on failure).
 * Errors: -ERR_USAGE (the target holds other data, the source is not the
 * original's schema), the db's errors, -ERR_VERIFY (a damaged backup),
 * -ERR_BACKUP (the backup does not load).
 */
int import_run(struct db *target, const struct import_opts *o, struct import_report *r,
               struct err *e);
void import_report_release(struct import_report *r);

/* ---- internal: the per-table mapping (map.c), used by import.c ---- */

struct import_ctx {
    struct db *src, *dst;
    struct import_report *r;
    const char *fail_at;
};

/* Import one tenant's rows (source id tid, our id new_tid), inside the caller's transaction. */
int import_tenant_rows(struct import_ctx *c, const char *tid, int64_t new_tid, struct err *e);

/* Our id for a source row already imported: 0 when none (or on error, with rc < 0). */
int import_map_get(struct import_ctx *c, const char *table, const char *sid, int64_t *out,
                   struct err *e);
int import_map_put(struct import_ctx *c, const char *table, const char *sid, int64_t id,
                   struct err *e);
void import_note_add(struct import_table_report *t, const char *sid, bool refused, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

#endif
