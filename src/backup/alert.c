/*
 * alert — telling someone that a backup failed or went stale, and the small
 * state files that let every process agree on the last outcomes.  See
 * alert.h (backup_alert_send, backup_state_record).
 *
 * Every failure path of a take calls backup_alert() exactly once.  An alert
 * that cannot be delivered is logged and forgotten: the backup's own outcome
 * never depends on it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backup/layout.h"
#include "backup/take.h"
#include "backup/alert.h"
#include "common/file.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"
#include "version.h"

#define WEBHOOK_CONNECT_TIMEOUT_S 5
#define WEBHOOK_TIMEOUT_S         10
#define WEBHOOK_RETRY_DELAY_MS    1000
#define COMMAND_TIMEOUT_S         30

extern char **environ;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

/* curl_global_init is not thread-safe in every build: once per process. */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static void utc_stamp(char out[32], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The webhook's address for a log line: scheme and host only.  Its path or
 * query often carries a token (chat webhooks do), and user:password may
 * precede the host.
 */
static void webhook_display(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    const char *host, *end, *at;

    if (p == NULL) {
        snprintf(out, size, "(invalid address)");
        return;
    }
    host = p + 3;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    if (at != NULL)
        host = at + 1;
    snprintf(out, size, "%.*s://%.*s/…", (int)(p - url), url, (int)(end - host), host);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb;
}

/* One POST.  0 on a 2xx answer; -1 with why in reason otherwise. */
static int webhook_post_once(const char *url, const char *body, char *reason, size_t rsize)
{
    CURL *c = NULL;
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE];
    long status = 0;
    CURLcode cc;
    int rc = -1;

    errbuf[0] = '\0';
    c = curl_easy_init();
    if (c == NULL) {
        snprintf(reason, rsize, "cannot initialise libcurl");
        goto cleanup;
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)WEBHOOK_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)WEBHOOK_TIMEOUT_S);
    /* Threads (serve) and no SIGALRM-based name resolution. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "citaplanner/" CITAPLANNER_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(reason, rsize, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(reason, rsize, "answered HTTP %ld", status);
        goto cleanup;
    }
    rc = 0;

cleanup:
    curl_slist_free_all(headers);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}

static int webhook_send(const char *url, const char *event, const char *body)
{
    char shown[256], reason[CURL_ERROR_SIZE + 64];
    struct timespec pause = {WEBHOOK_RETRY_DELAY_MS / 1000,
                             (WEBHOOK_RETRY_DELAY_MS % 1000) * 1000000L};

    webhook_display(url, shown, sizeof(shown));
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc < 0) {
        log_error("alert '%s': webhook '%s' not sent: libcurl cannot start", event, shown);
        return -1;
    }
    for (int attempt = 1; attempt <= 2; attempt++) {
        if (webhook_post_once(url, body, reason, sizeof(reason)) == 0) {
            log_info("alert '%s': webhook '%s' notified", event, shown);
            return 0;
        }
        if (attempt == 1) {
            log_warn("alert '%s': webhook '%s' failed (%s): retrying once", event, shown, reason);
            nanosleep(&pause, NULL);
        }
    }
    log_error("alert '%s': webhook '%s' failed twice (%s): alert not delivered", event, shown,
              reason);
    return -1;
}

/* Run the command with the facts in its environment; 0 when it exits 0. */
static int command_run(const char *command, const char *event, char *const *facts_env)
{
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    char how[PROC_STATUS_MAX];
    pid_t pid = -1;
    int status = 0, w;
    struct err e = {0};

    /* Our stdout may be a --json document: the command's output goes to stderr. */
    if (proc_spawn("/bin/sh", argv, facts_env, -1, STDERR_FILENO, STDERR_FILENO, false,
                   ERR_INTERNAL, NULL, &pid, &e) < 0) {
        log_error("alert '%s': BACKUP_ALERT_COMMAND cannot start: %s", event, e.msg);
        return -1;
    }
    w = proc_wait_until(pid, time_mono() + COMMAND_TIMEOUT_S, &status);
    if (w < 0) {
        log_error("alert '%s': BACKUP_ALERT_COMMAND: cannot wait for it: %s", event,
                  strerror(errno));
        return -1;
    }
    if (w > 0) {
        log_error("alert '%s': BACKUP_ALERT_COMMAND killed after %d s", event, COMMAND_TIMEOUT_S);
        return -1;
    }
    if (proc_status_ok(status)) {
        log_info("alert '%s': BACKUP_ALERT_COMMAND run", event);
        return 0;
    }
    if (WIFEXITED(status))
        log_error("alert '%s': BACKUP_ALERT_COMMAND exited with status %d", event,
                  WEXITSTATUS(status));
    else
        log_error("alert '%s': BACKUP_ALERT_COMMAND %s", event, proc_status_describe(status, how));
    return -1;
}

