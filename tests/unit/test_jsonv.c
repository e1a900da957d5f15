/* SPDX-License-Identifier: MIT */
/*
 * test_jsonv.c - unit tests of request-body validation (core/jsonv.h): parsing refusals with
 * their line and column, every field type and every error sentence (compared exactly), the
 * create/patch modes, and the UUID, RFC 3339 date-time and calendar-date checks.
 *
 * The exact texts after "malformed JSON at line L, column C:" come from jansson 2.14 (Debian
 * 12); if a newer jansson words them differently, only those literals need updating.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acs_error.h"
#include "jsonv.h"

#define UUID_A "123e4567-e89b-12d3-a456-426614174000"
#define BASE   "\"site_id\":\"" UUID_A "\",\"category\":\"standard\""

static const char *const categories[] = {"emergency", "standard", "consultation", NULL};

/* A resource using every type and flag. Checks run in this order. */
static const jv_field_t fields[] = {
    {"id", JV_UUID, JV_READONLY, NULL, 0, 0},
    {"site_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"category", JV_ENUM, JV_REQUIRED, categories, 0, 0},
    {"name", JV_STRING, 0, NULL, 1, 10},
    {"code", JV_STRING, 0, NULL, 3, 0},
    {"notes", JV_STRING, JV_NULLABLE, NULL, 0, 0},
    {"unit_id", JV_INT, 0, NULL, 1, 247},
    {"count", JV_INT, 0, NULL, 0, 0},
    {"ratio", JV_NUMBER, 0, NULL, 0, 1.5},
    {"weight", JV_NUMBER, 0, NULL, 0, 0},
    {"active", JV_BOOL, 0, NULL, 0, 0},
    {"window_start", JV_TIMESTAMP, JV_NULLABLE, NULL, 0, 0},
    {"due", JV_DATE, 0, NULL, 0, 0},
    {"skills", JV_STRING_ARRAY, 0, NULL, 0, 8},
    {"tags", JV_STRING_ARRAY, 0, NULL, 0, 0},
    {"parts", JV_ARRAY, 0, NULL, 0, 0},
    {"meta", JV_OBJECT, 0, NULL, 0, 0},
    {"x", JV_STRING, 0, NULL, 0, 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Parse `body` (which must be valid JSON), check it, and compare the outcome: want == NULL
 * means it must pass, otherwise the exact sentence expected. */
static void expect(jv_mode_t mode, const char *body, const char *want)
{
    char err[512];
    json_t *obj = NULL;
    assert_int_equal(jv_parse_body(body, strlen(body), &obj, err, sizeof(err)), 0);
    assert_non_null(obj);
    memset(err, 'x', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    int rc = jv_check(obj, fields, NFIELDS, mode, err, sizeof(err));
    json_decref(obj);
    if (want == NULL) {
        if (rc != 0)
            fail_msg("body %s was refused: %s", body, err);
    } else {
        assert_int_equal(rc, ACS_EINVAL);
        assert_string_equal(err, want);
    }
}

static void expect_parse_error(const char *body, size_t len, const char *want)
{
    static json_t sentinel;
    char err[256] = "";
    json_t *obj = &sentinel; /* must be reset to NULL */
    assert_int_equal(jv_parse_body(body, len, &obj, err, sizeof(err)), ACS_EINVAL);
    assert_null(obj);
    assert_string_equal(err, want);
}

static void test_parse_ok(void **state)
{
    (void)state;
    char err[128] = "junk";
    json_t *obj = NULL;
    const char body[] = " {\"a\": [1, 2.5, \"\xD0\xB4\"], \"b\": {\"c\": null}}\n";
    assert_int_equal(jv_parse_body(body, strlen(body), &obj, err, sizeof(err)), 0);
    assert_true(json_is_object(obj));
    assert_int_equal(json_object_size(obj), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(obj, "a"), 2)),
                        "\xD0\xB4");
    assert_string_equal(err, "");
    json_decref(obj);
    /* Only len bytes are read: what follows in memory does not matter. */
    const char longer[] = "{\"a\":1}garbage";
    assert_int_equal(jv_parse_body(longer, 7, &obj, err, sizeof(err)), 0);
    json_decref(obj);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("", 0, "malformed JSON at line 1, column 0: request body is empty");
    expect_parse_error(NULL, 0, "malformed JSON at line 1, column 0: request body is empty");
    expect_parse_error("   ", 3,
                       "malformed JSON at line 1, column 3: unexpected token near end "
                       "of file");
    expect_parse_error("{\"a\":}", 6,
                       "malformed JSON at line 1, column 6: unexpected token "
                       "near '}'");
    expect_parse_error("{\n  \"a\": 1,\n  \"b\": tru\n}", 24,
                       "malformed JSON at line 3, column 10: invalid token near 'tru'");
    expect_parse_error("{\"a\":1,\"a\":2}", 13,
                       "malformed JSON at line 1, column 10: duplicate object key near '\"a\"'");
    expect_parse_error("{\"a\":1} x", 9,
                       "malformed JSON at line 1, column 9: end of file expected near 'x'");
    expect_parse_error("{\"a\":\"\\u0000\"}", 14,
                       "malformed JSON at line 1, column 13: strings must not contain \\u0000 "
                       "(NUL)");
    /* Invalid UTF-8 and a raw NUL byte inside the body. */
    expect_parse_error("{\"a\":\"\xff\"}", 9,
                       "malformed JSON at line 1, column 6: unable to decode byte 0xff near '\"'");
    expect_parse_error("{\"a\":\"x\0y\"}", 11,
                       "malformed JSON at line 1, column 7: control character 0x0 near '\"x'");
    /* Valid JSON that is not an object. */
    expect_parse_error("42", 2, "request body must be a JSON object");
    expect_parse_error("[{\"a\":1}]", 9, "request body must be a JSON object");
    expect_parse_error("\"text\"", 6, "request body must be a JSON object");
    expect_parse_error("null", 4, "request body must be a JSON object");

    /* The jansson text is cut to printable ASCII: a broken multi-byte character near the
     * error is never copied into the sentence. */
    char err[256];
    json_t *obj = NULL;
    const char bad[] = "{\"\xD0\xB4\xD0\xB4\": tr\xD0\xB4}";
    assert_int_equal(jv_parse_body(bad, strlen(bad), &obj, err, sizeof(err)), ACS_EINVAL);
    for (const char *p = err; *p != '\0'; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F);

    /* No out pointer, and no err buffer. */
    assert_int_equal(jv_parse_body("{}", 2, NULL, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(jv_parse_body("{", 1, &obj, NULL, 0), ACS_EINVAL);
    assert_null(obj);
}

static void test_create_required_and_unknown(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE "}", NULL);
    expect(JV_CREATE, "{\"category\":\"standard\"}", "field \"site_id\" is required");
    expect(JV_CREATE, "{\"site_id\":\"" UUID_A "\"}", "field \"category\" is required");
    /* Both missing: the first in the table is named. */
    expect(JV_CREATE, "{}", "field \"site_id\" is required");
    /* Unknown keys come before everything else, the first one in the body is named. */
    expect(JV_CREATE, "{" BASE ",\"colour\":\"red\"}", "unknown field \"colour\"");
    expect(JV_CREATE, "{\"zeta\":1,\"alpha\":2}", "unknown field \"zeta\"");
    expect(JV_CREATE, "{\"Name\":\"a\"," BASE "}", "unknown field \"Name\"");
    /* Errors come in table order, not body order. */
    expect(JV_CREATE, "{\"unit_id\":0,\"name\":5," BASE "}", "field \"name\" must be a string");
    /* Null for a required, non-nullable field. */
    expect(JV_CREATE, "{\"site_id\":null,\"category\":\"standard\"}",
           "field \"site_id\" must not be null");
}

static void test_strings(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE ",\"name\":\"0123456789\"}", NULL);
    expect(JV_CREATE, "{" BASE ",\"name\":\"a\"}", NULL);
    expect(JV_CREATE, "{" BASE ",\"name\":5}", "field \"name\" must be a string");
    expect(JV_CREATE, "{" BASE ",\"name\":[\"a\"]}", "field \"name\" must be a string");
    expect(JV_CREATE, "{" BASE ",\"name\":\"\"}", "field \"name\" must not be empty");
    expect(JV_CREATE, "{" BASE ",\"name\":\"0123456789A\"}",
           "field \"name\" must be at most 10 bytes long");
    /* Lengths are in bytes: five 2-byte letters fit in 10, six do not. */
    expect(JV_CREATE, "{" BASE ",\"name\":\"\xD0\xB4\xD0\xB4\xD0\xB4\xD0\xB4\xD0\xB4\"}", NULL);
    expect(JV_CREATE, "{" BASE ",\"name\":\"\xD0\xB4\xD0\xB4\xD0\xB4\xD0\xB4\xD0\xB4\xD0\xB4\"}",
           "field \"name\" must be at most 10 bytes long");
    expect(JV_CREATE, "{" BASE ",\"code\":\"ab\"}", "field \"code\" must be at least 3 bytes long");
    expect(JV_CREATE, "{" BASE ",\"code\":\"abc\"}", NULL);
    /* No max: long strings pass. */
    char body[3000];
    strcpy(body, "{" BASE ",\"x\":\"");
    size_t n = strlen(body);
    memset(body + n, 'y', 2000);
    strcpy(body + n + 2000, "\"}");
    expect(JV_CREATE, body, NULL);
    expect(JV_CREATE, "{" BASE ",\"x\":null}", "field \"x\" must not be null");
    expect(JV_CREATE, "{" BASE ",\"notes\":null}", NULL);
    expect(JV_CREATE, "{" BASE ",\"notes\":\"\"}", NULL);
}

static void test_string_with_nul(void **state)
{
    (void)state;
    /* jansson's parser refuses \u0000, but an object built in code may carry one. */
    char err[256];
    json_t *obj = json_pack("{s:s, s:s, s:s%}", "site_id", UUID_A, "category", "standard", "name",
                            "a\0b", (size_t)3);
    assert_non_null(obj);
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "field \"name\" must not contain NUL bytes");
    json_decref(obj);

    obj = json_pack("{s:s%, s:s}", "site_id", UUID_A "\0", (size_t)37, "category", "standard");
    assert_non_null(obj);
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(
        err, "field \"site_id\" must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000");
    json_decref(obj);
}

static void test_uuid_field(void **state)
{
    (void)state;
    expect(JV_CREATE, "{\"id\":\"123E4567-E89B-12D3-A456-426614174000\"," BASE "}", NULL);
    expect(JV_CREATE, "{\"id\":\"123e4567e89b12d3a456426614174000\"," BASE "}",
           "field \"id\" must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000");
    expect(JV_CREATE, "{\"id\":7," BASE "}",
           "field \"id\" must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000");
}

static void test_enum_field(void **state)
{
    (void)state;
    expect(JV_CREATE, "{\"site_id\":\"" UUID_A "\",\"category\":\"emergency\"}", NULL);
    expect(JV_CREATE, "{\"site_id\":\"" UUID_A "\",\"category\":\"consultation\"}", NULL);
    expect(JV_CREATE, "{\"site_id\":\"" UUID_A "\",\"category\":\"urgent\"}",
           "field \"category\" must be one of: emergency, standard, consultation");
    expect(JV_CREATE, "{\"site_id\":\"" UUID_A "\",\"category\":\"Standard\"}",
           "field \"category\" must be one of: emergency, standard, consultation");
    expect(JV_CREATE, "{\"site_id\":\"" UUID_A "\",\"category\":1}",
           "field \"category\" must be one of: emergency, standard, consultation");
}

static void test_integers(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE ",\"unit_id\":1}", NULL);
    expect(JV_CREATE, "{" BASE ",\"unit_id\":247}", NULL);
    static const char *const bad[] = {"0", "248", "-1", "7.0", "7.5", "\"7\"", "true", "[7]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[256];
        strcpy(body, "{" BASE ",\"unit_id\":");
        strcat(body, bad[i]);
        strcat(body, "}");
        expect(JV_CREATE, body, "field \"unit_id\" must be an integer between 1 and 247");
    }
    /* No range: any integer, but only integers. */
    expect(JV_CREATE, "{" BASE ",\"count\":-9007199254740993}", NULL);
    expect(JV_CREATE, "{" BASE ",\"count\":9223372036854775807}", NULL);
    expect(JV_CREATE, "{" BASE ",\"count\":1.5}", "field \"count\" must be an integer");
    expect(JV_CREATE, "{" BASE ",\"count\":\"1\"}", "field \"count\" must be an integer");
}

