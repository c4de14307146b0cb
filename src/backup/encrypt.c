/*
 * encrypt — backups encrypted with age (https://age-encryption.org), by
 * running the real `age` binary as a child process.  See encrypt.h
 * ("encryption") for the contract.
 *
 * Why a child process: age is the standard tool the operator decrypts with
 * by hand, so the files are exactly what it writes, and this program holds
 * no cryptographic code of its own.  Plaintext only ever travels through
 * pipes: the compressor writes into age's stdin, and age's stdout goes
 * straight into the backup's temporary file (encrypting), or age's stdout
 * is read as a pipe by the verifier and the restore (decrypting).
 *
 * Nothing secret reaches age's command line: a recipient is a public key,
 * and an identity is named by its path.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/encrypt.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/hash.h"
#include "common/util.h"

/* age's stderr kept for the error message. */
#define AGE_ERR_MAX 512

struct backup_age {
    pid_t pid;
    int fd;     /* ours: age's stdin (encrypt) or age's stdout (decrypt) */
    int err_fd; /* age's stderr, read when it has exited */
    bool decrypt;
    char *what; /* the file, for messages */
    char fd_path[32];
};

bool backup_name_encrypted(const char *name)
{
    return name != NULL && str_ends_with(name, BACKUP_ENC_EXT);
}

/* The program run as age; NULL: "age". */
static const char *age_program;

const char *backup_age_program(void)
{
    return age_program != NULL && age_program[0] != '\0' ? age_program : "age";
}

void backup_age_set_program(const char *path)
{
    age_program = path;
}

/* A recipient given inline ("age1…", an ssh public key) rather than a recipients file. */
static bool inline_recipient(const char *r)
{
    return strncmp(r, "age1", 4) == 0 || strncmp(r, "ssh-", 4) == 0;
}

/*
 * Start age with argv; child_in / child_out become its stdin / stdout (the
 * child's copies; ours are closed by the caller).  Its stderr goes to a
 * pipe kept in a->err_fd.
 */
static int spawn_age(struct backup_age *a, char *const argv[], int child_in, int child_out,
                     struct err *e)
{
    int pe[2] = {-1, -1};
    struct proc_env ev;
    int rc;

    proc_env_minimal(&ev);

    if (pipe2(pe, O_CLOEXEC) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    /* Its own process group: a ^C reaches us, and we stop it. */
    rc = proc_spawn(argv[0], argv, ev.v, child_in, child_out, pe[1], true, ERR_BACKUP,
                    " (install the age package)", &a->pid, e);
    if (rc < 0)
        goto cleanup;
    a->err_fd = pe[0];
    pe[0] = -1;

cleanup:
    if (pe[0] >= 0)
        close(pe[0]);
    if (pe[1] >= 0)
        close(pe[1]);
    proc_env_release(&ev);
    return rc;
}

static struct backup_age *age_new(const char *what, bool decrypt)
{
    struct backup_age *a = xcalloc(1, sizeof(*a));

    a->pid = -1;
    a->fd = -1;
    a->err_fd = -1;
    a->decrypt = decrypt;
    a->what = xstrdup(what);
    return a;
}

int backup_age_encrypt_start(const char *recipient, int out_fd, const char *what,
                             struct backup_age **out, struct err *e)
{
    struct backup_age *a = age_new(what, false);
    int pin[2] = {-1, -1};
    char *argv[] = {(char *)backup_age_program(), inline_recipient(recipient) ? "-r" : "-R",
                    (char *)recipient, NULL};
    int rc;

    *out = NULL;
    if (!inline_recipient(recipient) && access(recipient, R_OK) != 0) {
        rc = err_set(e, ERR_CONFIG,
                     "invalid BACKUP_ENCRYPT_RECIPIENT: '%s' is neither an age public key "
                     "(age1...) nor a readable recipients file",
                     recipient);
        goto cleanup;
    }
    if (pipe2(pin, O_CLOEXEC) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    rc = spawn_age(a, argv, pin[0], out_fd, e);
    if (rc < 0)
        goto cleanup;
    a->fd = pin[1];
    pin[1] = -1;
    *out = a;
    a = NULL;

cleanup:
    if (pin[0] >= 0)
        close(pin[0]);
    if (pin[1] >= 0)
        close(pin[1]);
    backup_age_abort(a);
    return rc;
}

int backup_age_decrypt_start(const char *identity, const char *path, struct backup_age **out,
                             struct err *e)
{
    struct backup_age *a = age_new(path, true);
    int pout[2] = {-1, -1};
    int in_fd = -1;
    char *argv[] = {(char *)backup_age_program(), "-d", "-i", (char *)identity, NULL};
    int rc;

