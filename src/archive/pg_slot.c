/*
 * pg_slot — the archive's replication slot watched (see pg_slot.h).
 */
#include "archive/pg_slot.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "archive/pg_wal.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"

static uint64_t parse_lsn(const char *s)
{
    unsigned hi = 0, lo = 0;
    if (s == NULL || sscanf(s, "%X/%X", &hi, &lo) != 2)
        return 0;
    return ((uint64_t)hi << 32) | lo;
}

int pg_slot_read(struct db *db, struct pg_slot_lag *lag, struct pg_slot_state *s, struct err *e)
{
    struct db_res *r = NULL;
    uint64_t current = 0, restart = 0;
    int rc;

    memset(s, 0, sizeof(*s));
    s->time = time(NULL);
    rc = db_query(db,
                  "SELECT pg_current_wal_lsn()::text, s.restart_lsn::text, s.active "
                  "FROM (SELECT 1) AS one LEFT JOIN pg_replication_slots s "
                  "ON s.slot_name = '" ARCHIVE_PG_SLOT "'",
                  DB_NOPARAMS, &r, e);
    if (rc < 0)
        return rc;
    if (db_res_next(r) > 0) {
        current = parse_lsn(db_res_text(r, 0));
        s->exists = !db_res_isnull(r, 2);
        s->active = s->exists && db_res_bool(r, 2);
        if (!db_res_isnull(r, 1))
            restart = parse_lsn(db_res_text(r, 1));
    }
    db_res_free(r);
    if (s->exists && restart > 0 && current > restart)
        s->retained = (int64_t)(current - restart);
    /* A sample of the server's position; the lag is the age of the first one past the slot. */
    double now = time_mono();
    if (lag->n == 0 || lag->v[(lag->head + lag->n - 1) % PG_SLOT_SAMPLES].lsn != current) {
        if (lag->n == PG_SLOT_SAMPLES) {
            lag->head = (lag->head + 1) % PG_SLOT_SAMPLES;
            lag->n--;
        }
        lag->v[(lag->head + lag->n) % PG_SLOT_SAMPLES].t = now;
        lag->v[(lag->head + lag->n) % PG_SLOT_SAMPLES].lsn = current;
        lag->n++;
    }
    while (lag->n > 1 && lag->v[lag->head].lsn <= restart) {
        lag->head = (lag->head + 1) % PG_SLOT_SAMPLES;
        lag->n--;
    }
    if (s->exists && restart < current && lag->n > 0 && lag->v[lag->head].lsn > restart)
        s->lag_s = now - lag->v[lag->head].t;
    return 0;
}

int pg_slot_drop(struct db *db, struct err *e)
{
    return db_exec(db,
                   "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                   "WHERE slot_name = '" ARCHIVE_PG_SLOT "'",
                   e);
}

void pg_slot_state_write(const char *backup_dir, const struct pg_slot_state *s)
{
    json_t *o = json_object();
    char *path = xasprintf("%s/.archive-pg.json", backup_dir);
    char *text;
    struct err e;

    json_object_set_new(o, "format", json_integer(1));
    json_object_set_new(o, "time", json_integer(s->time));
    json_object_set_new(o, "slot_exists", json_boolean(s->exists));
    json_object_set_new(o, "slot_active", json_boolean(s->active));
    json_object_set_new(o, "retained_bytes", json_integer(s->retained));
    json_object_set_new(o, "lag_seconds", json_real(s->lag_s));
    json_object_set_new(o, "dropped", json_integer(s->dropped));
    text = json_dumps(o, JSON_COMPACT);
    if (file_write_atomic(path, text, strlen(text), 0600, ERR_BACKUP, &e) < 0)
        log_debug("archive: %s", e.msg);
    free(text);
    free(path);
    json_decref(o);
}

int pg_slot_state_read(const char *backup_dir, struct pg_slot_state *s)
{
    char *path = xasprintf("%s/.archive-pg.json", backup_dir);
    json_t *o = json_load_file(path, 0, NULL);
    int rc = -1;

    memset(s, 0, sizeof(*s));
    if (json_is_object(o)) {
        s->time = (time_t)json_integer_value(json_object_get(o, "time"));
        s->exists = json_is_true(json_object_get(o, "slot_exists"));
        s->active = json_is_true(json_object_get(o, "slot_active"));
        s->retained = json_integer_value(json_object_get(o, "retained_bytes"));
        s->lag_s = json_number_value(json_object_get(o, "lag_seconds"));
        s->dropped = json_integer_value(json_object_get(o, "dropped"));
        rc = 0;
    }
    json_decref(o);
    free(path);
    return rc;
}

void pg_slot_base_begin(const char *backup_dir)
{
    char *path = xasprintf("%s/.archive-pg-base", backup_dir);
    char line[32];
    int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    struct err e;

    if (file_write_atomic(path, line, (size_t)n, 0600, ERR_BACKUP, &e) < 0)
        log_debug("archive: %s", e.msg);
    free(path);
}

void pg_slot_base_end(const char *backup_dir)
{
    char *path = xasprintf("%s/.archive-pg-base", backup_dir);

    unlink(path);
    free(path);
}

bool pg_slot_base_running(const char *backup_dir)
{
    char *path = xasprintf("%s/.archive-pg-base", backup_dir);
    FILE *f = fopen(path, "re");
    long pid = 0;

    free(path);
    if (f == NULL)
        return false;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM); /* EPERM: alive, not ours */
}