static void test_numbers(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE ",\"ratio\":0}", NULL);
    expect(JV_CREATE, "{" BASE ",\"ratio\":1.5}", NULL);
    expect(JV_CREATE, "{" BASE ",\"ratio\":1}", NULL);
    expect(JV_CREATE, "{" BASE ",\"ratio\":0.25}", NULL);
    expect(JV_CREATE, "{" BASE ",\"ratio\":1.5000001}",
           "field \"ratio\" must be a number between 0 and 1.5");
    expect(JV_CREATE, "{" BASE ",\"ratio\":-0.1}",
           "field \"ratio\" must be a number between 0 and 1.5");
    expect(JV_CREATE, "{" BASE ",\"ratio\":\"1\"}",
           "field \"ratio\" must be a number between 0 and 1.5");
    expect(JV_CREATE, "{" BASE ",\"weight\":1e300}", NULL);
    expect(JV_CREATE, "{" BASE ",\"weight\":-3}", NULL);
    expect(JV_CREATE, "{" BASE ",\"weight\":\"x\"}", "field \"weight\" must be a number");
    expect(JV_CREATE, "{" BASE ",\"weight\":false}", "field \"weight\" must be a number");
}

static void test_bool_and_containers(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE ",\"active\":true}", NULL);
    expect(JV_CREATE, "{" BASE ",\"active\":false}", NULL);
    expect(JV_CREATE, "{" BASE ",\"active\":\"true\"}", "field \"active\" must be true or false");
    expect(JV_CREATE, "{" BASE ",\"active\":1}", "field \"active\" must be true or false");
    expect(JV_CREATE, "{" BASE ",\"parts\":[]}", NULL);
    expect(JV_CREATE, "{" BASE ",\"parts\":[1,\"a\",null,{}]}", NULL);
    expect(JV_CREATE, "{" BASE ",\"parts\":{}}", "field \"parts\" must be an array");
    expect(JV_CREATE, "{" BASE ",\"meta\":{\"k\":[1]}}", NULL);
    expect(JV_CREATE, "{" BASE ",\"meta\":[]}", "field \"meta\" must be an object");
    expect(JV_CREATE, "{" BASE ",\"meta\":\"{}\"}", "field \"meta\" must be an object");
}

