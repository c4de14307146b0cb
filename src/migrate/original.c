/*
 * original — recognising the original CitaPlanner's database (Next.js +
 * Prisma on PostgreSQL): Prisma's ledger _prisma_migrations, and its
 * camelCase columns ("tenantId", "createdAt") in tables whose names are
 * ours (tenants, users, ...).  Migrating such a database would fail halfway
 * ("relation tenants already exists"); its data comes over with
 * `citaplanner import` instead.  See migrate.h.
 */
#include <stdlib.h>
#include <string.h>

#include "migrate/migrate.h"
#include "common/util.h"

int migrate_original_schema(struct db *db, bool *out, struct err *e)
{
    char **tables = NULL;
    int n = 0;
    int rc;

    *out = false;
    rc = db_list_tables(db, &tables, &n, e);
    for (int i = 0; rc == 0 && i < n; i++)
        if (strcmp(tables[i], "_prisma_migrations") == 0)
            *out = true;
    db_strv_free(tables, n);
    if (rc < 0 || *out || db_kind(db) != DB_PG)
        return rc < 0 ? rc : 0;
    {
        int64_t camel = 0;
        rc = db_query_int(db,
                          "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                          "current_schema() AND table_name IN ('tenants', 'branches', 'users', "
                          "'services', 'clients', 'appointments', 'payments', 'working_hours') "
                          "AND column_name <> lower(column_name)",
                          DB_NOPARAMS, &camel, e);
        if (rc < 0)
            return rc;
        *out = camel > 0;
    }
    return 0;
}

const char *const migrate_original_message =
    "this database holds the original CitaPlanner's schema (Prisma's _prisma_migrations, "
    "camelCase columns), not this program's: nothing was changed and no backup was taken. "
    "Keep it as it is; create an empty database, point DATABASE_URL at it and run "
    "'citaplanner import --from DATABASE_URL_OF_IT' (this database's postgresql:// URL) to "
    "bring its data over";

int migrate_refuse_original(struct db *db, struct err *e)
{
    bool original = false;
    int rc = migrate_original_schema(db, &original, e);

    if (rc < 0)
        return rc;
    if (original)
        return err_set(e, ERR_MIGRATE, "%s", migrate_original_message);
    return 0;
}
