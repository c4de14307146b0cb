/* csv_test — RFC 4180 quoting, the BOM, cents, and formulas kept as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/csv.h"

static void test_quoting(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    csv_bom(&b);
    csv_text(&b, "Facial", 1);
    csv_text(&b, "Corte, lavado", 0);
    csv_text(&b, "dice \"hola\"", 0);
    csv_text(&b, "dos\nlíneas", 0);
    csv_text(&b, NULL, 0);
    csv_end(&b);
    csv_text(&b, "=HYPERLINK(\"x\")", 1);
    csv_text(&b, "-5", 0);
    csv_cents(&b, 123450, 0);
    csv_cents(&b, -5, 0);
    csv_int(&b, -7, 0);
    csv_end(&b);
    assert_string_equal(buf_str(&b),
                        "\xEF\xBB\xBF"
                        "Facial,\"Corte, lavado\",\"dice \"\"hola\"\"\",\"dos\nlíneas\",\r\n"
                        "\"'=HYPERLINK(\"\"x\"\")\",\"'-5\",1234.50,-0.05,-7\r\n");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_quoting)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
