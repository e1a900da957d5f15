/* SPDX-License-Identifier: MIT */
/*
 * ihex.c - Intel HEX reader (see ihex.h). Two passes over the text: the first checks every
 * line and finds the span of the data, the second copies the data into a buffer filled with
 * the fill byte and refuses any byte written twice (overlapping records mean a broken build).
 */
#include "ihex.h"

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "errbuf.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

typedef struct record {
    uint8_t count;
    uint16_t offset;
    uint8_t type;
    uint8_t data[255];
} record_t;

/* Decodes one line (without its line end). Returns 0, 1 for a blank line, or ACS_EINVAL. */
static int parse_line(const char *s, size_t n, size_t lineno, record_t *r, char *err, size_t errlen)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return 1;
    if (s[0] != ':') {
        errbuf_printf(err, errlen, "line %zu: does not start with ':' (not an Intel HEX record)",
                      lineno);
        return ACS_EINVAL;
    }
    if (n < 11 || (n - 1) % 2 != 0) {
        errbuf_printf(err, errlen,
                      "line %zu: %zu characters after ':'; a record has an even number, at "
                      "least 10",
                      lineno, n - 1);
        return ACS_EINVAL;
    }
    uint8_t bytes[260];
    size_t nb = (n - 1) / 2;
    if (nb > sizeof(bytes)) {
        errbuf_printf(err, errlen, "line %zu: record longer than 255 data bytes", lineno);
        return ACS_EINVAL;
    }
    for (size_t i = 0; i < nb; i++) {
        int hi = hexval(s[1 + 2 * i]), lo = hexval(s[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            errbuf_printf(err, errlen, "line %zu: column %zu: '%c' is not a hex digit", lineno,
                          (size_t)(hi < 0 ? 2 + 2 * i : 3 + 2 * i),
                          hi < 0 ? s[1 + 2 * i] : s[2 + 2 * i]);
            return ACS_EINVAL;
        }
        bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    if (nb != (size_t)bytes[0] + 5) {
        errbuf_printf(err, errlen,
                      "line %zu: the byte count says %u data bytes but the record holds %zu",
                      lineno, bytes[0], nb - 5);
        return ACS_EINVAL;
    }
    uint8_t sum = 0;
    for (size_t i = 0; i < nb; i++)
        sum = (uint8_t)(sum + bytes[i]);
    if (sum != 0) {
        uint8_t want = (uint8_t)(bytes[nb - 1] - sum);
        errbuf_printf(err, errlen,
                      "line %zu: checksum 0x%02X does not match the record (expected 0x%02X): "
                      "the file is corrupted",
                      lineno, bytes[nb - 1], want);
        return ACS_EINVAL;
    }
    r->count = bytes[0];
    r->offset = (uint16_t)(bytes[1] << 8 | bytes[2]);
    r->type = bytes[3];
    memcpy(r->data, bytes + 4, r->count);
    return 0;
}

static uint32_t be(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Pass over the text; with buf == NULL it checks and measures, else it copies into buf (and
 * marks written bytes in seen). */
static int walk(const char *text, size_t len, ihex_result_t *res, uint64_t *lo, uint64_t *hi,
                uint8_t *buf, uint8_t *seen, char *err, size_t errlen)
{
    size_t lineno = 0, at = 0;
    uint64_t base = 0;
    int eof = 0;
    while (at < len) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - at;
        at += n + (nl != NULL);
        lineno++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        record_t r;
        int rc = parse_line(line, n, lineno, &r, err, errlen);
        if (rc == 1)
            continue;
        if (rc != 0)
            return rc;
        if (eof) {
            errbuf_printf(err, errlen, "line %zu: a record after the end-of-file record", lineno);
            return ACS_EINVAL;
        }
        switch (r.type) {
        case 0x00: {
            if ((uint32_t)r.offset + r.count > 0x10000u) {
                errbuf_printf(err, errlen,
                              "line %zu: data at offset 0x%04X runs past the 64 KiB segment "
                              "(the address would wrap)",
                              lineno, r.offset);
                return ACS_EINVAL;
            }
            uint64_t a = base + r.offset;
            if (r.count == 0)
                break;
            if (a + r.count > 0x100000000ull) {
                errbuf_printf(err, errlen, "line %zu: data past the 4 GiB address space", lineno);
                return ACS_EINVAL;
            }
            if (buf == NULL) {
                res->data_records++;
                if (a < *lo)
                    *lo = a;
                if (a + r.count > *hi)
                    *hi = a + r.count;
                if (*hi - *lo > IHEX_SPAN_MAX) {
                    errbuf_printf(err, errlen,
                                  "line %zu: the data spans more than %u bytes (0x%08llX.."
                                  "0x%08llX): is a record at a wrong address?",
                                  lineno, IHEX_SPAN_MAX, (unsigned long long)*lo,
                                  (unsigned long long)*hi - 1);
                    return ACS_EINVAL;
                }
            } else {
                for (size_t i = 0; i < r.count; i++) {
                    size_t k = (size_t)(a - *lo) + i;
                    if (seen[k / 8] & (1u << (k % 8))) {
                        errbuf_printf(err, errlen,
                                      "line %zu: address 0x%08llX was already written by an "
                                      "earlier record (overlapping data)",
                                      lineno, (unsigned long long)(a + i));
                        return ACS_EINVAL;
                    }
                    seen[k / 8] |= (uint8_t)(1u << (k % 8));
                    buf[k] = r.data[i];
                }
            }
            break;
        }
        case 0x01:
            if (r.count != 0) {
                errbuf_printf(err, errlen, "line %zu: end-of-file record with %u data bytes",
                              lineno, r.count);
                return ACS_EINVAL;
            }
            eof = 1;
            break;
        case 0x02:
        case 0x04:
            if (r.count != 2 || r.offset != 0) {
                errbuf_printf(err, errlen,
                              "line %zu: extended %s address record must have 2 data bytes "
                              "and offset 0000",
                              lineno, r.type == 2 ? "segment" : "linear");
                return ACS_EINVAL;
            }
            base = r.type == 2 ? (uint64_t)be(r.data, 2) << 4 : (uint64_t)be(r.data, 2) << 16;
            break;
        case 0x03:
        case 0x05:
            if (r.count != 4 || r.offset != 0) {
                errbuf_printf(err, errlen,
                              "line %zu: start address record must have 4 data bytes and "
                              "offset 0000",
                              lineno);
                return ACS_EINVAL;
            }
            res->has_start = 1;
            res->start =
                r.type == 5 ? be(r.data, 4) : (be(r.data, 2) << 4) + be(r.data + 2, 2); /* CS:IP */
            break;
        default:
            errbuf_printf(err, errlen, "line %zu: record type %02X is not Intel HEX (00-05)",
                          lineno, r.type);
            return ACS_EINVAL;
        }
    }
    if (!eof) {
        errbuf_printf(err, errlen,
                      "line %zu: the file ends without an end-of-file record (:00000001FF): "
                      "it was cut short",
                      lineno);
        return ACS_EINVAL;
    }
    return 0;
}

int ihex_parse(const char *text, size_t len, uint8_t fill, ihex_result_t *out, char *err,
               size_t errlen)
{
    memset(out, 0, sizeof(*out));
    uint64_t lo = UINT64_MAX, hi = 0;
    int rc = walk(text, len, out, &lo, &hi, NULL, NULL, err, errlen);
    if (rc != 0)
        return rc;
    if (out->data_records == 0) {
        errbuf_printf(err, errlen, "the file holds no data records");
        return ACS_EINVAL;
    }
    size_t span = (size_t)(hi - lo);
    uint8_t *buf = malloc(span);
    uint8_t *seen = calloc((span + 7) / 8, 1);
    if (buf == NULL || seen == NULL) {
        free(buf);
        free(seen);
        errbuf_printf(err, errlen, "out of memory for %zu bytes", span);
        return ACS_ENOMEM;
    }
    memset(buf, fill, span);
    size_t records = out->data_records;
    rc = walk(text, len, out, &lo, &hi, buf, seen, err, errlen);
    if (rc != 0) {
        free(buf);
        free(seen);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    size_t filled = 0;
    for (size_t k = 0; k < span; k++)
        filled += !(seen[k / 8] & (1u << (k % 8)));
    free(seen);
    out->data_records = records;
    out->data = buf;
    out->len = span;
    out->base = (uint32_t)lo;
    out->gap_bytes = filled;
    return 0;
}

void ihex_result_free(ihex_result_t *out)
{
    if (out == NULL)
        return;
    free(out->data);
    out->data = NULL;
    out->len = 0;
}
