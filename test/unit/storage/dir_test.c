/*
 * dir_test — the directory store through the store interface
 * (src/storage/dir.c, store.c): a put commits the sidecars and then the data
 * file, a copy that does not match leaves nothing, a moved source is
 * renamed into place; has, get, list and delete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>

#include "common/hash.h"
#include "storage/dir.h"
#include "storage/store.h"
#include "testutil.h"

#define DATA "the data of a backup\n"

struct fx {
    char *root; /* the store's directory */
    char *src;  /* where the sources are written */
    struct storage_store *st;
    char *in[3]; /* data, .sha256, .json */
    const char *names[3];
    char sha[HASH_SHA256_HEX];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct storage_dir_options o;
    struct err e;
    const char *sfx[3] = {"", ".sha256", ".json"};
    static const char *const names[3] = {"daily/b.gz", "daily/b.gz.sha256", "daily/b.gz.json"};

    f->root = tu_mkdtemp();
    f->src = tu_mkdtemp();
    o.root = f->root;
    err_clear(&e);
    if (storage_dir_store_open(&o, &f->st, &e) < 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        f->in[i] = xasprintf("%s/b.gz%s", f->src, sfx[i]);
        f->names[i] = names[i];
    }
    tu_write(f->in[0], DATA);
    tu_write(f->in[1], "sum\n");
    tu_write(f->in[2], "{}\n");
    hash_sha256_hex(DATA, strlen(DATA), f->sha);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    storage_close(f->st);
    for (int i = 0; i < 3; i++)
        free(f->in[i]);
    tu_rmdir(f->root);
    tu_rmdir(f->src);
    free(f);
    return 0;
}

static char *at(const struct fx *f, const char *name)
{
    return xasprintf("%s/%s", f->root, name);
}