    *out = NULL;
    if (identity == NULL || identity[0] == '\0') {
        rc = err_set(e, ERR_CONFIG,
                     "'%s' is encrypted: set BACKUP_DECRYPT_IDENTITY to the age identity file "
                     "that decrypts it",
                     path);
        goto cleanup;
    }
    if (access(identity, R_OK) != 0) {
        rc = err_set(e, ERR_CONFIG,
                     "cannot read the identity file '%s' (BACKUP_DECRYPT_IDENTITY): %s", identity,
                     strerror(errno));
        goto cleanup;
    }
    in_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
        rc = err_set(e, ERR_VERIFY, "cannot open '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    if (pipe2(pout, O_CLOEXEC) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    rc = spawn_age(a, argv, in_fd, pout[1], e);
    if (rc < 0)
        goto cleanup;
    a->fd = pout[0];
    pout[0] = -1;
    snprintf(a->fd_path, sizeof(a->fd_path), "/dev/fd/%d", a->fd);
    *out = a;
    a = NULL;

cleanup:
    if (in_fd >= 0)
        close(in_fd);
    if (pout[0] >= 0)
        close(pout[0]);
    if (pout[1] >= 0)
        close(pout[1]);
    backup_age_abort(a);
    return rc;
}

int backup_age_fd(const struct backup_age *a)
{
    return a->fd;
}

const char *backup_age_fd_path(const struct backup_age *a)
{
    return a->fd_path;
}

/* Wait for the child; *status its wait status.  Kills it first when kill_it. */
static void reap(struct backup_age *a, bool kill_it, int *status)
{
    *status = 0;
    if (a->pid <= 0)
        return;
    if (kill_it)
        kill(a->pid, SIGKILL);
    proc_wait(a->pid, status);
    a->pid = -1;
}

/* age's stderr, one line, into out (it has exited: the pipe holds all it wrote). */
static void read_stderr(struct backup_age *a, char *out, size_t n)
{
    size_t len = 0;

    out[0] = '\0';
    if (a->err_fd < 0)
        return;
    while (len + 1 < n) {
        ssize_t r = read(a->err_fd, out + len, n - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    out[len] = '\0';
    /* Its first line says why; the next ones are its bug-report advice. */
    out[strcspn(out, "\r\n")] = '\0';
    len = strlen(out);
    while (len > 0 && out[len - 1] == ' ')
        out[--len] = '\0';
}

static void age_free(struct backup_age *a)
{
    if (a->fd >= 0)
        close(a->fd);
    if (a->err_fd >= 0)
        close(a->err_fd);
    free(a->what);
    free(a);
}

int backup_age_finish(struct backup_age *a, struct err *e)
{
    char msg[AGE_ERR_MAX];
    int status = 0;
    int rc = 0;

    if (a == NULL)
        return 0;
    /* Encrypting: end of input lets age write its last chunk.  Decrypting: unread output is
     * dropped. */
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
    reap(a, false, &status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        read_stderr(a, msg, sizeof(msg));
        rc = err_set(e, a->decrypt ? ERR_VERIFY : ERR_BACKUP, "cannot %s '%s': age %s %d: %s",
                     a->decrypt ? "decrypt" : "encrypt", a->what,
                     WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                     msg[0] ? msg : "no message");
    }
    age_free(a);
    return rc;
}

void backup_age_abort(struct backup_age *a)
{
    int status;

    if (a == NULL)
        return;
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
    reap(a, true, &status);
    age_free(a);
}

int backup_hash_file(const char *path, char sha[65], uint64_t *size, struct err *e)
{
    if (hash_sha256_file(path, sha, size) < 0)
        return err_set(e, ERR_VERIFY, "cannot read '%s': %s", path, strerror(errno));
    return 0;
}

const char *backup_decrypt_identity(const char *configured)
{
    return configured != NULL && configured[0] != '\0' ? configured : NULL;
}