static void test_string_arrays(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE ",\"skills\":[]}", NULL);
    expect(JV_CREATE, "{" BASE ",\"skills\":[\"rs485\",\"12345678\"]}", NULL);
    expect(JV_CREATE, "{" BASE ",\"skills\":\"rs485\"}",
           "field \"skills\" must be an array of strings");
    expect(JV_CREATE, "{" BASE ",\"skills\":{}}", "field \"skills\" must be an array of strings");
    expect(JV_CREATE, "{" BASE ",\"skills\":[\"a\",1]}",
           "field \"skills\" must be an array of strings (item 1 is not a string)");
    expect(JV_CREATE, "{" BASE ",\"skills\":[null]}",
           "field \"skills\" must be an array of strings (item 0 is not a string)");
    expect(JV_CREATE, "{" BASE ",\"skills\":[\"ok\",\"123456789\"]}",
           "field \"skills\" must hold strings of at most 8 bytes (item 1 is longer)");
    expect(JV_CREATE, "{" BASE ",\"tags\":[\"a very long tag with no limit at all\"]}", NULL);
}

static void test_timestamp_and_date_fields(void **state)
{
    (void)state;
    expect(JV_CREATE, "{" BASE ",\"window_start\":\"2026-11-24T10:00:00Z\"}", NULL);
    expect(JV_CREATE, "{" BASE ",\"window_start\":\"2026-11-24T13:00:00.5+03:00\"}", NULL);
    expect(JV_CREATE, "{" BASE ",\"window_start\":null}", NULL);
    expect(JV_CREATE, "{" BASE ",\"window_start\":\"2026-11-24T10:00:00\"}",
           "field \"window_start\" must be an RFC 3339 date-time with offset, e.g. "
           "2026-11-24T10:00:00Z");
    expect(JV_CREATE, "{" BASE ",\"window_start\":1764000000}",
           "field \"window_start\" must be an RFC 3339 date-time with offset, e.g. "
           "2026-11-24T10:00:00Z");
    expect(JV_CREATE, "{" BASE ",\"due\":\"2028-02-29\"}", NULL);
    expect(JV_CREATE, "{" BASE ",\"due\":\"2026-02-29\"}",
           "field \"due\" must be a calendar date YYYY-MM-DD, e.g. 2026-11-24");
    expect(JV_CREATE, "{" BASE ",\"due\":null}", "field \"due\" must not be null");
}

