/*
 * backup — taking, listing and rotating backups (SPEC §6).
 *
 * Layout under BACKUP_DIR (directories 0700, files 0600):
 *
 *   daily/ weekly/ monthly/ premigrate/ prerestore/
 *       citaplanner_<tier>_YYYYMMDD_HHMMSS.sql.gz      PostgreSQL: plain pg_dump, gzip
 *       citaplanner_<tier>_YYYYMMDD_HHMMSS.sqlite.gz   SQLite: a copy of the file, gzip
 *       <data file>.sha256   "HEX  BASENAME\n", exactly what sha256sum writes
 *       <data file>.json     the manifest (format version, program, times, tiers,
 *                            database, schema version, row counts, sizes, SHA-256)
 *   logs/backup_YYYYMMDD.log
 *   .lock                    flock(2) held by a backup, restore or prune; holds its pid
 *
 * The timestamp in a name is local time (TZ) and is what rotation sorts by.
 *
 * Crash safety: every file is first written under a temporary name in its
 * final directory (".<final name>.tmp.<pid>") and fsynced.  Then the two
 * sidecars are renamed to their final names, the data file LAST, and the
 * directory is fsynced.  The data file's final name is the commit point: a
 * final-named .gz always has both sidecars, and the manifest's content is
 * complete (it is generated after the data is written, from its size and
 * hash).  A crash can only leave temporary files and orphan sidecars; the
 * next run removes both (temporary files whose pid is dead) and logs it.
 *
 * Everything here is library code: it logs (log.h), never prints to stdout,
 * never exits.  A run tees its log lines into logs/backup_YYYYMMDD.log.
 */
#ifndef CITAPLANNER_BACKUP_H
#define CITAPLANNER_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/url.h"
#include "config/config.h"
#include "db/db.h"

#define BACKUP_MANIFEST_FORMAT 1

enum backup_tier {
    BACKUP_DAILY,
    BACKUP_WEEKLY,
    BACKUP_MONTHLY,
    BACKUP_PREMIGRATE,
    BACKUP_PRERESTORE,
    BACKUP_TIER_COUNT
};

/* The tier request meaning "daily, plus weekly / monthly on their days". */
#define BACKUP_TIER_AUTO (-1)

/* How many premigrate and prerestore backups rotation keeps. */
#define BACKUP_KEEP_SPECIAL 3

enum backup_format {
    BACKUP_FMT_SQL,    /* .sql.gz: PostgreSQL plain dump */
    BACKUP_FMT_SQLITE, /* .sqlite.gz: SQLite database file */
};

/* "daily" … "prerestore". */
const char *backup_tier_name(enum backup_tier t);

/* Parse a tier name; returns 0, or -1 when unknown. */
int backup_tier_parse(const char *s, enum backup_tier *out);

/* ".sql.gz" / ".sqlite.gz". */
const char *backup_format_ext(enum backup_format f);

/*
 * The tiers (bit 1 << tier) an automatic run writes at local time now: always
 * daily; weekly when the weekday (0 = Sunday) is weekly_day; monthly when the
 * day of month is monthly_day, or is the month's last day when monthly_day is
 * past it (so that 31 still means once a month).
 */
unsigned backup_auto_tiers(time_t now, int weekly_day, int monthly_day);

/*
 * Parse a local time "YYYY-MM-DDTHH:MM:SS" (the CITAPLANNER_FAKE_NOW testing
 * aid) into an epoch with mktime (TZ applies).  Returns 0, or -1 when s is
 * not exactly that form or not a valid date.
 */
int backup_parse_local_time(const char *s, time_t *out);

/*
 * The clock of backups, stats and doctor: time(NULL), or the local time in
 * CITAPLANNER_FAKE_NOW when set (a testing aid).  -ERR_CONFIG naming the
 * variable when its value is not of that form (*now is then time(NULL)).
 */
int backup_clock(time_t *now, struct err *e);

/* "1.5 MB", "320.0 kB", "12 B" (decimal units) into out; returns out. */
const char *backup_fmt_bytes(char out[32], uint64_t n);

/* Longest name this module produces, with a sidecar suffix, NUL included. */
#define BACKUP_NAME_MAX 80

