/*
 * cmd/backup_ui.c — what the files of `citaplanner backup` share
 * (backup_cmds.h): the cancel flag and its signals, the clock, the progress
 * line and the --json printer.  backup.c, backup_verify_restore.c and
 * backup_adopt.c call it; it calls none of them.
 */
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/files.h"
#include "backup/layout.h"
#include "backup/take.h"
#include "cmd/backup_cmds.h"

static volatile int cancel_flag;
static bool progress_drawn;

volatile int *backup_cmd_cancel_flag(void)
{
    return &cancel_flag;
}

static void on_signal(int sig)
{
    (void)sig;
    cancel_flag = 1;
}

void backup_cmd_catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void backup_cmd_progress(void *arg, const struct backup_progress *p)
{
    char a[32], b[32];

    (void)arg;
    printf("\r  %-8s %10s read, %10s written, %6.1f MB/s ", p->step,
           backup_fmt_bytes(a, p->raw_bytes), backup_fmt_bytes(b, p->gz_bytes),
           p->seconds > 0 ? (double)p->raw_bytes / 1e6 / p->seconds : 0.0);
    fflush(stdout);
    progress_drawn = true;
}

void backup_cmd_progress_end(void)
{
    if (progress_drawn) {
        fputc('\n', stdout);
        progress_drawn = false;
    }
}

void backup_cmd_print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s != NULL)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}