static void test_patch(void **state)
{
    (void)state;
    expect(JV_PATCH, "{}", "request body has no fields to change");
    /* Required fields need not be present... */
    expect(JV_PATCH, "{\"name\":\"new name\"}", NULL);
    /* ...but are still checked when they are. */
    expect(JV_PATCH, "{\"category\":\"later\"}",
           "field \"category\" must be one of: emergency, standard, consultation");
    expect(JV_PATCH, "{\"site_id\":null}", "field \"site_id\" must not be null");
    /* Read-only fields are refused even with their current value. */
    expect(JV_PATCH, "{\"id\":\"" UUID_A "\"}", "field \"id\" cannot be changed");
    expect(JV_PATCH, "{\"name\":\"a\",\"id\":\"" UUID_A "\"}", "field \"id\" cannot be changed");
    expect(JV_CREATE, "{\"id\":\"" UUID_A "\"," BASE "}", NULL);
    /* Unknown keys are still named first. */
    expect(JV_PATCH, "{\"id\":\"" UUID_A "\",\"colour\":1}", "unknown field \"colour\"");
    expect(JV_PATCH, "{\"notes\":null}", NULL);
}

static void test_key_quoting(void **state)
{
    (void)state;
    expect(JV_CREATE, "{\"a\\\"b\":1}", "unknown field \"a\\\"b\"");
    expect(JV_CREATE, "{\"a\\\\b\":1}", "unknown field \"a\\\\b\"");
    expect(JV_CREATE, "{\"a\\nb\\u0001\\u001f\\u007f\":1}", "unknown field \"a?b???\"");
    expect(JV_CREATE, "{\"\xD0\xB4\xD0\xB0\":1}", "unknown field \"\xD0\xB4\xD0\xB0\"");
    expect(JV_CREATE, "{\"\":1}", "unknown field \"\"");

    /* Long keys are cut after 64 bytes, at a character boundary. */
    char body[512], want[512];
    strcpy(body, "{\"");
    memset(body + 2, 'k', 100);
    strcpy(body + 102, "\":1}");
    strcpy(want, "unknown field \"");
    memset(want + 15, 'k', 64);
    strcpy(want + 15 + 64, "...\"");
    expect(JV_CREATE, body, want);

    /* 30 three-byte characters (90 bytes): 21 fit in 64 bytes. */
    strcpy(body, "{\"");
    strcpy(want, "unknown field \"");
    for (int i = 0; i < 30; i++)
        strcat(body, "\xE2\x82\xAC");
    for (int i = 0; i < 21; i++)
        strcat(want, "\xE2\x82\xAC");
    strcat(body, "\":1}");
    strcat(want, "...\"");
    expect(JV_CREATE, body, want);
}