/*
 * The data file's basename for a tier at local time now:
 * "citaplanner_daily_20250109_020000.sql.gz".  out holds BACKUP_NAME_MAX bytes.
 */
void backup_name_format(char out[BACKUP_NAME_MAX], enum backup_tier tier, time_t now,
                        enum backup_format fmt);

/*
 * Parse a data file's basename.  Only names this module writes match: the
 * prefix, a known tier, a valid date and time, a known extension, nothing
 * else.  stamp (may be NULL) gets YYYYMMDDHHMMSS as a number, which sorts as
 * time does.  Returns 0, or -1 when name does not match.
 */
int backup_name_parse(const char *name, enum backup_tier *tier, int64_t *stamp,
                      enum backup_format *fmt);

/* One data file found under BACKUP_DIR. */
struct backup_entry {
    enum backup_tier tier;
    enum backup_format format;
    char *name;    /* basename */
    char *path;    /* BACKUP_DIR/<tier>/<name> */
    int64_t stamp; /* YYYYMMDDHHMMSS from the name (local time) */
    int64_t size;  /* bytes of the data file */
    uint64_t dev, ino;
    bool has_sha256;   /* <name>.sha256 exists */
    bool has_manifest; /* <name>.json exists */
};

struct backup_list {
    struct backup_entry *items;
    int count;
};

/*
 * Every data file under dir whose name matches the pattern and sits in its
 * own tier's directory, newest first (ties: by tier).  A missing dir or tier
 * directory is an empty list, not an error.  l is released by the caller with
 * backup_list_release (also on failure).
 */
int backup_list_load(const char *dir, struct backup_list *l, struct err *e);
void backup_list_release(struct backup_list *l);

/*
 * Create dir and its tier and logs sub-directories where missing (0700) and
 * check that dir is a writable directory.  -ERR_BACKUP naming the path.
 */
int backup_dir_prepare(const char *dir, struct err *e);

/*
 * The exclusive lock that serializes backups, restores and pruning:
 * BACKUP_DIR/.lock, flock(LOCK_EX|LOCK_NB), the holder's pid written into it.
 * dir must exist.  When another process holds it: -ERR_LOCKED "another
 * backup or restore is running (pid N)".  Released by backup_lock_release
 * (accepts NULL) or by the process's death.  *out: caller frees with
 * backup_lock_release.
 */
struct backup_lock;
int backup_lock_acquire(const char *dir, struct backup_lock **out, struct err *e);
void backup_lock_release(struct backup_lock *l);

/*
 * The run's log file, logs/backup_YYYYMMDD.log (date of now, local time),
 * opened for appending (0600) and tee'd (log_set_tee) from the calling
 * thread until backup_log_close (accepts NULL).  dir/logs must exist.
 */
struct backup_log;
int backup_log_open(const char *dir, time_t now, struct backup_log **out, struct err *e);
void backup_log_close(struct backup_log *l);

/*
 * Remove what a crashed run left under dir: temporary files ".*.tmp.<pid>"
 * (and the private passfile directory) whose pid is no longer alive, and
 * sidecars whose data file is missing.  Each removal is logged.  Call with
 * the lock held.  *removed (may be NULL) gets how many entries went.
 */
int backup_cleanup_stale(const char *dir, int *removed, struct err *e);

/* How many backups of each tier rotation keeps, from cfg (premigrate and
 * prerestore: BACKUP_KEEP_SPECIAL). */
void backup_keep_from_config(const struct config *cfg, int keep[BACKUP_TIER_COUNT]);

/*
 * Rotation: in each tier keep the newest keep[tier] data files by the
 * timestamp in their names, and delete the older ones (data file first,
 * then its sidecars, so that a final-named data file never lacks them).
 * Only names that match the pattern are considered; the files named in
 * protect (paths as returned in backup_result.files) are never deleted.
 * dry_run: delete nothing.  victims (may be NULL; release with
 * backup_list_release) gets what was (or would be) deleted.  Each deletion is
 * logged.  Call with the lock held.
 */
int backup_rotate(const char *dir, const int keep[BACKUP_TIER_COUNT], const char *const *protect,
                  int nprotect, bool dry_run, struct backup_list *victims, struct err *e);

/*
 * `backup prune`: prepare dir, open the log, take the lock, remove stale
 * files, rotate with cfg's keep counts, log the summary.  Same victims and
 * dry_run as backup_rotate.
 */
