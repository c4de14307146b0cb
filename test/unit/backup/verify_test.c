/*
 * verify_test — the one-pass reader of src/backup/verify.c
 * (backup_scan_file): it hands the sink exactly the original bytes, hashes
 * the whole file, checks every member, takes members of any size (the
 * libdeflate path and the zlib fallback), and names truncation, a bad CRC, a
 * bad length, trailing garbage and a non-gzip file; and backup_verify_file on
 * a backup written by the real writer, then damaged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libdeflate.h>
#include <openssl/evp.h>

#include "backup/layout.h"
#include "backup/manifest.h"
#include "db/db_backup.h"
#include "backup/scan.h"
#include "backup/verify.h"
#include "testutil.h"

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Deterministic, compressible text. */
static unsigned char *make_text(size_t n, unsigned seed)
{
    unsigned char *p = xmalloc(n + 1);

    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (seed >> 16) % 11 == 0 ? '\n' : (unsigned char)('a' + (seed >> 20) % 26);
    }
    return p;
}

/* gzip members of `block` input bytes each, concatenated; caller frees. */
static unsigned char *gzip_members(const unsigned char *in, size_t n, size_t block, size_t *out_len)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    struct buf b = BUF_INIT;

    for (size_t off = 0; off < n || (n == 0 && off == 0); off += block) {
        size_t k = n - off < block ? n - off : block;
        size_t cap = libdeflate_gzip_compress_bound(c, k);
        unsigned char *o = xmalloc(cap);
        size_t w = libdeflate_gzip_compress(c, in + off, k, o, cap);
        assert_true(w > 0);
        buf_add(&b, o, w);
        free(o);
        if (n == 0)
            break;
    }
    libdeflate_free_compressor(c);
    *out_len = b.len;
    return (unsigned char *)buf_detach(&b);
}

