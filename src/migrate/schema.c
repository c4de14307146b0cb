/*
 * schema — which migration a database is at (see migrate.h).
 */
#include "migrate/migrate.h"

int migrate_schema_version(struct db *db, char **out, struct err *e)
{
    int rc;

    *out = NULL;
    rc = db_query_text(db,
                       "SELECT name FROM _migrations WHERE finished_at IS NOT NULL AND "
                       "rolled_back_at IS NULL ORDER BY name DESC LIMIT 1",
                       DB_NOPARAMS, out, e);
    return rc < 0 ? rc : 0;
}