int backup_prune(const struct config *cfg, bool dry_run, struct backup_list *victims,
                 struct err *e);

/* Progress of a running take, for a terminal's progress line. */
struct backup_progress {
    const char *step;   /* "dump", "copy", "compress" */
    uint64_t raw_bytes; /* uncompressed bytes so far */
    uint64_t gz_bytes;  /* compressed bytes written so far */
    double seconds;     /* since the step began */
};

struct backup_opts {
    const struct config *cfg; /* BACKUP_DIR, keep counts, weekly/monthly days */
    const struct url *db;     /* the database to back up (usually &cfg->db) */
    int tier;                 /* BACKUP_TIER_AUTO or an enum backup_tier */
    time_t now;               /* the clock: names, tiers, log file; time(NULL) in production */
    volatile int *cancel;     /* may be NULL; nonzero aborts the run and removes its files */
    bool rotate;              /* run rotation after a successful backup */
    bool lock_held;           /* the caller (restore) already holds BACKUP_DIR's lock */
    /* May be NULL.  Called from the calling thread a few times a second. */
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
};

struct backup_result {
    enum db_kind kind;
    unsigned tiers;                 /* bit 1 << tier for each tier written */
    char *files[BACKUP_TIER_COUNT]; /* data file path per tier written, NULL otherwise */
    char sha256[65];                /* hex SHA-256 of the data file */
    uint64_t raw_bytes;             /* uncompressed dump / database bytes */
    uint64_t gz_bytes;              /* bytes of the data file */
    double seconds;                 /* whole run */
    int rotated;                    /* files deleted by rotation */
};

/*
 * Take one backup (SPEC §6 "Taking a backup"): prepare BACKUP_DIR, open the
 * log file, take the lock (unless lock_held), remove stale files, check free
 * space, dump once (PostgreSQL: pg_dump in a snapshot shared with the row
 * counts; SQLite: the online backup API), compress and hash as it streams,
 * commit the first tier's files and hard-link (or copy) the others, then
 * rotate (when asked).  r is filled on success; release it with
 * backup_result_release (also after a failure).
 *
 * Errors: -ERR_LOCKED (another run holds the lock), -ERR_NO_SPACE (not enough
 * free space, before or while writing; the figures are in the message),
 * -ERR_USAGE (invalid tier), -ERR_BACKUP for everything else (the database
 * unreachable, pg_dump failing or too old, a truncated dump, cancellation).
 * On any failure no file is left under a final name, older backups are
 * untouched, rotation does not run, and backup_alert() is called.
 *
 * The calling thread's log lines are tee'd into the day's log file for the
 * run, and the tee is cleared (log_set_tee(NULL)) when it returns.  A SQLite
 * copy is one sqlite3_backup_step: cancel is noticed before and after it.
 */
int backup_take(const struct backup_opts *o, struct backup_result *r, struct err *e);
void backup_result_release(struct backup_result *r);

/*
 * The alert on a failed (or stale) backup (alert.c): the event is logged at
 * ERROR (WARN for severity "warning"), then sent to BACKUP_ALERT_WEBHOOK (a
 * JSON POST through libcurl: 5 s to connect, 10 s in all, one retry after a
 * second) and run through BACKUP_ALERT_COMMAND (`/bin/sh -c COMMAND` with the
 * facts in CITAPLANNER_ALERT_* environment variables and nothing else of
 * ours: never on its command line; stdout goes to our stderr; killed after
 * 30 s).  A channel that fails is logged (the webhook's address without its
 * path or credentials) and never fails the caller.
 *
 * The webhook's body:
 *   {"event": "backup_failed", "severity": "critical", "message": "…",
 *    "host": "db1", "database": "postgresql://u:***@h:5432/db",
 *    "backup_file": "…" | null, "started_at": "…Z" | null,
 *    "finished_at": "…Z", "sent_at": "…Z", "program": "citaplanner",
 *    "version": "0.1.0"}
 * The command's environment: CITAPLANNER_ALERT_EVENT, _SEVERITY, _MESSAGE,
 * _HOST, _DATABASE, _BACKUP_FILE, _STARTED_AT, _FINISHED_AT, _SENT_AT, plus
 * PATH, HOME, TZ and LANG.
 */
