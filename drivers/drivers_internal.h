/* SPDX-License-Identifier: MIT */
/*
 * drivers_internal.h - names shared between the files of acs_drivers but not part of its
 * public API (the double-underscore prefix says so). The profile loader uses the decoder's
 * conversions to turn a register's "default", "min" and "max" into raw values with exactly
 * the rules that decode_encode_number() applies later, so the two cannot disagree.
 */
#ifndef ACS_DRIVERS_INTERNAL_H
#define ACS_DRIVERS_INTERNAL_H

#include "profile.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Convert an engineering value of a numeric, bitfield or enumeration register to its raw
 * value (rounded to the nearest step of the scale; float32: the IEEE bit pattern of
 * value / scale). check_limits also applies the register's min / max. Returns 0, or
 * ACS_EINVAL with the reason, without the register's name, in why: "700 is outside 0 to
 * 655.35 (u16, scale 0.01)", "61 is above the maximum 60".
 */
int decode__raw_from_number(const profile_reg_t *reg, double value, int check_limits, int64_t *raw,
                            char *why, size_t whylen);

/* The inclusive raw range of u16, i16, u32, i32, bitfield and bool (0..1): returns 0, or
 * ACS_EINVAL with lo = hi = 0 for float32 and string. */
int decode__raw_range(profile_type_t type, int64_t *lo, int64_t *hi);

/* A raw value as an engineering value: raw * scale, computed as raw / n when the scale is
 * 1 / n for an integer n, so that 1150 with scale 0.01 is exactly 11.5. */
double decode__scaled(const profile_reg_t *reg, double raw);

#endif