static void test_small_err_buffers(void **state)
{
    (void)state;
    json_t *obj = json_pack("{s:s, s:s}", "site_id", UUID_A, "category", "nope");
    char small[20];
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, small, sizeof(small)), ACS_EINVAL);
    assert_string_equal(small, "field \"category\" mu");
    char mid[48];
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, mid, sizeof(mid)), ACS_EINVAL);
    assert_string_equal(mid, "field \"category\" must be one of: emergency, sta");
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, NULL, 0), ACS_EINVAL);
    json_decref(obj);

    /* A cut inside a multi-byte character drops the partial character:
     * "unknown field \"" is 15 bytes, the 2-byte letter would be bytes 16 and 17. */
    obj = json_pack("{s:i}", "\xD0\xB4\xD0\xB4", 1);
    char cut[17];
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, cut, sizeof(cut)), ACS_EINVAL);
    assert_string_equal(cut, "unknown field \"");
    char fits[18];
    assert_int_equal(jv_check(obj, fields, NFIELDS, JV_CREATE, fits, sizeof(fits)), ACS_EINVAL);
    assert_string_equal(fits, "unknown field \"\xD0\xB4");
    json_decref(obj);

    char err[64];
    json_t *arr = json_array();
    assert_int_equal(jv_check(arr, fields, NFIELDS, JV_CREATE, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "request body must be a JSON object");
    assert_int_equal(jv_check(NULL, fields, NFIELDS, JV_CREATE, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "request body must be a JSON object");
    json_decref(arr);

    /* An empty table accepts only {} in create mode. */
    json_t *empty = json_object();
    assert_int_equal(jv_check(empty, NULL, 0, JV_CREATE, err, sizeof(err)), 0);
    json_decref(empty);
}

static void test_is_uuid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
        "123e4567-E89B-12d3-A456-426614174000", /* either case, even mixed */
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
    };
    static const char *const bad[] = {
        "",
        "123e4567-e89b-12d3-a456-42661417400",    /* 35 */
        "123e4567-e89b-12d3-a456-4266141740000",  /* 37 */
        "123e4567e89b12d3a456426614174000",       /* no hyphens */
        "{123e4567-e89b-12d3-a456-426614174000}", /* braces */
        "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-42661417400g", /* not hex */
        "123e456-7e89b-12d3-a456-426614174000", /* hyphen moved */
        "123e4567-e89b-12d3-a4564-26614174000",
        "123e4567_e89b_12d3_a456_426614174000",
        " 123e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-426614174000 ",
        "123e4567-e89b-12d3-a456-426614174000\n",
        "------------------------------------",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(jv_is_uuid(good[i]), 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jv_is_uuid(bad[i]) != 0)
            fail_msg("accepted as a UUID: \"%s\"", bad[i]);
    }
    assert_int_equal(jv_is_uuid(NULL), 0);
}

