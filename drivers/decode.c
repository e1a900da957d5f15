/* SPDX-License-Identifier: MIT */
/*
 * decode.c - raw Modbus words and bits to typed values and back (decode.h), and event log
 * records.
 *
 * Modbus carries 16-bit registers big-endian on the wire; libmodbus hands them over as host
 * uint16_t, so the only orders left to handle here are the order of the two registers of a
 * 32-bit value (reg->word_order) and the two characters packed into each register of a string
 * (first character in the high byte). Scaled integers are computed as raw / n when the scale
 * is 1 / n, so that a reading of 1150 with scale 0.01 is exactly the double 11.5 that a
 * threshold of 11.5 in a profile parses to: comparisons at a threshold then behave as people
 * expect.
 */
#include "decode.h"

#include "acs_error.h"
#include "drivers_internal.h"
#include "errbuf.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------------------- */
/* Shared with profile.c (drivers_internal.h). */

int decode__raw_range(profile_type_t type, int64_t *lo, int64_t *hi)
{
    switch (type) {
    case PROFILE_T_BOOL:
        *lo = 0;
        *hi = 1;
        return 0;
    case PROFILE_T_U16:
    case PROFILE_T_BITFIELD:
        *lo = 0;
        *hi = 65535;
        return 0;
    case PROFILE_T_I16:
        *lo = -32768;
        *hi = 32767;
        return 0;
    case PROFILE_T_U32:
        *lo = 0;
        *hi = 4294967295LL;
        return 0;
    case PROFILE_T_I32:
        *lo = -2147483648LL;
        *hi = 2147483647LL;
        return 0;
    default:
        *lo = *hi = 0;
        return ACS_EINVAL;
    }
}

/* If the scale is 1 / n for an integer n >= 2, return n, else 0. */
static double inverse_step(double scale)
{
    if (scale >= 1.0)
        return 0;
    double inv = 1.0 / scale;
    double n = nearbyint(inv);
    return n >= 2 && fabs(inv - n) <= 1e-9 * n ? n : 0;
}

double decode__scaled(const profile_reg_t *reg, double raw)
{
    if (reg->scale == 1.0)
        return raw;
    double n = inverse_step(reg->scale);
    return n != 0 ? raw / n : raw * reg->scale;
}

/* engineering value / scale, the inverse of decode__scaled. */
static double unscaled(const profile_reg_t *reg, double value)
{
    if (reg->scale == 1.0)
        return value;
    double n = inverse_step(reg->scale);
    return n != 0 ? value * n : value / reg->scale;
}

/* A number for a message: integers without a fraction, others in the shortest form. */
static void fmt_num(char *dst, size_t len, double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
        snprintf(dst, len, "%lld", (long long)v);
    else
        snprintf(dst, len, "%.10g", v);
}

