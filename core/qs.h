/* SPDX-License-Identifier: MIT */
/*
 * qs.h - URL query strings: splitting, percent-decoding and checking the names a list
 * endpoint accepts.
 */
#ifndef ACS_QS_H
#define ACS_QS_H

#include <stddef.h>

#define QS_MAX_PARAMS 32

typedef struct {
    char *name;  /* decoded, NUL-terminated, points into qs_t's own storage */
    char *value; /* decoded ("" when the parameter has no '=') */
} qs_param_t;

typedef struct {
    qs_param_t params[QS_MAX_PARAMS];
    size_t count;
    char *storage; /* owned; released by qs_free */
} qs_t;

/* Parse the query part of a URL (the text after '?', without it; may be empty or NULL with
 * len 0). '+' decodes to a space, %XX to its byte. Return 0, or ACS_EINVAL with a sentence in
 * err ("bad percent-encoding in query parameter \"status\"", "more than 32 query parameters",
 * "query parameter \"x\" contains a NUL byte"). On error q holds nothing to free. */
int qs_parse(qs_t *q, const char *query, size_t len, char *err, size_t errlen);

/* Release what qs_parse allocated. Safe on a zeroed qs_t and twice. */
void qs_free(qs_t *q);

/* Value of the first parameter called name, or NULL. */
const char *qs_get(const qs_t *q, const char *name);

/* Return 0 if every parameter name is in the NULL-terminated list `allowed` and none is
 * repeated; otherwise ACS_EINVAL with "unknown query parameter \"x\" (allowed: a, b, c)" or
 * "query parameter \"x\" given twice" in err. */
int qs_check(const qs_t *q, const char *const *allowed, char *err, size_t errlen);

#endif
