/*
 * seal_test — sealing small secrets under a key file (src/common/seal.c):
 * the round trip, what does not open (another key, another AAD, a
 * truncated or altered value, an unknown version), the key file's creation
 * (32 bytes, 0600, kept once made) and its clear errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/seal.h"
#include "common/util.h"
#include "testutil.h"

static const unsigned char key1[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[SEAL_KEY_LEN] = "fedcba9876543210fedcba9876543210";

static void assert_no_open(const unsigned char *key, const char *aad, const char *sealed)
{
    char *plain = (char *)"untouched";
    assert_int_equal(seal_open(key, aad, sealed, &plain), -1);
    assert_null(plain);
}

static void test_round_trip_and_format(void **state)
{
    char *a = seal_text(key1, "t=1:col", "EAAG-secret-token");
    char *b = seal_text(key1, "t=1:col", "EAAG-secret-token");
    char *plain = NULL;

    assert_true(seal_is_sealed(a));
    assert_non_null(strchr(a + 3, ':'));
    assert_null(strstr(a, "secret"));
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    assert_int_equal(seal_open(key1, "t=1:col", a, &plain), 0);
    assert_string_equal(plain, "EAAG-secret-token");
    free(plain);
    char *empty = seal_text(key1, "x", "");
    assert_int_equal(seal_open(key1, "x", empty, &plain), 0);
    assert_string_equal(plain, "");
    free(plain);
    assert_false(seal_is_sealed("EAAG-plain"));
    assert_false(seal_is_sealed(NULL));
    free(a), free(b), free(empty);
}

static void test_what_does_not_open(void **state)
{
    char *s = seal_text(key1, "tenant=1:whatsapp_token", "abc123");
    char *bad;
    size_t n = strlen(s);

    assert_no_open(key2, "tenant=1:whatsapp_token", s);    /* another key */
    assert_no_open(key1, "tenant=2:whatsapp_token", s);    /* another tenant */
    assert_no_open(key1, "tenant=1:twilio_auth_token", s); /* another column */
    for (size_t cut = 0; cut < n; cut++) {                 /* every truncation */
        bad = xstrndup(s, cut);
        assert_no_open(key1, "tenant=1:whatsapp_token", bad);
        free(bad);
    }
    bad = xstrdup(s); /* one character of the ciphertext changed */
    bad[n - 6] = bad[n - 6] == 'A' ? 'B' : 'A';
    assert_no_open(key1, "tenant=1:whatsapp_token", bad);
    free(bad);
    bad = xstrdup(s); /* an unknown version */
    bad[1] = '2';
    assert_no_open(key1, "tenant=1:whatsapp_token", bad);
    free(bad);
    assert_no_open(key1, "x", "v1:");
    assert_no_open(key1, "x", "v1::");
    assert_no_open(key1, "x", "v1:AAAAAAAAAAAAAAAA:");
    assert_no_open(key1, "x", "v1:not base64!:zzzz");
    assert_no_open(key1, "x", "plaintext");
    free(s);
}

static void test_key_file(void **state)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/keys/secrets.key", dir);
    unsigned char k[SEAL_KEY_LEN], again[SEAL_KEY_LEN];
    struct stat st;
    struct err e;
    FILE *f;

    err_clear(&e);
    assert_int_equal(seal_key_load(path, false, k, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(stat(path, &st), -1); /* not made without create */
    err_clear(&e);
    assert_int_equal(seal_key_load(path, true, k, &e), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, SEAL_KEY_LEN);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(seal_key_load(path, true, again, &e), 0); /* kept, not made again */
    assert_memory_equal(k, again, SEAL_KEY_LEN);
    f = fopen(path, "w");
    fputs("too short", f);
    fclose(f);
    err_clear(&e);
    assert_int_equal(seal_key_load(path, true, k, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "32 bytes"));
    free(path);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_format),
        cmocka_unit_test(test_what_does_not_open),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
