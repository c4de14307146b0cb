/*
 * url_test — DATABASE_URL parsing and redaction (src/common/url.c).
 *
 * Every case carries the secret it hides; whatever the outcome, neither the
 * redacted form nor the error message may contain it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/url.h"

struct ok_case {
    const char *in;
    enum url_kind kind;
    const char *user, *password, *host;
    int port;
    const char *dbname, *path;
    const char *redacted;
    size_t nparams;
    const char *secret; /* must appear nowhere in the redacted form */
};

static const struct ok_case ok_cases[] = {
    {"postgresql://citaplanner:s3cretPW@db:5432/citaplanner", URL_POSTGRES, "citaplanner",
     "s3cretPW", "db", 5432, "citaplanner", NULL,
     "postgresql://citaplanner:***@db:5432/citaplanner", 0, "s3cretPW"},
    /* postgres:// alias, default port, canonical scheme in the redacted form */
    {"postgres://u:hunter2@h/db", URL_POSTGRES, "u", "hunter2", "h", 5432, "db", NULL,
     "postgresql://u:***@h:5432/db", 0, "hunter2"},
    {"POSTGRESQL://u:hunter2@h/db", URL_POSTGRES, "u", "hunter2", "h", 5432, "db", NULL,
     "postgresql://u:***@h:5432/db", 0, "hunter2"},
    /* every special character, encoded, in the password */
    {"postgresql://u:p%40ss%3Aw%2Frd%25%3F%23x@h:6000/db", URL_POSTGRES, "u", "p@ss:w/rd%?#x", "h",
     6000, "db", NULL, "postgresql://u:***@h:6000/db", 0, "p@ss"},
    /* the throwaway server's password, as scripts/pg-throwaway.sh encodes it */
    {"postgresql://citaplanner_test:T3st%20p%40ss%3Aw%2Frd%25@127.0.0.1:41234/postgres",
     URL_POSTGRES, "citaplanner_test", "T3st p@ss:w/rd%", "127.0.0.1", 41234, "postgres", NULL,
     "postgresql://citaplanner_test:***@127.0.0.1:41234/postgres", 0, "T3st"},
    /* encoded characters in the user: re-encoded in the redacted form */
    {"postgresql://us%40er%3A1:pw9Secret@h/db", URL_POSTGRES, "us@er:1", "pw9Secret", "h", 5432,
     "db", NULL, "postgresql://us%40er%3A1:***@h:5432/db", 0, "pw9Secret"},
    /* raw (unencoded) '@', '/', '?', '#', ':' in the password: the last '@' ends it */
    {"postgresql://u:p@ss@h/db", URL_POSTGRES, "u", "p@ss", "h", 5432, "db", NULL,
     "postgresql://u:***@h:5432/db", 0, "p@ss"},
    {"postgresql://u:a/b?c#d:eSECRET@h/db", URL_POSTGRES, "u", "a/b?c#d:eSECRET", "h", 5432, "db",
     NULL, "postgresql://u:***@h:5432/db", 0, "eSECRET"},
    /* empty password: present, shown as *** all the same */
    {"postgresql://u:@h/db", URL_POSTGRES, "u", "", "h", 5432, "db", NULL,
     "postgresql://u:***@h:5432/db", 0, NULL},
    /* user without password, no user at all */
    {"postgresql://alice@h/db", URL_POSTGRES, "alice", NULL, "h", 5432, "db", NULL,
     "postgresql://alice@h:5432/db", 0, NULL},
    {"postgresql://h:6543/db", URL_POSTGRES, NULL, NULL, "h", 6543, "db", NULL,
     "postgresql://h:6543/db", 0, NULL},
    /* password without user */
    {"postgresql://:onlyPW@h/db", URL_POSTGRES, NULL, "onlyPW", "h", 5432, "db", NULL,
     "postgresql://:***@h:5432/db", 0, "onlyPW"},
    /* IPv6 with and without a port */
    {"postgresql://u:v6secret@[::1]:5433/db", URL_POSTGRES, "u", "v6secret", "::1", 5433, "db",
     NULL, "postgresql://u:***@[::1]:5433/db", 0, "v6secret"},
    {"postgresql://[2001:db8::1]/db", URL_POSTGRES, NULL, NULL, "2001:db8::1", 5432, "db", NULL,
     "postgresql://[2001:db8::1]:5432/db", 0, NULL},
    /* port bounds */
    {"postgresql://h:1/db", URL_POSTGRES, NULL, NULL, "h", 1, "db", NULL, "postgresql://h:1/db", 0,
     NULL},
    {"postgresql://h:65535/db", URL_POSTGRES, NULL, NULL, "h", 65535, "db", NULL,
     "postgresql://h:65535/db", 0, NULL},
    /* no host (Unix socket), no database, a socket directory as host */
    {"postgresql:///db", URL_POSTGRES, NULL, NULL, NULL, 5432, "db", NULL, "postgresql:///db", 0,
     NULL},
    {"postgresql://u:pw5@h:5432/", URL_POSTGRES, "u", "pw5", "h", 5432, NULL, NULL,
     "postgresql://u:***@h:5432/", 0, "pw5"},
    {"postgresql://h", URL_POSTGRES, NULL, NULL, "h", 5432, NULL, NULL, "postgresql://h:5432/", 0,
     NULL},
    {"postgresql://u@%2Fvar%2Frun%2Fpostgresql/db", URL_POSTGRES, "u", NULL, "/var/run/postgresql",
     5432, "db", NULL, "postgresql://u@%2Fvar%2Frun%2Fpostgresql:5432/db", 0, NULL},
    /* an encoded database name */
    {"postgresql://h/my%20db", URL_POSTGRES, NULL, NULL, "h", 5432, "my db", NULL,
     "postgresql://h:5432/my%20db", 0, NULL},
    /* query parameters, decoded; secret ones hidden */
    {"postgresql://u:qpSecret@h/db?sslmode=require&application_name=my%20app&connect_timeout=5",
     URL_POSTGRES, "u", "qpSecret", "h", 5432, "db", NULL,
     "postgresql://u:***@h:5432/db?sslmode=require&application_name=my%20app&connect_timeout=5", 3,
     "qpSecret"},
    {"postgresql://h/db?sslpassword=keyPass1&sslmode=verify-full&", URL_POSTGRES, NULL, NULL, "h",
     5432, "db", NULL, "postgresql://h:5432/db?sslpassword=***&sslmode=verify-full", 2, "keyPass1"},
    /* SQLite: relative, absolute, triple slash, encoded */
    {"sqlite:data/citaplanner.db", URL_SQLITE, NULL, NULL, NULL, 5432, NULL, "data/citaplanner.db",
     "sqlite:data/citaplanner.db", 0, NULL},
    {"sqlite:/var/lib/citaplanner/x.db", URL_SQLITE, NULL, NULL, NULL, 5432, NULL,
     "/var/lib/citaplanner/x.db", "sqlite:/var/lib/citaplanner/x.db", 0, NULL},
    {"sqlite:///var/lib/x.db", URL_SQLITE, NULL, NULL, NULL, 5432, NULL, "/var/lib/x.db",
     "sqlite:///var/lib/x.db", 0, NULL},
    {"sqlite:my%20data%25.db", URL_SQLITE, NULL, NULL, NULL, 5432, NULL, "my data%.db",
     "sqlite:my%20data%25.db", 0, NULL},
    {"sqlite:x.db", URL_SQLITE, NULL, NULL, NULL, 5432, NULL, "x.db", "sqlite:x.db", 0, NULL},
};