static void test_is_timestamp(void **state)
{
    (void)state;
    static const char *const good[] = {
        "2026-11-24T10:00:00Z",           "2026-11-24T13:00:00.5+03:00",
        "2026-11-24T10:00:00.123456789Z", "2026-11-24t10:00:00z", /* RFC 3339 allows lower case */
        "2024-02-29T23:59:59-00:00",      "2000-02-29T00:00:00Z",
        "2026-01-01T00:00:00+05:30",      "2026-11-24T10:00:00-12:00",
        "2016-12-31T23:59:60Z", /* leap second */
        "0001-01-01T00:00:00Z",           "9999-12-31T23:59:59+23:59",
    };
    static const char *const bad[] = {
        "",
        "2026-11-24T10:00:00",       /* no offset */
        "2026-11-24T10:00:00.5",     /* no offset */
        "2026-11-24 10:00:00Z",      /* space */
        "2026-11-24T24:00:00Z",      /* hour 24 */
        "2026-11-24T10:60:00Z",      /* minute 60 */
        "2026-11-24T10:00:61Z",      /* second 61 */
        "2026-02-30T10:00:00Z",      /* no Feb 30 */
        "2025-02-29T10:00:00Z",      /* not a leap year */
        "2100-02-29T10:00:00Z",      /* century, not a leap year */
        "2026-04-31T10:00:00Z",      /* April has 30 days */
        "2026-13-01T10:00:00Z",      /* month 13 */
        "2026-00-10T10:00:00Z",      /* month 0 */
        "2026-11-00T10:00:00Z",      /* day 0 */
        "0000-01-01T00:00:00Z",      /* no year 0 */
        "2026-11-24T10:00:00.Z",     /* empty fraction */
        "2026-11-24T10:00:00,5Z",    /* comma fraction */
        "2026-11-24T10:00:00+0300",  /* offset without colon */
        "2026-11-24T10:00:00+03",    /* offset without minutes */
        "2026-11-24T10:00:00+24:00", /* offset hour 24 */
        "2026-11-24T10:00:00+03:60", /* offset minute 60 */
        "2026-11-24T10:00:00-",      /* sign only */
        "2026-11-24T10:00Z",         /* no seconds */
        "2026-11-24T1:00:00Z",       /* one-digit hour */
        "2026-1-24T10:00:00Z",       /* one-digit month */
        "26-11-24T10:00:00Z",        /* two-digit year */
        "+2026-11-24T10:00:00Z",     /* signed year */
        "2026-11-24T10:00:00ZZ",     /* trailing */
        "2026-11-24T10:00:00Z ",     /* trailing space */
        " 2026-11-24T10:00:00Z",     /* leading space */
        "2026-11-24",                /* date only */
        "2026-11-24T10:00:00+03:00:00",
        "2026-11-24T10:00:00 UTC",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (jv_is_timestamp(good[i]) != 1)
            fail_msg("refused as a timestamp: \"%s\"", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jv_is_timestamp(bad[i]) != 0)
            fail_msg("accepted as a timestamp: \"%s\"", bad[i]);
    }
    assert_int_equal(jv_is_timestamp(NULL), 0);
}

