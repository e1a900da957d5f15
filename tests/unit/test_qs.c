/* SPDX-License-Identifier: MIT */
/*
 * test_qs.c - unit tests of query-string parsing (core/qs.h): splitting, '+' and %XX
 * decoding, refusals with their sentences, qs_get and qs_check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "qs.h"

/* Parse a NUL-terminated query; the test's err buffer is large. */
static int parse(qs_t *q, const char *text, char *err, size_t errlen)
{
    return qs_parse(q, text, strlen(text), err, errlen);
}

static void test_empty(void **state)
{
    (void)state;
    qs_t q;
    char err[128] = "x";
    assert_int_equal(qs_parse(&q, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(q.count, 0);
    assert_null(qs_get(&q, "a"));
    qs_free(&q);
    assert_int_equal(qs_parse(&q, "", 0, err, sizeof(err)), 0);
    assert_int_equal(q.count, 0);
    qs_free(&q);
    /* Empty pieces are skipped. */
    assert_int_equal(parse(&q, "&&&", err, sizeof(err)), 0);
    assert_int_equal(q.count, 0);
    qs_free(&q);
}

static void test_split_and_decode(void **state)
{
    (void)state;
    qs_t q;
    char err[128];
    assert_int_equal(parse(&q, "status=new&q=door+stuck%21&site%5Fid=%2f%2F&&empty=&flag&x=a%3Db",
                           err, sizeof(err)),
                     0);
    assert_int_equal(q.count, 6);
    assert_string_equal(q.params[0].name, "status");
    assert_string_equal(q.params[0].value, "new");
    assert_string_equal(q.params[1].name, "q");
    assert_string_equal(q.params[1].value, "door stuck!");
    assert_string_equal(q.params[2].name, "site_id");
    assert_string_equal(q.params[2].value, "//");
    assert_string_equal(q.params[3].name, "empty");
    assert_string_equal(q.params[3].value, "");
    assert_string_equal(q.params[4].name, "flag");
    assert_string_equal(q.params[4].value, ""); /* no '=' */
    assert_string_equal(q.params[5].name, "x");
    assert_string_equal(q.params[5].value, "a=b"); /* only the first '=' splits */
    assert_string_equal(qs_get(&q, "q"), "door stuck!");
    assert_string_equal(qs_get(&q, "flag"), "");
    assert_null(qs_get(&q, "missing"));
    assert_null(qs_get(&q, "Status"));
    assert_null(qs_get(&q, NULL));
    qs_free(&q);
    qs_free(&q); /* twice is fine */
}

static void test_value_with_equals_and_plus(void **state)
{
    (void)state;
    qs_t q;
    char err[128];
    /* A literal '+' must be sent as %2B; raw UTF-8 bytes and %-encoded ones both pass. */
    assert_int_equal(parse(&q, "a=1%2B1&b=%D0%B4%d0%b0&c==&d=++", err, sizeof(err)), 0);
    assert_int_equal(q.count, 4);
    assert_string_equal(qs_get(&q, "a"), "1+1");
    assert_string_equal(qs_get(&q, "b"), "\xD0\xB4\xD0\xB0");
    assert_string_equal(qs_get(&q, "c"), "=");
    assert_string_equal(qs_get(&q, "d"), "  ");
    qs_free(&q);
}

static void test_repeated_first_wins(void **state)
{
    (void)state;
    qs_t q;
    char err[128];
    assert_int_equal(parse(&q, "status=new&status=closed", err, sizeof(err)), 0);
    assert_int_equal(q.count, 2);
    assert_string_equal(qs_get(&q, "status"), "new");
    assert_string_equal(q.params[1].value, "closed");
    qs_free(&q);
}

static void test_bad_percent(void **state)
{
    (void)state;
    static const struct {
        const char *query;
        const char *err;
    } cases[] = {
        {"status=%G1", "bad percent-encoding in query parameter \"status\""},
        {"status=%1", "bad percent-encoding in query parameter \"status\""},
        {"status=abc%", "bad percent-encoding in query parameter \"status\""},
        {"status=%%41", "bad percent-encoding in query parameter \"status\""},
        {"ok=1&sta+tus=%zz", "bad percent-encoding in query parameter \"sta tus\""},
        /* When the name itself is broken it is quoted as sent. */
        {"st%G1=x", "bad percent-encoding in query parameter \"st%G1\""},
        {"a%2=1", "bad percent-encoding in query parameter \"a%2\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        qs_t q;
        char err[128] = "";
        assert_int_equal(parse(&q, cases[i].query, err, sizeof(err)), ACS_EINVAL);
        assert_string_equal(err, cases[i].err);
        assert_int_equal(q.count, 0);
        assert_null(q.storage);
        qs_free(&q);
    }
}

static void test_reads_only_len(void **state)
{
    (void)state;
    qs_t q;
    char err[128];
    /* "%4" is cut short by len even though "1" follows in memory. */
    assert_int_equal(qs_parse(&q, "a=%41", 4, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "bad percent-encoding in query parameter \"a\"");
    assert_int_equal(qs_parse(&q, "a=1&b=2", 3, err, sizeof(err)), 0);
    assert_int_equal(q.count, 1);
    assert_string_equal(qs_get(&q, "a"), "1");
    assert_null(qs_get(&q, "b"));
    qs_free(&q);
}

static void test_nul(void **state)
{
    (void)state;
    qs_t q;
    char err[128];
    assert_int_equal(parse(&q, "x=a%00b", err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "query parameter \"x\" contains a NUL byte");
    assert_null(q.storage);
    assert_int_equal(parse(&q, "x%00=1", err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "query parameter \"x%00\" contains a NUL byte");
    /* A raw NUL inside the given length. */
    assert_int_equal(qs_parse(&q, "x=a\0b", 5, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "query parameter \"x\" contains a NUL byte");
}

static void test_too_many(void **state)
{
    (void)state;
    char text[512] = "";
    qs_t q;
    char err[128];
    for (int i = 0; i < QS_MAX_PARAMS; i++) {
        char piece[16];
        snprintf(piece, sizeof(piece), "%sp%d=%d", i > 0 ? "&" : "", i, i);
        strcat(text, piece);
    }
    assert_int_equal(parse(&q, text, err, sizeof(err)), 0);
    assert_int_equal(q.count, QS_MAX_PARAMS);
    assert_string_equal(qs_get(&q, "p31"), "31");
    qs_free(&q);
    strcat(text, "&&"); /* empty pieces do not count */
    assert_int_equal(parse(&q, text, err, sizeof(err)), 0);
    qs_free(&q);
    strcat(text, "one=more");
    assert_int_equal(parse(&q, text, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "more than 32 query parameters");
    assert_int_equal(q.count, 0);
    assert_null(q.storage);
}

static void test_error_quoting(void **state)
{
    (void)state;
    qs_t q;
    char err[256];
    /* Quotes and invalid UTF-8 in a name are made safe for a JSON reply. */
    assert_int_equal(parse(&q, "a%22b%FF=%G", err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "bad percent-encoding in query parameter \"a\\\"b?\"");
    /* Valid UTF-8 is kept. */
    assert_int_equal(parse(&q, "%D0%B4=%", err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "bad percent-encoding in query parameter \"\xD0\xB4\"");
    /* A long name is cut short after 64 bytes. */
    char text[200];
    char want[200];
    memset(text, 'n', 100);
    strcpy(text + 100, "=%");
    strcpy(want, "bad percent-encoding in query parameter \"");
    memset(want + strlen(want), 'n', 64);
    strcpy(want + 41 + 64, "...\"");
    assert_int_equal(parse(&q, text, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, want);
    /* A small err buffer holds a truncated, terminated sentence; NULL is allowed. */
    char small[10];
    assert_int_equal(parse(&q, "status=%G1", small, sizeof(small)), ACS_EINVAL);
    assert_string_equal(small, "bad perce");
    assert_int_equal(parse(&q, "status=%G1", NULL, 0), ACS_EINVAL);
    /* Truncation never leaves half a UTF-8 character: "...parameter \"д" cut inside д. */
    char cut[43];
    assert_int_equal(parse(&q, "%D0%B4=%", cut, sizeof(cut)), ACS_EINVAL);
    assert_string_equal(cut, "bad percent-encoding in query parameter \"");
}

static void test_check(void **state)
{
    (void)state;
    static const char *const allowed[] = {"status", "site_id", "limit", NULL};
    static const char *const none[] = {NULL};
    qs_t q;
    char err[256];

    assert_int_equal(parse(&q, "limit=10&status=new", err, sizeof(err)), 0);
    assert_int_equal(qs_check(&q, allowed, err, sizeof(err)), 0);
    qs_free(&q);

    assert_int_equal(parse(&q, "status=new&colour=red", err, sizeof(err)), 0);
    assert_int_equal(qs_check(&q, allowed, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err,
                        "unknown query parameter \"colour\" (allowed: status, site_id, limit)");
    assert_int_equal(qs_check(&q, none, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "unknown query parameter \"status\" (allowed: none)");
    /* Truncated into a small buffer, still terminated. */
    char small[30];
    assert_int_equal(qs_check(&q, allowed, small, sizeof(small)), ACS_EINVAL);
    assert_string_equal(small, "unknown query parameter \"colo");
    char mid[64];
    assert_int_equal(qs_check(&q, allowed, mid, sizeof(mid)), ACS_EINVAL);
    assert_string_equal(mid, "unknown query parameter \"colour\" (allowed: status, site_id, lim");
    assert_int_equal(qs_check(&q, allowed, NULL, 0), ACS_EINVAL);
    qs_free(&q);

    assert_int_equal(parse(&q, "status=new&limit=5&status=closed", err, sizeof(err)), 0);
    assert_int_equal(qs_check(&q, allowed, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "query parameter \"status\" given twice");
    qs_free(&q);

    /* The first problem in the order of the query is the one reported. */
    assert_int_equal(parse(&q, "limit=1&limit=2&zz=1", err, sizeof(err)), 0);
    assert_int_equal(qs_check(&q, allowed, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "query parameter \"limit\" given twice");
    qs_free(&q);
    assert_int_equal(parse(&q, "zz=1&limit=1&limit=2", err, sizeof(err)), 0);
    assert_int_equal(qs_check(&q, allowed, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "unknown query parameter \"zz\" (allowed: status, site_id, limit)");
    qs_free(&q);

    /* An empty name is a name like any other, and unknown. */
    assert_int_equal(parse(&q, "=5", err, sizeof(err)), 0);
    assert_int_equal(q.count, 1);
    assert_string_equal(q.params[0].name, "");
    assert_string_equal(q.params[0].value, "5");
    assert_int_equal(qs_check(&q, allowed, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "unknown query parameter \"\" (allowed: status, site_id, limit)");
    qs_free(&q);

    /* No parameters pass any list. */
    assert_int_equal(parse(&q, "", err, sizeof(err)), 0);
    assert_int_equal(qs_check(&q, none, err, sizeof(err)), 0);
    qs_free(&q);
}

static void test_free_zeroed(void **state)
{
    (void)state;
    qs_t q;
    memset(&q, 0, sizeof(q));
    qs_free(&q);
    qs_free(&q);
    qs_free(NULL);
    assert_null(q.storage);
    assert_int_equal(q.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_split_and_decode),
        cmocka_unit_test(test_value_with_equals_and_plus),
        cmocka_unit_test(test_repeated_first_wins),
        cmocka_unit_test(test_bad_percent),
        cmocka_unit_test(test_reads_only_len),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_error_quoting),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_free_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