int backup_alert_send(const struct config *cfg, const struct backup_alert_facts *f)
{
    const char *severity = f->severity != NULL ? f->severity : "critical";
    const char *message = f->message != NULL && f->message[0] ? f->message : "no details";
    const char *database = cfg != NULL ? url_redacted(&cfg->db) : NULL;
    char host[256] = "unknown";
    char started[32] = "", finished[32], sent[32];
    time_t now = time(NULL);
    struct proc_env env = {0};
    char *body = NULL;
    json_t *o = NULL;
    int rc = 0;

    if (f->file != NULL)
        log_msg(strcmp(severity, "warning") == 0 ? LOG_WARN : LOG_ERROR,
                "alert '%s': %s (file '%s')", f->event, message, f->file);
    else
        log_msg(strcmp(severity, "warning") == 0 ? LOG_WARN : LOG_ERROR, "alert '%s': %s", f->event,
                message);
    if (cfg == NULL || (cfg->backup_alert_webhook == NULL && cfg->backup_alert_command == NULL))
        return 0;

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    if (f->started != 0)
        utc_stamp(started, f->started);
    utc_stamp(finished, f->finished != 0 ? f->finished : now);
    utc_stamp(sent, now);

    if (cfg->backup_alert_webhook != NULL && cfg->backup_alert_webhook[0] != '\0') {
        o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:s}", "event",
                      f->event, "severity", severity, "message", message, "host", host, "database",
                      database, "backup_file", f->file, "started_at", started[0] ? started : NULL,
                      "finished_at", finished, "sent_at", sent, "program", "citaplanner", "version",
                      CITAPLANNER_VERSION);
        if (o == NULL) /* a message that is not UTF-8: say less rather than nothing */
            o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", f->event, "severity", severity,
                          "message", "(message not valid UTF-8; see the log)", "host", host,
                          "finished_at", finished);
        body = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (body == NULL || webhook_send(cfg->backup_alert_webhook, f->event, body) < 0)
            rc = -1;
    }
    if (cfg->backup_alert_command != NULL && cfg->backup_alert_command[0] != '\0') {
        /* A clean environment: ours holds DATABASE_URL and SESSION_SECRET. */
        proc_env_minimal(&env);
        proc_env_set(&env, "CITAPLANNER_ALERT_EVENT", f->event);
        proc_env_set(&env, "CITAPLANNER_ALERT_SEVERITY", severity);
        proc_env_set(&env, "CITAPLANNER_ALERT_MESSAGE", message);
        proc_env_set(&env, "CITAPLANNER_ALERT_HOST", host);
        proc_env_set(&env, "CITAPLANNER_ALERT_DATABASE", database);
        proc_env_set(&env, "CITAPLANNER_ALERT_BACKUP_FILE", f->file);
        proc_env_set(&env, "CITAPLANNER_ALERT_STARTED_AT", started);
        proc_env_set(&env, "CITAPLANNER_ALERT_FINISHED_AT", finished);
        proc_env_set(&env, "CITAPLANNER_ALERT_SENT_AT", sent);
        if (command_run(cfg->backup_alert_command, f->event, env.v) < 0)
            rc = -1;
    }

    proc_env_release(&env);
    free(body);
    json_decref(o);
    return rc;
}

