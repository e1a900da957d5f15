/* SPDX-License-Identifier: MIT */
/*
 * jsonv.c - validation of JSON request bodies (jsonv.h).
 *
 * jv_parse_body turns the bytes of a request into a JSON object with jansson, which already
 * refuses invalid UTF-8, duplicate keys (JSON_REJECT_DUPLICATES) and "\u0000" in strings.
 * jv_check then walks a handler's field table: first it refuses keys the table does not
 * name, then it checks each field in table order, so that a body with several mistakes
 * always gets the same sentence back. The sentences go to people (the `detail` of a
 * problem+json reply), so they name the field, say what was expected, and are always valid
 * UTF-8 even when cut short by a small buffer.
 */
#include "jsonv.h"

#include "acs_error.h"
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Longest part of a client-supplied key quoted in an error sentence, in bytes. */
#define QUOTE_MAX 64

/*
 * Write a client-supplied key (valid UTF-8, as jansson guarantees) into dst for an error
 * sentence: '"' and '\' escaped, control characters shown as '?', and a key longer than
 * QUOTE_MAX bytes cut at a character boundary and ended with "...". dst holds
 * QUOTE_MAX * 2 + 4 bytes.
 */
static void quote_key(char *dst, const char *key)
{
    size_t n = strlen(key);
    size_t cut = n;
    if (cut > QUOTE_MAX) {
        cut = QUOTE_MAX;
        while (cut > 0 && ((unsigned char)key[cut] & 0xC0) == 0x80)
            cut--;
    }
    size_t o = 0;
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            dst[o++] = '?';
        } else {
            dst[o++] = (char)c;
        }
    }
    if (cut < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* Replace anything but printable ASCII with '?': jansson's messages quote the text near the
 * error, which may be a fragment of a multi-byte character or a control character. */
static void sanitize_ascii(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
            *s = '?';
    }
}

int jv_parse_body(const char *buf, size_t len, json_t **out, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL) {
        errbuf_printf(err, errlen, "no place to put the parsed body");
        return ACS_EINVAL;
    }
    *out = NULL;
    if (buf == NULL || len == 0) {
        errbuf_printf(err, errlen, "malformed JSON at line 1, column 0: request body is empty");
        return ACS_EINVAL;
    }
    json_error_t je;
    /* JSON_DECODE_ANY so that a scalar body is reported as "not an object" rather than as
     * a syntax error the client would not understand. */
    json_t *root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        sanitize_ascii(je.text);
        const char *text = je.text;
        /* jansson names its own flag here; say what it means instead. */
        if (strncmp(text, "\\u0000 is not allowed", 21) == 0)
            text = "strings must not contain \\u0000 (NUL)";
        errbuf_printf(err, errlen, "malformed JSON at line %d, column %d: %s", je.line, je.column,
                      text);
        return ACS_EINVAL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        errbuf_printf(err, errlen, "request body must be a JSON object");
        return ACS_EINVAL;
    }
    *out = root;
    return 0;
}

int jv_is_uuid(const char *s)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0; /* also stops at the NUL of a short string */
        }
    }
    return s[36] == '\0';
}

/* Read exactly n decimal digits at s into *v. Return 1, or 0 if any is not a digit. */
static int digits(const char *s, size_t n, int *v)
{
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Check the YYYY-MM-DD at the start of s (10 characters). Year 0000 is refused because
 * PostgreSQL has no year 0. */
static int date_prefix_ok(const char *s)
{
    int y, m, d;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return 0;
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return 0;
    return d <= days_in_month(y, m);
}

int jv_is_date(const char *s)
{
    if (s == NULL || strlen(s) != 10)
        return 0;
    return date_prefix_ok(s);
}

/*
 * RFC 3339 section 5.6:
 *   date-time  = full-date "T" full-time          ("t" allowed too)
 *   full-time  = HH ":" MM ":" SS [ "." 1*DIGIT ] ( "Z" / ("+" / "-") HH ":" MM )
 * Seconds may be 60 (a leap second), which PostgreSQL accepts as well.
 */
int jv_is_timestamp(const char *s)
{
    if (s == NULL || strlen(s) < 20 || !date_prefix_ok(s))
        return 0;
    if (s[10] != 'T' && s[10] != 't')
        return 0;
    int hh, mm, ss;
    const char *p = s + 11;
    if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mm) || p[5] != ':' ||
        !digits(p + 6, 2, &ss))
        return 0;
    if (hh > 23 || mm > 59 || ss > 60)
        return 0;
    p += 8;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z')
        return p[1] == '\0';
    if (*p != '+' && *p != '-')
        return 0;
    p++;
    if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mm) || p[5] != '\0')
        return 0;
    return hh <= 23 && mm <= 59;
}