static void test_is_date(void **state)
{
    (void)state;
    static const char *const good[] = {
        "2024-02-29", "2000-02-29", "2026-02-28", "2026-12-31",
        "2026-01-31", "2026-04-30", "0001-01-01", "9999-12-31",
    };
    static const char *const bad[] = {
        "",
        "2026-02-29",
        "2100-02-29",
        "1900-02-29",
        "2026-02-30",
        "2026-04-31",
        "2026-06-31",
        "2026-01-32",
        "2026-13-01",
        "2026-00-01",
        "2026-01-00",
        "2026-1-01",
        "2026-01-1",
        "20260101",
        "2026/01/01",
        "0000-01-01",
        "2026-01-01 ",
        " 2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-0a-01",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (jv_is_date(good[i]) != 1)
            fail_msg("refused as a date: \"%s\"", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jv_is_date(bad[i]) != 0)
            fail_msg("accepted as a date: \"%s\"", bad[i]);
    }
    assert_int_equal(jv_is_date(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_create_required_and_unknown),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_with_nul),
        cmocka_unit_test(test_uuid_field),
        cmocka_unit_test(test_enum_field),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bool_and_containers),
        cmocka_unit_test(test_string_arrays),
        cmocka_unit_test(test_timestamp_and_date_fields),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_key_quoting),
        cmocka_unit_test(test_small_err_buffers),
        cmocka_unit_test(test_is_uuid),
        cmocka_unit_test(test_is_timestamp),
        cmocka_unit_test(test_is_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