void backup_alert(const struct config *cfg, const char *event, const struct err *e)
{
    char token[64];
    size_t n = 0;
    struct backup_alert_facts f;

    /* "backup failed" -> "backup_failed": one token a receiver can match on. */
    for (const char *p = event; *p != '\0' && n + 1 < sizeof(token); p++) {
        char c = *p;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
            alnum = true;
        }
        if (alnum)
            token[n++] = c;
        else if (n > 0 && token[n - 1] != '_')
            token[n++] = '_';
    }
    while (n > 0 && token[n - 1] == '_')
        n--;
    token[n] = '\0';

    memset(&f, 0, sizeof(f));
    f.event = n > 0 ? token : "backup_alert";
    f.severity = "critical";
    f.message = e != NULL && e->msg[0] ? e->msg : NULL;
    backup_alert_send(cfg, &f);
}

/* ---- state files ---- */

/* Write o as dir/name atomically (common/file.h); errors at debug. */
static void state_write(const char *dir, const char *name, json_t *o)
{
    char *path = xasprintf("%s/%s", dir, name);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *line = text != NULL ? xasprintf("%s\n", text) : NULL;
    struct err e = {0};

    if (line == NULL || file_write_atomic(path, line, strlen(line), 0600, ERR_IO, &e) < 0)
        log_debug("cannot record '%s': %s", path, line == NULL ? "cannot render it" : e.msg);
    free(line);
    free(text);
    free(path);
}

void backup_state_record(const struct backup_opts *o, unsigned tiers, const struct backup_result *r,
                         const struct err *e, double seconds)
{
    char *path = xasprintf("%s/.last_result.json", o->cfg->backup_dir);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *per;
    time_t finished = o->now + (time_t)(seconds + 0.5);
    char stamp[32];

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        root = json_object();
    }
    json_object_set_new(root, "format", json_integer(1));
    per = json_object_get(root, "tiers");
    if (!json_is_object(per)) {
        per = json_object();
        json_object_set_new(root, "tiers", per);
    }
    utc_stamp(stamp, finished);
    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        json_t *it;
        const char *file = NULL;
        if (!(tiers & (1u << t)))
            continue;
        if (r != NULL && r->files[t] != NULL) {
            file = strrchr(r->files[t], '/');
            file = file != NULL ? file + 1 : r->files[t];
        }
        it = json_pack("{s:b, s:I, s:s, s:f, s:I, s:s?, s:s?}", "ok", r != NULL, "time",
                       (json_int_t)finished, "finished_at", stamp, "seconds", seconds, "bytes",
                       (json_int_t)(r != NULL ? r->gz_bytes : 0), "file", file, "error",
                       e != NULL ? e->msg : NULL);
        if (it == NULL) /* an error message that is not UTF-8 */
            it = json_pack("{s:b, s:I, s:s, s:f, s:I, s:n, s:s}", "ok", r != NULL, "time",
                           (json_int_t)finished, "finished_at", stamp, "seconds", seconds, "bytes",
                           (json_int_t)0, "file", "error", "see the backup log");
        json_object_set_new(per, backup_tier_name((enum backup_tier)t), it);
    }
    state_write(o->cfg->backup_dir, ".last_result.json", root);
    json_decref(root);
    free(path);
}

void backup_state_record_verify(const char *dir, time_t when, int checked, int failed,
                                const char *const *failed_files, int nfailed_files)
{
    json_t *files = json_array();
    json_t *root;
    char stamp[32];

    utc_stamp(stamp, when);
    for (int i = 0; failed_files != NULL && i < nfailed_files; i++)
        json_array_append_new(files, json_string(failed_files[i]));
    root = json_pack("{s:i, s:I, s:s, s:i, s:i, s:o}", "format", 1, "time", (json_int_t)when,
                     "finished_at", stamp, "checked", checked, "failed", failed, "failed_files",
                     files);
    if (root != NULL)
        state_write(dir, ".last_verify.json", root);
    json_decref(root);
}
