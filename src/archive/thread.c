/*
 * thread — an archiver as a thread of serve (see thread.h).
 */
#include "archive/thread.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

struct archive_thread {
    pthread_t thread;
    volatile int stop;
    archive_run_fn run;
    void *arg;
};

static void *archive_thread_main(void *p)
{
    struct archive_thread *t = p;
    bool told = false;

    log_set_context("archive");
    while (t->stop == 0) {
        struct err e;
        err_clear(&e);
        if (t->run(t->arg, &t->stop, &e) == 0)
            break;
        if (e.code == ERR_LOCKED) {
            if (!told)
                log_info("archive: %s: standing by", e.msg);
            told = true;
        } else {
            log_error("%s", e.msg);
        }
        for (int i = 0; i < 100 && t->stop == 0; i++)
            sleep_ms(50);
    }
    return NULL;
}

struct archive_thread *archive_thread_start(archive_run_fn run, void *arg)
{
    struct archive_thread *t = xcalloc(1, sizeof(*t));

    t->run = run;
    t->arg = arg;
    if (pthread_create(&t->thread, NULL, archive_thread_main, t) != 0) {
        log_error("archive: cannot start the archiver thread");
        free(t);
        return NULL;
    }
    return t;
}

void archive_thread_stop(struct archive_thread *t)
{
    if (t == NULL)
        return;
    t->stop = 1;
    pthread_join(t->thread, NULL);
    free(t);
}
