/* SPDX-License-Identifier: MIT */
/*
 * ihex.h - reading Intel HEX files (the output of most microcontroller toolchains) into one
 * contiguous payload for a firmware image. Record types: 00 data, 01 end of file, 02 extended
 * segment address, 03 start segment address, 04 extended linear address, 05 start linear
 * address. Every line's checksum is checked; gaps between data records are filled with a fill
 * byte (0xFF, erased flash); overlapping data, data after the end-of-file record, a missing
 * end-of-file record and any malformed line are refused with the line number.
 *
 * Pure: text in, bytes out.
 */
#ifndef ACS_IHEX_H
#define ACS_IHEX_H

#include <stddef.h>
#include <stdint.h>

/* The largest span (lowest to highest data address) accepted. */
#define IHEX_SPAN_MAX (16u * 1024u * 1024u)

typedef struct ihex_result {
    uint8_t *data;       /* malloc'd, caller frees; the span from base, gaps filled */
    size_t len;          /* bytes in data */
    uint32_t base;       /* address of data[0] */
    uint32_t start;      /* start address from a 03 or 05 record */
    int has_start;       /* 1 when such a record was present */
    size_t data_records; /* 00 records read */
    size_t gap_bytes;    /* bytes filled */
} ihex_result_t;

/*
 * Parses text (len bytes; lines end in LF or CRLF). Returns 0 and *out, or ACS_EINVAL with a
 * sentence "line N: ..." in err (out->data is then NULL), or ACS_ENOMEM.
 */
int ihex_parse(const char *text, size_t len, uint8_t fill, ihex_result_t *out, char *err,
               size_t errlen);

/* Frees out->data; the struct may be reused. */
void ihex_result_free(ihex_result_t *out);

#endif