static void assert_str_or_null(const char *want, const char *got, const char *in)
{
    if (want == NULL) {
        if (got != NULL)
            fail_msg("'%s': expected NULL, got '%s'", in, got);
    } else {
        if (got == NULL)
            fail_msg("'%s': expected '%s', got NULL", in, want);
        if (strcmp(want, got) != 0)
            fail_msg("'%s': expected '%s', got '%s'", in, want, got);
    }
}

static void test_valid(void **state)
{
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        const struct ok_case *c = &ok_cases[i];
        struct url u;
        struct err e;
        err_clear(&e);
        if (url_parse(c->in, &u, &e) != 0)
            fail_msg("'%s' rejected: %s", c->in, e.msg);
        assert_int_equal(e.code, ERR_OK);
        assert_int_equal(u.kind, c->kind);
        assert_str_or_null(c->user, u.user, c->in);
        assert_str_or_null(c->password, u.password, c->in);
        assert_str_or_null(c->host, u.host, c->in);
        if (c->kind == URL_POSTGRES)
            assert_int_equal(u.port, c->port);
        assert_str_or_null(c->dbname, u.dbname, c->in);
        assert_str_or_null(c->path, u.path, c->in);
        assert_str_or_null(c->redacted, url_redacted(&u), c->in);
        assert_int_equal(u.nparams, c->nparams);
        if (c->secret != NULL && strstr(url_redacted(&u), c->secret) != NULL)
            fail_msg("'%s': redacted form leaks the password", c->in);
        url_release(&u);
        assert_null(u.password);
    }
}

