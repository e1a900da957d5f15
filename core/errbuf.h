/* SPDX-License-Identifier: MIT */
/*
 * errbuf.h - writing an error sentence into a caller's fixed buffer without ever cutting it
 * inside a UTF-8 sequence, so that a truncated sentence is still valid JSON text.
 */
#ifndef ACS_ERRBUF_H
#define ACS_ERRBUF_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0 if it is not one:
 * overlong forms, surrogates and code points above U+10FFFF are refused. */
size_t errbuf_utf8_seq(const unsigned char *s, size_t n);

/* printf into err (nothing if err is NULL or errlen 0); when the text does not fit, cut it
 * back to the last whole UTF-8 character. */
void errbuf_printf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
