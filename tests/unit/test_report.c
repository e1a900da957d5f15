/* SPDX-License-Identifier: MIT */
/*
 * test_report.c - unit tests of the monthly report's rendering (core/report.h): the text
 * buffer, HTML and CSV escaping (with the spreadsheet-formula guard), and the page drawn from
 * a small report object: four charts, escaped names, a dash for a figure that is null, the
 * change from the previous month, and refusals of what is not a report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "report.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_buf_and_html(void **state)
{
    (void)state;
    report_buf_t b = {0};
    report_buf_puts(&b, "a");
    report_buf_printf(&b, "%d-%s", 42, "x");
    report_buf_html(&b, "<b class=\"c\">Tom & Jerry's</b>");
    report_buf_html(&b, NULL);
    assert_false(b.failed);
    assert_string_equal(b.data,
                        "a42-x&lt;b class=&quot;c&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;");
    /* a long printf goes past the small stack buffer */
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    report_buf_printf(&b, "[%s]", big);
    assert_int_equal(strlen(b.data), b.len);
    assert_int_equal(b.data[b.len - 1], ']');
    report_buf_free(&b);
    assert_null(b.data);
    report_buf_free(&b); /* twice is fine */
}

static void test_csv(void **state)
{
    (void)state;
    report_buf_t b = {0};
    report_buf_csv(&b, "plain");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, "a,b");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, "say \"hi\"");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, "line\nbreak");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, "=HYPERLINK(\"x\")");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, "-12");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, "@SUM(A1)");
    report_buf_puts(&b, "|");
    report_buf_csv(&b, NULL);
    assert_false(b.failed);
    assert_string_equal(b.data, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"line\nbreak\"|"
                                "\"'=HYPERLINK(\"\"x\"\")\"|-12|\"'@SUM(A1)\"|");
    report_buf_free(&b);
}

static const char report_json[] =
    "{\"month\": \"2026-10\", \"previous_month\": \"2026-09\", \"time_zone\": \"Europe/Moscow\","
    " \"from\": \"2026-09-30T21:00:00+00:00\", \"to\": \"2026-10-31T21:00:00+00:00\","
    " \"generated_at\": \"2026-11-02T08:00:00+00:00\","
    " \"totals\": {\"opened\": 12, \"resolved\": 10, \"first_contact\": {\"met_pct\": 75.0,"
    "   \"median_seconds\": 5400}, \"resolution\": {\"met_pct\": null}, \"nps\": {\"score\": 20.0},"
    "   \"visits\": {\"count\": 3, \"minutes_on_site\": 150}},"
    " \"previous\": {\"opened\": 10, \"resolved\": 11, \"first_contact\": {\"met_pct\": 80.0,"
    "   \"median_seconds\": 3600}, \"nps\": {\"score\": 10.0}},"
    " \"by_category\": [{\"key\": \"emergency\", \"label\": \"emergency\", \"opened\": 4},"
    "   {\"key\": \"standard\", \"label\": \"standard\", \"opened\": 8}],"
    " \"trend\": [{\"month\": \"2026-09\", \"first_contact_met_pct\": 80.0,"
    "   \"resolution_met_pct\": null}, {\"month\": \"2026-10\", \"first_contact_met_pct\": 75.0,"
    "   \"resolution_met_pct\": 50.0}],"
    " \"resolution_histogram\": [{\"bucket\": \"< 1 h\", \"count\": 2},"
    "   {\"bucket\": \"1-2 h\", \"count\": 0}],"
    " \"repeats_by_site\": [{\"site\": \"<script>alert(1)</script>\", \"repeats\": 2}],"
    " \"breached_total\": 1,"
    " \"breached\": [{\"number\": 7, \"subject\": \"Door & gate <stuck>\", \"category\": "
    "   \"emergency\", \"client\": \"O'Neil Ltd\", \"site\": \"North\", \"engineer\": null,"
    "   \"first_contact\": \"breached\", \"first_contact_seconds\": 1200,"
    "   \"first_contact_target_seconds\": 900, \"resolution\": \"pending\", \"status\": \"new\"}],"
    " \"hardest\": []}";

static void test_page(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *data = json_loads(report_json, 0, &jerr);
    assert_non_null(data);
    char *html = NULL;
    size_t len = 0;
    assert_int_equal(report_monthly_html(data, &html, &len), 0);
    json_decref(data);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    assert_non_null(strstr(html, "<title>Service report October 2026</title>"));
    assert_int_equal(count(html, "<svg "), 4);
    assert_int_equal(count(html, "</svg>"), 4);
    /* every name from the database is text, never markup */
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<stuck>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "Door &amp; gate &lt;stuck&gt;"));
    assert_non_null(strstr(html, "O&#39;Neil Ltd"));
    /* headline: the change, coloured by whether it is good; null is a dash, not a zero */
    assert_non_null(strstr(html, "<td class=\"n\">12</td><td class=\"n\">10</td>"
                                 "<td class=\"chg same\">+2</td>"));
    assert_non_null(strstr(html, "<td class=\"chg bad\">-5.0 pp</td>"));
    assert_non_null(strstr(html, "<td class=\"chg good\">+10.00</td>")); /* NPS */
    assert_non_null(strstr(html, "data-figure=\"resolution.met_pct\"><td>Resolution within SLA"
                                 "</td><td class=\"n\">&#8212;</td>"));
    assert_non_null(strstr(html, "1.5 h")); /* 5400 s of working time */
    /* the trend line is broken where a month has no figure: one dot for resolution */
    assert_int_equal(count(html, "<circle class=\"dot s2\""), 1);
    assert_int_equal(count(html, "<circle class=\"dot s1\""), 2);
    assert_non_null(strstr(html, "Breached tickets (1)"));
    assert_non_null(strstr(html, "breached (20 min of 15 min)"));
    assert_non_null(strstr(html, "@media print"));
    free(html);
}

static void test_not_a_report(void **state)
{
    (void)state;
    char *html = (char *)"x";
    size_t len = 1;
    json_t *data = json_pack("{s:s}", "month", "2026-10"); /* no totals */
    assert_int_equal(report_monthly_html(data, &html, &len), ACS_EINVAL);
    assert_null(html);
    assert_int_equal(len, 0);
    json_decref(data);
    data = json_array();
    assert_int_equal(report_monthly_html(data, &html, &len), ACS_EINVAL);
    json_decref(data);
    assert_int_equal(report_monthly_html(NULL, &html, &len), ACS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_and_html),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_not_a_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
