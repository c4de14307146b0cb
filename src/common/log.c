/* log — see log.h. */
#include "common/log.h"

#include <pthread.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char log_ctx[64];
static __thread FILE *log_tee;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

void log_set_context(const char *ctx)
{
    if (ctx == NULL)
        log_ctx[0] = '\0';
    else
        snprintf(log_ctx, sizeof(log_ctx), "%s", ctx);
}

void log_set_tee(FILE *f)
{
    log_tee = f;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[4096];
    char stamp[40];
    struct timeval tv;
    struct tm tm;
    int n;

    if (level < min_level && (log_tee == NULL || level < LOG_INFO))
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof(line), "%s.%03dZ %-5s ", stamp, (int)(tv.tv_usec / 1000),
                 level_names[level]);
    if (log_ctx[0] != '\0' && n < (int)sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", log_ctx);
    if (n < (int)sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);

    pthread_mutex_lock(&log_lock);
    if (level >= min_level) {
        fputs(line, stderr);
        fputc('\n', stderr);
        fflush(stderr);
    }
    if (log_tee != NULL && level >= LOG_INFO) {
        fputs(line, log_tee);
        fputc('\n', log_tee);
        fflush(log_tee);
    }
    pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
