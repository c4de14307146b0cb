/*
 * stream_test — the gzip + SHA-256 streaming writer (src/backup/stream.c):
 * whatever the threads, block size and way of feeding it, the file is
 * standard gzip that zlib reads back byte for byte, its SHA-256 is the
 * reported one, and a full disk is reported as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>

#include "backup/stream.h"
#include "testutil.h"

/* Text-like, compressible, deterministic input of n bytes. */
static unsigned char *make_input(size_t n, unsigned seed)
{
    static const char *const words[] = {
        "INSERT", "appointment", "Bella", "Vita", "2025-01-09",          "CONFIRMED", "\t",
        "\n",     "Isabella",    "1200",  "-- ",  "COPY public.clients", "\\N"};
    unsigned char *p = xmalloc(n + 1);
    size_t i = 0;

    while (i < n) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];
        if ((seed >> 8) % 7 == 0) {
            p[i++] = (unsigned char)(seed >> 3); /* some noise */
            continue;
        }
        for (const char *c = w; *c != '\0' && i < n; c++)
            p[i++] = (unsigned char)*c;
    }
    return p;
}

static void sha256_hex(const unsigned char *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Feed input in uneven pieces, through write() or the zero-copy buffer. */
static void run_case(int threads, size_t block, size_t n, bool zero_copy)
{
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/out.gz", dir);
    unsigned char *in = make_input(n, (unsigned)(threads * 31 + block + n));
    struct backup_stream *s = NULL;
    struct backup_stream_stats st;
    struct err e;
    size_t off = 0, piece = 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

    err_clear(&e);
    assert_true(fd >= 0);
    assert_int_equal(backup_stream_new(fd, path, 6, threads, block, &s, &e), 0);
    while (off < n) {
        size_t k = piece < n - off ? piece : n - off;
        if (zero_copy) {
            void *p;
            size_t avail;
            assert_int_equal(backup_stream_buffer(s, &p, &avail, &e), 0);
            assert_true(avail > 0);
            if (k > avail)
                k = avail;
            memcpy(p, in + off, k);
            assert_int_equal(backup_stream_commit(s, k, &e), 0);
        } else {
            assert_int_equal(backup_stream_write(s, in + off, k, &e), 0);
        }
        off += k;
        piece = piece * 3 + 7; /* 1, 10, 37, …: crosses block edges at odd places */
        if (piece > 3 * block)
            piece = 1;
    }
    assert_int_equal(backup_stream_finish(s, &st, &e), 0);
    backup_stream_free(s);
    close(fd);

    size_t gzlen = 0, outlen = 0;
    unsigned char *gz = (unsigned char *)tu_read(path, &gzlen);
    char want[65];
    sha256_hex(gz, gzlen, want);
    assert_string_equal(st.sha256, want);
    assert_int_equal(st.gz_bytes, gzlen);
    assert_int_equal(st.raw_bytes, n);
    assert_true(gzlen >= 18);
    assert_int_equal(gz[0], 0x1f);
    assert_int_equal(gz[1], 0x8b);
    unsigned char *out = tu_gunzip(path, &outlen);
    assert_int_equal(outlen, n);
    assert_memory_equal(out, in, n);
    if (n > 100000)
        assert_true(gzlen < n / 2); /* it did compress */
    free(out);
    free(gz);
    free(in);
    free(path);
    tu_rmdir(dir);
}

static void test_inline(void **state)
{
    (void)state;
    run_case(0, 4096, 100000, false);
    run_case(0, 65536, 300000, true);
}

static void test_threads(void **state)
{
    (void)state;
    run_case(1, 4096, 200000, false);
    run_case(3, 4096, 500000, true);
    run_case(4, 1 << 20, 3 * (1 << 20) + 12345, false);
    /* Exactly a whole number of blocks. */
    run_case(2, 8192, 8192 * 20, true);
}

static void test_small_and_empty(void **state)
{
    (void)state;
    run_case(2, 4096, 1, false);
    run_case(2, 4096, 0, false);
    run_case(0, 4096, 0, true);
}

static void test_disk_full(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY);
    struct backup_stream *s = NULL;
    struct backup_stream_stats st;
    struct err e;
    unsigned char *in = make_input(1 << 20, 7);
    int rc = 0;

    err_clear(&e);
    assert_true(fd >= 0);
    assert_int_equal(backup_stream_new(fd, "/dev/full", 6, 2, 65536, &s, &e), 0);
    rc = backup_stream_write(s, in, 1 << 20, &e);
    if (rc == 0)
        rc = backup_stream_finish(s, &st, &e);
    assert_int_equal(rc, -ERR_NO_SPACE);
    assert_non_null(strstr(e.msg, "/dev/full"));
    /* Only free is allowed after a failure, and it must not hang or leak. */
    assert_int_not_equal(backup_stream_finish(s, &st, &e), 0);
    backup_stream_free(s);
    close(fd);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_small_and_empty),
        cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