/* How many entries of dir begin with '.' (temporary copies), "." and ".." aside. */
static int hidden(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void mkdaily(const struct fx *f)
{
    char *d = at(f, "daily");
    assert_int_equal(mkdir(d, 0700), 0);
    free(d);
}

static void test_put_commits_and_is_found(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *where = NULL, *p, *d;
    struct stat sb;

    err_clear(&e);
    mkdaily(f);
    CHECK(storage_put(f->st, (const char *const *)f->in, f->names, 3, 0, f->sha,
                      (int64_t)strlen(DATA), &where, &e));
    p = at(f, "daily/b.gz");
    assert_string_equal(where, p);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    for (int i = 1; i < 3; i++) {
        char *s = at(f, f->names[i]);
        assert_true(tu_exists(s));
        free(s);
    }
    assert_true(tu_exists(f->in[0])); /* copied, not moved */
    d = at(f, "daily");
    assert_int_equal(hidden(d), 0);
    assert_int_equal(storage_has(f->st, "daily/b.gz", (int64_t)strlen(DATA)), 1);
    assert_int_equal(storage_has(f->st, "daily/b.gz", 1), 0);
    assert_int_equal(storage_has(f->st, "daily/none.gz", 1), 0);
    assert_string_equal(storage_where(f->st), f->root);
    free(d);
    free(p);
    free(where);
}

static void test_sha_mismatch_leaves_nothing(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *where = NULL, *d = at(f, "daily");
    char **names = NULL;
    int n = -1;

    err_clear(&e);
    mkdaily(f);
    CHECK_ERR(storage_put(f->st, (const char *const *)f->in, f->names, 3, 0,
                          "0000000000000000000000000000000000000000000000000000000000000000",
                          (int64_t)strlen(DATA), &where, &e),
              ERR_BACKUP);
    assert_non_null(strstr(e.msg, "does not match"));
    assert_null(where);
    CHECK(storage_list(f->st, "", &names, &n, &e));
    assert_int_equal(n, 0);
    assert_int_equal(hidden(d), 0);
    storage_list_free(names, n);
    free(d);
}

/*
 * A sidecar that cannot be put (a non-empty directory holds its name): the
 * data file, committed last, is not there, nor the sidecar put before it.
 */
static void test_data_file_is_committed_last(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *where = NULL;
    char *block = at(f, "daily/b.gz.sha256"), *x = at(f, "daily/b.gz.sha256/x");
    char *data = at(f, "daily/b.gz"), *json = at(f, "daily/b.gz.json"), *d = at(f, "daily");

    err_clear(&e);
    mkdaily(f);
    assert_int_equal(mkdir(block, 0700), 0);
    tu_write(x, "x");
    CHECK_ERR(storage_put(f->st, (const char *const *)f->in, f->names, 3, 0, f->sha,
                          (int64_t)strlen(DATA), &where, &e),
              ERR_BACKUP);
    assert_null(where);
    assert_false(tu_exists(data));
    assert_false(tu_exists(json));
    assert_int_equal(hidden(d), 0);
    free(block);
    free(x);
    free(data);
    free(json);
    free(d);
}

static void test_move_renames_the_sources(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *where = NULL;
    char *p = at(f, "daily/b.gz");
    const char *src[3];

    err_clear(&e);
    mkdaily(f);
    /* Sources in the store's directory, as backup_take writes them. */
    for (int i = 0; i < 3; i++) {
        char *tmp = xasprintf("%s/daily/.%s.tmp.%ld", f->root, strchr(f->names[i], '/') + 1,
                              (long)getpid());
        assert_int_equal(rename(f->in[i], tmp), 0);
        free(f->in[i]);
        f->in[i] = tmp;
        src[i] = tmp;
    }
    /* The size is checked. */
    CHECK_ERR(storage_put(f->st, src, f->names, 3, STORAGE_PUT_MOVE, f->sha, 3, &where, &e),
              ERR_BACKUP);
    assert_false(tu_exists(p));
    for (int i = 0; i < 3; i++)
        tu_write(f->in[i], i == 0 ? DATA : "side\n");
    CHECK(storage_put(f->st, src, f->names, 3, STORAGE_PUT_MOVE, f->sha, (int64_t)strlen(DATA),
                      &where, &e));
    assert_string_equal(where, p);
    for (int i = 0; i < 3; i++)
        assert_false(tu_exists(f->in[i]));
    {
        char *got = tu_read(p, NULL);
        assert_string_equal(got, DATA);
        free(got);
    }
    free(where);
    free(p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_list_get_delete(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *where = NULL;
    char **names = NULL;
    int n = 0;
    char sha[HASH_SHA256_HEX];
    uint64_t bytes = 0;
    char *out = xasprintf("%s/out", f->src);
    int fd;

    err_clear(&e);
    mkdaily(f);
    CHECK(storage_put(f->st, (const char *const *)f->in, f->names, 3, 0, f->sha,
                      (int64_t)strlen(DATA), &where, &e));
    {
        char *w = at(f, "weekly");
        char *x = at(f, "weekly/c.gz");
        assert_int_equal(mkdir(w, 0700), 0);
        tu_write(x, "c");
        free(w);
        free(x);
    }
    CHECK(storage_list(f->st, "", &names, &n, &e));
    assert_int_equal(n, 4);
    qsort(names, (size_t)n, sizeof(*names), cmp_str);
    assert_string_equal(names[0], "daily/b.gz");
    assert_string_equal(names[1], "daily/b.gz.json");
    assert_string_equal(names[2], "daily/b.gz.sha256");
    assert_string_equal(names[3], "weekly/c.gz");
    storage_list_free(names, n);
    CHECK(storage_list(f->st, "weekly/", &names, &n, &e));
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "weekly/c.gz");
    storage_list_free(names, n);

    fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    CHECK(storage_get(f->st, "daily/b.gz", fd, sha, &bytes, &e));
    close(fd);
    assert_string_equal(sha, f->sha);
    assert_int_equal(bytes, strlen(DATA));
    {
        char *got = tu_read(out, NULL);
        assert_string_equal(got, DATA);
        free(got);
    }
    CHECK_ERR(storage_get(f->st, "daily/none.gz", -1, sha, NULL, &e), ERR_BACKUP);

    CHECK(storage_delete(f->st, "daily/b.gz", &e));
    CHECK(storage_delete(f->st, "daily/b.gz", &e)); /* already gone: not an error */
    assert_int_equal(storage_has(f->st, "daily/b.gz", (int64_t)strlen(DATA)), 0);
    CHECK(storage_list(f->st, "daily/", &names, &n, &e));
    assert_int_equal(n, 2);
    storage_list_free(names, n);
    free(where);
    free(out);
}

static void test_open_refuses_an_empty_root(void **state)
{
    struct storage_dir_options o = {.root = ""};
    struct storage_store *st = NULL;
    struct err e;

    (void)state;
    err_clear(&e);
    CHECK_ERR(storage_dir_store_open(&o, &st, &e), ERR_CONFIG);
    assert_null(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_commits_and_is_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sha_mismatch_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_file_is_committed_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_renames_the_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_get_delete, setup, teardown),
        cmocka_unit_test(test_open_refuses_an_empty_root),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