struct backup_alert_facts {
    const char *event;    /* "backup_failed", "verify_failed", "restore_failed", "backup_stale" */
    const char *severity; /* "critical" (NULL) or "warning" */
    const char *message;  /* what happened; never a secret */
    const char *file;     /* the backup file concerned, or NULL */
    time_t started;       /* when the operation began; 0 = unknown */
    time_t finished;      /* when it ended or was noticed; 0 = now */
};

/*
 * Send an alert.  Returns 0 when every configured channel delivered it (or
 * none is configured), -1 when one failed (already logged): informational,
 * callers may ignore it.  Blocks for the webhook's timeouts at most.
 */
int backup_alert_send(const struct config *cfg, const struct backup_alert_facts *f);

/*
 * backup_alert_send with event (free text such as "backup failed" is turned
 * into "backup_failed"), severity critical and e's message.  Never fails.
 */
void backup_alert(const struct config *cfg, const char *event, const struct err *e);

/*
 * The outcome of the last take per tier, BACKUP_DIR/.last_result.json, for
 * /metrics, `stats` and `doctor` (every process reads the same file):
 *   {"format": 1, "tiers": {"daily": {"ok": true, "time": EPOCH,
 *     "finished_at": "…Z", "seconds": 1.25, "bytes": N, "file": "…",
 *     "error": null}, …}}
 * backup_take() records each run once, at its end, for the tiers it wrote or
 * meant to write (not when another run held the lock: that one records).
 * r is NULL on failure, e NULL on success.  Written atomically (temporary
 * file and rename); a failure to write is logged at debug and ignored.
 */
void backup_state_record(const struct backup_opts *o, unsigned tiers, const struct backup_result *r,
                         const struct err *e, double seconds);

/*
 * The outcome of the last verification of BACKUP_DIR's backups,
 * BACKUP_DIR/.last_verify.json: {"format": 1, "time": EPOCH, "checked": N,
 * "failed": N, "failed_files": ["…"]}.  For whoever verifies (the `backup
 * verify` command, the admin API).  failed_files may be NULL when nfailed
 * names are unknown.  Errors ignored as for backup_state_record.
 */
void backup_state_record_verify(const char *dir, time_t when, int checked, int failed,
                                const char *const *failed_files, int nfailed_files);

/* A manifest read back (verify and restore use it). */
struct backup_manifest {
    int format;
    char *program_version;
    char *file; /* the data file's basename */
    char *tier;
    unsigned tiers;   /* bit 1 << tier for each tier the run wrote */
    char *started_at; /* UTC "YYYY-MM-DDTHH:MM:SSZ" */
    char *finished_at;
    char *db_kind;        /* "postgresql" / "sqlite" */
    char *server_version; /* "PostgreSQL 15.20" / "SQLite 3.40.1" */
    char *schema_version; /* newest applied migration, NULL when none */
    char **tables;        /* sorted names */
    int64_t *rows;        /* rows[i] of tables[i] */
    int ntables;
    uint64_t raw_bytes, gz_bytes;
    char sha256[65];
    char *origin; /* NULL: ours; "adopted": another tool's, adopted; "other tool": none read */
};

/*
 * Read and check a manifest (.json): every field above must be present with
 * its type (schema_version may be null).  m is released with
 * backup_manifest_release (also on failure).  -ERR_VERIFY naming the file
 * and the field when it is unreadable or incomplete.
 */
int backup_manifest_load(const char *path, struct backup_manifest *m, struct err *e);
void backup_manifest_release(struct backup_manifest *m);

/* ---- verifying and restoring (verify.c, restore.c) ---- */

/*
 * Verification of one backup file (SPEC §6 "Verifying"), in one pass over
 * its bytes: SHA-256 and the gzip decoder read the same buffers, every
 * member's CRC-32 and length are checked, the stream must end exactly at the
 * end of the file (no truncation, no trailing bytes), and the content must
 * be complete: a PostgreSQL dump's header and closing line, or a SQLite
 * file's header and PRAGMA integrity_check (on a decompressed temporary
 * copy, 0600, removed afterwards).  Then the .sha256 sidecar ("HEX  NAME")
 * and the manifest (.json: size, hash, uncompressed size) must agree.
 * Memory is bounded whatever the file's size.
 *
 * deep: also restore the backup into a scratch database and compare every
 * table's row count with the manifest.  PostgreSQL: a database
 * citaplanner_verify_<random> created on db's server (template0) and dropped
 * afterwards, whatever happened; SQLite: the decompressed copy itself.
 */