static void test_params_decoded(void **state)
{
    struct url u;
    struct err e;
    assert_int_equal(
        url_parse("postgresql://h/db?application_name=a%26b%3Dc&sslmode=disable", &u, &e), 0);
    assert_int_equal(u.nparams, 2);
    assert_string_equal(u.params[0].key, "application_name");
    assert_string_equal(u.params[0].value, "a&b=c");
    assert_string_equal(u.params[1].key, "sslmode");
    assert_string_equal(u.params[1].value, "disable");
    url_release(&u);
}

/* The redacted form is itself a valid URL naming the same server. */
static void test_redacted_reparses(void **state)
{
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        struct url u, v;
        struct err e;
        assert_int_equal(url_parse(ok_cases[i].in, &u, &e), 0);
        if (url_parse(url_redacted(&u), &v, &e) != 0)
            fail_msg("redacted '%s' does not parse: %s", url_redacted(&u), e.msg);
        assert_int_equal(v.kind, u.kind);
        assert_str_or_null(u.user, v.user, ok_cases[i].in);
        assert_str_or_null(u.host, v.host, ok_cases[i].in);
        assert_str_or_null(u.dbname, v.dbname, ok_cases[i].in);
        assert_str_or_null(u.path, v.path, ok_cases[i].in);
        assert_int_equal(u.port, v.port);
        if (u.password != NULL)
            assert_string_equal(v.password, "***");
        assert_string_equal(url_redacted(&v), url_redacted(&u));
        url_release(&u);
        url_release(&v);
    }
}

struct bad_case {
    const char *in;
    const char *secret; /* must not appear in the message */
    const char *reason; /* must appear in the message */
};

