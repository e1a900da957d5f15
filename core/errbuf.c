/* SPDX-License-Identifier: MIT */
/*
 * errbuf.c - see errbuf.h.
 */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t errbuf_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    unsigned cp, min;
    size_t need;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        need = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* Cut a possibly truncated string back so that it does not end inside a UTF-8 sequence. */
static void trim_utf8_tail(char *s)
{
    size_t len = strlen(s);
    size_t k = len;
    while (k > 0 && len - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0 || ((unsigned char)s[k - 1] & 0x80) == 0)
        return;
    /* s[k - 1] is a lead byte; keep its sequence only if it is complete. */
    if (errbuf_utf8_seq((unsigned char *)s + k - 1, len - (k - 1)) != len - (k - 1))
        s[k - 1] = '\0';
}

void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (n < 0)
        err[0] = '\0';
    else if ((size_t)n >= errlen)
        trim_utf8_tail(err);
}