struct backup_verify_opts {
    const struct url *db; /* --deep on PostgreSQL: the server for the scratch database */
    bool deep;
    /*
     * Where temporary files go (the decompressed SQLite copy, the private
     * passfile directory): NULL = the backup's own directory when writable,
     * else TMPDIR (or /tmp).
     */
    const char *tmp_dir;
    /*
     * SQLite backups: keep the decompressed, integrity-checked copy and hand
     * its path over in result.sqlite_copy (restore uses it) instead of
     * removing it.
     */
    bool keep_copy;
    volatile int *cancel; /* may be NULL; nonzero stops with ERR_VERIFY "cancelled" */
    /* May be NULL.  step "verify" or "deep"; raw_bytes decompressed, gz_bytes read. */
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
    /*
     * An encrypted (.age) backup: the age identity file that decrypts it;
     * NULL = none (callers pass BACKUP_DECRYPT_IDENTITY).  Without one, only the hash, the
     * size and the sidecars of the encrypted file are checked.
     */
    const char *identity;
    /* May be NULL: also handed the decompressed bytes (backup_schema_sink). */
    int (*content_sink)(void *arg, const void *p, size_t n, struct err *e);
    void *content_arg;
};

struct backup_verify_result {
    enum backup_format format; /* from the content (or the name when undecodable) */
    uint64_t gz_bytes;         /* bytes of the file read */
    uint64_t raw_bytes;        /* decompressed bytes */
    int members;               /* gzip members decoded */
    char sha256[65];           /* of the whole file ("" when unreadable) */
    bool has_manifest;         /* m was loaded */
    struct backup_manifest m;  /* the manifest, when has_manifest (or no_manifest) */
    /* No .json: made by another tool, verified by its content; m is made up
     * (backup_manifest_synthesize), its row counts unknown unless deep. */
    bool no_manifest;
    bool deep_done;            /* the deep check ran and passed */
    double seconds;
    /* keep_copy and a good SQLite backup: the copy; the caller removes it and frees. */
    char *sqlite_copy;
    /* An encrypted backup: decrypted and checked (identity given). */
    bool decrypted;
    /* An encrypted backup, decrypted: SHA-256 of the gzip data inside ("" otherwise). */
    char inner_sha256[65];
};

/*
 * Verify path.  Returns 0 when every check passed; -ERR_VERIFY when the
 * backup is damaged or incomplete, e's message giving every reason found
 * ("; "-separated); other negative codes when the check itself could not
 * run (--deep: ERR_DB_CONNECT and the like).  r is filled as far as the
 * checks got, and released with backup_verify_result_release (also on
 * failure).  Reads the file only; never modifies or deletes it.
 */
int backup_verify_file(const struct backup_verify_opts *o, const char *path,
                       struct backup_verify_result *r, struct err *e);
void backup_verify_result_release(struct backup_verify_result *r);

/*
 * Restoring a backup into the configured database (SPEC §6 "Restoring").
 *
 * Order: take BACKUP_DIR's lock (held to the end; -ERR_LOCKED when held),
 * verify the file (quick; -ERR_VERIFY when damaged), refuse a backup of the
 * other database kind or whose schema is newer than this program's newest
 * migration (-ERR_RESTORE_REFUSED), ask confirm (false: -ERR_RESTORE_REFUSED,
 * nothing changed), take a prerestore backup of the current data (unless
 * !safety_backup; rotation keeps BACKUP_KEEP_SPECIAL), replace the data
 * atomically, then migrate deploy and read the row counts.
 *
 * Atomicity.  PostgreSQL: psql (connection through PG* variables and a
 * private passfile, never argv) is fed "BEGIN; DROP SCHEMA public CASCADE;
 * CREATE SCHEMA public; …", then the dump decompressed as it is read from the
 * .gz (never written out uncompressed), then "COMMIT", with ON_ERROR_STOP:
 * psql gets no COMMIT unless every statement succeeded and the bytes hashed
 * on the way match the verified SHA-256; if this process dies, psql reads
 * end-of-file inside the open transaction and the server rolls it back.
 * SQLite: the backup is decompressed into a temporary file beside the
 * database, checked (PRAGMA integrity_check), and copied into the live file
 * through the online backup API in one step: one write transaction, which
 * other connections see complete or not at all.
 *
 * Errors: -ERR_LOCKED, -ERR_VERIFY, -ERR_RESTORE_REFUSED as above;
 * -ERR_BACKUP when the safety backup or the restore itself failed (the
 * database is then exactly as before); -ERR_MIGRATE when the restored data
 * could not be migrated forward; the db's errors when it is unreachable.
 */
