/*
 * thread — an archiver as a thread of serve (thread.c): runs it until
 * stopped; while another instance holds the archiver's lock (-ERR_LOCKED)
 * it stands by and tries again every 5 s, and after any other error it logs
 * and starts it again after 5 s.
 */
#ifndef CITAPLANNER_ARCHIVE_THREAD_H
#define CITAPLANNER_ARCHIVE_THREAD_H

#include "common/err.h"

/* Archive until *stop; 0 when stopped, or an error (retried). */
typedef int (*archive_run_fn)(void *arg, volatile int *stop, struct err *e);

struct archive_thread;

/* Start run(arg) in a thread; NULL (logged) when it cannot.  arg is borrowed until _stop. */
struct archive_thread *archive_thread_start(archive_run_fn run, void *arg);
/* Stop and join; NULL is a no-op. */
void archive_thread_stop(struct archive_thread *t);

#endif
