/* SPDX-License-Identifier: MIT */
/*
 * decode.h - turning the raw words and bits of a register (profile.h) into typed values, the
 * reverse for the simulator and for writes, and decoding event log records.
 *
 * All functions are pure: no allocation, no global state, safe from any thread. Words are
 * register values as libmodbus gives them (uint16_t, already in host order); a pointer to
 * "the register's words" means words[0] is the register at reg->address. Bits are one byte per
 * bit, 0 or non-zero (libmodbus's uint8_t arrays).
 *
 * Errors follow core/acs_error.h (0 or ACS_EINVAL / ACS_ETOOBIG), with a sentence in err that
 * names the register: "supply_voltage: 700 is outside 0 to 655.35 (u16, scale 0.01)".
 */
#ifndef ACS_DECODE_H
#define ACS_DECODE_H

#include "profile.h"

#include <stddef.h>
#include <stdint.h>

/* What a decoded value is. */
typedef enum {
    DECODE_BOOL = 0, /* coil / discrete input: i is 0 or 1 */
    DECODE_INT,      /* u16, i16, u32, i32 with scale 1 and no enumeration: i */
    DECODE_REAL,     /* float32, or an integer type with scale != 1: real */
    DECODE_STRING,   /* string: text */
    DECODE_BITS,     /* bitfield: i holds the bits; the set bits' names via reg->bits */
    DECODE_ENUM      /* integer with an enumeration: i, and name (NULL if not listed) */
} decode_kind_t;

/* Longest text decode_format writes, terminating NUL included, for any value of any profile
 * that fits the limits of profile.h (a bitfield with 16 long names needs most). */
#define DECODE_FORMAT_MAX 1024

typedef struct {
    const profile_reg_t *reg; /* what was decoded */
    decode_kind_t kind;
    int64_t i;        /* raw integer: after word order and sign, before scale; bool 0/1; bitfield
                         bits; float32: its IEEE 754 bit pattern; string: 0 */
    double real;      /* engineering value for every kind but string: raw * scale for integers,
                         the float * scale, 0/1 for bool, the bits as a number for bitfields.
                         float32 may be NaN or infinite as the device sent it. */
    const char *name; /* DECODE_ENUM: the value's name or NULL; else NULL */
    const char *unit; /* reg->unit ("" when none) */
    char text[PROFILE_STRING_MAX + 1]; /* DECODE_STRING: the text, trailing NULs and spaces
                                          removed, stopping at the first NUL, each byte outside
                                          printable ASCII (0x20-0x7E) shown as '?'; "" else */
    uint16_t raw[2];                   /* the first (up to) two words as read, for the record;
                                          bool: raw[0] = 0/1 */
} decode_value_t;

/*
 * Decode a register-table value (any type but bool) from its words; nwords must be at least
 * reg->words. Returns 0 and fills *out, or ACS_EINVAL (NULL argument, a bool register,
 * too few words) with *out zeroed except reg.
 */
int decode_value(const profile_reg_t *reg, const uint16_t *words, size_t nwords,
                 decode_value_t *out, char *err, size_t errlen);

/* Decode a bool coil / discrete input from its bit (0 = off, anything else = on). Returns 0,
 * or ACS_EINVAL when reg is NULL or not bool. */
int decode_bit(const profile_reg_t *reg, uint8_t bit, decode_value_t *out, char *err,
               size_t errlen);

/*
 * Decode a register out of a block read from a table: block[0] holds the register at
 * block_start, nblock words or bits in all. For bool registers `block` is a uint8_t array of
 * bits, otherwise a uint16_t array of words. Returns ACS_EINVAL when the register is not
 * wholly inside the block.
 */
int decode_from_block(const profile_reg_t *reg, const void *block, uint16_t block_start,
                      size_t nblock, decode_value_t *out, char *err, size_t errlen);

/* 1 if the bitfield value has the bit named `bit_name` set, 0 if not or if there is no such
 * bit. */
int decode_bit_is_set(const decode_value_t *v, const char *bit_name);

/*
 * Text of a value for people and logs, into buf (always NUL-terminated when len > 0):
 *   bool     "on" / "off"               real   "12.5 V" (shortest %g form with the unit)
 *   int      "42 s"                     enum   "free_passage" or "7 (not in the list)"
 *   string   "TC200-24-000417"          bits   "motor_stall,tamper" or "none" (+ "bit 9"
 *                                              for a set bit the profile does not name)
 * Returns the length it needed (like snprintf).
 */
size_t decode_format(const decode_value_t *v, char *buf, size_t len);