/* Format a limit from the field table: whole numbers without a fraction or exponent. */
static void fmt_num(char *dst, size_t len, double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
        snprintf(dst, len, "%lld", (long long)v);
    else
        snprintf(dst, len, "%g", v);
}

/* A string value usable as text: jansson keeps embedded NULs only with JSON_ALLOW_NUL, but
 * an object built in code could still carry one. */
static int string_has_nul(const json_t *v)
{
    return strlen(json_string_value(v)) != json_string_length(v);
}

static int check_enum(const char *name, const json_t *v, const char *const *values, char *err,
                      size_t errlen)
{
    if (json_is_string(v) && !string_has_nul(v) && values != NULL) {
        for (size_t i = 0; values[i] != NULL; i++) {
            if (strcmp(json_string_value(v), values[i]) == 0)
                return 0;
        }
    }
    if (err == NULL || errlen == 0)
        return ACS_EINVAL;
    errbuf_printf(err, errlen, "field \"%s\" must be one of: ", name);
    size_t pos = strlen(err);
    for (size_t i = 0; values != NULL && values[i] != NULL && pos + 1 < errlen; i++) {
        errbuf_printf(err + pos, errlen - pos, "%s%s", i > 0 ? ", " : "", values[i]);
        pos += strlen(err + pos);
    }
    return ACS_EINVAL;
}

static int check_string(const jv_field_t *f, const json_t *v, char *err, size_t errlen)
{
    char lim[32];
    if (!json_is_string(v)) {
        errbuf_printf(err, errlen, "field \"%s\" must be a string", f->name);
        return ACS_EINVAL;
    }
    if (string_has_nul(v)) {
        errbuf_printf(err, errlen, "field \"%s\" must not contain NUL bytes", f->name);
        return ACS_EINVAL;
    }
    double n = (double)json_string_length(v);
    if (f->max > 0 && n > f->max) {
        fmt_num(lim, sizeof(lim), f->max);
        errbuf_printf(err, errlen, "field \"%s\" must be at most %s bytes long", f->name, lim);
        return ACS_EINVAL;
    }
    if (n < f->min) {
        if (f->min <= 1) {
            errbuf_printf(err, errlen, "field \"%s\" must not be empty", f->name);
        } else {
            fmt_num(lim, sizeof(lim), f->min);
            errbuf_printf(err, errlen, "field \"%s\" must be at least %s bytes long", f->name, lim);
        }
        return ACS_EINVAL;
    }
    return 0;
}

static int check_string_array(const jv_field_t *f, const json_t *v, char *err, size_t errlen)
{
    char lim[32];
    size_t i;
    json_t *item;
    if (!json_is_array(v)) {
        errbuf_printf(err, errlen, "field \"%s\" must be an array of strings", f->name);
        return ACS_EINVAL;
    }
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item)) {
            errbuf_printf(err, errlen,
                          "field \"%s\" must be an array of strings (item %zu is not a string)",
                          f->name, i);
            return ACS_EINVAL;
        }
        if (string_has_nul(item)) {
            errbuf_printf(err, errlen, "field \"%s\" must not contain NUL bytes (item %zu)",
                          f->name, i);
            return ACS_EINVAL;
        }
        if (f->max > 0 && (double)json_string_length(item) > f->max) {
            fmt_num(lim, sizeof(lim), f->max);
            errbuf_printf(err, errlen,
                          "field \"%s\" must hold strings of at most %s bytes (item %zu is longer)",
                          f->name, lim, i);
            return ACS_EINVAL;
        }
    }
    return 0;
}

/* Check a number against [min, max] when the table gives a range (min < max). */
static int check_number(const jv_field_t *f, const json_t *v, int integer, char *err, size_t errlen)
{
    const char *what = integer ? "an integer" : "a number";
    int ok = integer ? json_is_integer(v) : json_is_number(v);
    int ranged = f->min < f->max;
    if (ok && ranged) {
        double x = json_number_value(v);
        ok = x >= f->min && x <= f->max;
    }
    if (ok)
        return 0;
    if (ranged) {
        char lo[32], hi[32];
        fmt_num(lo, sizeof(lo), f->min);
        fmt_num(hi, sizeof(hi), f->max);
        errbuf_printf(err, errlen, "field \"%s\" must be %s between %s and %s", f->name, what, lo,
                      hi);
    } else {
        errbuf_printf(err, errlen, "field \"%s\" must be %s", f->name, what);
    }
    return ACS_EINVAL;
}

