/*
 * alert — telling someone that a backup failed or went stale.  See backup.h.
 *
 * For now the alert is a log line; BACKUP_ALERT_WEBHOOK and
 * BACKUP_ALERT_COMMAND arrive with a later issue and replace this file.
 * Every failure path of a take calls backup_alert() exactly once.
 */
#include "backup/backup.h"
#include "common/log.h"

void backup_alert(const struct config *cfg, const char *event, const struct err *e)
{
    (void)cfg;
    log_error("alert: %s: %s", event, e != NULL && e->msg[0] ? e->msg : "no details");
}