struct backup_restore_opts {
    const struct config *cfg; /* BACKUP_DIR, keep counts (prerestore backup, lock, log) */
    const struct url *db;     /* the database to overwrite (usually &cfg->db) */
    const char *file;         /* the backup's data file */
    bool safety_backup;       /* take a prerestore backup first */
    time_t now;               /* the clock of the prerestore backup's name and the log */
    volatile int *cancel;     /* may be NULL; noticed until the data is committed */
    /*
     * Called once the backup is verified, before anything changes, with its
     * manifest (borrowed for the call); false cancels.  NULL = proceed.
     */
    bool (*confirm)(void *arg, const struct backup_manifest *m);
    void *confirm_arg;
    /* May be NULL.  steps "verify", "safety", "restore". */
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
};

struct backup_restore_result {
    struct backup_manifest m; /* the restored backup's manifest */
    char *prerestore;         /* the safety backup's path, NULL when none was taken */
    int migrations_applied;   /* by the migrate deploy after the restore */
    char *schema_version;     /* newest applied migration afterwards */
    /* Rows afterwards of the tables named in counted[] (-1 when missing). */
    int64_t rows_after[3];
    double seconds;
};

/* The tables whose row counts restore reports: users, appointments, clients. */
extern const char *const backup_restore_counted[3];

int backup_restore(const struct backup_restore_opts *o, struct backup_restore_result *r,
                   struct err *e);
void backup_restore_result_release(struct backup_restore_result *r);

/* ---- encryption (encrypt.c; issue 10) ---- */

/*
 * With BACKUP_ENCRYPT_RECIPIENT set, a backup's gzip stream is piped through
 * `age -r RECIPIENT` (or `age -R FILE`) on its way to the data file, named
 * "<…>.sql.gz.age" / "<…>.sqlite.gz.age": no plaintext reaches BACKUP_DIR.
 * The .sha256 sidecar and the manifest's sha256 and gz_bytes describe the
 * encrypted file, so a quick verification needs no key; decrypting (deep
 * verify, restore) runs `age -d -i IDENTITY FILE` and reads its output as a
 * pipe.  By hand: age -d -i key.txt FILE.sql.gz.age | gunzip > FILE.sql
 */
#define BACKUP_ENC_EXT ".age"

/* Does name end with ".age"? */
bool backup_name_encrypted(const char *name);

/* The age binary: $CITAPLANNER_AGE, else "age" on PATH. */
const char *backup_age_program(void);

/* A running age child process. */
struct backup_age;

/*
 * Start `age -r RECIPIENT` (a public key "age1…"/"ssh-…") or `age -R FILE`
 * (a recipients file) writing the ciphertext to out_fd (age gets a copy; the
 * caller keeps its own).  Write the plaintext into backup_age_fd(*out), then
 * call backup_age_finish.  what: the file, for messages.  -ERR_CONFIG when
 * the recipient is neither form, -ERR_BACKUP when age cannot run.
 */
int backup_age_encrypt_start(const char *recipient, int out_fd, const char *what,
                             struct backup_age **out, struct err *e);

/*
 * Start `age -d -i IDENTITY` reading path; read the plaintext from
 * backup_age_fd(*out), or open backup_age_fd_path(*out) ("/dev/fd/N", the
 * same pipe).  -ERR_CONFIG without a readable identity, -ERR_VERIFY when
 * path cannot be opened.
 */
int backup_age_decrypt_start(const char *identity, const char *path, struct backup_age **out,
                             struct err *e);

