/*
 * health — the probes of SPEC §8.
 *
 *   GET /healthz   200 {"status":"ok"}: the process answers.  Touches
 *                  nothing else, so a slow database never fails liveness
 *                  (which would get a healthy process restarted).
 *   GET /readyz    200 {"status":"ready","database":"ok","migrations":"current"}
 *                  when this worker's connection answers SELECT 1 (reopened
 *                  once if it does not) and every migration is applied;
 *                  otherwise 503 with the same keys
 *                  saying what is wrong ("database": "unreachable" | "error",
 *                  "migrations": "pending" | "failed" | "modified" |
 *                  "not_current" | "unknown").  The cause goes to the log,
 *                  not to the probe's answer (it can name hosts).
 */
#include "api/api.h"

#include <stdbool.h>
#include <string.h>

#include "common/log.h"
#include "migrate/migrate.h"

int api_healthz(struct http_req *req, struct err *e)
{
    return http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Which way the migrations are not current, for the probe's answer. */
static const char *migrations_problem(struct db *db)
{
    struct migrate_report r = {0};
    const char *what = "not_current";
    struct err e;

    err_clear(&e);
    if (migrate_status(db, &r, &e) < 0) {
        what = "unknown";
        goto cleanup;
    }
    if (r.failed > 0)
        what = "failed";
    else if (r.modified > 0)
        what = "modified";
    else if (r.pending > 0)
        what = "pending";

cleanup:
    migrate_report_release(&r);
    return what;
}

/*
 * This worker's connection, answering SELECT 1.  A connection that does
 * not answer is reopened once at once: after a database restart every
 * worker holds a dead connection, and the probe should say whether the
 * database is back, not that this connection was old.
 */
static int database_answers(struct api_worker *w, struct db **out, struct err *e)
{
    int64_t one = 0;
    int rc = 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        rc = api_worker_db(w, out, e);
        if (rc < 0)
            break;
        rc = db_query_int(*out, "SELECT 1", DB_NOPARAMS, &one, e);
        if (rc == 0 && one == 1)
            break;
        if (rc >= 0)
            rc = err_set(e, ERR_DB, "'SELECT 1' did not answer 1");
        log_debug("database connection does not answer: %s", e->msg);
        api_worker_db_reset(w);
        *out = NULL;
    }
    return rc;
}

int api_readyz(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct db *db = NULL;
    const char *database = "ok";
    const char *migrations = "current";
    bool ready;
    int current;

    if (database_answers(w, &db, e) < 0) {
        log_warn("not ready: %s", e->msg);
        database = e->code == ERR_DB_CONNECT || e->code == ERR_DB_AUTH ? "unreachable" : "error";
        migrations = "unknown";
        goto reply;
    }
    current = migrate_is_current(db, e);
    if (current < 0) {
        log_warn("not ready: cannot read the migrations: %s", e->msg);
        api_worker_db_failed(w, e);
        migrations = "unknown";
    } else if (current == 0) {
        migrations = migrations_problem(db);
        log_warn("not ready: migrations %s", migrations);
    }

reply:
    ready = strcmp(database, "ok") == 0 && strcmp(migrations, "current") == 0;
    return http_reply_json(req, ready ? 200 : 503,
                           json_pack("{s:s, s:s, s:s}", "status", ready ? "ready" : "not_ready",
                                     "database", database, "migrations", migrations));
}