int decode__raw_from_number(const profile_reg_t *reg, double value, int check_limits, int64_t *raw,
                            char *why, size_t whylen)
{
    char a[40], b[40];
    if (!isfinite(value)) {
        errbuf_printf(why, whylen, "must be a finite number");
        return ACS_EINVAL;
    }
    fmt_num(a, sizeof(a), value);
    if (check_limits && reg->has_min && value < reg->min) {
        fmt_num(b, sizeof(b), reg->min);
        errbuf_printf(why, whylen, "%s is below the minimum %s", a, b);
        return ACS_EINVAL;
    }
    if (check_limits && reg->has_max && value > reg->max) {
        fmt_num(b, sizeof(b), reg->max);
        errbuf_printf(why, whylen, "%s is above the maximum %s", a, b);
        return ACS_EINVAL;
    }
    if (reg->type == PROFILE_T_FLOAT32) {
        double f = unscaled(reg, value);
        if (fabs(f) > FLT_MAX) {
            errbuf_printf(why, whylen, "%s is out of range for float32", a);
            return ACS_EINVAL;
        }
        float fv = (float)f;
        uint32_t bits;
        memcpy(&bits, &fv, sizeof(bits));
        *raw = bits;
        return 0;
    }
    int64_t lo, hi;
    if (decode__raw_range(reg->type, &lo, &hi) != 0 || reg->type == PROFILE_T_BOOL) {
        errbuf_printf(why, whylen, "a %s register does not hold a number",
                      profile_type_name(reg->type));
        return ACS_EINVAL;
    }
    double x = round(unscaled(reg, value));
    if (!(x >= (double)lo && x <= (double)hi)) {
        char c[40];
        fmt_num(b, sizeof(b), decode__scaled(reg, (double)lo));
        fmt_num(c, sizeof(c), decode__scaled(reg, (double)hi));
        if (reg->scale == 1.0) {
            errbuf_printf(why, whylen, "%s is outside %s to %s (%s)", a, b, c,
                          profile_type_name(reg->type));
        } else {
            char s[40];
            fmt_num(s, sizeof(s), reg->scale);
            errbuf_printf(why, whylen, "%s is outside %s to %s (%s, scale %s)", a, b, c,
                          profile_type_name(reg->type), s);
        }
        return ACS_EINVAL;
    }
    *raw = (int64_t)x;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Words. */

static uint32_t get32(const profile_reg_t *reg, const uint16_t *w)
{
    if (reg->word_order == PROFILE_LOW_FIRST)
        return (uint32_t)w[1] << 16 | w[0];
    return (uint32_t)w[0] << 16 | w[1];
}

static void put32(const profile_reg_t *reg, uint32_t v, uint16_t *w)
{
    uint16_t hi = (uint16_t)(v >> 16), lo = (uint16_t)(v & 0xFFFF);
    if (reg->word_order == PROFILE_LOW_FIRST) {
        w[0] = lo;
        w[1] = hi;
    } else {
        w[0] = hi;
        w[1] = lo;
    }
}

/* Write a raw value (already range-checked) into the register's words. */
static void put_raw(const profile_reg_t *reg, int64_t raw, uint16_t *w)
{
    if (reg->words == 2)
        put32(reg, (uint32_t)(raw & 0xFFFFFFFF), w);
    else
        w[0] = (uint16_t)(raw & 0xFFFF);
}

/* "name: " + reason, the public messages. */
__attribute__((format(printf, 4, 5))) static int refuse(const profile_reg_t *reg, char *err,
                                                        size_t errlen, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    errbuf_printf(err, errlen, "%s: %s", reg != NULL ? reg->name : "(no register)", reason);
    return ACS_EINVAL;
}

static void clear_err(char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Decoding. */

int decode_value(const profile_reg_t *reg, const uint16_t *words, size_t nwords,
                 decode_value_t *out, char *err, size_t errlen)
{
    clear_err(err, errlen);
    if (out == NULL)
        return refuse(reg, err, errlen, "no place for the decoded value");
    memset(out, 0, sizeof(*out));
    out->reg = reg;
    out->unit = "";
    if (reg == NULL || words == NULL)
        return refuse(reg, err, errlen, "nothing to decode");
    out->unit = reg->unit;
    if (reg->type == PROFILE_T_BOOL)
        return refuse(reg, err, errlen, "a bool is decoded from a bit (decode_bit)");
    if (nwords < reg->words)
        return refuse(reg, err, errlen, "needs %u registers, got %zu", reg->words, nwords);
    out->raw[0] = words[0];
    if (reg->words > 1)
        out->raw[1] = words[1];

    switch (reg->type) {
    case PROFILE_T_U16:
        out->i = words[0];
        break;
    case PROFILE_T_I16:
        out->i = words[0] >= 0x8000 ? (int64_t)words[0] - 65536 : words[0];
        break;
    case PROFILE_T_U32:
        out->i = get32(reg, words);
        break;
    case PROFILE_T_I32: {
        uint32_t u = get32(reg, words);
        out->i = u >= 0x80000000u ? (int64_t)u - 4294967296LL : (int64_t)u;
        break;
    }
    case PROFILE_T_FLOAT32: {
        uint32_t u = get32(reg, words);
        float f;
        memcpy(&f, &u, sizeof(f));
        out->i = u;
        out->kind = DECODE_REAL;
        out->real = decode__scaled(reg, (double)f);
        return 0;
    }
    case PROFILE_T_BITFIELD:
        out->i = words[0];
        out->kind = DECODE_BITS;
        out->real = (double)out->i;
        out->unit = "";
        return 0;
    case PROFILE_T_STRING: {
        size_t o = 0;
        for (size_t k = 0; k < reg->length && k < PROFILE_STRING_MAX; k++) {
            unsigned ch = k % 2 == 0 ? words[k / 2] >> 8 : words[k / 2] & 0xFF;
            if (ch == 0)
                break;
            out->text[o++] = ch < 0x20 || ch > 0x7E ? '?' : (char)ch;
        }
        while (o > 0 && out->text[o - 1] == ' ')
            o--;
        out->text[o] = '\0';
        out->kind = DECODE_STRING;
        out->unit = "";
        return 0;
    }
    default:
        return refuse(reg, err, errlen, "unknown type");
    }
    /* Integers. */
    if (reg->nvalues > 0) {
        const profile_enum_t *e = profile_enum_by_value(reg, out->i);
        out->kind = DECODE_ENUM;
        out->name = e != NULL ? e->name : NULL;
        out->real = (double)out->i;
        out->unit = "";
    } else if (reg->scale != 1.0) {
        out->kind = DECODE_REAL;
        out->real = decode__scaled(reg, (double)out->i);
    } else {
        out->kind = DECODE_INT;
        out->real = (double)out->i;
    }
    return 0;
}

int decode_bit(const profile_reg_t *reg, uint8_t bit, decode_value_t *out, char *err, size_t errlen)
{
    clear_err(err, errlen);
    if (out == NULL)
        return refuse(reg, err, errlen, "no place for the decoded value");
    memset(out, 0, sizeof(*out));
    out->reg = reg;
    out->unit = "";
    if (reg == NULL)
        return refuse(reg, err, errlen, "nothing to decode");
    if (reg->type != PROFILE_T_BOOL)
        return refuse(reg, err, errlen, "a %s is decoded from registers (decode_value)",
                      profile_type_name(reg->type));
    out->kind = DECODE_BOOL;
    out->i = bit != 0;
    out->real = (double)out->i;
    out->raw[0] = (uint16_t)out->i;
    return 0;
}

int decode_from_block(const profile_reg_t *reg, const void *block, uint16_t block_start,
                      size_t nblock, decode_value_t *out, char *err, size_t errlen)
{
    clear_err(err, errlen);
    if (reg == NULL || block == NULL || out == NULL) {
        if (out != NULL)
            memset(out, 0, sizeof(*out));
        return refuse(reg, err, errlen, "nothing to decode");
    }
    size_t end = (size_t)block_start + nblock; /* one past the block */
    if (reg->address < block_start || (size_t)reg->address + reg->words > end) {
        memset(out, 0, sizeof(*out));
        out->reg = reg;
        out->unit = reg->unit;
        return refuse(reg, err, errlen, "%u-%u is not inside the block read (%u-%zu)", reg->address,
                      reg->address + reg->words - 1, block_start,
                      nblock > 0 ? end - 1 : (size_t)block_start);
    }
    size_t off = reg->address - block_start;
    if (reg->type == PROFILE_T_BOOL)
        return decode_bit(reg, ((const uint8_t *)block)[off], out, err, errlen);
    return decode_value(reg, (const uint16_t *)block + off, nblock - off, out, err, errlen);
}

int decode_bit_is_set(const decode_value_t *v, const char *bit_name)
{
    if (v == NULL || v->kind != DECODE_BITS)
        return 0;
    const profile_bit_t *b = profile_bit(v->reg, bit_name);
    return b != NULL && ((v->i >> b->bit) & 1) != 0;
}

/* Appends to a buffer and counts what it needed, like snprintf. */
typedef struct {
    char *buf;
    size_t len, used;
} out_t;

__attribute__((format(printf, 2, 3))) static void emit(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->used < o->len ? o->buf + o->used : NULL;
    size_t room = o->used < o->len ? o->len - o->used : 0;
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

size_t decode_format(const decode_value_t *v, char *buf, size_t len)
{
    out_t o = {buf, len, 0};
    if (buf != NULL && len > 0)
        buf[0] = '\0';
    else
        o.len = 0;
    if (v == NULL)
        return 0;
    const char *sp = v->unit != NULL && v->unit[0] != '\0' ? " " : "";
    const char *unit = v->unit != NULL ? v->unit : "";
    switch (v->kind) {
    case DECODE_BOOL:
        emit(&o, "%s", v->i ? "on" : "off");
        break;
    case DECODE_INT:
        emit(&o, "%lld%s%s", (long long)v->i, sp, unit);
        break;
    case DECODE_REAL: {
        /* A float32 carries about 7 significant digits; a scaled integer is exact to the
         * step, which 10 digits always show. */
        int digits = v->reg != NULL && v->reg->type == PROFILE_T_FLOAT32 ? 7 : 10;
        emit(&o, "%.*g%s%s", digits, v->real, sp, unit);
        break;
    }
    case DECODE_STRING:
        emit(&o, "%s", v->text);
        break;
    case DECODE_ENUM:
        if (v->name != NULL)
            emit(&o, "%s", v->name);
        else
            emit(&o, "%lld (not in the list)", (long long)v->i);
        break;
    case DECODE_BITS: {
        int any = 0;
        for (unsigned bit = 0; bit < 16; bit++) {
            if (((v->i >> bit) & 1) == 0)
                continue;
            const char *name = NULL;
            for (size_t k = 0; v->reg != NULL && k < v->reg->nbits; k++) {
                if (v->reg->bits[k].bit == bit)
                    name = v->reg->bits[k].name;
            }
            if (name != NULL)
                emit(&o, "%s%s", any ? "," : "", name);
            else
                emit(&o, "%sbit %u", any ? "," : "", bit);
            any = 1;
        }
        if (!any)
            emit(&o, "none");
        break;
    }
    }
    return o.used;
}

/* ---------------------------------------------------------------------------------------- */
/* Encoding. */

/* Common checks of the encoders: a register of a register table with enough room. */
static int check_words(const profile_reg_t *reg, const uint16_t *words, size_t nwords, char *err,
                       size_t errlen)
{
    clear_err(err, errlen);
    if (reg == NULL || words == NULL)
        return refuse(reg, err, errlen, "nothing to encode into");
    if (reg->type == PROFILE_T_BOOL)
        return refuse(reg, err, errlen, "a bool is a bit, not a register (decode_encode_bool)");
    if (nwords < reg->words)
        return refuse(reg, err, errlen, "needs %u registers, got room for %zu", reg->words, nwords);
    return 0;
}

int decode_encode_number(const profile_reg_t *reg, double value, uint16_t *words, size_t nwords,
                         char *err, size_t errlen)
{
    int rc = check_words(reg, words, nwords, err, errlen);
    if (rc != 0)
        return rc;
    if (reg->type == PROFILE_T_STRING)
        return refuse(reg, err, errlen, "a string register does not hold a number");
    char why[256];
    int64_t raw;
    if (decode__raw_from_number(reg, value, 1, &raw, why, sizeof(why)) != 0)
        return refuse(reg, err, errlen, "%s", why);
    put_raw(reg, raw, words);
    return 0;
}

int decode_encode_raw(const profile_reg_t *reg, int64_t raw, uint16_t *words, size_t nwords,
                      char *err, size_t errlen)
{
    int rc = check_words(reg, words, nwords, err, errlen);
    if (rc != 0)
        return rc;
    int64_t lo = 0, hi = 4294967295LL; /* float32: any bit pattern */
    if (reg->type == PROFILE_T_STRING)
        return refuse(reg, err, errlen, "a string register does not hold a number");
    if (reg->type != PROFILE_T_FLOAT32)
        decode__raw_range(reg->type, &lo, &hi);
    if (raw < lo || raw > hi)
        return refuse(reg, err, errlen, "raw value %lld is outside %lld to %lld (%s)",
                      (long long)raw, (long long)lo, (long long)hi, profile_type_name(reg->type));
    put_raw(reg, raw, words);
    return 0;
}

int decode_encode_string(const profile_reg_t *reg, const char *text, uint16_t *words, size_t nwords,
                         char *err, size_t errlen)
{
    int rc = check_words(reg, words, nwords, err, errlen);
    if (rc != 0)
        return rc;
    if (reg->type != PROFILE_T_STRING)
        return refuse(reg, err, errlen, "a %s register does not hold text",
                      profile_type_name(reg->type));
    if (text == NULL)
        return refuse(reg, err, errlen, "no text to encode");
    size_t n = strlen(text);
    if (n > reg->length)
        return refuse(reg, err, errlen, "\"%.*s...\" is %zu bytes long; at most %zu fit",
                      (int)(reg->length < 32 ? reg->length : 32), text, n, reg->length);
    for (size_t k = 0; k < n; k++) {
        if ((unsigned char)text[k] < 0x20 || (unsigned char)text[k] > 0x7E)
            return refuse(reg, err, errlen, "byte %zu is not printable ASCII", k);
    }
    for (size_t w = 0; w < reg->words; w++) {
        unsigned hi = 2 * w < n ? (unsigned char)text[2 * w] : 0;
        unsigned lo = 2 * w + 1 < n ? (unsigned char)text[2 * w + 1] : 0;
        words[w] = (uint16_t)(hi << 8 | lo);
    }
    return 0;
}

int decode_encode_bits(const profile_reg_t *reg, const char *const *names, size_t n,
                       uint16_t *words, size_t nwords, char *err, size_t errlen)
{
    int rc = check_words(reg, words, nwords, err, errlen);
    if (rc != 0)
        return rc;
    if (reg->type != PROFILE_T_BITFIELD)
        return refuse(reg, err, errlen, "a %s register has no named bits",
                      profile_type_name(reg->type));
    if (names == NULL && n > 0)
        return refuse(reg, err, errlen, "no bit names given");
    unsigned v = 0;
    for (size_t k = 0; k < n; k++) {
        const profile_bit_t *b = profile_bit(reg, names[k]);
        if (b == NULL)
            return refuse(reg, err, errlen, "has no bit named \"%.48s\"",
                          names[k] != NULL ? names[k] : "(null)");
        v |= 1u << b->bit;
    }
    words[0] = (uint16_t)v;
    return 0;
}

int decode_encode_enum(const profile_reg_t *reg, const char *name, uint16_t *words, size_t nwords,
                       char *err, size_t errlen)
{
    int rc = check_words(reg, words, nwords, err, errlen);
    if (rc != 0)
        return rc;
    if (reg->nvalues == 0)
        return refuse(reg, err, errlen, "is not an enumeration");
    const profile_enum_t *e = profile_enum_by_name(reg, name);
    if (e == NULL) {
        char list[512];
        size_t o = 0;
        list[0] = '\0';
        for (size_t k = 0; k < reg->nvalues && o + 1 < sizeof(list); k++) {
            int m =
                snprintf(list + o, sizeof(list) - o, "%s%s", k ? ", " : "", reg->values[k].name);
            if (m < 0)
                break;
            o += (size_t)m;
        }
        return refuse(reg, err, errlen, "unknown value \"%.48s\" (%s)",
                      name != NULL ? name : "(null)", list);
    }
    put_raw(reg, e->value, words);
    return 0;
}

int decode_encode_bool(const profile_reg_t *reg, int on, uint8_t *bit, char *err, size_t errlen)
{
    clear_err(err, errlen);
    if (reg == NULL || bit == NULL)
        return refuse(reg, err, errlen, "nothing to encode into");
    if (reg->type != PROFILE_T_BOOL)
        return refuse(reg, err, errlen, "a %s is a register, not a bit",
                      profile_type_name(reg->type));
    *bit = on ? 1 : 0;
    return 0;
}

/* Strip leading and trailing blanks of s into dst (at most dstlen - 1 bytes). */
static void trim_copy(char *dst, size_t dstlen, const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* A whole-string integer in decimal, 0x hex or 0 octal. */
static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

int decode_parse(const profile_reg_t *reg, const char *text, uint16_t *words, size_t nwords,
                 char *err, size_t errlen)
{
    clear_err(err, errlen);
    char t[PROFILE_STRING_MAX * 4 + 2];
    if (reg == NULL || text == NULL || words == NULL || nwords == 0)
        return refuse(reg, err, errlen, "nothing to parse or no room for it");
    if (reg->type == PROFILE_T_STRING)
        return decode_encode_string(reg, text, words, nwords, err, errlen);
    trim_copy(t, sizeof(t), text, strlen(text));
    int64_t raw;
    if (reg->type == PROFILE_T_BOOL) {
        static const char *const on[] = {"on", "true", "1", NULL};
        static const char *const off[] = {"off", "false", "0", NULL};
        for (size_t k = 0; on[k] != NULL; k++) {
            if (strcasecmp(t, on[k]) == 0) {
                words[0] = 1;
                return 0;
            }
            if (strcasecmp(t, off[k]) == 0) {
                words[0] = 0;
                return 0;
            }
        }
        return refuse(reg, err, errlen, "\"%.48s\" is not on, off, true, false, 1 or 0", t);
    }
    if (reg->type == PROFILE_T_BITFIELD) {
        int rc = check_words(reg, words, nwords, err, errlen);
        if (rc != 0)
            return rc;
        if (parse_int(t, &raw))
            return decode_encode_raw(reg, raw, words, nwords, err, errlen);
        unsigned v = 0;
        if (t[0] != '\0' && strcasecmp(t, "none") != 0) {
            const char *p = t;
            for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
                char name[PROFILE_NAME_MAX + 2];
                trim_copy(name, sizeof(name), p, n);
                const profile_bit_t *b = profile_bit(reg, name);
                if (b == NULL)
                    return refuse(reg, err, errlen, "has no bit named \"%.48s\"", name);
                v |= 1u << b->bit;
                if (comma == NULL)
                    break;
                p = comma + 1;
            }
        }
        words[0] = (uint16_t)v;
        return 0;
    }
    if (reg->nvalues > 0) {
        if (profile_enum_by_name(reg, t) != NULL)
            return decode_encode_enum(reg, t, words, nwords, err, errlen);
        if (parse_int(t, &raw))
            return decode_encode_raw(reg, raw, words, nwords, err, errlen);
        return decode_encode_enum(reg, t, words, nwords, err, errlen);
    }
    char *end;
    errno = 0;
    double d = strtod(t, &end);
    if (end == t || *end != '\0' || errno == ERANGE)
        return refuse(reg, err, errlen, "\"%.48s\" is not a number", t);
    return decode_encode_number(reg, d, words, nwords, err, errlen);
}

/* ---------------------------------------------------------------------------------------- */
/* Event log. */

uint16_t decode_crc16_words(const uint16_t *words, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t k = 0; words != NULL && k < 2 * n; k++) {
        uint16_t w = words[k / 2];
        crc ^= k % 2 == 0 ? (uint16_t)(w >> 8) : (uint16_t)(w & 0xFF);
        for (int b = 0; b < 8; b++)
            crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

int decode_event(const profile_t *p, const uint16_t *words, size_t nwords, decode_event_t *out,
                 char *err, size_t errlen)
{
    clear_err(err, errlen);
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (p == NULL || words == NULL || out == NULL) {
        errbuf_printf(err, errlen, "decode_event needs a profile, words and a place for them");
        return ACS_EINVAL;
    }
    const profile_event_log_t *el = &p->event_log;
    if (!el->present) {
        errbuf_printf(err, errlen, "%s has no event log", p->model);
        return ACS_EINVAL;
    }
    if (nwords < el->record_words) {
        errbuf_printf(err, errlen, "%s event record needs %u words, got %zu", p->model,
                      el->record_words, nwords);
        return ACS_EINVAL;
    }
    size_t last = el->record_words - 1u;
    int empty = 1;
    for (size_t k = 0; k < el->record_words; k++)
        empty &= words[k] == 0;
    out->checksum_read = words[last];
    out->checksum_computed = decode_crc16_words(words, last);
    out->status = empty                                          ? DECODE_EVENT_EMPTY
                  : out->checksum_read == out->checksum_computed ? DECODE_EVENT_OK
                                                                 : DECODE_EVENT_CORRUPT;
    out->nfields = el->nfields;
    for (size_t k = 0; k < el->nfields; k++) {
        const profile_reg_t *f = &el->fields[k];
        /* The loader keeps every field inside the record, so this cannot fail. */
        int rc =
            decode_value(f, words + f->address, last - f->address, &out->fields[k], err, errlen);
        if (rc != 0)
            return rc;
        if (f == el->seq)
            out->seq = (uint32_t)out->fields[k].i;
        else if (f == el->timestamp)
            out->timestamp = (uint32_t)out->fields[k].i;
        else if (f == el->code)
            out->code = (uint16_t)out->fields[k].i;
    }
    out->event = profile_event(p, out->code);
    return 0;
}

int decode_event_seal(const profile_t *p, uint16_t *words, size_t nwords)
{
    if (p == NULL || words == NULL || !p->event_log.present || nwords < p->event_log.record_words)
        return ACS_EINVAL;
    size_t last = p->event_log.record_words - 1u;
    words[last] = decode_crc16_words(words, last);
    return 0;
}

int decode_event_slot(const profile_t *p, unsigned head, unsigned count, unsigned i, unsigned *slot)
{
    if (p == NULL || slot == NULL || !p->event_log.present)
        return ACS_EINVAL;
    unsigned cap = p->event_log.capacity;
    if (head >= cap || count > cap || i >= count)
        return ACS_EINVAL;
    *slot = (head + cap - count + i) % cap;
    return 0;
}