/*
 * Encoding: the simulator places values into its banks, and the drivers build writes. Each
 * writes reg->words words at `words` (nwords must be >= reg->words) and refuses, with
 * ACS_EINVAL and a sentence, a value the register cannot hold. Nothing is written on error.
 */

/* A number in engineering units: raw = round(value / scale), checked against the raw type's
 * range (u16 0..65535, i16 -32768..32767, ...) and, when the register has them, against its
 * min / max. For float32 the stored float is value / scale. Not for string, bool. For a
 * bitfield or an enumeration the number is the raw value. */
int decode_encode_number(const profile_reg_t *reg, double value, uint16_t *words, size_t nwords,
                         char *err, size_t errlen);

/* An exact raw integer (no scale, no min/max check; range of the raw type checked). For
 * float32 the raw value is the IEEE bit pattern. Not for string, bool. */
int decode_encode_raw(const profile_reg_t *reg, int64_t raw, uint16_t *words, size_t nwords,
                      char *err, size_t errlen);

/* A string register: at most reg->length bytes of printable ASCII, padded with NULs. */
int decode_encode_string(const profile_reg_t *reg, const char *text, uint16_t *words, size_t nwords,
                         char *err, size_t errlen);

/* A bitfield register: the bits named in names[0..n-1] set, every other bit clear. An unknown
 * name is refused. */
int decode_encode_bits(const profile_reg_t *reg, const char *const *names, size_t n,
                       uint16_t *words, size_t nwords, char *err, size_t errlen);

/* An enumeration register: the value named `name`. */
int decode_encode_enum(const profile_reg_t *reg, const char *name, uint16_t *words, size_t nwords,
                       char *err, size_t errlen);

/* A bool coil / discrete input: *bit = on ? 1 : 0. */
int decode_encode_bool(const profile_reg_t *reg, int on, uint8_t *bit, char *err, size_t errlen);

/*
 * Parse text as a person would type it and encode it (the simulator's fault injection,
 * fieldctl writes): a number for numeric types ("12.5", "-3", "0x1F"), an enumeration value
 * name or number, "a,b,c" bit names or a number for bitfields ("" or "none" clears all),
 * the text itself for strings, and on/off/true/false/1/0 for bool (then words[0] = 0 or 1).
 */
int decode_parse(const profile_reg_t *reg, const char *text, uint16_t *words, size_t nwords,
                 char *err, size_t errlen);

/* CRC-16/MODBUS over n words, each taken high byte first (the event record checksum). */
uint16_t decode_crc16_words(const uint16_t *words, size_t n);

/* Status of one event log record. */
typedef enum {
    DECODE_EVENT_OK = 0,     /* checksum matches */
    DECODE_EVENT_EMPTY = 1,  /* every word is 0: the slot holds no record */
    DECODE_EVENT_CORRUPT = 2 /* checksum mismatch: fields are decoded but not to be trusted */
} decode_event_status_t;

typedef struct {
    decode_event_status_t status;
    uint32_t seq;       /* record number since the log was cleared */
    uint32_t timestamp; /* seconds since 1970 UTC, device clock */
    uint16_t code;
    const profile_event_t *event;                    /* NULL when the code is not in the profile */
    size_t nfields;                                  /* == profile->event_log.nfields */
    decode_value_t fields[PROFILE_EVENT_FIELDS_MAX]; /* in the order of event_log.fields */
    uint16_t checksum_read;                          /* the record's last word */
    uint16_t checksum_computed;                      /* CRC over the words before it */
} decode_event_t;

/*
 * Decode one record of p's event log from its words (nwords >= record_words). Returns 0 with
 * out->status OK, EMPTY or CORRUPT (a corrupt record is not an error of this function: the
 * caller turns it into the profile's corrupt-log finding), or ACS_EINVAL when p has no event
 * log or too few words.
 */
int decode_event(const profile_t *p, const uint16_t *words, size_t nwords, decode_event_t *out,
                 char *err, size_t errlen);

/* Write the checksum into the last word of a record whose other words are filled in (the
 * simulator). Returns 0, or ACS_EINVAL when p has no event log or nwords < record_words. */
int decode_event_seal(const profile_t *p, uint16_t *words, size_t nwords);

/*
 * The ring slot of the i-th oldest record (i = 0 the oldest) given the head and count
 * registers. Returns 0 and *slot, or ACS_EINVAL when head >= capacity, count > capacity or
 * i >= count (a device that reports such values has a corrupt log header).
 */
int decode_event_slot(const profile_t *p, unsigned head, unsigned count, unsigned i,
                      unsigned *slot);

#endif