/* Our end of the pipe (age's stdin when encrypting, its stdout when decrypting). */
int backup_age_fd(const struct backup_age *a);
const char *backup_age_fd_path(const struct backup_age *a);

/*
 * Close our end, wait for age and check its exit status: -ERR_BACKUP
 * (encrypting) or -ERR_VERIFY (decrypting: a wrong identity, a damaged
 * file) with age's message.  Frees a (NULL: returns 0).
 */
int backup_age_finish(struct backup_age *a, struct err *e);

/* Kill age, wait for it, free a.  Accepts NULL. */
void backup_age_abort(struct backup_age *a);

/* SHA-256 (hex) and size of a whole file, read in bounded memory.  -ERR_VERIFY when unreadable. */
int backup_hash_file(const char *path, char sha[65], uint64_t *size, struct err *e);

/* The identity to decrypt with: configured (BACKUP_DECRYPT_IDENTITY) when set, else NULL. */
const char *backup_decrypt_identity(const char *configured);

/* ---- copies off the machine (remote.c; issue 10) ---- */

/*
 * BACKUP_MIRROR_DIR: a second directory (typically another disk or a network
 * mount) with BACKUP_DIR's layout.  After every successful backup, each
 * local backup that has no verified copy there yet is copied (data file,
 * .sha256, .json; temporary names, then the data file renamed last, as
 * locally), the copy is re-read and its SHA-256 compared with the local
 * .sha256, and the mirror is rotated with the same keep counts.  The local
 * manifest then records the copy: "locations": {"mirror": {"path": "…",
 * "copied_at": "…Z"}}.  A mirror that fails is logged and alerted
 * ("backup_remote_failed") and never fails the backup; what it misses is
 * copied on the next run.
 */

/*
 * Bring every configured remote up to date with BACKUP_DIR (call with the
 * lock held).  *lagging (may be NULL) gets how many local backups still
 * lack a copy afterwards.  Returns 0 when every remote is up to date (or
 * none is configured), -1 when one failed (already logged and alerted).
 */
int backup_remote_sync(const struct config *cfg, int *lagging);

/* Where one backup (the data file path in BACKUP_DIR) has been copied. */
struct backup_locations {
    bool mirror; /* a verified copy in BACKUP_MIRROR_DIR */
    bool s3;     /* a verified copy under BACKUP_S3_URL */
};

/* Read the locations the manifest path.json records (all false when none). */
void backup_locations_load(const char *data_path, struct backup_locations *out);

/* The remotes' names, as in manifests, /metrics and doctor: "mirror", "s3". */
#define BACKUP_REMOTE_COUNT 2
extern const char *const backup_remote_names[BACKUP_REMOTE_COUNT];

/*
 * Remote lag for doctor and /metrics: how many local backups lack a copy
 * in the remote named (one of backup_remote_names), and the age in seconds
 * (by the file's time) of the oldest of them (0 when none).  Returns false
 * when that remote is not configured.
 */
bool backup_remote_lag(const struct config *cfg, const char *remote, time_t now, int *missing,
                       int64_t *oldest_age);

/* Where the remote named is, for messages ("s3://bucket/prefix", the mirror's path). */
const char *backup_remote_where(const struct config *cfg, const char *remote);

/*
 * S3 copies (BACKUP_S3_URL "s3://BUCKET/PREFIX", BACKUP_S3_ENDPOINT,
 * BACKUP_S3_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): objects
 * PREFIX/<tier>/<name> (and .sha256, .json), uploaded through libcurl with
 * AWS Signature V4 (CURLOPT_AWS_SIGV4), streamed from the file (bounded
 * memory) with the file's SHA-256 as the signed x-amz-content-sha256, read
 * back and hashed, and rotated as locally.  Single PUTs: objects up to 5 GB.
 *
 * Fetch a remote backup named "s3://BUCKET/KEY" (its data file) into a new
 * private directory under tmp_dir (0700): the data file and its .sha256 and
 * .json, under their own names.  *dir and *path: caller removes with
 * backup_remote_fetch_cleanup.  -ERR_BACKUP when the download fails,
 * -ERR_CONFIG when S3 is not configured.
 */
bool backup_remote_is_url(const char *s);
int backup_remote_fetch(const struct config *cfg, const char *url, const char *tmp_dir, char **dir,
                        char **path, struct err *e);