static void write_bin(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* A sink that hashes what it receives. */
struct collect {
    EVP_MD_CTX *sha;
    uint64_t n;
};

static int collect_sink(void *arg, const void *p, size_t n, struct err *e)
{
    struct collect *c = arg;
    (void)e;
    EVP_DigestUpdate(c->sha, p, n);
    c->n += n;
    return 0;
}

static void collect_hex(struct collect *c, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(c->sha, md, &len);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Scan data (written to a file) and return the scan; *out_sha: the sink's bytes' hash. */
static void scan_bytes(const void *data, size_t n, struct backup_scan *s, char out_sha[65])
{
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/f.gz", dir);
    struct collect c = {EVP_MD_CTX_new(), 0};
    struct err e;

    err_clear(&e);
    write_bin(path, data, n);
    EVP_DigestInit_ex(c.sha, EVP_sha256(), NULL);
    assert_int_equal(backup_scan_file(path, collect_sink, &c, NULL, NULL, NULL, s, &e), 0);
    collect_hex(&c, out_sha);
    assert_int_equal(c.n, s->raw_bytes);
    EVP_MD_CTX_free(c.sha);
    free(path);
    tu_rmdir(dir);
}

static void round_trip(size_t n, size_t block)
{
    unsigned char *in = make_text(n, (unsigned)(n + block));
    size_t gz_len;
    unsigned char *gz = gzip_members(in, n, block, &gz_len);
    struct backup_scan s;
    char want[65], got[65], file_sha[65];

    scan_bytes(gz, gz_len, &s, got);
    sha256_hex(in, n, want);
    sha256_hex(gz, gz_len, file_sha);
    assert_true(s.gzip_ok);
    assert_string_equal(got, want);
    assert_string_equal(s.sha256, file_sha);
    assert_int_equal(s.gz_bytes, gz_len);
    assert_int_equal(s.raw_bytes, n);
    assert_int_equal(s.members, n == 0 ? 1 : (int)((n + block - 1) / block));
    free(in);
    free(gz);
}

static void test_members_of_every_size(void **state)
{
    (void)state;
    round_trip(0, 1 << 20);               /* one empty member */
    round_trip(1000, 1 << 20);            /* one small member */
    round_trip(5 << 20, 1 << 20);         /* our writer's shape: 1 MiB members */
    round_trip(3 << 20, 100 << 10);       /* many small members */
    round_trip(9 << 20, 9 << 20);         /* one member larger than the first buffers */
    round_trip((40 << 20) + 7, 40 << 20); /* larger than every buffer: zlib streams it */
}

/* The scan's gzip verdict on damaged bytes; the hash still covers the whole file. */
static void expect_damage(const unsigned char *data, size_t n, const char *words)
{
    struct backup_scan s;
    char got[65], file_sha[65];

    scan_bytes(data, n, &s, got);
    sha256_hex(data, n, file_sha);
    assert_false(s.gzip_ok);
    assert_string_equal(s.sha256, file_sha);
    assert_int_equal(s.gz_bytes, n);
    if (strstr(s.gzip_error, words) == NULL)
        fail_msg("'%s' does not say '%s'", s.gzip_error, words);
}

static void test_damage_is_named(void **state)
{
    size_t n = 3 << 20, gz_len;
    unsigned char *in = make_text(n, 7);
    unsigned char *gz = gzip_members(in, n, 1 << 20, &gz_len);
    unsigned char *bad = xmalloc(gz_len + 64);

    (void)state;
    /* Cut short at several points. */
    size_t cuts[] = {1, 10, gz_len / 3, gz_len / 2, gz_len - 8, gz_len - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        expect_damage(gz, cuts[i], "truncated");
    /* A wrong CRC-32, then a wrong length, in the last member's trailer. */
    memcpy(bad, gz, gz_len);
    bad[gz_len - 6] ^= 0x01;
    expect_damage(bad, gz_len, "incorrect data check");
    memcpy(bad, gz, gz_len);
    bad[gz_len - 2] ^= 0x01;
    expect_damage(bad, gz_len, "incorrect length check");
    /* A flipped bit in the middle. */
    memcpy(bad, gz, gz_len);
    bad[gz_len / 2] ^= 0x40;
    expect_damage(bad, gz_len, "corrupt");
    /* Bytes after the last member. */
    memcpy(bad, gz, gz_len);
    memcpy(bad + gz_len, "garbage", 7);
    expect_damage(bad, gz_len + 7, "trailing garbage");
    memset(bad + gz_len, 0, 64);
    expect_damage(bad, gz_len + 64, "trailing garbage");
    /* Not gzip at all, and nothing at all. */
    expect_damage(in, 4096, "not a gzip file");
    expect_damage(in, 0, "empty file");
    free(in);
    free(gz);
    free(bad);
}

/* A sink's error stops the scan and is returned as is. */
static int failing_sink(void *arg, const void *p, size_t n, struct err *e)
{
    (void)arg, (void)p, (void)n;
    return err_set(e, ERR_BACKUP, "sink says no");
}

static void test_sink_error_stops_the_scan(void **state)
{
    size_t gz_len;
    unsigned char *in = make_text(1000, 3);
    unsigned char *gz = gzip_members(in, 1000, 1 << 20, &gz_len);
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/f.gz", dir);
    struct backup_scan s;
    struct err e;

    (void)state;
    err_clear(&e);
    write_bin(path, gz, gz_len);
    assert_int_equal(backup_scan_file(path, failing_sink, NULL, NULL, NULL, NULL, &s, &e),
                     -ERR_BACKUP);
    assert_string_equal(e.msg, "sink says no");
    /* A missing file is a verification failure naming it. */
    err_clear(&e);
    assert_int_equal(backup_scan_file("/nonexistent/x.gz", NULL, NULL, NULL, NULL, NULL, &s, &e),
                     -ERR_VERIFY);
    assert_non_null(strstr(e.msg, "/nonexistent/x.gz"));
    free(in);
    free(gz);
    free(path);
    tu_rmdir(dir);
}

/* A fake PostgreSQL backup in the real layout: data, .sha256, .json. */
static char *write_sql_backup(const char *dir, const char *sql)
{
    char *path = xasprintf("%s/citaplanner_daily_20250109_020000.sql.gz", dir);
    size_t gz_len;
    unsigned char *gz = gzip_members((const unsigned char *)sql, strlen(sql), 1 << 20, &gz_len);
    char sha[65];
    struct db_snapshot_stats st;
    struct backup_manifest_in mi;
    char *side, *text, *mp, *line;

    memset(&st, 0, sizeof(st));
    snprintf(st.server_version, sizeof(st.server_version), "PostgreSQL 15.20");
    sha256_hex(gz, gz_len, sha);
    write_bin(path, gz, gz_len);
    side = xasprintf("%s.sha256", path);
    line = xasprintf("%s  citaplanner_daily_20250109_020000.sql.gz\n", sha);
    tu_write(side, line);
    memset(&mi, 0, sizeof(mi));
    mi.file = "citaplanner_daily_20250109_020000.sql.gz";
    mi.tier = BACKUP_DAILY;
    mi.tiers = 1u << BACKUP_DAILY;
    mi.kind = DB_PG;
    mi.stats = &st;
    mi.raw_bytes = strlen(sql);
    mi.gz_bytes = gz_len;
    mi.sha256 = sha;
    text = backup_manifest_render(&mi);
    mp = xasprintf("%s.json", path);
    tu_write(mp, text);
    free(gz);
    free(side);
    free(line);
    free(text);
    free(mp);
    return path;
}

static int verify_path(const char *path, struct err *e)
{
    struct backup_verify_opts o;
    struct backup_verify_result r;
    int rc;

    memset(&o, 0, sizeof(o));
    err_clear(e);
    rc = backup_verify_file(&o, path, &r, e);
    backup_verify_result_release(&r);
    return rc;
}

static void test_verify_file_content_and_sidecars(void **state)
{
    char *dir = tu_mkdtemp();
    char *path;
    struct err e;
    const char *good = "--\n-- PostgreSQL database dump\n--\n\nSET x = 1;\n\n--\n-- PostgreSQL "
                       "database dump complete\n--\n\n";

    (void)state;
    path = write_sql_backup(dir, good);
    assert_int_equal(verify_path(path, &e), 0);
    free(path);

    /* Re-hashed, with a manifest that agrees: only the content check catches it. */
    path = write_sql_backup(dir, "--\n-- PostgreSQL database dump\n--\n\nSET x = 1;\n");
    assert_int_equal(verify_path(path, &e), -ERR_VERIFY);
    assert_non_null(strstr(e.msg, "closing line"));
    free(path);
    path = write_sql_backup(dir, "hello\n-- PostgreSQL database dump complete\n");
    assert_int_equal(verify_path(path, &e), -ERR_VERIFY);
    assert_non_null(strstr(e.msg, "not a PostgreSQL dump"));
    free(path);

    /* A sidecar naming another file, then a manifest with another size: both reported. */
    path = write_sql_backup(dir, good);
    {
        char *side = xasprintf("%s.sha256", path);
        size_t n;
        char *text = tu_read(side, &n);
        char *other = xasprintf("%.64s  other.sql.gz\n", text);
        tu_write(side, other);
        free(text);
        free(other);
        free(side);
        char *mp = xasprintf("%s.json", path);
        text = tu_read(mp, &n);
        char *p = strstr(text, "\"compressed\": ");
        assert_non_null(p);
        p[14] = p[14] == '9' ? '8' : '9';
        tu_write(mp, text);
        free(text);
        free(mp);
    }
    assert_int_equal(verify_path(path, &e), -ERR_VERIFY);
    assert_non_null(strstr(e.msg, "names 'other.sql.gz'"));
    assert_non_null(strstr(e.msg, "size mismatch"));
    free(path);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_of_every_size),
        cmocka_unit_test(test_damage_is_named),
        cmocka_unit_test(test_sink_error_stops_the_scan),
        cmocka_unit_test(test_verify_file_content_and_sidecars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
