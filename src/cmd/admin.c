/*
 * cmd/admin.c — `citaplanner admin master-password`: set the master admin's
 * password.  The password is read from a prompt without echo (twice) on a
 * terminal, or as one line on standard input otherwise; never from argv or
 * the environment, so no other process can see it.
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

static int read_password(char *pw, size_t len)
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
    if (prompt_no_echo("New master admin password: ", pw, len) < 0 ||
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

static int master_password(struct cmd_ctx *ctx)
{
    char pw[256];
    char hash[128];
    struct db *db = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    memset(pw, 0, sizeof(pw));
    rc = read_password(pw, sizeof(pw));
    if (rc != 0)
        goto cleanup;
    if (strlen(pw) < MASTER_MIN_LEN || strlen(pw) > MASTER_MAX_LEN) {
        fprintf(stderr,
                "citaplanner: error: the master admin password must have %d to %d characters; "
                "nothing changed\n",
                MASTER_MIN_LEN, MASTER_MAX_LEN);
        rc = 2;
        goto cleanup;
    }
    rc = cmd_open_db(ctx, &db);
    if (rc != 0)
        goto cleanup;
    int current = migrate_is_current(db, &e);
    if (current < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (current == 0) {
        fprintf(stderr, "citaplanner: error: the database schema is not up to date; run "
                        "'citaplanner migrate deploy' first\n");
        rc = 4;
        goto cleanup;
    }
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

static int run_admin(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 1 || strcmp(ctx->args.pos[0], "master-password") != 0)
        return cmd_usage_error(ctx, "usage: citaplanner admin master-password");
    return master_password(ctx);
}

const struct cmd cmd_admin = {
    .name = "admin",
    .run = run_admin,
    .summary = "set the master admin password (read from a prompt or stdin)",
    .usage = "Usage: citaplanner admin master-password\n\n"
             "Reads the new password from a prompt without echo (asked twice) on a\n"
             "terminal, or as one line on standard input otherwise, stores its bcrypt\n"
             "hash in master_admin_config (replacing the old one) and ends every\n"
             "master admin session.  12 to 72 characters.\n",
    .needs_db = true,
};