/* Check one present, non-null value against its field. */
static int check_value(const jv_field_t *f, const json_t *v, char *err, size_t errlen)
{
    switch (f->type) {
    case JV_STRING:
        return check_string(f, v, err, errlen);
    case JV_UUID:
        if (json_is_string(v) && !string_has_nul(v) && jv_is_uuid(json_string_value(v)))
            return 0;
        errbuf_printf(err, errlen,
                      "field \"%s\" must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000",
                      f->name);
        return ACS_EINVAL;
    case JV_INT:
        return check_number(f, v, 1, err, errlen);
    case JV_NUMBER:
        return check_number(f, v, 0, err, errlen);
    case JV_BOOL:
        if (json_is_boolean(v))
            return 0;
        errbuf_printf(err, errlen, "field \"%s\" must be true or false", f->name);
        return ACS_EINVAL;
    case JV_TIMESTAMP:
        if (json_is_string(v) && !string_has_nul(v) && jv_is_timestamp(json_string_value(v)))
            return 0;
        errbuf_printf(err, errlen,
                      "field \"%s\" must be an RFC 3339 date-time with offset, e.g. "
                      "2026-11-24T10:00:00Z",
                      f->name);
        return ACS_EINVAL;
    case JV_DATE:
        if (json_is_string(v) && !string_has_nul(v) && jv_is_date(json_string_value(v)))
            return 0;
        errbuf_printf(err, errlen,
                      "field \"%s\" must be a calendar date YYYY-MM-DD, e.g. 2026-11-24", f->name);
        return ACS_EINVAL;
    case JV_ENUM:
        return check_enum(f->name, v, f->enum_values, err, errlen);
    case JV_STRING_ARRAY:
        return check_string_array(f, v, err, errlen);
    case JV_ARRAY:
        if (json_is_array(v))
            return 0;
        errbuf_printf(err, errlen, "field \"%s\" must be an array", f->name);
        return ACS_EINVAL;
    case JV_OBJECT:
        if (json_is_object(v))
            return 0;
        errbuf_printf(err, errlen, "field \"%s\" must be an object", f->name);
        return ACS_EINVAL;
    }
    /* A table entry with a type this file does not know is a programming error. */
    errbuf_printf(err, errlen, "field \"%s\" has an unknown type in the server's field table",
                  f->name);
    return ACS_EINVAL;
}

int jv_check(const json_t *obj, const jv_field_t *fields, size_t nfields, jv_mode_t mode, char *err,
             size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (!json_is_object(obj)) {
        errbuf_printf(err, errlen, "request body must be a JSON object");
        return ACS_EINVAL;
    }
    if (fields == NULL && nfields > 0) {
        errbuf_printf(err, errlen, "no field table to check the request body against");
        return ACS_EINVAL;
    }

    /* Unknown keys first, in the order the client wrote them (jansson keeps it). */
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        size_t i = 0;
        while (i < nfields && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == nfields) {
            char shown[QUOTE_MAX * 2 + 4];
            quote_key(shown, key);
            errbuf_printf(err, errlen, "unknown field \"%s\"", shown);
            return ACS_EINVAL;
        }
    }

    if (mode == JV_PATCH && json_object_size(obj) == 0) {
        errbuf_printf(err, errlen, "request body has no fields to change");
        return ACS_EINVAL;
    }

    for (size_t i = 0; i < nfields; i++) {
        const jv_field_t *f = &fields[i];
        const json_t *v = json_object_get(obj, f->name);
        if (v == NULL) {
            if (mode == JV_CREATE && (f->flags & JV_REQUIRED)) {
                errbuf_printf(err, errlen, "field \"%s\" is required", f->name);
                return ACS_EINVAL;
            }
            continue;
        }
        if (mode == JV_PATCH && (f->flags & JV_READONLY)) {
            errbuf_printf(err, errlen, "field \"%s\" cannot be changed", f->name);
            return ACS_EINVAL;
        }
        if (json_is_null(v)) {
            if (f->flags & JV_NULLABLE)
                continue;
            errbuf_printf(err, errlen, "field \"%s\" must not be null", f->name);
            return ACS_EINVAL;
        }
        int rc = check_value(f, v, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}
