/*
 * metrics — the notification families of GET /metrics, and the count of
 * stuck messages that the sender alerts on (notify.h).
 */
#include <stdio.h>
#include <string.h>

#include "common/tz.h"
#include "common/util.h"
#include "notify/notify.h"

static const char *const channels[] = {"email", "whatsapp", "sms"};

int notify_stuck_count(struct db *db, int64_t now, int64_t *n, struct err *e)
{
    char now_txt[32];

    *n = 0;
    tz_format_instant(now, now_txt);
    /* due for longer than its give-up window, and still not sent nor failed */
    return db_query_int(
        db,
        db_kind(db) == DB_PG
            ? "SELECT count(*) FROM notification_outbox o LEFT JOIN notification_settings s ON "
              "s.tenant_id = o.tenant_id WHERE o.status IN ('pending', 'sending') AND o.send_at + "
              "make_interval(mins => COALESCE(s.give_up_min, 1440) + 10) < CAST($1 AS TIMESTAMPTZ)"
            : "SELECT count(*) FROM notification_outbox o LEFT JOIN notification_settings s ON "
              "s.tenant_id = o.tenant_id WHERE o.status IN ('pending', 'sending') AND "
              "CAST(strftime('%s', substr(o.send_at, 1, 19)) AS INTEGER) + "
              "(COALESCE(s.give_up_min, 1440) + 10) * 60 < "
              "CAST(strftime('%s', substr($1, 1, 19)) AS INTEGER)",
        DB_PARAMS(DB_TEXT(now_txt)), n, e);
}

int notify_metrics_write(struct buf *out, struct db *db, struct err *e)
{
    struct db_res *r = NULL;
    int64_t counts[3][3] = {{0}}; /* channel x (sent, failed, pending) */
    int64_t stuck = 0;
    int rc;

    rc = db_query(
        db,
        "SELECT channel, status, count(*) FROM notification_outbox "
        "WHERE status IN ('sent', 'failed', 'pending', 'sending') GROUP BY channel, status",
        DB_NOPARAMS, &r, e);
    if (rc < 0)
        return rc;
    while (db_res_next(r)) {
        const char *st = db_res_text(r, 1);
        int s = strcmp(st, "sent") == 0 ? 0 : strcmp(st, "failed") == 0 ? 1 : 2;
        for (int c = 0; c < 3; c++)
            if (strcmp(db_res_text(r, 0), channels[c]) == 0)
                counts[c][s] += db_res_int(r, 2);
    }
    db_res_free(r);
    rc = notify_stuck_count(db, notify_now(), &stuck, e);
    if (rc < 0)
        return rc;
    buf_adds(out, "# HELP citaplanner_notifications_sent_total Messages to clients sent.\n"
                  "# TYPE citaplanner_notifications_sent_total counter\n");
    for (int c = 0; c < 3; c++)
        buf_addf(out, "citaplanner_notifications_sent_total{channel=\"%s\"} %lld\n", channels[c],
                 (long long)counts[c][0]);
    buf_adds(out, "# HELP citaplanner_notifications_failed_total Messages to clients given up.\n"
                  "# TYPE citaplanner_notifications_failed_total counter\n");
    for (int c = 0; c < 3; c++)
        buf_addf(out, "citaplanner_notifications_failed_total{channel=\"%s\"} %lld\n", channels[c],
                 (long long)counts[c][1]);
    buf_adds(out, "# HELP citaplanner_notifications_pending Messages to clients not sent yet.\n"
                  "# TYPE citaplanner_notifications_pending gauge\n");
    for (int c = 0; c < 3; c++)
        buf_addf(out, "citaplanner_notifications_pending{channel=\"%s\"} %lld\n", channels[c],
                 (long long)counts[c][2]);
    buf_addf(out,
             "# HELP citaplanner_notifications_stuck Messages still unsent past their give-up "
             "window.\n# TYPE citaplanner_notifications_stuck gauge\n"
             "citaplanner_notifications_stuck %lld\n",
             (long long)stuck);
    return 0;
}
