/*
 * cmd/admin.c — `citaplanner admin master-password`: set the master admin's
 * password; `citaplanner admin user-password EMAIL`: set a staff account's
 * password (the way out of a published demo password).  The password is read from a prompt without
 * echo (twice) on a terminal, or as one line on standard input otherwise; never from argv or the
 * environment, so no other process can see it.
 */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "boot/boot.h"
#include "common/password.h"
#include "common/util.h"
#include "migrate/migrate.h"

#define MASTER_MIN_LEN     12
#define MASTER_MAX_LEN     72 /* bcrypt uses the first 72 bytes only */
#define MASTER_BCRYPT_COST 12
#define USER_MIN_LEN       8  /* as the API's users (api/users.c) */
#define USER_BCRYPT_COST   10 /* as the API's users */

/* Read one line from f into buf (without the newline).  -1 at end of input. */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (fgets(buf, (int)len, f) == NULL)
        return -1;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 0;
}

static int prompt_no_echo(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    int rc;

    fputs(prompt, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return read_line(stdin, buf, len);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    rc = read_line(stdin, buf, len);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return rc;
}

static int read_password(const char *prompt, char *pw, size_t len)
{
    char again[256];
    int rc = 0;

    if (!isatty(STDIN_FILENO)) {
        if (read_line(stdin, pw, len) < 0) {
            fprintf(stderr, "citaplanner: error: no password on standard input\n");
            return 2;
        }
        return 0;
    }
    if (prompt_no_echo(prompt, pw, len) < 0 ||
        prompt_no_echo("Repeat it: ", again, sizeof(again)) < 0) {
        fprintf(stderr, "citaplanner: error: no password given\n");
        rc = 2;
    } else if (strcmp(pw, again) != 0) {
        fprintf(stderr, "citaplanner: error: the two passwords differ; nothing changed\n");
        rc = 2;
    }
    secure_zero(again, sizeof(again));
    return rc;
}

/* The schema must be current before an account is changed: 0, or the exit status. */
static int require_current(struct db *db)
{
    struct err e;
    int current;

    err_clear(&e);
    current = migrate_is_current(db, &e);
    if (current < 0)
        return cmd_fail(&e);
    if (current == 0) {
        fprintf(stderr, "citaplanner: error: the database schema is not up to date; run "
                        "'citaplanner migrate deploy' first\n");
        return 4;
    }
    return 0;
}

/*
 * Read a new password (prompt or stdin) into pw and check its length
 * (min..MASTER_MAX_LEN; whose names it in the message): 0, or the exit status.
 */
static int read_new_password(const char *prompt, const char *whose, int min, char *pw, size_t len)
{
    int rc = read_password(prompt, pw, len);

    if (rc != 0)
        return rc;
    if (strlen(pw) < (size_t)min || strlen(pw) > MASTER_MAX_LEN) {
        fprintf(stderr, "citaplanner: error: %s must have %d to %d characters; nothing changed\n",
                whose, min, MASTER_MAX_LEN);
        return 2;
    }
    return 0;
}

static int master_password(struct cmd_ctx *ctx)
{
    char pw[256];
    char hash[128];
    struct db *db = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    memset(pw, 0, sizeof(pw));
    rc = read_new_password("New master admin password: ", "the master admin password",
                           MASTER_MIN_LEN, pw, sizeof(pw));
    if (rc != 0)
        goto cleanup;
    rc = cmd_open_db(ctx, &db);
    if (rc == 0)
        rc = require_current(db);
    if (rc != 0)
        goto cleanup;
    if (password_hash(pw, MASTER_BCRYPT_COST, hash, sizeof(hash), &e) < 0 ||
        boot_master_admin_set(db, hash, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (ctx->json)
        printf("{\"master_admin\":\"set\"}\n");
    else
        printf("master admin password set; existing master admin sessions ended\n");
    rc = 0;

cleanup:
    secure_zero(pw, sizeof(pw));
    secure_zero(hash, sizeof(hash));
    db_close(db);
    return rc;
}

static int user_password(struct cmd_ctx *ctx, const char *email)
{
    char pw[256];
    char hash[128];
    struct db *db = NULL;
    struct err e;
    int rc, changed;

    err_clear(&e);
    memset(pw, 0, sizeof(pw));
    memset(hash, 0, sizeof(hash));
    rc = read_new_password("New password: ", "a staff password", USER_MIN_LEN, pw, sizeof(pw));
    if (rc != 0)
        goto cleanup;
    rc = cmd_open_db(ctx, &db);
    if (rc == 0)
        rc = require_current(db);
    if (rc != 0)
        goto cleanup;
    if (password_hash(pw, USER_BCRYPT_COST, hash, sizeof(hash), &e) < 0 ||
        (changed = boot_user_password_set(db, email, hash, &e)) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (changed == 0) {
        fprintf(stderr,
                "citaplanner: error: no staff account has the e-mail '%s'; nothing changed\n",
                email);
        rc = 1;
        goto cleanup;
    }
    if (ctx->json)
        printf("{\"user\":\"%s\",\"password\":\"set\"}\n", email);
    else
        printf("password of '%s' set; its sessions ended\n", email);
    rc = 0;

cleanup:
    secure_zero(pw, sizeof(pw));
    secure_zero(hash, sizeof(hash));
    db_close(db);
    return rc;
}

static int run_admin(struct cmd_ctx *ctx)
{
    if (ctx->args.npos == 1 && strcmp(ctx->args.pos[0], "master-password") == 0)
        return master_password(ctx);
    if (ctx->args.npos == 2 && strcmp(ctx->args.pos[0], "user-password") == 0)
        return user_password(ctx, ctx->args.pos[1]);
    return cmd_usage_error(ctx, "usage: citaplanner admin master-password | "
                                "citaplanner admin user-password EMAIL");
}

const struct cmd cmd_admin = {
    .name = "admin",
    .run = run_admin,
    .summary = "set the master admin's or a staff account's password (prompt or stdin)",
    .usage = "Usage: citaplanner admin master-password\n"
             "       citaplanner admin user-password EMAIL\n\n"
             "Reads the new password from a prompt without echo (asked twice) on a\n"
             "terminal, or as one line on standard input otherwise, never from the\n"
             "command line.  master-password stores its bcrypt hash in\n"
             "master_admin_config and ends every master admin session (12 to 72\n"
             "characters); user-password sets the password of the staff account with\n"
             "that e-mail and ends its sessions (8 to 72 characters).\n",
    .needs_db = true,
};