static const struct bad_case bad_cases[] = {
    /* ports */
    {"postgresql://u:Pw0rdA@h:0/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:65536/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:99999/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:abc/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:5432x/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:-5/db", "Pw0rdA", "port must be 1-65535"},
    {"postgresql://u:Pw0rdA@h:0005432/db", "Pw0rdA", "port must be 1-65535"},
    /* trailing garbage */
    {"postgresql://u:Pw0rdA@h/db/extra", "Pw0rdA", "must not contain '/'"},
    {"postgresql://u:Pw0rdA@h/db#frag", "Pw0rdA", "%23"},
    {"postgresql://u:Pw0rdA@h st/db", "Pw0rdA", "invalid character in the host"},
    {"postgresql://u:Pw0rdA@h1,h2/db", "Pw0rdA", "several hosts"},
    /* IPv6 */
    {"postgresql://u:Pw0rdA@::1/db", "Pw0rdA", "brackets"},
    {"postgresql://u:Pw0rdA@[::1/db", "Pw0rdA", "unterminated '['"},
    {"postgresql://u:Pw0rdA@[::1]x/db", "Pw0rdA", "after the IPv6"},
    {"postgresql://u:Pw0rdA@[nothex]/db", "Pw0rdA", "invalid IPv6"},
    {"postgresql://u:Pw0rdA@[::1]:0/db", "Pw0rdA", "port must be 1-65535"},
    /* percent escapes and NUL bytes, in every part */
    {"postgresql://u:Pw%zzSecret@h/db", "Secret", "malformed percent-escape in the password"},
    {"postgresql://u:PwSecret%4@h/db", "Secret", "malformed percent-escape in the password"},
    {"postgresql://u:PwSecret%@h/db", "Secret", "malformed percent-escape in the password"},
    {"postgresql://u:Pw%00Secret@h/db", "Secret", "password holds an encoded NUL"},
    {"postgresql://u%zz:PwSecret@h/db", "PwSecret", "malformed percent-escape in the user"},
    {"postgresql://u%00x:PwSecret@h/db", "PwSecret", "user holds an encoded NUL"},
    {"postgresql://u:PwSecret@h/d%0", "PwSecret", "malformed percent-escape in the database"},
    {"postgresql://u:PwSecret@h/d%00b", "PwSecret", "database name holds an encoded NUL"},
    {"postgresql://u:PwSecret@h%G1/db", "PwSecret", "malformed percent-escape in the host"},
    {"postgresql://u:PwSecret@h/db?sslmode=%zz", "PwSecret", "value of query parameter 'sslmode'"},
    /* query parameters */
    {"postgresql://u:PwSecret@h/db?SSLMODE=require", "PwSecret", "[a-z_]"},
    {"postgresql://u:PwSecret@h/db?ssl-mode=require", "PwSecret", "[a-z_]"},
    {"postgresql://u:PwSecret@h/db?=require", "PwSecret", "[a-z_]"},
    {"postgresql://u:PwSecret@h/db?sslmode", "PwSecret", "'sslmode' has no value"},
    {"postgresql://u:PwSecret@h/db?sslmode=", "PwSecret", "'sslmode' has no value"},
    {"postgresql://u:PwSecret@h/db?sslmode=a&sslmode=b", "PwSecret", "given twice"},
    {"postgresql://h/db?password=QuerySecret", "QuerySecret", "'password' is not accepted"},
    {"postgresql://h/db?host=other", "QuerySecret", "'host' is not accepted"},
    {"postgresql://h/db?dbname=other", "QuerySecret", "'dbname' is not accepted"},
    {"postgresql://h/db?sslpassword=SslSecret&x-y=1", "SslSecret", "[a-z_]"},
    /* a raw '@' after the password (here in a query value): the message still hides
     * the password and every secret query value, wherever they are */
    {"postgresql://u:pw@db/x?application_name=ops@host1&sslpassword=SslAfterAt", "SslAfterAt",
     "invalid character in the host"},
    {"postgresql://u:PwBeforeAt@db/x?application_name=ops@host1&sslpassword=S", "PwBeforeAt",
     "invalid character in the host"},
    {"postgresql://h/db?application_name=a@b&SSLPASSWORD=UpperSecret", "UpperSecret",
     "DATABASE_URL"},
    /* a raw '/' in the password makes the URL ambiguous only in the dbname */
    {"postgresql://u:5432/Tail@h/db/x", "Tail", "must not contain '/'"},
    /* schemes */
    {"mysql://u:MySecret@h/db", "MySecret", "unsupported scheme 'mysql'"},
    {"http://u:MySecret@h/db", "MySecret", "unsupported scheme 'http'"},
    {"postgresql:/h/db", "MySecret", "unsupported scheme 'postgresql'"},
    {"u:MySecret@h/db", "MySecret", "accepted forms"},
    {"data/citaplanner.db", "MySecret", "no scheme"},
    {"", "MySecret", "empty"},
    /* SQLite */
    {"sqlite:", "MySecret", "SQLite path is empty"},
    {"sqlite:///", "MySecret", "directory"},
    {"sqlite://relative/x.db", "MySecret", "ambiguous"},
    {"sqlite://", "MySecret", "ambiguous"},
    {"sqlite:x.db?mode=ro", "MySecret", "not supported"},
    {"sqlite:x%zz.db", "MySecret", "malformed percent-escape in the SQLite path"},
    {"sqlite:x%00.db", "MySecret", "encoded NUL"},
};

