/* SPDX-License-Identifier: MIT */
/*
 * remote_internal.h - what the files of fieldctl's API commands share (remote.c: the client,
 * the options and the sla/calendars/report/webhooks/api commands; remote_diag.c: diag).
 */
#ifndef ACS_FIELDCTL_REMOTE_INTERNAL_H
#define ACS_FIELDCTL_REMOTE_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "remote.h"

#define FCTL_MAX_TCP 32

/* The parsed options of an API command (NULL / 0 / -1 when not given). */
typedef struct {
    fctl_api_t api;
    int json;
    const char *month, *format, *output, *data, *category, *client;
    int limit, within, year;
    /* diag */
    const char *job, *port, *parity, *units, *site, *ticket, *engineer, *serial, *code, *status,
        *from, *to, *review, *verdict, *comment, *by;
    const char *tcp[FCTL_MAX_TCP];
    int ntcp;
    int baud, events, no_frames, wait, timeout_ms_dev;
} cmd_opts_t;

/* One API call, checked: 2xx gives 0 with the response (and, when doc is not NULL, its parsed
 * JSON, a new reference); otherwise the service's problem detail (or why it could not be
 * reached) goes to stderr and 1 is returned with nothing to free. */
int fctl__call(const cmd_opts_t *o, const char *method, const char *path, const char *body,
               fctl_resp_t *resp, json_t **doc);

/* Prints a service answer for a person (the table of a command). */
typedef void (*fctl_print_fn)(const cmd_opts_t *o, json_t *doc, const void *arg);

/* GET path and print the answer: its JSON with --json, else print(o, doc, arg). Returns the
 * exit status (0, or 1 after fctl__call's message). */
int fctl__show(const cmd_opts_t *o, const char *path, fctl_print_fn print, const void *arg);

/* Print JSON indented to stdout. */
void fctl__print_json(const json_t *v);

/* "2026-11-24 10:15 +00:00" from an RFC 3339 string, "-" for null (buf holds the result). */
const char *fctl__ts(const json_t *v, char *buf, size_t len);

/* "2 h 05 min" / "12 min" from whole seconds, "-" for null. */
const char *fctl__dur(const json_t *v, char *buf, size_t len);

/* The string, or "-" for null / not a string. */
const char *fctl__str(const json_t *v);

/* Append "&name=value" (or "?name=value" as the first) to path, value percent-encoded; a NULL
 * value appends nothing. Returns 0, or -1 when path (of size cap) is full. */
int fctl__query_add(char *path, size_t cap, const char *name, const char *value);

/* `fieldctl diag start|stop|show|list|frames|compare|review|checklist ...` (remote_diag.c);
 * args[0] is "diag". Returns the exit status. */
int fctl__diag(const cmd_opts_t *o, int nargs, char **args);

#endif
