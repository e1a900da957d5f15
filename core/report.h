/* SPDX-License-Identifier: MIT */
/*
 * report.h - the monthly service report rendered from the JSON that acs_report_monthly()
 * (db/migrations/0009_metrics.sql) returns: an HTML page with the headline figures beside the
 * previous month's, four charts as inline SVG, the breached tickets and the hardest cases; and
 * the text buffer and escaping (HTML, CSV) that the report and its CSV are written with.
 *
 * Every string that came from the database (names of clients and sites, subjects, feedback)
 * goes through report_buf_html(), so a client called "<script>" shows as text. The code is
 * pure (no I/O, no libuv) so that it can be tested on its own.
 */
#ifndef ACS_REPORT_H
#define ACS_REPORT_H

#include <jansson.h>
#include <stddef.h>

/* A growing text buffer. Zero-initialise it; release with report_buf_free(). After an
 * allocation failure every later append does nothing and `failed` stays set. */
typedef struct {
    char *data; /* NUL-terminated when not NULL */
    size_t len;
    size_t cap;
    int failed;
} report_buf_t;

void report_buf_free(report_buf_t *b);

/* Append len bytes / a C string / printf-formatted text. */
void report_buf_add(report_buf_t *b, const char *s, size_t len);
void report_buf_puts(report_buf_t *b, const char *s);
void report_buf_printf(report_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s (NULL appends nothing) escaped for HTML text and attribute values: & < > " '. */
void report_buf_html(report_buf_t *b, const char *s);

/* Append s as one CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes
 * doubled). A field that a spreadsheet would run as a formula (starting with = + - @, tab or
 * CR) is prefixed with a single quote. NULL is an empty field. */
void report_buf_csv(report_buf_t *b, const char *s);

/* Render the monthly report of `data` (the object of acs_report_monthly) as an HTML page.
 * Return 0 and a malloc'd NUL-terminated page in *out (length *len; the caller frees it), or
 * ACS_ENOMEM / ACS_EINVAL (data is not an object with "month" and "totals") with *out NULL. */
int report_monthly_html(const json_t *data, char **out, size_t *len);

#endif