static void test_invalid(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct url u;
        struct err e;
        err_clear(&e);
        int rc = url_parse(c->in, &u, &e);
        if (rc != -ERR_CONFIG)
            fail_msg("'%s': expected -ERR_CONFIG, got %d", c->in, rc);
        assert_int_equal(e.code, ERR_CONFIG);
        if (strncmp(e.msg, "invalid DATABASE_URL '", 22) != 0)
            fail_msg("'%s': message does not name DATABASE_URL: %s", c->in, e.msg);
        if (strstr(e.msg, c->reason) == NULL)
            fail_msg("'%s': message lacks '%s': %s", c->in, c->reason, e.msg);
        if (strstr(e.msg, c->secret) != NULL)
            fail_msg("'%s': message leaks the secret: %s", c->in, e.msg);
        url_release(&u);
    }
}

/* The exact message of the brief's example: redacted by position, before parsing. */
static void test_error_message_exact(void **state)
{
    struct url u;
    struct err e;
    assert_int_equal(url_parse("postgresql://u:S3cr%40t@h:99999/db", &u, &e), -ERR_CONFIG);
    assert_string_equal(e.msg, "invalid DATABASE_URL 'postgresql://u:***@h:99999/db': port must be "
                               "1-65535");
    url_release(&u);

    assert_int_equal(url_parse("mysql://root:Hidden@db/app", &u, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "'mysql://root:***@db/app'"));
    assert_non_null(strstr(e.msg, "postgresql://"));
    assert_non_null(strstr(e.msg, "sqlite:PATH"));
    assert_non_null(strstr(e.msg, "sqlite:///ABS/PATH"));
    url_release(&u);
}

/* Control characters in the input never break the one-line message. */
static void test_error_one_line(void **state)
{
    struct url u;
    struct err e;
    assert_int_equal(url_parse("postgresql://u:p\nw@h:0/d\rb", &u, &e), -ERR_CONFIG);
    assert_null(strchr(e.msg, '\n'));
    assert_null(strchr(e.msg, '\r'));
    url_release(&u);
}

static void test_copy(void **state)
{
    struct url u, v;
    struct err e;
    assert_int_equal(url_parse("postgresql://u:CopyPw@[::1]:5439/db?sslmode=require", &u, &e), 0);
    url_copy(&v, &u);
    url_release(&u);
    assert_int_equal(v.kind, URL_POSTGRES);
    assert_string_equal(v.user, "u");
    assert_string_equal(v.password, "CopyPw");
    assert_string_equal(v.host, "::1");
    assert_int_equal(v.port, 5439);
    assert_string_equal(v.dbname, "db");
    assert_int_equal(v.nparams, 1);
    assert_string_equal(v.params[0].key, "sslmode");
    assert_string_equal(v.params[0].value, "require");
    assert_string_equal(url_redacted(&v), "postgresql://u:***@[::1]:5439/db?sslmode=require");
    url_release(&v);

    assert_int_equal(url_parse("sqlite:a.db", &u, &e), 0);
    url_copy(&v, &u);
    url_release(&u);
    assert_string_equal(v.path, "a.db");
    assert_null(v.password);
    url_release(&v);
}

static void test_release_zeroed(void **state)
{
    struct url u;
    memset(&u, 0, sizeof(u));
    url_release(&u);
    url_release(NULL);
    assert_string_equal(url_redacted(&u), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_params_decoded),
        cmocka_unit_test(test_redacted_reparses),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_error_message_exact),
        cmocka_unit_test(test_error_one_line),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_release_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
