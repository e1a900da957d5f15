/* SPDX-License-Identifier: MIT */
/*
 * jsonv.h - validation of JSON request bodies against a field table.
 *
 * A handler declares the fields a resource accepts (name, type, required, limits) and calls
 * jv_check() before anything reaches the database. Every failure is described in one English
 * sentence that names the field and what was expected, so that it can go straight into the
 * `detail` of an application/problem+json reply:
 *     field "category" must be one of: emergency, standard, consultation
 *     unknown field "colour"
 *     field "site_id" is required
 *     field "unit_id" must be an integer between 1 and 247
 */
#ifndef ACS_JSONV_H
#define ACS_JSONV_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    JV_STRING,       /* JSON string, at most max characters (bytes) if max > 0, at least min */
    JV_UUID,         /* string, canonical 8-4-4-4-12 hex UUID, either case */
    JV_INT,          /* JSON integer within [min, max] (when min < max) */
    JV_NUMBER,       /* JSON integer or real within [min, max] (when min < max) */
    JV_BOOL,         /* true / false */
    JV_TIMESTAMP,    /* string, RFC 3339 date-time with offset: 2026-11-24T10:00:00Z,
                        2026-11-24T13:00:00.5+03:00 */
    JV_DATE,         /* string, YYYY-MM-DD, a real calendar date */
    JV_ENUM,         /* string, one of enum_values */
    JV_STRING_ARRAY, /* array of strings (each at most max bytes if max > 0) */
    JV_ARRAY,        /* any JSON array */
    JV_OBJECT        /* any JSON object */
} jv_type_t;

enum {
    JV_REQUIRED = 1u << 0, /* must be present in JV_CREATE mode */
    JV_NULLABLE = 1u << 1, /* JSON null is accepted */
    JV_READONLY = 1u << 2  /* accepted in JV_CREATE only; in JV_PATCH it is an error
                              ("field \"id\" cannot be changed") */
};

typedef struct {
    const char *name;
    jv_type_t type;
    unsigned flags;
    const char *const *enum_values; /* NULL-terminated, for JV_ENUM */
    double min;                     /* see jv_type_t */
    double max;
} jv_field_t;

typedef enum {
    JV_CREATE, /* required fields must be present */
    JV_PATCH   /* required is ignored, READONLY fields refused, at least one field needed */
} jv_mode_t;

/* Parse a request body. Return 0 and set *out to a new reference to a JSON object, or
 * ACS_EINVAL with *out = NULL and err holding e.g. "malformed JSON at line 1, column 9:
 * unexpected token" or "request body must be a JSON object". An empty body is malformed. */
int jv_parse_body(const char *buf, size_t len, json_t **out, char *err, size_t errlen);

/* Check `obj` against `fields`. Return 0, or ACS_EINVAL with a sentence in err (see above).
 * Unknown keys are refused. Checks are made in the order of `fields` after the unknown-key
 * check, so the reported field is deterministic. */
int jv_check(const json_t *obj, const jv_field_t *fields, size_t nfields, jv_mode_t mode,
             char *err, size_t errlen);

/* Return 1 if s is a canonical UUID (36 chars, hyphens at 8, 13, 18, 23), else 0. */
int jv_is_uuid(const char *s);

/* Return 1 if s is an RFC 3339 date-time with a Z or +hh:mm / -hh:mm offset, else 0. */
int jv_is_timestamp(const char *s);

/* Return 1 if s is YYYY-MM-DD naming a real day (leap years respected), else 0. */
int jv_is_date(const char *s);

#endif