void backup_remote_fetch_cleanup(char *dir, char *path);

/* ---- backups made by other tools (foreign.c; issue 15) ---- */

/*
 * The original CitaPlanner's backups: `pg_dump --format=plain --no-owner
 * --no-acl | gzip` into citaplanner_<tier>_YYYYMMDD_HHMMSS.sql.gz and
 * `sha256sum "$file" > "$file.sha256"` (an absolute path in the sidecar, no
 * manifest).  Such a backup is verified by its content; `backup adopt`
 * writes our sidecar and manifest beside it.
 */

/* Where a backup came from: "citaplanner", "adopted" (backup adopt) or "other tool" (no
 * manifest).  Static strings. */
const char *backup_entry_origin(const struct backup_entry *it);

/* Does path.json exist? */
bool backup_has_manifest(const char *path);

/*
 * Check path.sha256 against sha: sha256sum's format, the hash, and the name
 * it gives, compared by base name (absolute, relative or bare; a different
 * directory is logged as a warning).  A missing sidecar is a reason only when
 * required.  Reasons are appended to why ("; "-separated).
 */
struct buf;
void backup_sidecar_check(const char *path, const char *sha, bool required, struct buf *why);

/* Fill r->m for a backup without a manifest, from its name and r ("other tool"). */
void backup_manifest_synthesize(const char *path, struct backup_verify_result *r);

/* Which schema a backup (or a database) holds. */
enum backup_schema {
    BACKUP_SCHEMA_EMPTY,   /* no tables */
    BACKUP_SCHEMA_OURS,    /* _migrations: ours, at the version found */
    BACKUP_SCHEMA_PRISMA,  /* the original CitaPlanner's: _prisma_migrations, camelCase columns */
    BACKUP_SCHEMA_UNKNOWN, /* tables, none of the above */
};

/* "empty", "citaplanner", "original-prisma", "unknown". */
const char *backup_schema_name(enum backup_schema s);

/*
 * Reading a plain dump as it streams (a backup_verify_opts content sink):
 * its CREATE TABLE statements and column names, and the rows of
 * COPY _migrations (the newest applied migration).  Bounded memory.
 */
struct backup_schema_scan {
    char *line;
    size_t len;
    bool in_table, in_copy, copy_ours;
    int col_name, col_finished, col_rolled;
    int tables;
    bool ours, prisma, camel;
    char *version;           /* newest applied migration in the dump's _migrations */
    char server_version[96]; /* "PostgreSQL 15.4" from the dump's header, or "" */
    char pg_dump_version[96];
};
void backup_schema_scan_init(struct backup_schema_scan *s);
void backup_schema_scan_release(struct backup_schema_scan *s);
int backup_schema_sink(void *arg, const void *p, size_t n, struct err *e);
enum backup_schema backup_schema_scan_result(const struct backup_schema_scan *s);

/* The same for a SQLite file (a verified copy).  *version: caller frees. */
int backup_schema_of_sqlite(const char *path, enum backup_schema *out, char **version,
                            struct err *e);

/*
 * 0 when a backup of this schema may be restored into a database of kind:
 * ours at a version this program knows (or older), or empty.  Otherwise
 * -ERR_RESTORE_REFUSED saying why: the original's schema (naming
 * `citaplanner import --from-backup FILE`), unknown tables, a newer schema.
 */
int backup_schema_refuse(const char *file, enum backup_schema schema, const char *version,
                         enum db_kind kind, struct err *e);

/*
 * `backup adopt`: write our .sha256 and .json beside a verified backup that
 * has no manifest, so that it is one of ours from then on (the manifest's
 * "origin": "adopted").  r is its verification (with deep: the row counts),
 * schema what its dump says.  -ERR_BACKUP when a file cannot be written.
 */
/*
 * Is this backup good, for rotation (which never deletes the newest good one
 * of a tier)?  Ours: its manifest, sidecar and size agree (verified when it
 * was written); another tool's: a quick verification of its content.
 */
bool backup_entry_good(const struct backup_entry *it);

int backup_adopt_write(const char *path, const struct backup_verify_result *r,
                       const struct backup_schema_scan *schema, struct err *e);

#endif
