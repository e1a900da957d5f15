/* SPDX-License-Identifier: MIT */
/*
 * qs.c - the query-string parser of qs.h.
 *
 * qs_parse splits "a=1&b=x+y" on '&', then each piece on its first '=', and decodes both
 * halves ('+' to a space, %XX to a byte) into one allocation owned by the qs_t. Empty pieces
 * ("a=1&&b=2", a trailing '&') are skipped. Names and values are bytes: nothing here requires
 * them to be UTF-8, but the error sentences, which may go into a JSON reply, only ever quote
 * names as valid UTF-8 (anything else is shown as '?').
 */
#include "qs.h"

#include "acs_error.h"
#include "errbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest part of a parameter name quoted in an error sentence, in bytes. */
#define QUOTE_MAX 64

/* Worst case a piece of n raw bytes needs n + 2 bytes of storage (name, NUL, value "", NUL),
 * and at most QS_MAX_PARAMS pieces are stored. */
#define STORAGE_SLACK (2 * (size_t)QS_MAX_PARAMS + 1)

enum { DECODE_OK = 0, DECODE_BAD_PERCENT = -1, DECODE_NUL = -2 };

/*
 * Write name (n bytes) into dst as text fit for an error sentence: valid UTF-8 and printable
 * ASCII are kept, '"' and '\' are escaped, other bytes become '?', and a name longer than
 * QUOTE_MAX bytes is cut there and ends in "...". dst must hold QUOTE_MAX * 2 + 4 bytes.
 */
static void quote_name(char *dst, const char *name, size_t n)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t i = 0, o = 0;
    while (i < n && i < QUOTE_MAX) {
        size_t k = errbuf_utf8_seq(s + i, n - i);
        if (k > 1 && i + k <= QUOTE_MAX) {
            memcpy(dst + o, s + i, k);
            o += k;
            i += k;
            continue;
        }
        if (k > 1)
            break; /* the sequence would cross the limit */
        if (s[i] == '"' || s[i] == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)s[i];
        } else if (s[i] >= 0x20 && s[i] < 0x7F) {
            dst[o++] = (char)s[i];
        } else {
            dst[o++] = '?';
        }
        i++;
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode n bytes of src into dst and NUL-terminate it; dst has room for n + 1 bytes.
 * Return DECODE_OK and set *outlen, or DECODE_BAD_PERCENT / DECODE_NUL. */
static int decode(const char *src, size_t n, char *dst, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return DECODE_BAD_PERCENT;
            int hi = hex_value(src[i + 1]);
            int lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0)
                return DECODE_BAD_PERCENT;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return DECODE_NUL;
        dst[o++] = c;
    }
    dst[o] = '\0';
    *outlen = o;
    return DECODE_OK;
}

int qs_parse(qs_t *q, const char *query, size_t len, char *err, size_t errlen)
{
    char shown[QUOTE_MAX * 2 + 4];
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (q == NULL) {
        errbuf_printf(err, errlen, "no query-string object to fill");
        return ACS_EINVAL;
    }
    memset(q, 0, sizeof(*q));
    if (len == 0)
        return 0;
    if (query == NULL) {
        errbuf_printf(err, errlen, "query string of %zu bytes given without its text", len);
        return ACS_EINVAL;
    }
    if (len > SIZE_MAX - STORAGE_SLACK) {
        errbuf_printf(err, errlen, "query string is too long");
        return ACS_EINVAL;
    }
    q->storage = malloc(len + STORAGE_SLACK);
    if (q->storage == NULL) {
        errbuf_printf(err, errlen, "out of memory while reading a query string of %zu bytes", len);
        return ACS_ENOMEM;
    }

    size_t used = 0;
    size_t i = 0;
    int drc = DECODE_OK;
    while (i < len) {
        size_t end = i;
        while (end < len && query[end] != '&')
            end++;
        if (end == i) {
            i = end + 1;
            continue;
        }
        if (q->count == QS_MAX_PARAMS) {
            errbuf_printf(err, errlen, "more than %d query parameters", QS_MAX_PARAMS);
            goto fail;
        }
        size_t eq = i;
        while (eq < end && query[eq] != '=')
            eq++;

        qs_param_t *p = &q->params[q->count];
        size_t n;
        p->name = q->storage + used;
        drc = decode(query + i, eq - i, p->name, &n);
        if (drc != DECODE_OK) {
            /* The name itself did not decode: quote it as it was sent. */
            quote_name(shown, query + i, eq - i);
            goto bad_piece;
        }
        used += n + 1;
        p->value = q->storage + used;
        if (eq < end) {
            drc = decode(query + eq + 1, end - eq - 1, p->value, &n);
        } else {
            p->value[0] = '\0';
            n = 0;
        }
        if (drc != DECODE_OK) {
            quote_name(shown, p->name, strlen(p->name));
            goto bad_piece;
        }
        used += n + 1;
        q->count++;
        i = end + 1;
    }
    return 0;

bad_piece:
    if (drc == DECODE_NUL)
        errbuf_printf(err, errlen, "query parameter \"%s\" contains a NUL byte", shown);
    else
        errbuf_printf(err, errlen, "bad percent-encoding in query parameter \"%s\"", shown);
fail:
    qs_free(q);
    return ACS_EINVAL;
}

void qs_free(qs_t *q)
{
    if (q == NULL)
        return;
    free(q->storage);
    q->storage = NULL;
    q->count = 0;
}

const char *qs_get(const qs_t *q, const char *name)
{
    if (q == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < q->count; i++) {
        if (strcmp(q->params[i].name, name) == 0)
            return q->params[i].value;
    }
    return NULL;
}

static int in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        if (strcmp(name, list[i]) == 0)
            return 1;
    }
    return 0;
}

/* Write the "unknown query parameter" sentence: the fixed part, then the endpoint's own list
 * of names (short and ASCII), cut off where err ends. */
static void unknown_param_err(char *err, size_t errlen, const char *shown,
                              const char *const *allowed)
{
    if (err == NULL || errlen == 0)
        return;
    errbuf_printf(err, errlen, "unknown query parameter \"%s\" (allowed: ", shown);
    size_t pos = strlen(err);
    if (allowed == NULL || allowed[0] == NULL) {
        errbuf_printf(err + pos, errlen - pos, "none");
        pos += strlen(err + pos);
    }
    for (size_t k = 0; allowed != NULL && allowed[k] != NULL && pos + 1 < errlen; k++) {
        errbuf_printf(err + pos, errlen - pos, "%s%s", k > 0 ? ", " : "", allowed[k]);
        pos += strlen(err + pos);
    }
    errbuf_printf(err + pos, errlen - pos, ")");
}

int qs_check(const qs_t *q, const char *const *allowed, char *err, size_t errlen)
{
    char shown[QUOTE_MAX * 2 + 4];
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (q == NULL)
        return 0;
    for (size_t i = 0; i < q->count; i++) {
        const char *name = q->params[i].name;
        quote_name(shown, name, strlen(name));
        if (!in_list(name, allowed)) {
            unknown_param_err(err, errlen, shown, allowed);
            return ACS_EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(q->params[j].name, name) == 0) {
                errbuf_printf(err, errlen, "query parameter \"%s\" given twice", shown);
                return ACS_EINVAL;
            }
        }
    }
    return 0;
}
